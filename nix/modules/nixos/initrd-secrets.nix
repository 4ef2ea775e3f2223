# sops.initrdSecrets: sops secrets in the initrd, through nixpkgs' own hook for generated initrd
# secrets (boot.initrd.secretPaths.<path>.generateSecretCommand, NixOS/nixpkgs#493445). nixpkgs
# runs the command while the boot loader is installed (`nixos-rebuild switch|boot`, for every
# generation listed in the boot menu) with `$out` naming the file to write, then packs the file
# into the initrd's secrets archive next to the kernel. The command is
# `sops-install initrd-secret`, with the key sources activation uses.
#
# The initrd, and so the secret, is only as safe as the boot partition that holds it: often an
# unencrypted /boot or EFI system partition anyone with the disk in hand can read.
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

  # nixpkgs with the generate-command hook (boot.initrd.secrets only copies existing files).
  hasHook = options ? boot && options.boot ? initrd && options.boot.initrd ? secretPaths;
  # Where the loader appends the secrets archive; otherwise nixpkgs copies them into the store.
  loaderKnown =
    options ? boot && options.boot ? loader && options.boot.loader ? supportsInitrdSecrets;

  # The environment activation gives the installer: HOME forced, the age plugins on PATH.
  environment =
    removeAttrs cfg.environment [ "PATH" ]
    // {
      HOME = "/var/empty";
    }
    // sopsLib.helperPath [ (lib.makeBinPath cfg.age.plugins) ];

  # The key sources of the manifest, as flags.
  keyFlags = lib.concatLists [
    (lib.optionals (cfg.age.keyFile != null) [
      "--age-key-file"
      (toString cfg.age.keyFile)
    ])
    (lib.concatMap (p: [
      "--age-ssh-key"
      (toString p)
    ]) cfg.age.sshKeyPaths)
    (lib.concatMap (p: [
      "--pgp-ssh-key"
      (toString p)
    ]) cfg.gnupg.sshKeyPaths)
    (lib.optionals (cfg.gnupg.home != null) [
      "--gnupg-home"
      (toString cfg.gnupg.home)
    ])
  ];

  # validateSopsFiles: a manifest of the initrd secrets alone (each named `initrd<path>`),
  # checked at build time like the system's (`-check-mode=sopsfile`: the file opens as its
  # format and holds the key; and the host recipients check), so a wrong key or file fails the
  # build rather than the boot loader installation. Every command refers to it, which makes
  # it part of the system's build.
  checkManifest = {
    secrets = lib.mapAttrsToList (path: s: {
      name = "initrd${path}";
      inherit (s)
        key
        format
        mode
        sopsFile
        ;
      path = "";
      owner = null;
      uid = 0;
      group = null;
      gid = 0;
      sopsFileHash = "";
      neededForUsers = false;
      restartUnits = [ ];
      reloadUnits = [ ];
    }) cfg.initrdSecrets;
    templates = [ ];
    placeholderBySecretName = { };
    secretsMountPoint = cfg.defaultSecretsMountPoint;
    symlinkPath = cfg.defaultSymlinkPath;
    keepGenerations = 0;
    gnupgHome = cfg.gnupg.home;
    sshKeyPaths = cfg.gnupg.sshKeyPaths;
    ageKeyFile = cfg.age.keyFile;
    ageSshKeyPaths = cfg.age.sshKeyPaths;
    useTmpfs = false;
    userMode = false;
  };
  checkFile = sopsLib.manifestFile {
    inherit (pkgs) writeTextFile;
    name = "initrd-secrets-manifest.json";
    data = checkManifest;
    inherit (cfg) validationPackage validateSopsFiles;
    extraCheck = sopsLib.hostRecipientCheck cfg.validationPackage cfg.hostRecipients (
      sopsLib.sopsFilesOf (lib.mapAttrs' (path: s: lib.nameValuePair "initrd${path}" s) cfg.initrdSecrets)
    );
  };
  # Eval-time part of the check (as for sops.secrets): the files must be in the store.
  notInStore = lib.filter (
    f: !builtins.isPath f && !(builtins.isString f && lib.hasPrefix builtins.storeDir f)
  ) (lib.filter (f: f != null) (map (s: s.sopsFile) (lib.attrValues cfg.initrdSecrets)));

  # The generate command of one secret: `$out` (nixpkgs' name for the file to write; the
  # first argument as a fallback) receives the secret with its final mode.
  command =
    path: s:
    pkgs.writeShellScript "sops-initrd-secret-${builtins.hashString "sha256" path}" ''
      set -eu
      ${lib.optionalString cfg.validateSopsFiles "# sops files checked at build time by ${checkFile}"}
      target="''${out:-''${1:?no file to write (\$out or the first argument)}}"
      mkdir -p "$(dirname "$target")"
      ${sopsLib.withEnvironment environment (
        lib.escapeShellArgs (
          [
            "${cfg.package}/bin/sops-install"
            "initrd-secret"
            "--sops-file"
            # A Nix path is copied to the store (the file the build-time check read), so the
            # boot loader installation does not depend on the configuration's checkout.
            (if builtins.isPath s.sopsFile then "${s.sopsFile}" else toString s.sopsFile)
            "--format"
            s.format
            "--key"
            s.key
            "--mode"
            s.mode
          ]
          ++ keyFlags
        )
        + " --out \"$target\""
      )}
    '';
in
{
  options.sops.initrdSecrets = mkOption {
    default = { };
    example = lib.literalExpression ''
      {
        "/etc/secrets/initrd/data.key" = {
          sopsFile = ./secrets/initrd.yaml;
          key = "luks/data";
        };
      }
    '';
    description = ''
      Secrets put into the initrd, by the path they have there. Each is decrypted by
      `sops-install initrd-secret` while the boot loader is installed (`nixos-rebuild switch` or
      `boot`), with the same keys as the other secrets (`sops.age.keyFile`,
      `sops.age.sshKeyPaths`, `sops.gnupg.*`, `sops.environment`), through nixpkgs'
      `boot.initrd.secretPaths.<path>.generateSecretCommand`; the boot loader must append initrd
      secrets (GRUB, systemd-boot and others set `boot.loader.supportsInitrdSecrets`).

      Security: the secret ends up in a secrets archive beside the kernel, so it is exactly as
      safe as the boot partition, which is usually unencrypted (/boot or the EFI system
      partition) and readable by anyone with physical access to the disk. Only put there what
      the early boot needs (a key to unlock a LUKS device, for example) and
      what you accept to lose with the disk. The boot loader installer re-runs the command of
      every generation in the boot menu, so the keys must still open the sops files of older
      generations.
    '';
    type = types.attrsOf (
      types.submodule (
        { name, ... }:
        {
          options = {
            sopsFile = mkOption {
              type = types.nullOr types.path;
              default = cfg.defaultSopsFile;
              defaultText = lib.literalExpression "config.sops.defaultSopsFile";
              description = "The sops file holding the secret.";
            };
            key = mkOption {
              type = types.str;
              default = "";
              description = ''
                The secret's key in the sops file, as for `sops.secrets` (`a/b` for nested maps);
                empty for the whole file, which binary, dotenv and ini files always give.
              '';
            };
            format = mkOption {
              type = types.enum sopsLib.formats;
              default = cfg.defaultSopsFormat;
              defaultText = lib.literalExpression "config.sops.defaultSopsFormat";
              description = "The sops file's format.";
            };
            mode = mkOption {
              type = types.strMatching "0?[0-7]{3}";
              default = "0400";
              description = "The file's mode in the initrd (it is owned by root).";
            };
          };
        }
      )
    );
  };

  config = lib.mkIf (cfg.initrdSecrets != { }) (
    lib.mkMerge [
      {
        assertions = [
          {
            assertion = hasHook;
            message = "sops.initrdSecrets needs nixpkgs' boot.initrd.secretPaths (NixOS/nixpkgs#493445, 2026); this nixpkgs only has boot.initrd.secrets, which copies existing files.";
          }
          {
            assertion = !loaderKnown || config.boot.loader.supportsInitrdSecrets;
            message = "sops.initrdSecrets needs a boot loader that appends initrd secrets at install time (boot.loader.supportsInitrdSecrets: GRUB, systemd-boot, …); otherwise they would have to be copied into the world-readable Nix store.";
          }
          {
            assertion = lib.all (s: s.sopsFile != null) (lib.attrValues cfg.initrdSecrets);
            message = "sops.initrdSecrets: every secret needs a sopsFile (or sops.defaultSopsFile).";
          }
          {
            assertion = !cfg.validateSopsFiles || notInStore == [ ];
            message = "sops.initrdSecrets: ${
              lib.concatMapStringsSep ", " (f: "'${toString f}'") notInStore
            } is not in the Nix store. Either add it to the Nix store or set sops.validateSopsFiles to false";
          }
        ];
      }
      (lib.mkIf cfg.validateSopsFiles {
        system.build.sops-initrd-secrets-manifest = checkFile;
      })
      (lib.optionalAttrs hasHook {
        boot.initrd.secretPaths = lib.mapAttrs (path: s: {
          generateSecretCommand = command path s;
        }) cfg.initrdSecrets;
      })
    ]
  );
}
