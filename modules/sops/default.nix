# sops-nix's non-flake import path for the NixOS module:
#   imports = [ "${builtins.fetchTarball "https://github.com/<owner>/sops-install/archive/main.tar.gz"}/modules/sops" ];
{ imports = [ ../../nix/modules/nixos ]; }
