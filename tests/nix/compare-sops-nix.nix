# Evaluates one configuration with our NixOS module and with sops-nix's (source at `sopsNix`),
# and one with both home-manager modules, and returns the manifests as JSON text, so the test compares what each writes. Key paths are
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

  # home-manager: sops-nix's module keeps its manifest inside the unit's script, so its
  # writeTextFile and writeShellScript stubs put their text in the "store path" they return
  # (the manifest between markers), and the manifest is read back from the unit's ExecStart.
  homeConfiguration = {
    sops = {
      defaultSopsFile = assets + "/secrets.yaml";
      age.keyFile = "/home/alice/.age-key.txt";
      age.sshKeyPaths = [ (assets + "/ssh-ed25519-key") ];
      gnupg.sshKeyPaths = [ (assets + "/key.asc") ];
      secrets.test_key = { };
    };
  };
  evaluateHome =
    module: pkgs:
    (lib.evalModules {
      modules = [
        stubs.home
        module
        { _module.args.pkgs = pkgs; }
        homeConfiguration
      ];
    }).config;
  oursHome = evaluateHome ../../nix/modules/home-manager stubs.pkgs;
  theirsHome = evaluateHome (sopsNix + "/modules/home-manager/sops.nix") (
    sopsNixPkgs
    // {
      writeTextFile = args: {
        type = "derivation";
        inherit (args) name;
        outPath = "@@MANIFEST@@${args.text}@@END@@";
      };
      writeShellScript = name: text: {
        type = "derivation";
        inherit name;
        outPath = text;
      };
    }
  );
  theirsHomeManifest = builtins.head (
    builtins.match ".*@@MANIFEST@@(.*)@@END@@.*" (
      toString theirsHome.systemd.user.services.sops-nix.Service.ExecStart
    )
  );
in
{
  oursHome = builtins.toJSON oursHome.sops.internal.manifest;
  theirsHome = theirsHomeManifest;
  oursHomeWarnings = oursHome.warnings;
  ours = builtins.toJSON ours.sops.internal.manifest;
  oursForUsers = builtins.toJSON ours.sops.internal.manifestForUsers;
  theirs = theirs.system.build.sops-nix-manifest.text;
  theirsForUsers = theirs.system.build.sops-nix-users-manifest.text;
  oursWarnings = ours.warnings;
}
