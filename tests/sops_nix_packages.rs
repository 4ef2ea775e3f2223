//! The packages the flake exports under sops-nix's names. `sops-install ssh-to-pgp` and the
//! `ssh-to-pgp` name: the key it writes for an ssh-keygen RSA key imports into the real gpg
//! with the fingerprint `recipient` prints (v4, created at time 0), in armor and binary, and
//! the `-private-key` form decrypts what gpg encrypts to it. The scripts of
//! `sops-init-gpg-key` and `sops-import-keys-hook` (nix/pkgs) run with the real gpg and sops.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::openpgp::{self, GnupgHome};
use common::{run, Sandbox};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sops-install")
}

/// The pgp fingerprint `sops-install recipient` lists for the key.
fn recipient_fingerprint(sb: &Sandbox, key: &std::path::Path) -> String {
    let out = run(sb.command(bin()).arg("recipient").arg("--ssh-key").arg(key));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.contains("# pgp"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pgp line in {text}"))
        .to_string()
}

#[test]
fn the_public_key_imports_into_gpg_with_the_recipient_fingerprint() {
    common::require_tools(&["gpg", "ssh-keygen"]);
    for pem in [false, true] {
        let sb = Sandbox::new();
        let key = sb.path("ssh_host_rsa_key");
        openpgp::ssh_keygen_rsa(&key, pem);
        let expected = recipient_fingerprint(&sb, &key);
        let asc = sb.path("host.asc");
        let out = run(sb
            .command(bin())
            .arg("ssh-to-pgp")
            .arg("-i")
            .arg(&key)
            .arg("-o")
            .arg(&asc));
        assert_eq!(out.status, 0, "{}", out.stderr_text());
        assert_eq!(out.stderr_text().trim(), expected.to_lowercase());
        let text = std::fs::read_to_string(&asc).expect("output written");
        assert!(
            text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"),
            "{text}"
        );
        let home = GnupgHome::new(sb.path("gnupg"));
        home.gpg(&["--import", asc.to_str().expect("utf-8")]);
        assert_eq!(home.fingerprints(), vec![expected.clone()]);
        // Created at the epoch, usable for encryption.
        let listing = home.gpg(&["--with-colons", "--list-keys"]);
        let pub_line = listing
            .lines()
            .find(|l| l.starts_with("pub:"))
            .expect("pub line");
        let fields: Vec<&str> = pub_line.split(':').collect();
        assert_eq!(fields[5], "0", "{pub_line}");
        assert!(fields[11].contains('E'), "{pub_line}");
    }
}

#[test]
fn invoked_as_ssh_to_pgp_it_writes_binary_and_private_keys_gpg_can_use() {
    common::require_tools(&["gpg", "ssh-keygen"]);
    let sb = Sandbox::new();
    let key = sb.path("id_rsa");
    openpgp::ssh_keygen_rsa(&key, false);
    let expected = recipient_fingerprint(&sb, &key);
    let link = sb.path("ssh-to-pgp");
    std::os::unix::fs::symlink(bin(), &link).expect("symlink");

    let out = run(sb
        .command(&link)
        .args(["-format", "binary", "-i"])
        .arg(&key));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    assert_eq!(
        out.stdout.first().map(|b| b & 0xC0),
        Some(0xC0),
        "not binary"
    );
    let home = GnupgHome::new(sb.path("gnupg"));
    home.import(&out.stdout);
    assert_eq!(home.fingerprints(), vec![expected.clone()]);

    // Into an existing world-readable file: it is narrowed to 0600 before the key is written.
    let existing = sb.write("existing.asc", b"old\n");
    std::fs::set_permissions(
        &existing,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod");
    let out = run(sb
        .command(&link)
        .args(["-private-key", "-o"])
        .arg(&existing)
        .arg("-i")
        .arg(&key));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let meta = std::fs::metadata(&existing).expect("stat");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );

    let out = run(sb.command(&link).args(["-private-key", "-i"]).arg(&key));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----\n"),
        "{text}"
    );
    let secret = sb.write("secret.asc", &out.stdout);
    home.gpg(&["--import", secret.to_str().expect("utf-8")]);
    let message = sb.write("message.txt", b"opened by the ssh key\n");
    let encrypted = sb.path("message.gpg");
    home.gpg(&[
        "--trust-model",
        "always",
        "-r",
        &expected,
        "-o",
        encrypted.to_str().expect("utf-8"),
        "-e",
        message.to_str().expect("utf-8"),
    ]);
    let plain = home.gpg(&["-d", encrypted.to_str().expect("utf-8")]);
    assert_eq!(plain, "opened by the ssh key\n");
}

