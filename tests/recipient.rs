//! `sops-install recipient`: the OpenPGP v4 fingerprint against real gpg and an ssh-keygen RSA
//! key read by openssl, the recipients listed for ssh and age sources, and `--check` against
//! files the real sops encrypted to the host key and to other keys (age and pgp), among them a
//! file encrypted only to an RSA ssh key's ssh-to-pgp fingerprint, opened with the key alone.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::openpgp::{self, GnupgHome};
use common::plugin;
use common::{Outcome, Sandbox};
use sops_install::keys::openpgp_v4::rsa_v4_fingerprint;

fn tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A GnuPG home with one fresh RSA key (and an encryption subkey); returns (home, the
/// primary key's fingerprint as gpg prints it).
fn gpg_rsa_key(sb: &Sandbox) -> (GnupgHome, String) {
    let home = GnupgHome::new(sb.path("gnupg"));
    let gpg = |args: &[&str]| {
        home.gpg(&[&["--pinentry-mode", "loopback", "--passphrase", ""], args].concat())
    };
    gpg(&[
        "--quick-gen-key",
        "sops-install test <t@example.org>",
        "rsa2048",
        "default",
        "never",
    ]);
    let fpr = home
        .fingerprints()
        .into_iter()
        .next()
        .expect("the primary key's fingerprint");
    // sops encrypts to an encryption subkey; the file still names the primary fingerprint.
    gpg(&["--quick-add-key", &fpr, "rsa2048", "encr", "never"]);
    (home, fpr)
}

/// The first packet of an OpenPGP binary export: (tag, body).
fn first_packet(data: &[u8]) -> (u8, &[u8]) {
    let h = data[0];
    assert!(h & 0x80 != 0, "not an OpenPGP packet");
    if h & 0x40 != 0 {
        let tag = h & 0x3f;
        let (len, start) = match data[1] {
            l @ 0..=191 => (l as usize, 2),
            l @ 192..=223 => ((((l as usize) - 192) << 8) + data[2] as usize + 192, 3),
            255 => (
                u32::from_be_bytes(data[2..6].try_into().unwrap()) as usize,
                6,
            ),
            _ => panic!("partial lengths are not used for keys"),
        };
        (tag, &data[start..start + len])
    } else {
        let tag = (h >> 2) & 0x0f;
        let (len, start) = match h & 3 {
            0 => (data[1] as usize, 2),
            1 => (u16::from_be_bytes([data[1], data[2]]) as usize, 3),
            2 => (
                u32::from_be_bytes(data[1..5].try_into().unwrap()) as usize,
                5,
            ),
            _ => panic!("indeterminate length"),
        };
        (tag, &data[start..start + len])
    }
}

fn read_mpi(body: &[u8]) -> (&[u8], &[u8]) {
    let bits = u16::from_be_bytes([body[0], body[1]]) as usize;
    let len = bits.div_ceil(8);
    (&body[2..2 + len], &body[2 + len..])
}

#[test]
fn the_v4_fingerprint_of_an_rsa_key_is_the_one_gpg_prints() {
    common::require_tools(&["gpg"]);
    let sb = Sandbox::new();
    let (home, expected) = gpg_rsa_key(&sb);
    let export = Command::new("gpg")
        .env("GNUPGHOME", &home.dir)
        .args(["--batch", "--export", &expected])
        .output()
        .expect("gpg --export");
    let (tag, body) = first_packet(&export.stdout);
    assert_eq!(tag, 6, "a public-key packet comes first");
    assert_eq!(body[0], 4, "version 4");
    let created = u32::from_be_bytes(body[1..5].try_into().unwrap());
    assert_eq!(body[5], 1, "RSA");
    let (n, rest) = read_mpi(&body[6..]);
    let (e, _) = read_mpi(rest);
    let computed = hex::encode_upper(rsa_v4_fingerprint(n, e, created));
    assert_eq!(computed, expected);
    // A changed creation time is a different key.
    assert_ne!(
        hex::encode_upper(rsa_v4_fingerprint(n, e, created ^ 1)),
        expected
    );
}

fn recipient_cmd(sb: &Sandbox, args: &[&str]) -> Outcome {
    common::run(
        sb.command(env!("CARGO_BIN_EXE_sops-install"))
            .arg("recipient")
            .args(args),
    )
}

fn stdout(out: &Outcome) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_ssh_keygen_rsa_host_key_gives_its_native_line_and_the_ssh_to_pgp_fingerprint() {
    common::require_tools(&["ssh-keygen", "openssl"]);
    let sb = Sandbox::new();
    let key = sb.path("ssh_host_rsa_key");
    tool(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f"])
            .arg(&key),
    );
    // n and e as openssl reads them from the PEM key, independent of our parser.
    let modulus = tool(
        Command::new("openssl")
            .args(["rsa", "-noout", "-modulus", "-in"])
            .arg(&key),
    );
    let n = hex::decode(modulus.trim().trim_start_matches("Modulus=")).expect("hex modulus");
    let text = tool(
        Command::new("openssl")
            .args(["rsa", "-noout", "-text", "-in"])
            .arg(&key),
    );
    let e: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("publicExponent: "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("public exponent");
    let expected = hex::encode_upper(rsa_v4_fingerprint(&n, &e.to_be_bytes(), 0));
    let public = tool(Command::new("ssh-keygen").arg("-y").arg("-f").arg(&key));
    let native: Vec<&str> = public.split_whitespace().take(2).collect();

    let out = recipient_cmd(&sb, &["--ssh-key", key.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert!(
        lines[0].starts_with(&format!("{}  # age, from ", native.join(" "))),
        "{printed}"
    );
    assert!(
        lines[1].starts_with(&format!("{expected}  # pgp, from ")),
        "{printed}"
    );

    // The native line is a recipient sops encrypts to and the key opens.
    common::require_tools(&["sops"]);
    let file = sops_encrypt(&sb, "rsa.yaml", &["--age", &native.join(" ")], None);
    let out = recipient_cmd(
        &sb,
        &[
            "--ssh-key",
            key.to_str().unwrap(),
            "--check",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    assert_eq!(stdout(&out), format!("ok {}\n", file.display()));
}

#[test]
fn ed25519_keys_and_age_key_files_list_every_recipient_they_answer_to() {
    let sb = Sandbox::new();
    let host = common::fixture_host_key();
    let (plain, _, r1) = plugin::age_keygen();
    let (_, secret2, r2) = plugin::age_keygen();
    let keys = sb.write(
        "keys.txt",
        format!("{plain}{}", plugin::identity_for(&secret2, None)).as_bytes(),
    );
    let missing = sb.path("missing-key");
    let out = recipient_cmd(
        &sb,
        &[
            "--ssh-key",
            host.path.to_str().unwrap(),
            "--age-key-file",
            keys.to_str().unwrap(),
            "--ssh-key",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let printed = stdout(&out);
    let first_fields: Vec<String> = printed
        .lines()
        .map(|l| l.split("  # ").next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        first_fields,
        [r1, host.native, host.converted, r2],
        "{printed}"
    );
    // The missing key and the plugin binary not on PATH are notes, not failures.
    let err = out.stderr_text();
    assert!(
        err.contains(&format!("note: {}: cannot read:", missing.display())),
        "{err}"
    );
    assert!(err.contains("age-plugin-sopstest is not on PATH"), "{err}");
}

fn sops_encrypt(sb: &Sandbox, name: &str, flags: &[&str], gnupg: Option<&Path>) -> PathBuf {
    let plain = sb.write(&format!("plain-{name}"), b"a: b\n");
    let mut cmd = sb.command(common::real_sops());
    cmd.arg("encrypt").args(flags).arg(&plain);
    if let Some(home) = gnupg {
        cmd.env("GNUPGHOME", home);
    }
    let out = common::run(&mut cmd);
    assert_eq!(out.status, 0, "sops encrypt: {}", out.stderr_text());
    std::fs::remove_file(&plain).expect("remove plaintext");
    sb.write(name, &out.stdout)
}

#[test]
fn check_says_which_files_the_host_opens_and_what_the_others_are_encrypted_to() {
    common::require_tools(&["sops", "gpg", "age-keygen"]);
    let sb = Sandbox::new();
    let common::FixtureHostKey {
        path: ssh,
        native,
        converted,
    } = common::fixture_host_key();
    let (_, _, other) = plugin::age_keygen();
    let (gnupg, fpr) = gpg_rsa_key(&sb);
    let to_converted = sops_encrypt(&sb, "converted.yaml", &["--age", &converted], None);
    let to_native = sops_encrypt(&sb, "native.yaml", &["--age", &native], None);
    let elsewhere = sops_encrypt(
        &sb,
        "elsewhere.yaml",
        &["--age", &other, "--pgp", &fpr],
        Some(&gnupg.dir),
    );

    let ssh_arg = ["--ssh-key", ssh.to_str().unwrap(), "--check"];
    let ok = recipient_cmd(
        &sb,
        &[
            &ssh_arg[..],
            &[to_converted.to_str().unwrap(), to_native.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(ok.status, 0, "{}", ok.stderr_text());
    assert_eq!(
        stdout(&ok),
        format!(
            "ok {}\nok {}\n",
            to_converted.display(),
            to_native.display()
        )
    );

    let bad = recipient_cmd(
        &sb,
        &[
            &ssh_arg[..],
            &[to_converted.to_str().unwrap(), elsewhere.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(bad.status, 1);
    assert_eq!(
        stdout(&bad),
        format!(
            "ok {}\ncannot open {}: no recipient of the file is one of this host's; \
             file recipients: age: {other}; pgp: {fpr}; others: none; \
             this host offers: {native}, {converted}; hint: add this host's recipients \
             ({native}, {converted}) to the file's creation rule in .sops.yaml, then run \
             `sops updatekeys {}`\n",
            to_converted.display(),
            elsewhere.display(),
            elsewhere.display()
        )
    );
    assert!(
        bad.stderr_text()
            .contains("1 of the 2 files cannot be opened by this host"),
        "{}",
        bad.stderr_text()
    );
}

#[test]
fn check_opens_a_file_encrypted_only_to_the_ssh_to_pgp_fingerprint_of_an_rsa_key() {
    common::require_tools(&["ssh-keygen", "gpg", "sops"]);
    let sb = Sandbox::new();
    let key = sb.path("ssh_host_rsa_key");
    openpgp::ssh_keygen_rsa(&key, false);
    let (public, fp) = openpgp::ssh_to_pgp_public_key(&openpgp::rsa_key_of(&key), &[9, 7], &[2, 1]);
    let fp = hex::encode_upper(fp);
    // gpg holds only the public key: it is there for sops to encrypt to.
    let home = GnupgHome::new(sb.path("gnupg"));
    home.import(&public);
    assert_eq!(
        home.fingerprints(),
        std::slice::from_ref(&fp),
        "gpg computes the same fingerprint"
    );
    let file = sops_encrypt(&sb, "pgp-only.yaml", &["--pgp", &fp], Some(&home.dir));
    drop(home);
    std::fs::remove_dir_all(sb.path("gnupg")).expect("remove the gnupg home");

    // The listing offers that fingerprint (once), and --check opens the file with the key alone.
    let listed = recipient_cmd(&sb, &["--ssh-key", key.to_str().unwrap()]);
    assert_eq!(listed.status, 0, "{}", listed.stderr_text());
    let pgp_lines: Vec<String> = stdout(&listed)
        .lines()
        .filter(|l| l.contains("  # pgp, "))
        .map(str::to_string)
        .collect();
    assert_eq!(pgp_lines.len(), 1, "{}", stdout(&listed));
    assert!(
        pgp_lines[0].starts_with(&format!("{fp}  # pgp, from ")),
        "{pgp_lines:?}"
    );
    let file_arg = file.to_str().unwrap();
    let ok = recipient_cmd(
        &sb,
        &["--check", file_arg, "--ssh-key", key.to_str().unwrap()],
    );
    assert_eq!(ok.status, 0, "{}", ok.stderr_text());
    assert_eq!(stdout(&ok), format!("ok {}\n", file.display()));
    assert_eq!(ok.stderr_text(), "", "no note about the key's second use");

    // Another RSA key cannot: the line names the file's fingerprint and what the host offers.
    let other = sb.path("other_rsa_key");
    openpgp::ssh_keygen_rsa(&other, true);
    let other_native = tool(Command::new("ssh-keygen").arg("-y").arg("-f").arg(&other));
    let other_native: Vec<&str> = other_native.split_whitespace().take(2).collect();
    let other_fp = hex::encode_upper(
        openpgp::ssh_to_pgp_public_key(&openpgp::rsa_key_of(&other), &[9], &[2]).1,
    );
    let bad = recipient_cmd(
        &sb,
        &["--check", file_arg, "--ssh-key", other.to_str().unwrap()],
    );
    assert_eq!(bad.status, 1, "{}", bad.stderr_text());
    assert_eq!(
        stdout(&bad),
        format!(
            "cannot open {}: no recipient of the file is one of this host's; \
             file recipients: age: none; pgp: {fp}; others: none; \
             this host offers: {}, pgp {other_fp}; hint: add this host's recipients \
             ({}, pgp {other_fp}) to the file's creation rule in .sops.yaml, then run \
             `sops updatekeys {}`\n",
            file.display(),
            other_native.join(" "),
            other_native.join(" "),
            file.display()
        )
    );
}

#[test]
fn no_recipient_at_all_says_which_key_to_give_on_one_line() {
    let sb = Sandbox::new();
    let absent = sb.path("absent-keys.txt");
    let out = recipient_cmd(&sb, &["--age-key-file", absent.to_str().unwrap()]);
    assert_eq!(out.status, 1, "{}", out.stderr_text());
    assert_eq!(stdout(&out), "");
    let text = out.stderr_text();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("no key source gave a recipient: ")
            && text.contains("absent-keys.txt")
            && text
                .contains("; hint: give the host's key with --ssh-key FILE or --age-key-file FILE"),
        "{text}"
    );
}
