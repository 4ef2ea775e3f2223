# The `sops.*` options NixOS and nix-darwin share (names, types and defaults as in sops-nix),
# plus ours: the mount points, symlink paths and `hostRecipients`.
{
  platform,
  # Default key paths: a function from the module arguments and a key type ("ed25519"/"rsa").
  defaultKeyPaths,
}:
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
  sopsLib = import ./lib.nix { inherit lib; };
  secretType = import ../nixos/secret-type.nix {
    inherit lib cfg platform;
    users = config.users.users;
  };
  defaultPackage = pkgs.callPackage ../../package.nix { };
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "sops" "gnupgHome" ] [ "sops" "gnupg" "home" ])
    (lib.mkRenamedOptionModule [ "sops" "sshKeyPaths" ] [ "sops" "gnupg" "sshKeyPaths" ])
  ];

  options.sops = {
    secrets = mkOption {
      type = types.attrsOf secretType;
      default = { };
      description = "Secrets to decrypt, by attribute name.";
    };
    defaultSopsFile = mkOption {
      type = types.path;
      description = "Default sops file for all secrets.";
    };
    defaultSopsFormat = mkOption {
      type = types.str;
      default = "yaml";
      description = "Default format of the sops files: yaml, json, binary, dotenv or ini.";
    };
    validateSopsFiles = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Check the sops files at evaluation and build time (they must then be in the Nix store):
        every file exists and every secret's key is in it.
      '';
    };
    keepGenerations = mkOption {
      type = types.ints.unsigned;
      default = 1;
      description = "Number of secrets generations to keep; 0 disables pruning.";
    };
    log = mkOption {
      type = types.listOf (types.enum [ "keyImport" "secretChanges" ]);
      default = [ "keyImport" "secretChanges" ];
      description = "What to log.";
    };
    environment = mkOption {
      type = types.attrsOf (types.either types.str types.path);
      default = { };
      description = ''
        Environment variables set for the installer. In the activation script each value is
        put between single quotes without further escaping, so it may use command
        substitution; quote values holding a quote with `lib.escapeShellArg`.
      '';
    };
    package = mkOption {
      type = types.package;
      default = defaultPackage;
      defaultText = lib.literalExpression "the sops-install package of this flake";
      description = "The installer package (provides bin/sops-install and bin/sops-install-secrets).";
    };
    validationPackage = mkOption {
      type = types.package;
      default =
        if pkgs.stdenv.buildPlatform == pkgs.stdenv.hostPlatform then
          cfg.package
        else
          pkgs.pkgsBuildHost.callPackage ../../package.nix { };
      defaultText = lib.literalExpression "config.sops.package (a build-platform build when cross-compiling)";
      description = "The installer used to check the manifest at build time.";
    };

    defaultSymlinkPath = mkOption {
      type = types.str;
      default = "/run/secrets";
      description = "Symlink to the live secrets generation (sops-nix: fixed at /run/secrets).";
    };
    defaultSecretsMountPoint = mkOption {
      type = types.str;
      default = "/run/secrets.d";
      description = "RAM filesystem holding the secrets generations (sops-nix: fixed at /run/secrets.d).";
    };
    defaultSymlinkPathForUsers = mkOption {
      type = types.str;
      default = "/run/secrets-for-users";
      description = "Symlink to the live generation of `neededForUsers` secrets.";
    };
    defaultSecretsMountPointForUsers = mkOption {
      type = types.str;
      default = "/run/secrets-for-users.d";
      description = "RAM filesystem holding the generations of `neededForUsers` secrets.";
    };
    keepLastGoodOnFailure = mkOption {
      type = types.bool;
      default = false;
      description = ''
        When a sops file cannot be opened (missing, not parseable, no key opens it, MAC
        mismatch, a secret's key not in it), keep the last good values of its secrets instead
        of failing the whole activation: the new generation is still complete and swapped in
        atomically, the secrets of the failing files keep their bytes, owner and mode from the
        live generation, every other secret and template is new (a template using a kept
        secret is rendered with the kept value), and the installer still exits with status 1
        and one line per failing file, so `nixos-rebuild` reports it. A secret of a failing
        file that has no live value (a new secret, the first activation after boot) fails the
        activation as without this option, and nothing is changed.
      '';
    };
    hostRecipients = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFslMEtWi4/rmum4f/yxpaP5LBzCwCODhVnRaRkgtDQ5 root@host"
      ];
      description = ''
        This host's age recipients, ssh public keys or PGP fingerprints. When set (and
        `validateSopsFiles` is on), the build fails with a `sops updatekeys FILE` hint if a sops
        file used here cannot be opened by them: none of its recipients is one of them, or, for
        a file with Shamir key groups, fewer groups than its threshold hold one of them.
      '';
    };

    age = {
      keyFile = mkOption {
        type = types.nullOr sopsLib.pathNotInStore;
        default = null;
        example = "/var/lib/sops-nix/key.txt";
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
        default = defaultKeyPaths { inherit config options lib; } "ed25519";
        defaultText = lib.literalMD "the ed25519 host keys of OpenSSH";
        description = "ed25519 ssh private keys used as age identities.";
      };
    };
    gnupg = {
      home = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/root/.gnupg";
        description = "GnuPG home holding the private key (exclusive with `gnupg.sshKeyPaths`); the installer runs `gpg -d` (`SOPS_GPG_EXEC`) with it for `pgp` entries.";
      };
      package = mkOption {
        type = types.package;
        default = pkgs.gnupg;
        defaultText = lib.literalExpression "pkgs.gnupg";
        description = "GnuPG package; gives the default `SOPS_GPG_EXEC`.";
      };
      sshKeyPaths = mkOption {
        type = types.listOf types.path;
        default = defaultKeyPaths { inherit config options lib; } "rsa";
        defaultText = lib.literalMD "the RSA host keys of OpenSSH";
        description = "RSA ssh private keys used as the PGP keys ssh-to-pgp derives from them (same fingerprints); read into memory, no keyring is written.";
      };
    };

    internal = {
      platform = mkOption {
        type = types.enum [ "nixos" "darwin" ];
        internal = true;
        readOnly = true;
        default = platform;
        description = "Which system module this is.";
      };
      manifest = mkOption {
        type = types.attrs;
        internal = true;
        readOnly = true;
        description = "The manifest (before toJSON) of the regular secrets.";
      };
      manifestForUsers = mkOption {
        type = types.attrs;
        internal = true;
        readOnly = true;
        description = "The manifest (before toJSON) of the neededForUsers secrets.";
      };
      checkScript = mkOption {
        type = types.str;
        internal = true;
        readOnly = true;
        description = "Extra build-time check of the manifest (host recipients).";
      };
      checkScriptForUsers = mkOption {
        type = types.str;
        internal = true;
        readOnly = true;
        description = "Extra build-time check of the for-users manifest.";
      };
    };
  };
}
