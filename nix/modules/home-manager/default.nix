# The home-manager module: sops-nix's user-mode `sops.*` options; secrets are installed by
# sops-install from the systemd user service `sops-nix` (Linux) or the launchd agent `sops-nix`
# (macOS), restarted on every home-manager activation.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.sops;
  sopsLib = import ../common/lib.nix { inherit lib; };
  isDarwin = pkgs.stdenv.hostPlatform.isDarwin;

  secretType = types.submodule (
    { config, name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
          description = "File name of the secret below the secrets directory. May contain `/`.";
        };
        key = mkOption {
          type = types.str;
          default = if cfg.defaultSopsKey != null then cfg.defaultSopsKey else name;
          defaultText = lib.literalExpression "if config.sops.defaultSopsKey != null then config.sops.defaultSopsKey else <attribute name>";
          description = ''
            Key to look up in the sops file; nested keys are separated by `/`; `""` selects the
            whole file. Ignored for the binary, dotenv and ini formats.
          '';
        };
        path = mkOption {
          type = types.str;
          default = "${cfg.defaultSymlinkPath}/${name}";
          defaultText = "<defaultSymlinkPath>/<attribute name>";
          description = "Where the secret appears; `%r` is the runtime directory, `%%` a literal `%`.";
        };
        format = mkOption {
          type = types.enum [ "yaml" "json" "binary" "ini" "dotenv" ];
          default = cfg.defaultSopsFormat;
          defaultText = lib.literalExpression "config.sops.defaultSopsFormat";
          description = "Format of the sops file.";
        };
        mode = mkOption {
          type = types.str;
          default = "0400";
          description = "Permissions of the secret file, in octal.";
        };
        sopsFile = mkOption {
          type = types.path;
          default = cfg.defaultSopsFile;
          defaultText = lib.literalExpression "config.sops.defaultSopsFile";
          description = "The sops file the secret is read from.";
        };
      };
    }
  );

  templateType = types.submodule (
    { config, name, ... }:
    {
      options = {
        name = mkOption {
          type = types.singleLineStr;
          default = name;
          description = "File name of the rendered template.";
        };
        path = mkOption {
          type = types.singleLineStr;
          default = "${xdgConfigHome}/sops-nix/secrets/rendered/${config.name}";
          defaultText = "<xdg.configHome>/sops-nix/secrets/rendered/<name>";
          description = "Where the rendered file appears.";
        };
        content = mkOption {
          type = types.lines;
          default = "";
          description = "Text of the template; `config.sops.placeholder.<secret>` marks where a secret goes.";
        };
        mode = mkOption {
          type = types.singleLineStr;
          default = "0400";
          description = "Permissions of the rendered file, in octal.";
        };
        file = mkOption {
          type = types.path;
          default = pkgs.writeText (lib.replaceStrings [ "/" ] [ "-" ] config.name) config.content;
          defaultText = lib.literalExpression "a store file holding `content`";
          description = "File holding the template text; used when `content` is empty.";
        };
      };
    }
  );
  xdgConfigHome = config.xdg.configHome;

  manifestData = {
    secrets = map (s: {
      inherit (s) name key path format mode sopsFile;
    }) (lib.attrValues cfg.secrets);
    templates = map (t: {
      inherit (t) name path content file mode;
    }) (lib.attrValues cfg.templates);
    placeholderBySecretName = sopsLib.placeholderMap cfg.secrets cfg.placeholder;
    secretsMountPoint = cfg.defaultSecretsMountPoint;
    symlinkPath = cfg.defaultSymlinkPath;
    inherit (cfg) keepGenerations;
    gnupgHome = cfg.gnupg.home;
    # Kept as given: a Nix path becomes a store path in toJSON, as in sops-nix.
    sshKeyPaths = cfg.gnupg.sshKeyPaths;
    ageKeyFile = cfg.age.keyFile;
    ageSshKeyPaths = cfg.age.sshKeyPaths;
    userMode = true;
    logging = {
      keyImport = builtins.elem "keyImport" cfg.log;
      secretChanges = builtins.elem "secretChanges" cfg.log;
    };
  }
  // lib.optionalAttrs cfg.keepLastGoodOnFailure { keepLastGoodOnFailure = true; };

  manifestFile = sopsLib.manifestFile {
    inherit (pkgs) writeTextFile;
    name = "manifest.json";
    data = manifestData;
    validationPackage = cfg.package;
    inherit (cfg) validateSopsFiles;
    extraCheck = cfg.internal.checkScript;
  };

  # PATH: the age plugins, a PATH the user set, and on macOS the system directories (the
  # installer needs getconf there).
  # Never an empty PATH (see helperPath).
  environment =
    removeAttrs cfg.environment [ "PATH" ]
    // sopsLib.helperPath (
      lib.optional (cfg.age.plugins != [ ]) (lib.makeBinPath cfg.age.plugins)
      ++ lib.optional (cfg.environment ? PATH) cfg.environment.PATH
      ++ lib.optionals isDarwin [ "/usr/bin" "/bin" "/usr/sbin" "/sbin" ]
    );

  # On macOS the launchd agent reads the manifest through this stable path (linked by
  # home-manager to the current one), so an agent left loaded from an older generation never
  # applies an old manifest (sops-nix #974).
  stableManifest = "${xdgConfigHome}/sops-nix/manifest.json";
  manifestArg = if isDarwin then lib.escapeShellArg stableManifest else "${manifestFile}";

  generatesKey = cfg.age.generateKey && cfg.age.keyFile != null;
  keyFile = lib.escapeShellArg (toString cfg.age.keyFile);
  script = pkgs.writeShellScript "sops-nix-user" (
    lib.optionalString generatesKey ''
      if [[ ! -f ${keyFile} ]]; then
        echo generating machine-specific age key...
        ${pkgs.coreutils}/bin/mkdir -p "$(${pkgs.coreutils}/bin/dirname ${keyFile})"
        ${pkgs.age}/bin/age-keygen -o ${keyFile}
      fi
    ''
    + ''
      ${cfg.package}/bin/sops-install-secrets -ignore-passwd ${manifestArg}
    ''
  );

  qubes = cfg.gnupg.qubes-split-gpg;
