# The nix-darwin module: sops-nix's darwin `sops.*` options; secrets are installed by
# sops-install from postActivation and from the launchd daemons sops-install-secrets and
# sops-install-secrets-for-users (so they are back after a reboot). System tools are called by
# absolute path and the system directories stay on PATH, so age.plugins cannot hide them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.sops;
  sopsLib = import ../common/lib.nix { inherit lib; };

  regularSecrets = lib.filterAttrs (_: s: !s.neededForUsers) cfg.secrets;
  secretsForUsers = lib.filterAttrs (_: s: s.neededForUsers) cfg.secrets;
  installsForUsers =
    secretsForUsers != { } || lib.any (t: t.neededForUsers) (lib.attrValues cfg.templates);
  manifest = config.system.build.sops-nix-manifest;
  manifestForUsers = config.system.build.sops-nix-users-manifest;

  # Fixed host key paths (nix-darwin does not describe OpenSSH host keys), minus keys that
  # sops itself deploys.
  hostKeys =
    _: type:
    lib.filter (p: !(lib.hasPrefix "/run/secrets" p)) (
      if type == "ed25519" then [ "/etc/ssh/ssh_host_ed25519_key" ] else [ "/etc/ssh/ssh_host_rsa_key" ]
    );

  environment =
    cfg.environment
    // lib.optionalAttrs (cfg.age.plugins != [ ]) {
      PATH = "${lib.makeBinPath cfg.age.plugins}:/usr/bin:/bin:/usr/sbin:/sbin";
    };

  generatesKey = cfg.age.generateKey && cfg.age.keyFile != null;
  keyFile = lib.escapeShellArg (toString cfg.age.keyFile);
  generateKey = lib.optionalString generatesKey ''
    if [[ ! -f ${keyFile} ]]; then
      echo generating machine-specific age key...
      ${pkgs.coreutils}/bin/mkdir -p "$(${pkgs.coreutils}/bin/dirname ${keyFile})"
      ${pkgs.age}/bin/age-keygen -o ${keyFile}
    fi
  '';

  # Activation installs the manifest of the generation being activated; the launchd daemons
  # read it through a stable path in /etc (nix-darwin's etc step, which runs before launchd
  # and postActivation, points it at the current one), so a daemon left loaded by a
  # deployment tool never applies an old manifest (sops-nix #974).
  stableManifest = "/etc/sops-install/manifest.json";
  stableManifestForUsers = "/etc/sops-install/manifest-for-users.json";

  installScriptFor = manifest: ''
    ${generateKey}
    echo "Setting up secrets..."
    ${sopsLib.withEnvironment environment "${cfg.package}/bin/sops-install-secrets ${manifest}"}
  '';
  installForUsersScriptFor = manifest: ''
    echo "Setting up secrets for users"
    ${sopsLib.withEnvironment environment "${cfg.package}/bin/sops-install-secrets -ignore-passwd ${manifest}"}
  '';

  daemon = script: {
    serviceConfig = {
      ProgramArguments = [
        "/bin/sh"
        "-c"
        script
      ];
      RunAtLoad = true;
      KeepAlive = false;
    };
  };
in
{
  imports = [
    (import ../common/system-options.nix {
      platform = "darwin";
      defaultKeyPaths = hostKeys;
    })
    ../common/system-manifest.nix
  ];

  config = lib.mkMerge [
    (lib.mkIf (regularSecrets != { }) {
      environment.etc."sops-install/manifest.json".source = manifest;
      system.activationScripts.postActivation.text = lib.mkAfter (installScriptFor "${manifest}");
      launchd.daemons.sops-install-secrets = daemon (installScriptFor stableManifest);
    })
    (lib.mkIf installsForUsers {
      environment.etc."sops-install/manifest-for-users.json".source = manifestForUsers;
      system.activationScripts.postActivation.text = lib.mkAfter (
        installForUsersScriptFor "${manifestForUsers}"
      );
      launchd.daemons.sops-install-secrets-for-users = daemon (
        installForUsersScriptFor stableManifestForUsers
      );
    })
  ];
}
