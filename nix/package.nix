# The sops-install package: the Rust installer, also installed under the name sops-nix's modules
# and users' scripts call it by (bin/sops-install-secrets), and as bin/ssh-to-pgp.
{
  lib,
  rustPlatform,
}:
let
  cargoToml = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "sops-install";
  inherit (cargoToml.package) version;

  # Only what cargo needs to build the binary: editing the Nix files, tests or docs does not
  # rebuild the package. benches/decrypt.rs is declared in Cargo.toml, so cargo wants it present.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../src
      ../benches/decrypt.rs
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;

  # Only the binary, not the examples or benches.
  cargoBuildFlags = [
    "--bin"
    "sops-install"
  ];

  # The test suite needs root, a private mount namespace and the real sops; it runs in CI and in
  # the NixOS VM tests instead.
  doCheck = false;

  postInstall = ''
    ln -s sops-install $out/bin/sops-install-secrets
    ln -s sops-install $out/bin/ssh-to-pgp
  '';

  meta = {
    description = cargoToml.package.description;
    license = lib.licenses.mit;
    mainProgram = "sops-install";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
