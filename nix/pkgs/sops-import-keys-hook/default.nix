# sops-import-keys-hook: a setup hook for devShells (the interface sops-nix's has): on entering
# the shell it imports the OpenPGP keys listed in `sopsPGPKeys` and every *.asc / *.gpg file
# under `sopsPGPKeyDirs` into gpg, optionally into a GnuPG home of its own
# (`sopsCreateGPGHome`, at `sopsGPGHome` or .git/gnupg).
{
  makeSetupHook,
  gnupg,
  sops,
}:
makeSetupHook {
  name = "sops-import-keys-hook";
  substitutions.gpg = "${gnupg}/bin/gpg";
  propagatedBuildInputs = [
    sops
    gnupg
  ];
} ./hook.bash
