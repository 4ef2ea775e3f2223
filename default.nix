# Non-flake entry point, as sops-nix's default.nix: the packages, for
#   pkgs.callPackage (fetchTarball "https://github.com/<owner>/sops-install/archive/main.tar.gz") { }
# or `nix-build -A sops-install-secrets`. The modules are under modules/ (see README).
{
  pkgs ? import <nixpkgs> { },
}:
builtins.removeAttrs (import ./nix/packages.nix { inherit pkgs; }) [ "default" ]