in
{
  options.sops = {
    secrets = mkOption {
      type = types.attrsOf secretType;
      default = { };
      description = "Secrets to decrypt, by attribute name.";
    };
    templates = mkOption {
      type = types.attrsOf templateType;
      default = { };
      description = "Templates rendered with the secrets' contents in place of their placeholders.";
    };
    placeholder = mkOption {
      type = types.lazyAttrsOf (
        types.mkOptionType {
          name = "coercibleToString";
          description = "value that can be coerced to string";
          check = lib.strings.isConvertibleWithToString;
          merge = lib.mergeEqualOption;
        }
      );
      default = { };
      visible = false;
      description = "The placeholder text of each secret, by attribute name (defined when templates exist).";
    };
    defaultSopsFile = mkOption {
      type = types.path;
      description = "Default sops file for all secrets.";
    };
    defaultSopsFormat = mkOption {
      type = types.str;
      default = "yaml";
      description = "Default format of the sops files.";
    };
    defaultSopsKey = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Default key looked up in the sops files; `\"\"` means the whole file.";
    };
    validateSopsFiles = mkOption {
      type = types.bool;
      default = true;
      description = "Check at build time that the sops files parse and hold every key.";
    };
    defaultSymlinkPath = mkOption {
      type = types.str;
      default = "${config.xdg.configHome}/sops-nix/secrets";
      defaultText = "<xdg.configHome>/sops-nix/secrets";
      description = "Symlink to the live secrets generation.";
    };
    defaultSecretsMountPoint = mkOption {
      type = types.str;
      default = "%r/secrets.d";
      description = "Directory holding the secrets generations; `%r` is the runtime directory.";
    };
    keepGenerations = mkOption {
      type = types.ints.unsigned;
      default = 1;
      description = "Number of secrets generations to keep; 0 disables pruning.";
    };
    keepLastGoodOnFailure = mkOption {
      type = types.bool;
      default = false;
      description = ''
        When a sops file cannot be opened, keep the last good values of its secrets (bytes and
        mode from the live generation) while every other secret is installed new; the
        installer still exits with status 1 and one line per failing file. A secret with no
        live value fails the run as without this option. See the NixOS option of this name.
      '';
    };
    log = mkOption {
      type = types.listOf (types.enum [ "keyImport" "secretChanges" ]);
      default = [ "keyImport" "secretChanges" ];
      description = "What to log.";
    };
    environment = mkOption {
      type = types.attrsOf (types.either types.str types.path);
      default = { };
      description = "Environment variables set for the installer.";
    };
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ../../package.nix { };
      defaultText = lib.literalExpression "the sops-install package of this flake";
      description = "The installer package.";
    };
    hostRecipients = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = ''
        This user's age recipients or ssh public keys. When set (and `validateSopsFiles` is
        on) the build fails with a `sops updatekeys FILE` hint if a sops file is not encrypted
        to any of them.
      '';
    };
    age = {
      keyFile = mkOption {
        type = types.nullOr sopsLib.pathNotInStore;
        default = null;
        example = "/home/someuser/.age-key.txt";
        description = "Age identity file (must not be in the Nix store).";
      };
      plugins = mkOption {
        type = types.listOf types.package;
        default = [ ];
        description = "Packages whose bin directories are put on the installer's PATH (age plugins).";
      };
      generateKey = mkOption {
        type = types.bool;
        default = false;
        description = "Generate `age.keyFile` with age-keygen when it does not exist.";
      };
      sshKeyPaths = mkOption {
        type = types.listOf types.path;
        default = [ ];
        description = "ed25519 ssh private keys used as age identities.";
      };
    };
    gnupg = {
      package = mkOption {
        type = types.package;
        default = pkgs.gnupg;
        defaultText = lib.literalExpression "pkgs.gnupg";
        description = "GnuPG package; gives the default `SOPS_GPG_EXEC`.";
      };
      home = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/home/someuser/.gnupg";
        description = "GnuPG home holding the private key; the installer runs `gpg -d` (`SOPS_GPG_EXEC`) with it for `pgp` entries.";
      };
      qubes-split-gpg = {
        enable = mkOption {
          type = types.bool;
          default = false;
          description = "Use Qubes split-gpg (qubes-gpg-client-wrapper) for PGP.";
        };
        domain = mkOption {
          type = types.nullOr types.str;
          default = null;
          description = "The Qubes domain holding the GPG key.";
        };
      };
      sshKeyPaths = mkOption {
        type = types.listOf types.path;
        default = [ ];
        description = "RSA ssh private keys used as the PGP keys ssh-to-pgp derives from them (same fingerprints); read into memory, no keyring is written.";
      };
    };
    internal = {
      manifest = mkOption {
        type = types.attrs;
        internal = true;
        readOnly = true;
        description = "The manifest (before toJSON).";
      };
      manifestFile = mkOption {
        type = types.unspecified;
        internal = true;
        readOnly = true;
        description = "The checked manifest file.";
      };
      checkScript = mkOption {
        type = types.str;
        internal = true;
        readOnly = true;
        description = "Extra build-time check of the manifest (host recipients).";
      };
      script = mkOption {
        type = types.unspecified;
        internal = true;
        readOnly = true;
        description = "The script the service or agent runs.";
      };
    };
  };

  config = lib.mkMerge [
    {
      sops.internal = {
        manifest = manifestData;
        inherit manifestFile script;
        checkScript = lib.optionalString cfg.validateSopsFiles (
          sopsLib.hostRecipientCheck cfg.package cfg.hostRecipients (sopsLib.sopsFilesOf cfg.secrets)
        );
      };
    }
    (lib.mkIf (cfg.templates != { }) {
      sops.placeholder = lib.mapAttrs (attr: _: lib.mkDefault (sopsLib.placeholderFor attr)) cfg.secrets;
    })
    (lib.mkIf (cfg.secrets != { }) {
      assertions = [
        {
          assertion =
            cfg.gnupg.home != null
            || cfg.gnupg.sshKeyPaths != [ ]
            || qubes.enable
            || cfg.age.keyFile != null
            || cfg.age.sshKeyPaths != [ ];
          message = "No key source configured for sops. Either set sops.age.keyFile, sops.age.sshKeyPaths, sops.gnupg.home, sops.gnupg.sshKeyPaths or sops.gnupg.qubes-split-gpg";
        }
        {
          assertion = lib.length (lib.filter (x: x) [ (cfg.gnupg.home != null) (cfg.gnupg.sshKeyPaths != [ ]) qubes.enable ]) <= 1;
          message = "Exactly one of sops.gnupg.home, sops.gnupg.sshKeyPaths and sops.gnupg.qubes-split-gpg must be set";
        }
        {
          assertion = qubes.enable -> (qubes.domain != null && qubes.domain != "");
          message = "sops.gnupg.qubes-split-gpg.domain is required when qubes-split-gpg is enabled";
        }
      ];
      warnings =
        lib.optional (cfg.age.generateKey && cfg.age.keyFile == null)
          "sops.age.generateKey is set but sops.age.keyFile is not: no age key will be generated"
        ++ sopsLib.storeKeyWarnings cfg;

      sops.environment = {
        SOPS_GPG_EXEC = lib.mkIf (cfg.gnupg.home != null || cfg.gnupg.sshKeyPaths != [ ] || qubes.enable) (
          lib.mkDefault (
            if qubes.enable then "qubes-gpg-client-wrapper" else "${cfg.gnupg.package}/bin/gpg"
          )
        );
        QUBES_GPG_DOMAIN = lib.mkIf qubes.enable (lib.mkDefault qubes.domain);
      };
      home.sessionVariables = lib.mkIf qubes.enable {
        SOPS_GPG_EXEC = "qubes-gpg-client-wrapper";
      };
    })
    (lib.mkIf (cfg.secrets != { } && !isDarwin) {
      systemd.user.services.sops-nix = {
        Unit.Description = "sops-nix activation";
        Service = {
          Type = "oneshot";
          Environment = lib.concatStringsSep " " (lib.mapAttrsToList (n: v: "'${n}=${v}'") environment);
          ExecStart = "${script}";
        };
        Install.WantedBy = if cfg.gnupg.home != null then [ "graphical-session-pre.target" ] else [ "default.target" ];
      };
      # Restart after the new unit files are in place (home-manager's reloadSystemd).
      home.activation.sops-nix = {
        after = [ "reloadSystemd" ];
        before = [ ];
        data = ''
          systemdStatus=$(${config.systemd.user.systemctlPath or "systemctl"} --user is-system-running 2>&1 || true)
          if [[ $systemdStatus == running || $systemdStatus == degraded ]]; then
            ${config.systemd.user.systemctlPath or "systemctl"} restart --user sops-nix
          else
            echo "User systemd daemon not running. Probably executed on boot where no manual start/reload is needed."
          fi
          unset systemdStatus
        '';
      };
    })
    (lib.mkIf (cfg.secrets != { } && isDarwin) {
      xdg.configFile."sops-nix/manifest.json".source = manifestFile;
      launchd.agents.sops-nix = {
        enable = true;
        config = {
          Program = "${script}";
          EnvironmentVariables = environment;
          RunAtLoad = true;
          KeepAlive = false;
          StandardOutPath = "${config.home.homeDirectory}/Library/Logs/SopsNix/stdout";
          StandardErrorPath = "${config.home.homeDirectory}/Library/Logs/SopsNix/stderr";
        };
      };
      home.activation.sops-nix = {
        # After the stable manifest link points at this generation's manifest.
        after = [
          "linkGeneration"
          "setupLaunchAgents"
        ];
        before = [ ];
        data = ''
          /bin/launchctl bootout gui/$(id -u ${config.home.username})/org.nix-community.home.sops-nix || true
          /bin/launchctl bootstrap gui/$(id -u ${config.home.username}) ${config.home.homeDirectory}/Library/LaunchAgents/org.nix-community.home.sops-nix.plist
        '';
      };
    })
  ];
}
