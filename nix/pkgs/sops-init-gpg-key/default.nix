# sops-init-gpg-key: creates a machine's GnuPG home with one unprotected key and an encryption
# subkey (the command sops-nix ships, same flags), printing the public key and fingerprint for
# .sops.yaml.
{
  lib,
  runCommand,
  makeWrapper,
  gnupg,
  coreutils,
  gawk,
  unixtools,
}:
runCommand "sops-init-gpg-key"
  {
    nativeBuildInputs = [ makeWrapper ];
    meta.mainProgram = "sops-init-gpg-key";
  }
  ''
    install -D -m 755 ${./sops-init-gpg-key.bash} $out/bin/sops-init-gpg-key
    patchShebangs $out/bin
    wrapProgram $out/bin/sops-init-gpg-key --prefix PATH : ${
      lib.makeBinPath [
        gnupg
        coreutils
        gawk
        unixtools.hostname
      ]
    }
    $out/bin/sops-init-gpg-key --hostname server01 --gpghome "$TMPDIR/home"
  ''
