# The NixOS module: sops-nix's `sops.*` options, with secrets installed by sops-install from an
# activation script (setupSecrets, setupSecretsForUsers, generate-age-key) or, with
# systemd-sysusers/userborn, from the units sops-install-secrets(-for-users).service.
{
  config,
  options,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.sops;
  sopsLib = import ../common/lib.nix { inherit lib; };

  regularSecrets = lib.filterAttrs (_: s: !s.neededForUsers) cfg.secrets;
  secretsForUsers = lib.filterAttrs (_: s: s.neededForUsers) cfg.secrets;
  # The for-users manifest is installed when it has secrets or templates.
  installsForUsers =
    secretsForUsers != { } || lib.any (t: t.neededForUsers) (lib.attrValues cfg.templates);
  manifest = config.system.build.sops-nix-manifest;
  manifestForUsers = config.system.build.sops-nix-users-manifest;

  sysusersEnabled = options.systemd ? sysusers && config.systemd.sysusers.enable;
  userbornEnabled = options.services ? userborn && config.services.userborn.enable;
  usersViaSystemd = sysusersEnabled || userbornEnabled;

  # The ssh host keys of one type, except those deployed by sops itself (a catch-22).
  hostKeys =
    { config, ... }:
    type:
    if config.services.openssh.enable then
      map (k: k.path) (
        lib.filter (
          k: k.type == type && !(lib.hasPrefix "/run/secrets" k.path)
        ) config.services.openssh.hostKeys
      )
    else
      [ ];

  # The activation script's environment: HOME is forced (sops would otherwise look for keys in
  # $HOME/.ssh) and PATH holds only the age plugins, as in sops-nix; without plugins PATH is
  # left as activation has it (store paths), never exported empty.
  scriptEnvironment =
    removeAttrs cfg.environment [ "PATH" ]
    // {
      HOME = "/var/empty";
    }
    // sopsLib.helperPath [ (lib.makeBinPath cfg.age.plugins) ];
  runInstaller =
    args: sopsLib.withEnvironment scriptEnvironment "${cfg.package}/bin/sops-install-secrets ${args}";

  keyPathsToMount = lib.concatLists [
    (lib.optional (cfg.gnupg.home != null) cfg.gnupg.home)
    (map toString cfg.gnupg.sshKeyPaths)
    (lib.optional (cfg.age.keyFile != null) (toString cfg.age.keyFile))
    (map toString cfg.age.sshKeyPaths)
  ];

  unitEnvironment = cfg.environment // {
    SOPS_RESTART_UNITS_VIA_SYSTEMCTL = "1";
  };

  dryActivation = lib.optionalAttrs (config.system ? dryActivationScript) {
    supportsDryActivation = true;
  };

  # sops-nix would run `age-keygen -o ''` without a key file; we skip that (with a warning).
  generatesKey = cfg.age.generateKey && cfg.age.keyFile != null;
  generateKeyDeps = lib.optional generatesKey "generate-age-key";

  # The key generation, for the activation script and for the unit the installer units are
  # ordered after (units may start before, or without, the activation scripts).
  generateKeyScript =
    let
      keyFile = lib.escapeShellArg (toString cfg.age.keyFile);
    in
    ''
      if [[ ! -f ${keyFile} ]]; then
        echo generating machine-specific age key...
        mkdir -p "$(dirname ${keyFile})"
        # age-keygen creates the file with mode 0600.
        ${pkgs.age}/bin/age-keygen -o ${keyFile}
      fi
    '';
  generateKeyUnits = lib.optional (
    generatesKey && usersViaSystemdOrUnit
  ) "sops-generate-age-key.service";
  usersViaSystemdOrUnit = cfg.useSystemdActivation || usersViaSystemd;

  # importKeyCredentials: the key credentials the installer looks for in $CREDENTIALS_DIRECTORY.
  keyCredentials = lib.optionalAttrs cfg.importKeyCredentials {
    ImportCredential = [
      "sops-install.age-key"
      "sops-install.ssh-key"
    ];
  };
  # Secrets' and templates' credential names share the store.
  credentialNames = lib.filter (n: n != null) (
    map (s: s.credential or null) (lib.attrValues cfg.secrets ++ lib.attrValues cfg.templates)
  );
