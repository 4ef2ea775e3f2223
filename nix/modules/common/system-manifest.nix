# The two manifests of a NixOS or nix-darwin system (regular and neededForUsers secrets): their
# attrsets (sops.internal.*, evaluable without building), the checked files
# (system.build.sops-nix-manifest and sops-nix-users-manifest) and the evaluation-time checks.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.sops;
  sopsLib = import ./lib.nix { inherit lib; };
  isNixos = cfg.internal.platform == "nixos";

  regularSecrets = lib.filterAttrs (_: s: !s.neededForUsers) cfg.secrets;
  secretsForUsers = lib.filterAttrs (_: s: s.neededForUsers) cfg.secrets;
  # Templates rendered before users exist go to the for-users manifest.
  regularTemplates = lib.filterAttrs (_: t: !(t.neededForUsers or false)) cfg.templates;
  templatesForUsers = lib.filterAttrs (_: t: t.neededForUsers or false) cfg.templates;

  secretEntry =
    s:
    {
      inherit (s)
        name
        key
        path
        format
        mode
        owner
        uid
        group
        gid
        sopsFile
        sopsFileHash
        neededForUsers
        ;
    }
    // lib.optionalAttrs isNixos { inherit (s) restartUnits reloadUnits; }
    # Ours, written only when used, so the manifest stays sops-nix's otherwise.
    // lib.optionalAttrs ((s.credential or null) != null) { inherit (s) credential; };

  templateEntry =
    t:
    {
      inherit (t)
        name
        path
        content
        file
        mode
        owner
        uid
        group
        gid
        ;
    }
    // lib.optionalAttrs isNixos { inherit (t) restartUnits reloadUnits; }
    # Only when set, so regular manifests stay exactly sops-nix's.
    // lib.optionalAttrs (t.neededForUsers or false) { neededForUsers = true; }
    // lib.optionalAttrs ((t.credential or null) != null) { inherit (t) credential; };

  # Evaluation-time checks of sops-nix (only with validateSopsFiles): every file exists and
  # is in the store, so the build-time check can read it.
  fileProblems =
    secrets:
    lib.concatLists (
      lib.mapAttrsToList (
        attr: s:
        lib.optional (!builtins.pathExists s.sopsFile)
          "Cannot find path '${toString s.sopsFile}' set in sops.secrets.${lib.strings.escapeNixIdentifier attr}.sopsFile"
        ++
          lib.optional
            (
              !builtins.isPath s.sopsFile
              && !(builtins.isString s.sopsFile && lib.hasPrefix builtins.storeDir s.sopsFile)
            )
            "'${toString s.sopsFile}' is not in the Nix store. Either add it to the Nix store or set sops.validateSopsFiles to false"
      ) secrets
    );

  checked =
    secrets: value:
    let
      problems = fileProblems secrets;
    in
    if cfg.validateSopsFiles && problems != [ ] then
      throw "\nFailed assertions:\n${lib.concatMapStringsSep "\n" (p: "- ${p}") problems}"
    else
      value;

  manifestFor =
    {
      secrets,
      templates,
      mountPoint,
      symlinkPath,
    }:
    checked secrets {
      secrets = map secretEntry (lib.attrValues secrets);
      templates = map templateEntry (lib.attrValues templates);
      placeholderBySecretName = sopsLib.placeholderMap cfg.secrets cfg.placeholder;
      secretsMountPoint = mountPoint;
      inherit symlinkPath;
      inherit (cfg) keepGenerations;
      gnupgHome = cfg.gnupg.home;
      # Kept as given: a Nix path becomes a store path in toJSON, as in sops-nix.
      sshKeyPaths = cfg.gnupg.sshKeyPaths;
      ageKeyFile = cfg.age.keyFile;
      ageSshKeyPaths = cfg.age.sshKeyPaths;
      useTmpfs = if isNixos then cfg.useTmpfs else false;
      userMode = false;
      logging = {
        keyImport = builtins.elem "keyImport" cfg.log;
        secretChanges = builtins.elem "secretChanges" cfg.log;
      };
    }
    // lib.optionalAttrs cfg.keepLastGoodOnFailure { keepLastGoodOnFailure = true; }
    //
      lib.optionalAttrs
        (lib.any (s: (s.credential or null) != null) (lib.attrValues secrets ++ lib.attrValues templates))
        {
          inherit (cfg) credentialStore;
        };

  checkFor =
    secrets:
    lib.optionalString cfg.validateSopsFiles (
      sopsLib.hostRecipientCheck cfg.validationPackage cfg.hostRecipients (sopsLib.sopsFilesOf secrets)
    );

  fileFor =
    name: data: extraCheck:
    sopsLib.manifestFile {
      inherit (pkgs) writeTextFile;
      inherit name data extraCheck;
      inherit (cfg) validationPackage validateSopsFiles;
    };
