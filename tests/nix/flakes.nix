# The public flake and the development flake nix/dev, their outputs computed with a stand-in
# nixpkgs (nixpkgs' lib and tests/nix/stubs.nix packages; nothing is built) and stand-ins for
# home-manager and nix-darwin. Returns their inputs, package names and check names per system.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/flakes.nix --arg nixpkgsLib <path>
{ nixpkgsLib }:
let
  lib = import (nixpkgsLib + "/lib");
  stubs = import ./stubs.nix { inherit lib; };
  pkgsFor =
    system:
    let
      platform = {
        inherit system;
        isLinux = lib.hasSuffix "linux" system;
        isDarwin = lib.hasSuffix "darwin" system;
      };
    in
    stubs.pkgs
    // {
      stdenv = platform // {
        hostPlatform = platform;
        buildPlatform = platform;
      };
      runCommand =
        name: _: _:
        stubs.pkgs.callPackage name { };
    };
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [
      "x86_64-linux"
      "aarch64-linux"
      "x86_64-darwin"
      "aarch64-darwin"
    ] pkgsFor;
  };
  publicFlake = import ../../flake.nix;
  devFlake = import ../../nix/dev/flake.nix;
  public = publicFlake.outputs {
    self = public;
    inherit nixpkgs;
  };
  dev = devFlake.outputs {
    self = dev;
    inherit nixpkgs;
    sops-install = public;
    home-manager = { };
    nix-darwin = { };
  };
  names = lib.mapAttrs (_: builtins.attrNames);
in
{
  publicInputs = builtins.attrNames publicFlake.inputs;
  devInputs = lib.mapAttrs (_: i: i.url) devFlake.inputs;
  packages = names public.packages;
  overlay = builtins.attrNames (public.overlays.default (pkgsFor "x86_64-linux") { });
  publicChecks = names public.checks;
  devChecks = names dev.checks;
}
