//! `sops-install host-check` (the modules' `hostRecipients` build check) on files the real sops
//! wrote: PGP fingerprints in any spelling, and Shamir key groups (the file opens when at least
//! the threshold of groups hold a host recipient).

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::openpgp::GnupgHome;
use common::{run, Sandbox};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sops-install")
}

/// A fresh age recipient (its identity is thrown away: host-check needs no key).
fn age_recipient(sb: &Sandbox, name: &str) -> String {
    let path = sb.path(name);
    let out = run(sb.command("age-keygen").arg("-o").arg(&path));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    std::fs::read_to_string(&path)
        .expect("key")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key comment")
        .to_string()
}

/// Runs host-check with these recipients; (status, stderr).
fn check(sb: &Sandbox, file: &std::path::Path, recipients: &[&str]) -> (i32, String) {
    let mut cmd = sb.command(bin());
    cmd.arg("host-check");
    for r in recipients {
        cmd.args(["--recipient", r]);
    }
    let out = run(cmd.arg(file));
    (out.status, out.stderr_text())
}

#[test]
fn shamir_groups_and_pgp_fingerprints_count_as_the_installer_counts_them() {
    common::require_tools(&["sops", "age-keygen", "gpg"]);
    let sb = Sandbox::new();
    let a = age_recipient(&sb, "a.txt");
    let b = age_recipient(&sb, "b.txt");
    let home = GnupgHome::new(sb.path("gnupg"));
    let fpr = home.generate("host <host@example.org>");
    let config = sb.write(
        "cwd/.sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{a}]\n      - age: [{b}]\n      - pgp: [{fpr}]\n"
        )
        .as_bytes(),
    );
    let plain = sb.write("cwd/s.yaml", b"k: v\n");
    let out = run(sb
        .command(common::real_sops())
        .env("GNUPGHOME", &home.dir)
        .arg("--config")
        .arg(&config)
        .arg("encrypt")
        .arg(&plain));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let file = sb.write("shamir.yaml", &out.stdout);
    assert!(String::from_utf8_lossy(&out.stdout).contains("shamir_threshold: 2"));

    let spaced: String = fpr
        .to_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let key_id = &fpr[24..];
    for ok in [
        vec![a.as_str(), b.as_str()],
        vec![a.as_str(), spaced.as_str()],
        vec![b.as_str(), key_id],
    ] {
        assert_eq!(check(&sb, &file, &ok), (0, String::new()), "{ok:?}");
    }
    let (status, err) = check(&sb, &file, &[&a]);
    assert_eq!(status, 1);
    assert_eq!(
        err.trim_end(),
        format!(
            "sops-install: {}: the host recipients are in 1 of its 3 key groups, and 2 are needed",
            file.display()
        )
    );

    // One group: a PGP fingerprint alone opens it; another recipient does not.
    let out = run(sb
        .command(common::real_sops())
        .env("GNUPGHOME", &home.dir)
        .args([
            "encrypt",
            "--pgp",
            &fpr,
            "--input-type",
            "yaml",
            "--output-type",
            "json",
        ])
        .arg(&plain));
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    let single = sb.write("single.json", &out.stdout);
    assert_eq!(check(&sb, &single, &[&fpr]).0, 0);
    let (status, err) = check(&sb, &single, &[&a]);
    assert_eq!(status, 1);
    assert!(
        err.contains("none of the host recipients is among its recipients"),
        "{err}"
    );
    // A file that is not a sops file is an error of its own (status 2).
    let junk = sb.write("junk.yaml", b"a: b\n");
    assert_eq!(check(&sb, &junk, &[&a]).0, 2);
}
