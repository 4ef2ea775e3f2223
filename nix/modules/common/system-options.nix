# The `sops.*` options only the system modules (NixOS, nix-darwin) have: the neededForUsers
# paths, the validation package and the internals of the two manifests. The options shared
# with home-manager are in ./options.nix, imported from here with this platform.
{
  platform,
  # Default key paths: a function from the module arguments and a key type ("ed25519"/"rsa").
  defaultKeyPaths,
}:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.sops;
in
{
  imports = [
    (import ./options.nix { inherit platform defaultKeyPaths; })
    (lib.mkRenamedOptionModule [ "sops" "gnupgHome" ] [ "sops" "gnupg" "home" ])
    (lib.mkRenamedOptionModule [ "sops" "sshKeyPaths" ] [ "sops" "gnupg" "sshKeyPaths" ])
  ];

  options.sops = {
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

    internal = {
      platform = mkOption {
        type = types.enum [
          "nixos"
          "darwin"
        ];
        internal = true;
        readOnly = true;
        default = platform;
        description = "Which system module this is.";
      };
      manifestForUsers = mkOption {
        type = types.attrs;
        internal = true;
        readOnly = true;
        description = "The manifest (before toJSON) of the neededForUsers secrets.";
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
