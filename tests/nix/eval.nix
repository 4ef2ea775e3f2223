# Evaluates the sops modules for one example configuration with the stubs; prints what the
# Rust test compares: the manifests (before toJSON), failing assertions, warnings and wiring.
# nix-instantiate --eval --strict --json --readonly-mode tests/nix/eval.nix
#   --arg nixpkgsLib <path> --argstr example <name>
{
  nixpkgsLib,
  example,
}:
let
  lib = import (nixpkgsLib + "/lib");
  stubs = import ./stubs.nix { inherit lib; };
  examples = import ./examples.nix { inherit lib; };
  ex = examples.${example};
  evaluated = lib.evalModules {
    modules = [
      stubs.${ex.kind}
      {
        nixos = ../../nix/modules/nixos;
        darwin = ../../nix/modules/nix-darwin;
        home = ../../nix/modules/home-manager;
      }
      .${ex.kind}
      { _module.args.pkgs = stubs.pkgs // (ex.pkgs or { }); }
      ex.config
    ];
  };
  config = evaluated.config;
  failing = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  scriptText = s: if builtins.isString s then s else s.text or "";
in
if ex.kind == "home" then
  {
    inherit failing;
    inherit (config) warnings;
    manifest = config.sops.internal.manifest;
    checkScript = config.sops.internal.checkScript;
    checkPhase = config.sops.internal.manifestFile.checkPhase;
    service = config.systemd.user.services.sops-nix or null;
    agent = config.launchd.agents.sops-nix or null;
    configFile = config.xdg.configFile;
    manifestFile = config.sops.internal.manifestFile;
    activation = config.home.activation.sops-nix or null;
    script = config.sops.internal.script.text;
  }
else if ex.kind == "darwin" then
  {
    inherit failing;
    inherit (config) warnings;
    manifest = config.sops.internal.manifest;
    manifestForUsers = config.sops.internal.manifestForUsers;
    postActivation = config.system.activationScripts.postActivation.text;
    daemons = config.launchd.daemons;
    etc = config.environment.etc;
    manifestFile = config.system.build.sops-nix-manifest;
    manifestFileForUsers = config.system.build.sops-nix-users-manifest;
  }
else
  {
    inherit failing;
    inherit (config) warnings;
    manifest = config.sops.internal.manifest;
    manifestForUsers = config.sops.internal.manifestForUsers;
    checkScript = config.sops.internal.checkScript;
    checkPhase = config.system.build.sops-nix-manifest.checkPhase;
    checkPhaseForUsers = config.system.build.sops-nix-users-manifest.checkPhase;
    activationScripts = lib.mapAttrs (
      _: s:
      if builtins.isString s then
        { text = s; }
      else
        {
          text = s.text or "";
          deps = s.deps or [ ];
          supportsDryActivation = s.supportsDryActivation or false;
        }
    ) config.system.activationScripts;
    services = config.systemd.services;
    placeholder = config.sops.placeholder;
    secretPaths = lib.mapAttrs (_: s: s.path) config.sops.secrets;
  }
