# Evaluates one configuration with our NixOS module and with sops-nix's (source at `sopsNix`)
# and returns both manifests as JSON text, so the test compares what each writes. Key paths are
# given as Nix paths: toJSON turns them into store paths (nix-instantiate --readonly-mode only
# computes them).
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/compare-sops-nix.nix
#     --arg nixpkgsLib <path> --arg sopsNix <path>
{
  nixpkgsLib,
  sopsNix,
}:
let
  lib = import (nixpkgsLib + "/lib");
  stubs = import ./stubs.nix { inherit lib; };
  assets = ../../nix/tests/assets;
  # sops-nix builds its manifest with callPackage ./manifest-for.nix; everything else it asks
  # callPackage for is a package we never build.
  sopsNixPkgs = stubs.pkgs // {
    callPackage =
      f: args:
      if builtins.isPath f && baseNameOf f == "manifest-for.nix" then
        import f ({ inherit lib; } // args)
      else
        stubs.pkgs.callPackage f args // { sops-install-secrets = stubs.pkgs.callPackage f args; };
  };
  configuration = {
    users.users.someuser.group = "somegroup";
    sops = {
      defaultSopsFile = assets + "/secrets.yaml";
      age.keyFile = assets + "/age-keys.txt";
      age.sshKeyPaths = [ (assets + "/ssh-ed25519-key") ];
      gnupg.sshKeyPaths = [ (assets + "/key.asc") ];
      secrets = {
        test_key.owner = "someuser";
        "nested/test/file".restartUnits = [ "a.service" ];
        password = {
          key = "test_key";
          neededForUsers = true;
        };
      };
    };
  };
  evaluate =
    module: pkgs:
    (lib.evalModules {
      modules = [
        stubs.nixos
        module
        { _module.args.pkgs = pkgs; }
        configuration
      ];
    }).config;
  ours = evaluate ../../nix/modules/nixos stubs.pkgs;
  theirs = evaluate (sopsNix + "/modules/sops") sopsNixPkgs;
in
{
  ours = builtins.toJSON ours.sops.internal.manifest;
  oursForUsers = builtins.toJSON ours.sops.internal.manifestForUsers;
  theirs = theirs.system.build.sops-nix-manifest.text;
  theirsForUsers = theirs.system.build.sops-nix-users-manifest.text;
  oursWarnings = ours.warnings;
}
