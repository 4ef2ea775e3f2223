# The derivation of the flake check `tests-without-root` (nix/tests/without-root.nix) with a
# stand-in rustPlatform: its check phase, the test targets it runs and the paths its source
# holds (relative to the repository), so the Rust test can compare them with Cargo.toml.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/without-root.nix --arg nixpkgsLib <path>
{ nixpkgsLib }:
let
  lib = import (nixpkgsLib + "/lib");
  drv = import ../../nix/tests/without-root.nix {
    inherit lib;
    rustPlatform.buildRustPackage = args: args;
  };
in
{
  inherit (drv) checkPhase doCheck;
  inherit (drv.passthru) testTargets sourcePaths;
}
