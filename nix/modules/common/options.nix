# The `sops.*` options every module declares (NixOS, nix-darwin, home-manager), declared once:
# names, types and defaults as in sops-nix, plus ours (`hostRecipients`, the symlink and mount
# paths). `userMode` (home-manager) changes defaults and adds the user-only options; `platform`
# ("nixos" or "darwin") is the system module's; the secrets and templates submodules come
# from ./secret-type.nix and ./templates.nix with the same parameters.
{
  userMode ? false,
  platform ? null,
  # System mode: the default key paths, a function from the module arguments and a key type
  # ("ed25519"/"rsa"). User mode has none.
  defaultKeyPaths ? null,
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
  secretType = import ./secret-type.nix (
    {
      inherit lib cfg userMode;
    }
    // lib.optionalAttrs (!userMode) {
      inherit platform;
      users = config.users.users;
    }
  );
  # Key paths: the system's host keys (shown as text in the manual), none in user mode.
  keyPaths =
    type: text:
    if userMode then
      { default = [ ]; }
    else
      {
        default = defaultKeyPaths { inherit config options lib; } type;
        defaultText = lib.literalMD text;
      };
  # Some options of sops-nix's NixOS and home-manager modules that its nix-darwin one lacks.
  hasDefaultSopsKey = userMode || platform != "darwin";
in
{
  imports = [ (import ./templates.nix { inherit userMode; }) ];

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
      type = types.listOf (
        types.enum [
          "keyImport"
          "secretChanges"
        ]
      );
      default = [
        "keyImport"
        "secretChanges"
      ];
      description = "What to log.";
    };
    environment = mkOption {
      type = types.attrsOf (types.either types.str types.path);
      default = { };
      description = ''
        Environment variables set for the installer. In an activation script each value is
        put between single quotes without further escaping, so it may use command
        substitution; quote values holding a quote with `lib.escapeShellArg`.
      '';
    };
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ../../package.nix { };
      defaultText = lib.literalExpression "the sops-install package of this flake";
      description = "The installer package (provides bin/sops-install and bin/sops-install-secrets).";
    };

    defaultSymlinkPath =
      mkOption {
        type = types.str;
        description = "Symlink to the live secrets generation (sops-nix: fixed at /run/secrets for a system).";
      }
      // (
        if userMode then
          {
            default = "${config.xdg.configHome}/sops-nix/secrets";
            defaultText = "<xdg.configHome>/sops-nix/secrets";
          }
        else
          { default = "/run/secrets"; }
      );
    defaultSecretsMountPoint = mkOption {
      type = types.str;
      default = if userMode then "%r/secrets.d" else "/run/secrets.d";
      description = ''
        Where the secrets generations are kept: for a system a RAM filesystem (sops-nix: fixed at
        /run/secrets.d); for a user a directory, `%r` being the runtime directory.
      '';
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
        and one line per failing file, so `nixos-rebuild` (or home-manager) reports it. A
        secret of a failing file that has no live value (a new secret, the first activation
        after boot) fails the activation as without this option, and nothing is changed.
      '';
    };
    hostRecipients =
      mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = ''
          This host's (or user's) age recipients, ssh public keys or PGP fingerprints. When set
          (and `validateSopsFiles` is on), the build fails with a `sops updatekeys FILE` hint if
          a sops file used here cannot be opened by them: none of its recipients is one of them,
          or, for a file with Shamir key groups, fewer groups than its threshold hold one of them.
        '';
      }
      // lib.optionalAttrs (!userMode) {
        example = [
          "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFslMEtWi4/rmum4f/yxpaP5LBzCwCODhVnRaRkgtDQ5 root@host"
        ];
      };

    age = {
      keyFile = mkOption {
        type = types.nullOr sopsLib.pathNotInStore;
        default = null;
        example = if userMode then "/home/someuser/.age-key.txt" else "/var/lib/sops-nix/key.txt";
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
      sshKeyPaths =
        mkOption {
          type = types.listOf types.path;
          description = "ed25519 ssh private keys used as age identities.";
        }
        // keyPaths "ed25519" "the ed25519 host keys of OpenSSH";
    };
    gnupg = {
      home = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = if userMode then "/home/someuser/.gnupg" else "/root/.gnupg";
        description = "GnuPG home holding the private key (exclusive with `gnupg.sshKeyPaths`); the installer runs `gpg -d` (`SOPS_GPG_EXEC`) with it for `pgp` entries.";
      };
      package = mkOption {
        type = types.package;
        default = pkgs.gnupg;
        defaultText = lib.literalExpression "pkgs.gnupg";
        description = "GnuPG package; gives the default `SOPS_GPG_EXEC`.";
      };
      sshKeyPaths =
        mkOption {
          type = types.listOf types.path;
          description = "RSA ssh private keys used as the PGP keys ssh-to-pgp derives from them (same fingerprints); read into memory, no keyring is written.";
        }
        // keyPaths "rsa" "the RSA host keys of OpenSSH";
    }
    // lib.optionalAttrs userMode {
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
    };

    internal = {
      manifest = mkOption {
        type = types.attrs;
        internal = true;
        readOnly = true;
        description = "The manifest (before toJSON) of the regular secrets.";
      };
      checkScript = mkOption {
        type = types.str;
        internal = true;
        readOnly = true;
        description = "Extra build-time check of the manifest (host recipients).";
      };
    }
    // lib.optionalAttrs userMode {
      manifestFile = mkOption {
        type = types.unspecified;
        internal = true;
        readOnly = true;
        description = "The checked manifest file.";
      };
      script = mkOption {
        type = types.unspecified;
        internal = true;
        readOnly = true;
        description = "The script the service or agent runs.";
      };
    };
  }
  // lib.optionalAttrs hasDefaultSopsKey {
    defaultSopsKey = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = ''
        Default key looked up in the sops files; `""` means the whole file. Ignored for the
        binary, dotenv and ini formats.
      '';
    };
  };
}
