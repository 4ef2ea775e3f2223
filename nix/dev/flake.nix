{
  description = "sops-install development flake: every check, including those needing home-manager and nix-darwin (nix flake check ./nix/dev)";

  # Kept out of the public flake so that users' lock files get nixpkgs only.
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    sops-install = {
      url = "path:../..";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    home-manager = {
      url = "github:nix-community/home-manager";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    nix-darwin = {
      url = "github:LnL7/nix-darwin";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      nixpkgs,
      sops-install,
      home-manager,
      nix-darwin,
      ...
    }:
    let
      inherit (nixpkgs) lib;
    in
    {
      # The public flake's checks plus home-manager's and (on macOS) nix-darwin's.
      checks = lib.genAttrs (builtins.attrNames sops-install.checks) (
        system:
        import ../checks.nix {
          pkgs = nixpkgs.legacyPackages.${system};
          inherit lib home-manager nix-darwin;
          self = sops-install;
        }
      );

      inherit (sops-install) devShells formatter;
    };
}
