{
  description = "sops-install: a Rust drop-in for sops-nix's secret installer, with modules taking sops-nix's options";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    # Only for the checks (home-manager and nix-darwin test configurations).
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
      self,
      nixpkgs,
      home-manager,
      nix-darwin,
    }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      homeManagerModules = {
        sops = ./nix/modules/home-manager;
        default = self.homeManagerModules.sops;
      };
    in
    {
      overlays.default = final: _prev: {
        sops-install = final.callPackage ./nix/package.nix { };
        # The name sops-nix's overlay uses.
        sops-install-secrets = final.sops-install;
      };

      nixosModules = {
        sops = ./nix/modules/nixos;
        default = self.nixosModules.sops;
      };
      inherit homeManagerModules;
      homeManagerModule = homeManagerModules.sops;
      homeModules = homeManagerModules;
      darwinModules = {
        sops = ./nix/modules/nix-darwin;
        default = self.darwinModules.sops;
      };

      packages = forAllSystems (
        pkgs:
        let
          sops-install = pkgs.callPackage ./nix/package.nix { };
        in
        {
          inherit sops-install;
          sops-install-secrets = sops-install;
          default = sops-install;
        }
      );

      checks = forAllSystems (
        pkgs:
        import ./nix/checks.nix {
          inherit
            pkgs
            lib
            self
            home-manager
            nix-darwin
            ;
        }
      );

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [
            cargo
            rustc
            rustfmt
            clippy
            sops
            age
            ssh-to-age
            nix
            util-linux
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