in
{
  config = {
    sops.internal = {
      manifest = manifestFor {
        secrets = regularSecrets;
        templates = regularTemplates;
        mountPoint = cfg.defaultSecretsMountPoint;
        symlinkPath = cfg.defaultSymlinkPath;
      };
      manifestForUsers = manifestFor {
        secrets = secretsForUsers;
        templates = templatesForUsers;
        mountPoint = cfg.defaultSecretsMountPointForUsers;
        symlinkPath = cfg.defaultSymlinkPathForUsers;
      };
      checkScript = checkFor regularSecrets;
      checkScriptForUsers = checkFor secretsForUsers;
    };

    system.build.sops-nix-manifest =
      fileFor "manifest.json" cfg.internal.manifest
        cfg.internal.checkScript;
    system.build.sops-nix-users-manifest =
      fileFor "manifest-for-users.json" cfg.internal.manifestForUsers
        cfg.internal.checkScriptForUsers;

    sops.environment.SOPS_GPG_EXEC = lib.mkIf (cfg.gnupg.home != null || cfg.gnupg.sshKeyPaths != [ ]) (
      lib.mkDefault "${cfg.gnupg.package}/bin/gpg"
    );

    # sops-nix accepts this (and generates nothing useful), so it is a warning, not an error.
    warnings =
      lib.optional (
        cfg.age.generateKey && cfg.age.keyFile == null
      ) "sops.age.generateKey is set but sops.age.keyFile is not: no age key will be generated"
      ++ sopsLib.storeKeyWarnings cfg;

    assertions =
      sopsLib.safetyAssertions {
        items =
          lib.mapAttrsToList (n: s: {
            what = "sops.secrets.${n}";
            inherit (s) path;
            default = "${
              if s.neededForUsers or false then cfg.defaultSymlinkPathForUsers else cfg.defaultSymlinkPath
            }/${s.name}";
            units = (s.restartUnits or [ ]) ++ (s.reloadUnits or [ ]);
          }) cfg.secrets
          ++ lib.mapAttrsToList (n: t: {
            what = "sops.templates.${n}";
            inherit (t) path;
            default = "${
              if t.neededForUsers or false then cfg.defaultSymlinkPathForUsers else cfg.defaultSymlinkPath
            }/rendered/${t.name}";
            units = (t.restartUnits or [ ]) ++ (t.reloadUnits or [ ]);
          }) cfg.templates;
        mountPoints = [
          cfg.defaultSecretsMountPoint
          cfg.defaultSecretsMountPointForUsers
        ];
        inherit (cfg) hostRecipients environment;
      }
      ++ lib.optionals (cfg.secrets != { }) (
        [
          {
            assertion =
              cfg.gnupg.home != null
              || cfg.gnupg.sshKeyPaths != [ ]
              || cfg.age.keyFile != null
              || cfg.age.sshKeyPaths != [ ]
              || (cfg.importKeyCredentials or false);
            message = "No key source configured for sops. Either set services.openssh.enable or set sops.age.keyFile or sops.gnupg.home";
          }
          {
            assertion = !(cfg.gnupg.home != null && cfg.gnupg.sshKeyPaths != [ ]);
            message = "Exactly one of sops.gnupg.home and sops.gnupg.sshKeyPaths must be set";
          }
        ]
        ++ lib.optionals cfg.validateSopsFiles (
          lib.concatLists (
            lib.mapAttrsToList (name: s: [
              {
                assertion = s.uid == null || s.uid == 0 || s.owner == null;
                message = "In ${name} exactly one of sops.owner and sops.uid must be set";
              }
              {
                assertion = s.gid == null || s.gid == 0 || s.group == null;
                message = "In ${name} exactly one of sops.group and sops.gid must be set";
              }
            ]) cfg.secrets
          )
        )
      );
  };
}
