# The NixOS VM tests of nix/tests/nixos.nix, evaluated without nixpkgs: runNixOSTest is
# replaced by the identity, and each node's configuration is evaluated with our NixOS module,
# the stubs and a few more stand-in options. Returns per test its test script (for a parse
# check) and per node the failing assertions, warnings and both manifests as JSON text.
#   nix-instantiate --eval --strict --json --readonly-mode tests/nix/vm-tests.nix --arg nixpkgsLib <path>
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
    options = {
      boot = loose;
      specialisation = loose;
      environment = loose;
      networking = loose;
      virtualisation = loose;
      users.groups = loose;
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
        };
      };
    };
  tests = (import ../../nix/tests/nixos.nix { inherit pkgs lib; }).tests;
  # A node's configuration, and each specialisation's (the node plus its configuration).
  evalNode =
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
      specialisations = lib.mapAttrs (
        _: sp: builtins.removeAttrs (evalNode (modules ++ [ sp.configuration ])) [ "specialisations" ]
      ) config.specialisation;
    };
in
lib.mapAttrs (name: t: {
  inherit (t) name;
  testScript = if builtins.isFunction t.testScript then t.testScript { nodes = { }; } else t.testScript;
  nodes = lib.mapAttrs (_: node: evalNode [ node ]) t.nodes;
}) tests
