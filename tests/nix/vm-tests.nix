# The NixOS VM tests of nix/tests/nixos.nix, evaluated without nixpkgs: runNixOSTest is
# replaced by the identity, and each node's configuration (and its specialisations) is
# evaluated by nixos-eval.nix. Returns per test its test script (for a parse check) and per
# node the failing assertions, warnings and both manifests as JSON text.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/vm-tests.nix --arg nixpkgsLib <path>
{ nixpkgsLib }:
let
  inherit (import ./nixos-eval.nix { inherit nixpkgsLib; }) lib pkgs evalNixos;
  tests = (import ../../nix/tests/nixos.nix { inherit pkgs lib; }).tests;
in
lib.mapAttrs (name: t: {
  inherit (t) name;
  testScript =
    if builtins.isFunction t.testScript then t.testScript { nodes = { }; } else t.testScript;
  nodes = lib.mapAttrs (_: node: evalNixos [ node ]) t.nodes;
}) tests
