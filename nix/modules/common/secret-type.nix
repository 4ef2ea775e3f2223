# The submodule of one `sops.secrets.<name>` entry, for every module: the system modules (NixOS,
# nix-darwin) and home-manager (`userMode`). Option names, types and defaults follow sops-nix
# so existing configurations keep their meaning.
{
  lib,
  cfg,
  users ? { },
  # "nixos" or "darwin" (system mode): darwin has no units to restart and other ownership
  # defaults. Unused in user mode.
  platform ? "nixos",
  # home-manager: no owners, no users' generation; the path follows the attribute name.
  userMode ? false,
}:
let
  inherit (lib) mkOption types;
  unitOptions = import ./unit-options.nix { inherit lib userMode; };
in
types.submodule (
  { config, name, ... }:
  {
    options = {
      name = mkOption {
        type = types.str;
        default = name;
        description = "File name of the secret below the secrets directory (`sops.defaultSymlinkPath`). May contain `/`.";
      };
      key = mkOption {
        type = types.str;
        default = if (cfg.defaultSopsKey or null) != null then cfg.defaultSopsKey else name;
        defaultText = lib.literalExpression "if config.sops.defaultSopsKey != null then config.sops.defaultSopsKey else <attribute name>";
        description = ''
          Key to look up in the sops file; nested keys are separated by `/`. `""` selects the
          whole file. Ignored for the binary, dotenv and ini formats, which always give the whole file.
        '';
      };
      path =
        if userMode then
          mkOption {
            type = types.str;
            default = "${cfg.defaultSymlinkPath}/${name}";
            defaultText = "<defaultSymlinkPath>/<attribute name>";
            description = "Where the secret appears; `%r` is the runtime directory, `%%` a literal `%`. Anything other than its default place is a symlink to it.";
          }
        else
          mkOption {
            type = types.str;
            default =
              if config.neededForUsers then
                "${cfg.defaultSymlinkPathForUsers}/${config.name}"
              else
                "${cfg.defaultSymlinkPath}/${config.name}";
            defaultText = "/run/secrets-for-users/<name> when neededForUsers is set, else /run/secrets/<name>";
            description = "Where the secret appears. Anything other than its default place is a symlink to it.";
          };
      format = mkOption {
        type = types.enum (import ./lib.nix { inherit lib; }).formats;
        default = cfg.defaultSopsFormat;
        defaultText = lib.literalExpression "config.sops.defaultSopsFormat";
        description = "Format of the sops file. All secrets of one sops file must use the same format.";
      };
      mode = mkOption {
        type = types.str;
        default = "0400";
        description = "Permissions of the secret file, in octal.";
      };
      sopsFile = mkOption {
        type = types.path;
        defaultText = lib.literalExpression "config.sops.defaultSopsFile";
        description = "The sops file the secret is read from.";
      };
    }
    // lib.optionalAttrs (!userMode) (
      {
        owner = mkOption {
          type = types.nullOr types.str;
          default = if platform == "darwin" then "root" else null;
          description = "User owning the secret file (wins over `uid`).";
        };
        uid = mkOption {
          type = types.nullOr types.int;
          default = 0;
          description = "Numeric user owning the secret file, used when `owner` is null.";
        };
        group = mkOption {
          type = types.nullOr types.str;
          default =
            if platform == "darwin" then
              "staff"
            else if config.owner != null then
              users.${config.owner}.group or null
            else
              null;
          defaultText = lib.literalExpression "config.users.users.\${owner}.group when owner is set, else null";
          description = "Group owning the secret file (wins over `gid`).";
        };
        gid = mkOption {
          type = types.nullOr types.int;
          default = 0;
          description = "Numeric group owning the secret file, used when `group` is null.";
        };
        sopsFileHash = mkOption {
          type = types.str;
          readOnly = true;
          description = "SHA-256 of the sops file when `sops.validateSopsFiles` is on, else empty; useful in `systemd.services.<name>.restartTriggers`.";
        };
        neededForUsers = mkOption {
          type = types.bool;
          default = false;
          description = ''
            Install this secret before users are created (for `hashedPasswordFile`), into
            `/run/secrets-for-users`. Such secrets are always owned by root.
          '';
        };
      }
      // lib.optionalAttrs (platform == "nixos") (
        unitOptions "this secret"
        // {
          credential = mkOption {
            # systemd's credential names: printable ASCII without space, '/' or ':'.
            type = types.nullOr (types.strMatching "[!-.0-9;-~]+");
            default = null;
            example = "grafana-admin-password";
            description = ''
              Also expose this secret as the systemd credential of this name: a root-owned 0400
              copy in the secrets generation, linked as `<sops.credentialStore>/<name>` (default
              `/run/credstore/<name>`), swapped together with the other secrets. A unit, also
              one with `DynamicUser=`, then takes it with `LoadCredential=<name>` and reads it
              from `$CREDENTIALS_DIRECTORY/<name>`. Add the unit to `restartUnits` so it picks
              up a change.
            '';
          };
        }
      )
    )
    // lib.optionalAttrs userMode (unitOptions "this secret");
    config = {
      sopsFile = lib.mkOptionDefault cfg.defaultSopsFile;
    }
    // lib.optionalAttrs (!userMode) {
      sopsFileHash = lib.mkOptionDefault (
        lib.optionalString cfg.validateSopsFiles (builtins.hashFile "sha256" config.sopsFile)
      );
    };
  }
)
