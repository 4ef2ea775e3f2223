# The VM test `home-manager-restart-units` of nix/tests/nixos.nix, evaluated without nixpkgs
# and home-manager: runNixOSTest is the identity and home-manager's NixOS module a stand-in
# that evaluates each user's configuration with tests/nix/stubs.nix. Returns the test script
# and, for the user, the failing assertions, the manifest (JSON text) and the sops-nix service.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/vm-test-home.nix --arg nixpkgsLib <path>
{ nixpkgsLib }:
let
  inherit (import ./nixos-eval.nix { inherit nixpkgsLib; }) lib pkgs;
  inherit (lib) mkOption types;
  stubs = import ./stubs.nix { inherit lib; };
  home-manager.nixosModules.home-manager = {
    options.home-manager.users = mkOption {
      type = types.attrsOf (
        types.submoduleWith {
          modules = [
            stubs.home
            {
              options.home.stateVersion = mkOption { type = types.str; };
              config._module.args.pkgs = pkgs;
            }
          ];
        }
      );
      default = { };
    };
  };
  test =
    (import ../../nix/tests/nixos.nix { inherit pkgs lib home-manager; })
    .tests.home-manager-restart-units;
  node =
    (lib.evalModules {
      modules = [
        stubs.nixos
        { _module.args.pkgs = pkgs; }
        test.nodes.machine
      ];
    }).config;
  alice = node.home-manager.users.alice;
in
{
  inherit (test) name testScript;
  failing = map (a: a.message) (lib.filter (a: !a.assertion) alice.assertions);
  manifest = builtins.toJSON alice.sops.internal.manifest;
  service = alice.systemd.user.services.sops-nix;
  activationScripts = builtins.attrNames node.system.activationScripts;
}
