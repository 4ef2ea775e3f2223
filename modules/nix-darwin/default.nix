# sops-nix's non-flake import path for the nix-darwin module (…/modules/nix-darwin).
{ imports = [ ../../nix/modules/nix-darwin ]; }
