# The flake's packages: our installer, also under sops-nix's package names, and the helpers
# sops-nix exports (devShells and scripts refer to them).
{ pkgs }:
let
  sops-install = pkgs.callPackage ./package.nix { };
in
{
  inherit sops-install;
  sops-install-secrets = sops-install;
  # `ssh-to-pgp -i key -o out.asc`: the same binary, dispatching on its name.
  ssh-to-pgp =
    pkgs.runCommand "ssh-to-pgp-${sops-install.version}"
      {
        meta.mainProgram = "ssh-to-pgp";
      }
      ''
        mkdir -p $out/bin
        ln -s ${sops-install}/bin/sops-install $out/bin/ssh-to-pgp
      '';
  sops-import-keys-hook = pkgs.callPackage ./pkgs/sops-import-keys-hook { };
  sops-init-gpg-key = pkgs.callPackage ./pkgs/sops-init-gpg-key { };
  default = sops-install;
}