in
{
  imports = [
    (import ../common/system-options.nix {
      platform = "nixos";
      defaultKeyPaths = hostKeys;
    })
    ../common/system-manifest.nix
    ./initrd-secrets.nix
  ];

  options.sops = {
    useTmpfs = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Use tmpfs (mounted with `noswap`) instead of ramfs for the secrets. On kernels before
        6.4 `noswap` is unavailable and secrets may then reach swap unencrypted.
      '';
    };
    credentialStore = mkOption {
      type = types.strMatching "/.*";
      default = "/run/credstore";
      description = ''
        Directory where secrets with a `credential` name are linked for systemd's
        `LoadCredential=NAME` (which searches `/etc/credstore`, `/run/credstore` and
        `/usr/lib/credstore`). It holds only symlinks into the secrets generation; created
        root-owned with mode 0700 when missing.
      '';
    };
    importKeyCredentials = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Take key material passed to the machine as systemd credentials (for example by the
        hypervisor with `-smbios type=11,value=io.systemd.credential:sops-install.age-key=…`):
        the installer units import `sops-install.age-key` (an age identity file) and
        `sops-install.ssh-key` (an OpenSSH private key, used like `sops.age.sshKeyPaths`) with
        `ImportCredential=`, and the installer uses what it finds in `$CREDENTIALS_DIRECTORY`
        besides the other key sources. Needs `sops.useSystemdActivation` (activation scripts
        run before systemd has imported the credentials).
      '';
    };
    useSystemdActivation = mkOption {
      type = types.bool;
      default = usersViaSystemd;
      defaultText = lib.literalExpression "config.systemd.sysusers.enable || config.services.userborn.enable";
      description = ''
        Install the secrets from the unit sops-install-secrets.service instead of an activation
        script. On by default with systemd-sysusers or userborn.
      '';
    };
  };

  config = lib.mkMerge [
    (lib.mkIf (cfg.secrets != { }) {
      warnings =
        lib.optional
          (lib.any (s: (s.owner != null && s.owner != "root") || (s.group != null && s.group != "root")) (
            lib.attrValues secretsForUsers
          ))
          "sops: neededForUsers secrets are always installed as root:root; their owner and group options are ignored";

      assertions = [
        {
          assertion = lib.all (
            s:
            !(
              (s.uid != null && s.uid != 0 && s.owner != "root")
              || (s.gid != null && s.gid != 0 && s.group != "root")
            )
          ) (lib.attrValues secretsForUsers);
          message = "neededForUsers cannot be used for secrets that are not root-owned";
        }
        {
          assertion = lib.length credentialNames == lib.length (lib.unique credentialNames);
          message = "sops.secrets and sops.templates: each credential name may be used by one secret or template only (${
            lib.concatStringsSep ", " (
              lib.unique (lib.filter (n: lib.count (m: m == n) credentialNames > 1) credentialNames)
            )
          })";
        }
        {
          assertion =
            cfg.importKeyCredentials
            ->
              (regularSecrets == { } || cfg.useSystemdActivation) && (secretsForUsers == { } || usersViaSystemd);
          message = "sops.importKeyCredentials needs sops.useSystemdActivation, and for neededForUsers secrets systemd-sysusers or userborn (activation scripts run before systemd imports credentials)";
        }
        {
          assertion = installsForUsers && sysusersEnabled -> config.users.mutableUsers;
          message = ''
            systemd.sysusers.enable in combination with sops.secrets.<name>.neededForUsers can only work with config.users.mutableUsers enabled.
            See https://github.com/Mic92/sops-nix/issues/475
          '';
        }
      ];
    })

    # Regular secrets from an activation script.
    (lib.mkIf (regularSecrets != { } && !cfg.useSystemdActivation) {
      system.activationScripts.setupSecrets =
        lib.stringAfter
          (
            [
              "specialfs"
              "users"
              "groups"
            ]
            ++ generateKeyDeps
          )
          ''
            [ -e /run/current-system ] || echo setting up secrets...
            ${runInstaller "${manifest}"}
          ''
        // dryActivation;
    })

    # Regular secrets from a unit, ordered before sysinit.target and restarted on a switch
    # before other units (sysinit-reactivation.target).
    (lib.mkIf (regularSecrets != { } && cfg.useSystemdActivation) {
      systemd.services.sops-install-secrets = {
        description = "Install sops secrets";
        wantedBy = [ "sysinit.target" ];
        requiredBy = [ "sysinit-reactivation.target" ];
        after = [
          "local-fs.target"
          "systemd-sysusers.service"
          "userborn.service"
        ]
        ++ generateKeyUnits;
        wants = generateKeyUnits;
        before = [
          "sysinit.target"
          "sysinit-reactivation.target"
        ];
        environment = unitEnvironment;
        path = cfg.age.plugins;
        unitConfig = {
          DefaultDependencies = "no";
          RequiresMountsFor = keyPathsToMount;
        };
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = [ "${cfg.package}/bin/sops-install-secrets ${manifest}" ];
        }
        // keyCredentials;
      };
    })

    # neededForUsers secrets: before the users activation script, or before sysusers/userborn.
    (lib.mkIf (installsForUsers && !usersViaSystemd) {
      system.activationScripts = {
        setupSecretsForUsers =
          lib.stringAfter ([ "specialfs" ] ++ generateKeyDeps) ''
            [ -e /run/current-system ] || echo setting up secrets for users...
            ${runInstaller "-ignore-passwd ${manifestForUsers}"}
          ''
          // dryActivation;
        users.deps = [ "setupSecretsForUsers" ];
      };
    })
    (lib.mkIf (installsForUsers && usersViaSystemd) {
      systemd.services.sops-install-secrets-for-users =
        let
          usersUnits =
            lib.optional sysusersEnabled "systemd-sysusers.service"
            ++ lib.optional userbornEnabled "userborn.service";
        in
        {
          description = "Install sops secrets needed to create users";
          wantedBy = usersUnits;
          after = generateKeyUnits;
          wants = generateKeyUnits;
          before = usersUnits ++ [ "sysinit.target" ];
          environment = unitEnvironment;
          path = cfg.age.plugins;
          unitConfig = {
            DefaultDependencies = "no";
            RequiresMountsFor = keyPathsToMount;
          };
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
            ExecStart = [ "${cfg.package}/bin/sops-install-secrets -ignore-passwd ${manifestForUsers}" ];
          }
          // keyCredentials;
        };
    })

    (lib.mkIf generatesKey {
      system.activationScripts.generate-age-key = lib.stringAfter [ ] generateKeyScript;
    })

    # With the installer in units, they wait for the key: a unit of its own, before them.
    (lib.mkIf (generatesKey && usersViaSystemdOrUnit) {
      systemd.services.sops-generate-age-key = {
        description = "Generate the machine's sops age key";
        after = [ "local-fs.target" ];
        before = [ "sysinit.target" ];
        wantedBy = [ "sysinit.target" ];
        unitConfig = {
          DefaultDependencies = "no";
          RequiresMountsFor = [ (builtins.dirOf (toString cfg.age.keyFile)) ];
        };
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
        };
        script = generateKeyScript;
      };
    })
  ];
}