#[test]
fn bad_input_is_one_error_line() {
    let sb = Sandbox::new();
    let not_rsa = sb.write("ed", b"not a key\n");
    let out = run(Command::new(bin())
        .arg("ssh-to-pgp")
        .arg("-i")
        .arg(&not_rsa));
    assert_eq!(out.status, 1);
    let err = out.stderr_text();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(not_rsa.to_str().unwrap_or("?")), "{err}");
    let out = run(Command::new(bin()).args(["ssh-to-pgp", "-format", "pem"]));
    assert_eq!(out.status, 2, "{}", out.stderr_text());
}

fn pkgs_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("nix/pkgs")
}

#[test]
fn sops_init_gpg_key_makes_a_home_sops_encrypts_to_and_the_installer_opens() {
    common::require_tools(&["gpg", "sops"]);
    let sb = Sandbox::new();
    let home_dir = sb.path("root-gnupg");
    let script = pkgs_dir().join("sops-init-gpg-key/sops-init-gpg-key.bash");
    let out = run(sb
        .command("bash")
        .arg(&script)
        .args(["--hostname", "server01", "--gpghome"])
        .arg(&home_dir));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let err = out.stderr_text();
    assert!(
        err.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{err}"
    );
    let fpr = err
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap_or_else(|| panic!("no fingerprint in {err}"))
        .to_string();
    let home = GnupgHome {
        dir: home_dir.clone(),
    };
    assert_eq!(home.fingerprints().first(), Some(&fpr));
    // A second run refuses to replace the home.
    let again = run(sb
        .command("bash")
        .arg(&script)
        .arg("--gpghome")
        .arg(&home_dir));
    assert_eq!(again.status, 1, "{}", again.stderr_text());

    let plain = sb.write("cwd/s.yaml", b"password: hunter2\n");
    let enc = run(sb
        .command(common::real_sops())
        .env("GNUPGHOME", &home_dir)
        .args(["encrypt", "--pgp", &fpr])
        .arg(&plain));
    assert_eq!(enc.status, 0, "{}", enc.stderr_text());
    let file = sb.write("s.enc.yaml", &enc.stdout);
    let dec = run(sb
        .command(bin())
        .args(["decrypt", "--gnupg-home"])
        .arg(&home_dir)
        .arg(&file));
    assert_eq!(dec.status, 0, "{}", dec.stderr_text());
    assert_eq!(String::from_utf8_lossy(&dec.stdout), "password: hunter2\n");
}

#[test]
fn sops_import_keys_hook_imports_listed_keys_and_key_dirs_into_its_own_home() {
    common::require_tools(&["gpg"]);
    let sb = Sandbox::new();
    let keys = GnupgHome::new(sb.path("keys-home"));
    let first = keys.generate("first <first@example.org>");
    let second = keys.generate("second <second@example.org>");
    let export = |fpr: &str, to: &std::path::Path| {
        keys.gpg(&[
            "--armor",
            "-o",
            to.to_str().expect("utf-8"),
            "--export",
            fpr,
        ]);
    };
    let listed = sb.path("cwd/first.asc");
    export(&first, &listed);
    std::fs::create_dir_all(sb.path("cwd/keys/hosts")).expect("mkdir");
    export(&second, &sb.path("cwd/keys/hosts/second.asc"));
    std::fs::create_dir_all(sb.path("cwd/.git")).expect("mkdir");

    let hook = std::fs::read_to_string(pkgs_dir().join("sops-import-keys-hook/hook.bash"))
        .expect("hook")
        .replace("@gpg@", "gpg");
    let hook_file = sb.write("hook.bash", hook.as_bytes());
    let script = format!(
        "set -eu; sopsCreateGPGHome=1; sopsPGPKeys='first.asc missing.asc'; sopsPGPKeyDirs=keys; \
         shellHook='echo after'; source {}; eval \"$shellHook\"; echo \"home=$GNUPGHOME\"",
        hook_file.display()
    );
    let out = run(sb.command("bash").args(["-c", &script]));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.starts_with("after\n") || stdout.contains("after\n"),
        "{stdout}"
    );
    assert!(
        out.stderr_text().contains("missing.asc does not exist"),
        "{}",
        out.stderr_text()
    );
    let imported_home = sb.path("cwd/.git/gnupg");
    assert!(
        stdout.contains(&format!("home={}", imported_home.display())),
        "{stdout}"
    );
    let imported = GnupgHome { dir: imported_home };
    // Both keys with their subkeys: the same fingerprints as the exporting home.
    let mut got = imported.fingerprints();
    got.sort();
    let mut want = keys.fingerprints();
    want.sort();
    assert_eq!(got, want);
    assert!(got.contains(&first) && got.contains(&second), "{got:?}");
}
