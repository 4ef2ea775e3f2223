# The home-manager module: sops-nix's user-mode `sops.*` options (declared in
# ../common/options.nix); secrets are installed by sops-install from the systemd user service
# `sops-nix` (Linux) or the launchd agent `sops-nix` (macOS), restarted on every home-manager
# activation.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.sops;
  sopsLib = import ../common/lib.nix { inherit lib; };
  isDarwin = pkgs.stdenv.hostPlatform.isDarwin;

  xdgConfigHome = config.xdg.configHome;

  # Units to restart or reload when a file changes (issue 18 item 4): in the manifest only when
  # some are set, so a configuration without them writes sops-nix's manifest.
  hasUnits = x: x.restartUnits != [ ] || x.reloadUnits != [ ];
  unitsOf = x: lib.optionalAttrs (hasUnits x) { inherit (x) restartUnits reloadUnits; };
  restartsUnits = lib.any hasUnits (lib.attrValues cfg.secrets ++ lib.attrValues cfg.templates);
  # The installer finds systemctl through absolute PATH entries only.
  systemctlDir = builtins.dirOf (
    config.systemd.user.systemctlPath or "/run/current-system/sw/bin/systemctl"
  );

  manifestData = {
    secrets = map (
      s:
      {
        inherit (s)
          name
          key
          path
          format
          mode
          sopsFile
          ;
      }
      // unitsOf s
    ) (lib.attrValues cfg.secrets);
    templates = map (
      t:
      {
        inherit (t)
          name
          path
          content
          file
          mode
          ;
      }
      // unitsOf t
    ) (lib.attrValues cfg.templates);
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

  # PATH: the age plugins, a PATH the user set, on Linux systemctl's directory when units are
  # to be restarted, and on macOS the system directories (the installer needs getconf there,
  # launchctl is /bin/launchctl).
  # Never an empty PATH (see helperPath).
  environment =
    removeAttrs cfg.environment [ "PATH" ]
    // sopsLib.helperPath (
      lib.optional (cfg.age.plugins != [ ]) (lib.makeBinPath cfg.age.plugins)
      ++ lib.optional (cfg.environment ? PATH) cfg.environment.PATH
      ++ lib.optional (restartsUnits && !isDarwin) systemctlDir
      ++ lib.optionals isDarwin [
        "/usr/bin"
        "/bin"
        "/usr/sbin"
        "/sbin"
      ]
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
  imports = [ (import ../common/options.nix { userMode = true; }) ];

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
          assertion =
            lib.length (
              lib.filter (x: x) [
                (cfg.gnupg.home != null)
                (cfg.gnupg.sshKeyPaths != [ ])
                qubes.enable
              ]
            ) <= 1;
          message = "Exactly one of sops.gnupg.home, sops.gnupg.sshKeyPaths and sops.gnupg.qubes-split-gpg must be set";
        }
        {
          assertion = qubes.enable -> (qubes.domain != null && qubes.domain != "");
          message = "sops.gnupg.qubes-split-gpg.domain is required when qubes-split-gpg is enabled";
        }
      ];
      warnings =
        lib.optional (
          cfg.age.generateKey && cfg.age.keyFile == null
        ) "sops.age.generateKey is set but sops.age.keyFile is not: no age key will be generated"
        ++ sopsLib.storeKeyWarnings cfg;

      sops.environment = {
        SOPS_GPG_EXEC = lib.mkIf (cfg.gnupg.home != null || cfg.gnupg.sshKeyPaths != [ ] || qubes.enable) (
          lib.mkDefault (if qubes.enable then "qubes-gpg-client-wrapper" else "${cfg.gnupg.package}/bin/gpg")
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
        Install.WantedBy =
          if cfg.gnupg.home != null then [ "graphical-session-pre.target" ] else [ "default.target" ];
      };
      # Restart after the new unit files are in place (home-manager's reloadSystemd).
      home.activation.sops-nix = {
        after = [ "reloadSystemd" ];
        before = [ ];
        data = ''
          systemdStatus=$(${
            config.systemd.user.systemctlPath or "systemctl"
          } --user is-system-running 2>&1 || true)
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
    # The build-time checks the NixOS and nix-darwin modules make (sopsLib.safetyAssertions):
    # custom paths that collide or lie inside the mount point, unit names (systemd user units on
    # Linux; launchd labels on macOS are left to the installer), empty host recipients and
    # environment names that are not shell variable names.
    (lib.mkIf (cfg.secrets != { }) {
      assertions = sopsLib.safetyAssertions {
        items =
          lib.mapAttrsToList (n: s: {
            what = "sops.secrets.${n}";
            inherit (s) path;
            default = "${cfg.defaultSymlinkPath}/${s.name}";
            units = lib.optionals (!isDarwin) ((s.restartUnits or [ ]) ++ (s.reloadUnits or [ ]));
          }) cfg.secrets
          ++ lib.mapAttrsToList (n: t: {
            what = "sops.templates.${n}";
            inherit (t) path;
            default = "${cfg.defaultSymlinkPath}/rendered/${t.name}";
            units = lib.optionals (!isDarwin) ((t.restartUnits or [ ]) ++ (t.reloadUnits or [ ]));
          }) cfg.templates;
        # Spelt as the paths are compared (`%r/secrets.d` as `/%r/secrets.d`).
        mountPoints = [ (sopsLib.normalisePath cfg.defaultSecretsMountPoint) ];
        inherit (cfg) hostRecipients environment;
      };
    })
  ];
}
