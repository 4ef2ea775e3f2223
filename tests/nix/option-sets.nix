# The option set one sops module declares, as the manual would list it: every `sops.*` option
# (submodule options of `secrets` and `templates` included) with its type's description, its
# default (rendered as the manual renders it), example and flags; descriptions and declaring
# files are left out, so moving a declaration changes nothing here.
# nix-instantiate --eval --strict --json --readonly-mode tests/nix/option-sets.nix
#   --arg nixpkgsLib <path> --argstr module <nixos|darwin|home|home-darwin>
{
  nixpkgsLib,
  module,
}:
let
  lib = import (nixpkgsLib + "/lib");
  stubs = import ./stubs.nix { inherit lib; };
  darwinPlatform = {
    system = "aarch64-darwin";
    isDarwin = true;
    isLinux = false;
  };
  darwinPkgs = stubs.pkgs // {
    stdenv = {
      buildPlatform = darwinPlatform;
      hostPlatform = darwinPlatform;
      isDarwin = true;
      isLinux = false;
    };
  };
  kinds = {
    nixos = {
      stub = stubs.nixos;
      path = ../../nix/modules/nixos;
      pkgs = stubs.pkgs;
    };
    darwin = {
      stub = stubs.darwin;
      path = ../../nix/modules/nix-darwin;
      pkgs = darwinPkgs;
    };
    home = {
      stub = stubs.home;
      path = ../../nix/modules/home-manager;
      pkgs = stubs.pkgs;
    };
    home-darwin = {
      stub = stubs.home;
      path = ../../nix/modules/home-manager;
      pkgs = darwinPkgs;
    };
  };
  k = kinds.${module};
  evaluated = lib.evalModules {
    modules = [
      k.stub
      k.path
      { _module.args.pkgs = k.pkgs; }
    ];
  };
  render = v: if v ? _type then { ${v._type} = v.text; } else v;
  # `_module.*` of the submodules belongs to nixpkgs' lib, not to us.
  docs = lib.filter (o: lib.hasPrefix "sops." o.name && !lib.hasInfix "._module." o.name) (
    lib.optionAttrSetToDocList evaluated.options
  );
in
map (
  o:
  {
    inherit (o)
      name
      type
      readOnly
      internal
      visible
      ;
  }
  // lib.optionalAttrs (o ? default) { default = render o.default; }
  // lib.optionalAttrs (o ? example) { example = render o.example; }
) docs
