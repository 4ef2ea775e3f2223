{
  description = "A NixOS configuration using sops-install as a drop-in for sops-nix";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    # In your own flake: "github:<owner>/sops-install" (was "github:Mic92/sops-nix").
    sops-nix.url = "path:../..";
    sops-nix.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs =
    { nixpkgs, sops-nix, ... }:
    {
      nixosConfigurations.example = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          sops-nix.nixosModules.sops
          ./configuration.nix
        ];
      };
    };
}
