# The tests that need no root, run inside the Nix build sandbox (issue 17 item 7): the library's
# unit tests and the test targets that pass as an unprivileged user without the real tools
# (fixtures, wiping; the installer target runs its local tests and reports its namespace tests
# as ignored without root). The targets that need sops, gpg or ssh-keygen, root or nixpkgs' lib
# run in CI and in the VM tests instead.
{
  lib,
  rustPlatform,
}:
let
  cargoToml = lib.importTOML ../../Cargo.toml;
  root = ../..;
  # What the test targets read: the sources, the test fixtures, and the benches and examples
  # cargo wants present because Cargo.toml declares or discovers them.
  sourcePaths = [
    "Cargo.toml"
    "Cargo.lock"
    "src"
    "tests"
    "benches"
    "examples"
  ];
  fileset = lib.fileset.unions (map (p: root + "/${p}") sourcePaths);
  # The targets run: each passes as an unprivileged user with only the build tools on PATH.
  testTargets = [
    "fixtures"
    "wiping"
    "install"
  ];
in
rustPlatform.buildRustPackage {
  pname = "sops-install-tests-without-root";
  inherit (cargoToml.package) version;

  src = lib.fileset.toSource { inherit root fileset; };

  cargoLock.lockFile = root + "/Cargo.lock";

  # Nothing to build or install but the tests.
  dontCargoBuild = true;
  dontCargoInstall = true;
  buildPhase = ''
    runHook preBuild
    runHook postBuild
  '';

  doCheck = true;
  checkPhase = ''
    runHook preCheck
    cargo test --offline -j "$NIX_BUILD_CORES" --lib ${
      lib.concatMapStringsSep " " (t: "--test ${t}") testTargets
    } -- --test-threads="$NIX_BUILD_CORES"
    runHook postCheck
  '';

  installPhase = ''
    runHook preInstall
    touch "$out"
    runHook postInstall
  '';

  # For the evaluation test (tests/nix_eval.rs).
  passthru = { inherit sourcePaths testTargets; };

  meta.platforms = lib.platforms.linux ++ lib.platforms.darwin;
}
