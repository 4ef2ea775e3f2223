# examples/nixos: its flake's nixosConfigurations.example, built by a stand-in nixpkgs whose
# nixosSystem evaluates the modules with nixos-eval.nix, and this repository's flake as the
# sops-nix input. Also evaluates the same configuration through the non-flake import path
# modules/sops (sops-nix's layout) to check it gives the same manifests.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/example-nixos.nix --arg nixpkgsLib <path>
{ nixpkgsLib }:
let
  inherit (import ./nixos-eval.nix { inherit nixpkgsLib; }) lib pkgs evalNixos;
  nixpkgs = {
    lib = lib // {
      nixosSystem = { modules, ... }: evalNixos modules;
    };
    legacyPackages = lib.genAttrs [
      "x86_64-linux"
      "aarch64-linux"
      "x86_64-darwin"
      "aarch64-darwin"
    ] (_: pkgs);
  };
  repoFlake = import ../../flake.nix;
  sops-nix = repoFlake.outputs {
    self = sops-nix;
    inherit nixpkgs;
  };
  exampleFlake = import ../../examples/nixos/flake.nix;
  example = (exampleFlake.outputs { inherit nixpkgs sops-nix; }).nixosConfigurations.example;
  nonFlake = evalNixos [
    ../../modules/sops
    ../../examples/nixos/configuration.nix
  ];
in
{
  inputs = lib.mapAttrs (_: i: i.url or null) exampleFlake.inputs;
  inherit example;
  nonFlakeManifest = nonFlake.manifest;
  nonFlakeManifestForUsers = nonFlake.manifestForUsers;
}
