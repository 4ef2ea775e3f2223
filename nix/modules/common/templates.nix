# `sops.templates` and `sops.placeholder` (NixOS, nix-darwin and home-manager, `userMode`):
# files rendered from text in which `config.sops.placeholder.<secret>` stands for the secret's
# content.
{
  # home-manager: no owners; rendered below `xdg.configHome`.
  userMode ? false,
}:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  config' = config;
  inherit (lib) mkOption types;
  cfg = config.sops;
  sopsLib = import ./lib.nix { inherit lib; };
  users = config.users.users;
  hasUnits = !userMode && cfg.internal.platform == "nixos";
  unitOptions = import ./unit-options.nix { inherit lib userMode; } "the rendered file";
  templatesForUsers = lib.filterAttrs (_: t: t.neededForUsers or false) cfg.templates;
  # The secrets that are not neededForUsers whose placeholders a template's text contains
  # (`content`, or `file` when it is a plain path).
  usesRegularSecrets =
    t:
    let
      text = if t.content == "" && builtins.isPath t.file then builtins.readFile t.file else t.content;
    in
    lib.attrNames (
      lib.filterAttrs (
        n: s:
        !s.neededForUsers && cfg.placeholder ? ${n} && lib.hasInfix (toString cfg.placeholder.${n}) text
      ) cfg.secrets
    );
  templateType = types.submodule (
    { config, name, ... }:
    {
      options = {
        name = mkOption {
          type = types.singleLineStr;
          default = name;
          description = "File name of the rendered template below `<symlink path>/rendered`.";
        };
        path = mkOption {
          type = types.singleLineStr;
          default =
            if userMode then
              "${config'.xdg.configHome}/sops-nix/secrets/rendered/${config.name}"
            else if config.neededForUsers then
              "${cfg.defaultSymlinkPathForUsers}/rendered/${config.name}"
            else
              "${cfg.defaultSymlinkPath}/rendered/${config.name}";
          defaultText =
            if userMode then
              "<xdg.configHome>/sops-nix/secrets/rendered/<name>"
            else
              "/run/secrets-for-users/rendered/<name> when neededForUsers is set, else /run/secrets/rendered/<name>";
          description = "Where the rendered file appears; anything but the default is a symlink to it.";
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
      }
      // lib.optionalAttrs (!userMode) (
        {
          owner = mkOption {
            type = types.nullOr types.singleLineStr;
            default = null;
            description = "User owning the rendered file (wins over `uid`).";
          };
          uid = mkOption {
            type = types.nullOr types.int;
            default = 0;
            description = "Numeric user owning the rendered file, used when `owner` is null.";
          };
          group = mkOption {
            type = types.nullOr types.singleLineStr;
            default =
              if config.owner != null then
                (if cfg.internal.platform == "darwin" then "staff" else users.${config.owner}.group or null)
              else
                null;
            defaultText = lib.literalExpression "config.users.users.\${owner}.group when owner is set, else null";
            description = "Group owning the rendered file (wins over `gid`).";
          };
          gid = mkOption {
            type = types.nullOr types.int;
            default = 0;
            description = "Numeric group owning the rendered file, used when `group` is null.";
          };
          neededForUsers = mkOption {
            type = types.bool;
            default = false;
            description = ''
              Render this template before users are created (for `hashedPasswordFile`), into
              `/run/secrets-for-users/rendered`. Its placeholders may only name secrets that are
              `neededForUsers` too, and it is always owned by root.
            '';
          };
        }
        // lib.optionalAttrs hasUnits (
          unitOptions
          // {
            credential = mkOption {
              # systemd's credential names: printable ASCII without space, '/' or ':'.
              type = types.nullOr (types.strMatching "[!-.0-9;-~]+");
              default = null;
              example = "app-env";
              description = ''
                Also expose the rendered file as the systemd credential of this name, as
                `sops.secrets.<name>.credential` does for a secret: a root-owned 0400 copy in the
                secrets generation, linked as `<sops.credentialStore>/<name>`. A unit takes it
                with `LoadCredential=<name>`. The name must differ from every other secret's and
                template's credential.
              '';
            };
          }
        )
      )
      // lib.optionalAttrs userMode unitOptions;
    }
  );
in
{
  options.sops = {
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
  };

  config = lib.mkIf (cfg.templates != { }) {
    sops.placeholder = lib.mapAttrs (attr: _: lib.mkDefault (sopsLib.placeholderFor attr)) cfg.secrets;

    warnings = lib.mkIf (!userMode) (
      lib.optional
        (lib.any (t: (t.owner != null && t.owner != "root") || (t.group != null && t.group != "root")) (
          lib.attrValues templatesForUsers
        ))
        "sops: neededForUsers templates are always installed as root:root; their owner and group options are ignored"
    );

    assertions = lib.mkIf (!userMode) (
      lib.concatLists (
        lib.mapAttrsToList (
          name: t:
          [
            {
              assertion =
                !(
                  (t.uid != null && t.uid != 0 && t.owner != "root")
                  || (t.gid != null && t.gid != 0 && t.group != "root")
                );
              message = "In sops.templates.${name}: neededForUsers cannot be used for templates that are not root-owned";
            }
          ]
          ++ map (secret: {
            assertion = false;
            message = "sops.templates.${lib.strings.escapeNixIdentifier name}: neededForUsers is set but it uses the placeholder of sops.secrets.${lib.strings.escapeNixIdentifier secret}, which is not neededForUsers";
          }) (usesRegularSecrets t)
        ) templatesForUsers
      )
      ++ lib.concatLists (
        lib.mapAttrsToList (name: t: [
          {
            assertion = !(t.owner != null && t.uid != null && t.uid != 0);
            message = "In sops.templates.${name}: set only one of owner and uid";
          }
          {
            assertion = !(t.group != null && t.gid != null && t.gid != 0);
            message = "In sops.templates.${name}: set only one of group and gid";
          }
        ]) cfg.templates
      )
    );
  };
}
