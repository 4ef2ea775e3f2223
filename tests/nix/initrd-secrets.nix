# sops.initrdSecrets evaluated with the stubs: with nixpkgs' hook (boot.initrd.secretPaths) and
# a loader that appends initrd secrets, without the hook, and with a loader that does not.
# Prints, per case, the failing assertions and the secretPaths entries (command script text).
# With `pkgRoot` (a directory holding bin/sops-install) and `fixtures` (tests/data/sops), also a
# case whose command the Rust test runs for real.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/initrd-secrets.nix --arg nixpkgsLib <path>
{
  nixpkgsLib,
  pkgRoot ? null,
  fixtures ? null,
}:
let
  lib = import (nixpkgsLib + "/lib");
  stubs = import ./stubs.nix { inherit lib; };
  secrets = {
    sops.age.keyFile = "/var/lib/sops/age.txt";
    sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
    sops.gnupg.sshKeyPaths = [ "/etc/ssh/ssh_host_rsa_key" ];
    sops.environment.SOPS_GPG_EXEC = "/run/current-system/sw/bin/gpg";
    sops.defaultSopsFile = "/etc/nixos/secrets.yaml";
    # Files outside the store cannot be checked at build time (the `validated` case does).
    sops.validateSopsFiles = false;
    sops.initrdSecrets = {
      "/etc/secrets/initrd/ssh_host_ed25519_key".key = "initrd/ssh host key";
      "/run/keys/luks" = {
        sopsFile = "/etc/nixos/luks.bin";
        format = "binary";
        mode = "0440";
      };
    };
  };
  evalWith = extra: evalConfig ([ secrets ] ++ extra);
  evalConfig =
    extra:
    let
      config =
        (lib.evalModules {
          modules = [
            stubs.nixos
            ../../nix/modules/nixos
            { _module.args.pkgs = stubs.pkgs; }
          ]
          ++ extra;
        }).config;
    in
    {
      failing = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
      secretPaths = lib.mapAttrs (_: p: {
        inherit (p) path intermediateSecretsDir source;
        command = p.generateSecretCommand.text;
        commandPath = "${p.generateSecretCommand}";
      }) (config.boot.initrd.secretPaths or { });
    };
in
{
  withHook = evalWith [
    stubs.initrdSecretOptions
    { boot.loader.supportsInitrdSecrets = true; }
  ];
  # An older nixpkgs: only boot.initrd.secrets (files copied as they are).
  withoutHook = evalWith [
    {
      options.boot.initrd.secrets = lib.mkOption {
        type = lib.types.attrsOf (lib.types.nullOr lib.types.path);
        default = { };
      };
    }
  ];
  loaderWithoutSecrets = evalWith [ stubs.initrdSecretOptions ];
  # validateSopsFiles: a manifest of the initrd secrets, checked at build time like the
  # system's, which every command refers to; and files outside the store are refused.
  validated =
    let
      config =
        (lib.evalModules {
          modules = [
            stubs.nixos
            ../../nix/modules/nixos
            stubs.initrdSecretOptions
            {
              _module.args.pkgs = stubs.pkgs;
              boot.loader.supportsInitrdSecrets = true;
              sops.age.keyFile = "/var/lib/sops/age.txt";
              sops.hostRecipients = [ "age1syzqw8rh3fs6hcxktdm32hqxdsqe03jyh2fvw0ltmq8cgqe5w5ysgwcpq2" ];
              sops.initrdSecrets."/etc/secrets/initrd/db-password" = {
                sopsFile = ../data/sops/enc/basic.yaml;
                key = "db/password";
              };
            }
          ];
        }).config;
      file = config.system.build.sops-initrd-secrets-manifest;
    in
    {
      failing = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
      manifest = builtins.fromJSON (builtins.unsafeDiscardStringContext file.text);
      checkPhase = file.checkPhase;
      checkPath = "${file}";
      command =
        config.boot.initrd.secretPaths."/etc/secrets/initrd/db-password".generateSecretCommand.text;
    };
  validatedOutsideStore =
    let
      config = (
        evalWith [
          stubs.initrdSecretOptions
          {
            boot.loader.supportsInitrdSecrets = true;
            sops.validateSopsFiles = lib.mkForce true;
          }
        ]
      );
    in
    config.failing;
  runnable =
    if pkgRoot == null then
      null
    else
      evalConfig [
        stubs.initrdSecretOptions
        {
          boot.loader.supportsInitrdSecrets = true;
          sops.package = {
            type = "derivation";
            name = "sops-install";
            outPath = pkgRoot;
          };
          sops.validateSopsFiles = false;
          sops.age.keyFile = "${fixtures}/keys/age1.txt";
          sops.age.sshKeyPaths = [ ];
          sops.initrdSecrets."/etc/secrets/initrd/db-password" = {
            sopsFile = "${fixtures}/enc/basic.yaml";
            key = "db/password";
            mode = "0440";
          };
        }
      ];
}
