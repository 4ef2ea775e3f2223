# Evaluates NixOS configurations without nixpkgs: our NixOS module with tests/nix/stubs.nix and
# stand-ins for the other options test nodes and examples set (their values are not used).
# `evalNixos modules` gives the failing assertions, warnings, both manifests (JSON text, so Nix
# paths become store paths) and, per specialisation, the same. Used by vm-tests.nix and
# example-nixos.nix.
{ nixpkgsLib }:
let
  lib = import (nixpkgsLib + "/lib");
  inherit (lib) mkOption types;
  stubs = import ./stubs.nix { inherit lib; };
  pkgs = stubs.pkgs // {
    testers.runNixOSTest = test: test;
    linuxPackages_latest = { };
    gnupg = stubs.pkgs.gnupg;
  };
  loose = mkOption {
    type = types.lazyAttrsOf types.raw;
    default = { };
  };
  # Options the test nodes set that the stubs do not declare (their values are not used).
  vmOptions = {
    imports = [ stubs.initrdSecretOptions ];
    # VM tests boot with a loader that appends initrd secrets (GRUB).
    config.boot.loader.supportsInitrdSecrets = lib.mkDefault true;
    options = {
      boot.initrd.systemd = loose;
      boot.loader.grub = loose;
      boot.loader.systemd-boot = loose;
      boot.kernelPackages = mkOption {
        type = types.raw;
        default = { };
      };
      boot.initrd.postMountCommands = mkOption {
        type = types.lines;
        default = "";
      };
      specialisation = loose;
      environment = loose;
      networking = loose;
      virtualisation = loose;
      users.groups = loose;
      fileSystems = loose;
      # Users have the name of their attribute.
      users.users = mkOption {
        type = types.attrsOf (
          types.submodule (
            { name, ... }:
            {
              options.name = mkOption {
                type = types.str;
                default = name;
              };
            }
          )
        );
      };
    };
  };
  # Activation snippets may be given as attrsets and extended with mkAfter/mkBefore: lines.
  activationLines = {
    options.system.activationScripts = mkOption {
      type = types.attrsOf (
        types.coercedTo types.str (text: { inherit text; }) (
          types.submodule {
            options.text = mkOption {
              type = types.lines;
              default = "";
            };
            options.deps = mkOption {
              type = types.listOf types.str;
              default = [ ];
            };
            options.supportsDryActivation = mkOption {
              type = types.bool;
              default = false;
            };
          }
        )
      );
    };
  };
  nixosStubs =
    args:
    let
      base = stubs.nixos args;
    in
    base
    // {
      options = builtins.removeAttrs base.options [ "system" ] // {
        system = builtins.removeAttrs base.options.system [ "activationScripts" ] // {
          switch = loose;
          etc = loose;
          nixos-init = loose;
          stateVersion = mkOption {
            type = types.str;
            default = "";
          };
        };
      };
    };
  # A node's configuration, and each specialisation's (the node plus its configuration).
  evalNixos =
    modules:
    let
      config =
        (lib.evalModules {
          modules = [
            nixosStubs
            vmOptions
            activationLines
            { _module.args.pkgs = pkgs; }
          ]
          ++ modules;
        }).config;
    in
    {
      failing = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
      inherit (config) warnings;
      manifest = builtins.toJSON config.sops.internal.manifest;
      manifestForUsers = builtins.toJSON config.sops.internal.manifestForUsers;
      activationScripts = builtins.attrNames config.system.activationScripts;
      services = builtins.attrNames config.systemd.services;
      secretPaths = lib.mapAttrs (_: s: s.path) config.sops.secrets;
      templatePaths = lib.mapAttrs (_: t: t.path) config.sops.templates;
      userPasswordFiles = lib.mapAttrs (_: u: u.hashedPasswordFile or null) config.users.users;
      environmentFiles = lib.mapAttrs (
        _: s: s.serviceConfig.EnvironmentFile or null
      ) config.systemd.services;
      specialisations = lib.mapAttrs (
        _: sp: builtins.removeAttrs (evalNixos (modules ++ [ sp.configuration ])) [ "specialisations" ]
      ) config.specialisation;
    };
in
{
  inherit lib pkgs evalNixos;
}
