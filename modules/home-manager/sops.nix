# sops-nix's non-flake import path for the home-manager module (…/modules/home-manager/sops.nix).
{ imports = [ ../../nix/modules/home-manager ]; }
