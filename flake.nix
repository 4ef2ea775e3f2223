{
  description = "sops-install: a Rust drop-in for sops-nix's secret installer, with modules taking sops-nix's options";

  # Only nixpkgs, as sops-nix: nothing else lands in users' lock files. The checks that need
  # home-manager or nix-darwin live in the development flake nix/dev (`nix flake check ./nix/dev`
  # runs every check).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";

  outputs =
    {
      self,
      nixpkgs,
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
      overlays.default =
        final: _prev: builtins.removeAttrs (import ./nix/packages.nix { pkgs = final; }) [ "default" ];

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

      # The packages sops-nix exports, under its names.
      packages = forAllSystems (pkgs: import ./nix/packages.nix { inherit pkgs; });

      # Without home-manager and nix-darwin: those checks are in nix/dev.
      checks = forAllSystems (
        pkgs:
        import ./nix/checks.nix {
          inherit pkgs lib self;
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
