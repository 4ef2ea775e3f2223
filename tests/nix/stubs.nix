# Small stand-ins for the handful of NixOS / home-manager options and packages the sops modules
# touch, so the modules evaluate with nixpkgs' lib alone (no nixpkgs, no store builds).
{ lib }:
let
  inherit (lib) mkOption types;
  fakeStorePath = name: "${builtins.storeDir}/00000000000000000000000000000000-${name}";
  fakePackage = name: {
    type = "derivation";
    inherit name;
    outPath = fakeStorePath name;
  };
  anyAttrs = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  # nixpkgs' initrd secret options (stage-1.nix; secretPaths since NixOS/nixpkgs#493445): per
  # path in the initrd a file to copy (`source`) or a command writing `$out` at boot loader
  # install time (`generateSecretCommand`), staged below /.initrd-secrets unless told not to.
  initrdSecretOptions = {
    options.boot.initrd.secretPaths = mkOption {
      default = { };
      type = types.attrsOf (
        types.submodule (
          { name, ... }:
          {
            options = {
              path = mkOption {
                type = types.str;
                default = name;
              };
              source = mkOption {
                type = types.nullOr types.path;
                default = null;
              };
              generateSecretCommand = mkOption {
                type = types.nullOr types.path;
                default = null;
              };
              intermediateSecretsDir = mkOption {
                type = types.bool;
                default = true;
              };
            };
          }
        )
      );
    };
    options.boot.loader.supportsInitrdSecrets = mkOption {
      type = types.bool;
      default = false;
    };
  };
in
{
  inherit fakeStorePath initrdSecretOptions;

  pkgs = {
    writeText = name: text: fakeStorePath name;
    # Keep the arguments so tests can read the check phase.
    writeTextFile = args: fakePackage args.name // { inherit (args) text checkPhase; };
    writeShellScript = name: text: fakePackage name // { inherit text; };
    callPackage = _: _: fakePackage "sops-install-0.1.0";
    stdenv = {
      buildPlatform = {
        system = "x86_64-linux";
        isDarwin = false;
        isLinux = true;
      };
      hostPlatform = {
        system = "x86_64-linux";
        isDarwin = false;
        isLinux = true;
      };
      isDarwin = false;
      isLinux = true;
    };
    age = fakePackage "age";
    gnupg = fakePackage "gnupg";
    coreutils = fakePackage "coreutils";
    age-plugin-yubikey = fakePackage "age-plugin-yubikey";
  };

  nixos =
    { ... }:
    {
      options = {
        assertions = mkOption {
          type = types.listOf types.unspecified;
          default = [ ];
        };
        warnings = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        users.mutableUsers = mkOption {
          type = types.bool;
          default = true;
        };
        users.users = mkOption {
          default = { };
          type = types.attrsOf (
            types.submodule (
              { name, ... }:
              {
                freeformType = types.attrsOf types.anything;
                options.group = mkOption {
                  type = types.str;
                  default = "";
                };
              }
            )
          );
        };
        services.openssh.enable = mkOption {
          type = types.bool;
          default = false;
        };
        services.openssh.hostKeys = mkOption {
          type = types.listOf types.attrs;
          default = [
            {
              type = "rsa";
              bits = 4096;
              path = "/etc/ssh/ssh_host_rsa_key";
            }
            {
              type = "ed25519";
              path = "/etc/ssh/ssh_host_ed25519_key";
            }
          ];
        };
        services.userborn.enable = mkOption {
          type = types.bool;
          default = false;
        };
        systemd.sysusers.enable = mkOption {
          type = types.bool;
          default = false;
        };
        systemd.services = anyAttrs;
        system.activationScripts = anyAttrs;
        system.dryActivationScript = mkOption {
          type = types.str;
          default = "";
        };
        system.build = mkOption {
          type = types.attrsOf types.unspecified;
          default = { };
        };
      };
    };

  darwin =
    { ... }:
    {
      options = {
        assertions = mkOption {
          type = types.listOf types.unspecified;
          default = [ ];
        };
        warnings = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        users.users = anyAttrs;
        environment.etc = anyAttrs;
        launchd.daemons = anyAttrs;
        system.activationScripts.postActivation.text = mkOption {
          type = types.lines;
          default = "";
        };
        system.build = mkOption {
          type = types.attrsOf types.unspecified;
          default = { };
        };
      };
    };

  home =
    { ... }:
    {
      options = {
        assertions = mkOption {
          type = types.listOf types.unspecified;
          default = [ ];
        };
        warnings = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        home.homeDirectory = mkOption {
          type = types.str;
          default = "/home/alice";
        };
        home.username = mkOption {
          type = types.str;
          default = "alice";
        };
        home.activation = anyAttrs;
        home.sessionVariables = anyAttrs;
        xdg.configHome = mkOption {
          type = types.str;
          default = "/home/alice/.config";
        };
        xdg.configFile = anyAttrs;
        systemd.user.services = anyAttrs;
        launchd.agents = anyAttrs;
      };
    };
}
