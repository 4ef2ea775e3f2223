//! The command line as a user meets it: `--help` (every form, on standard output) and the
//! `initrd-secret` subcommand (one secret of a real sops file written to a path with an exact
//! mode, refusing symlinks, with one-line errors).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{Outcome, Sandbox};

fn sops_install(sb: &Sandbox, args: &[&str]) -> Outcome {
    common::run(sb.command(env!("CARGO_BIN_EXE_sops-install")).args(args))
}

#[test]
fn help_prints_every_form_to_stdout() {
    let sb = Sandbox::new();
    for flag in ["--help", "-h", "-help", "help"] {
        let out = sops_install(&sb, &[flag]);
        assert_eq!(out.status, 0, "{flag}: {}", out.stderr_text());
        assert!(
            out.stderr.is_empty(),
            "{flag}: stderr: {}",
            out.stderr_text()
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Usage: sops-install [-check-mode=off|manifest|sopsfile] [-ignore-passwd] MANIFEST.json"),
            "{flag}: no manifest form in\n{text}"
        );
        for form in [
            "decrypt",
            "recipient",
            "host-check",
            "ssh-to-pgp",
            "initrd-secret",
            "-check-mode",
            "-ignore-passwd",
        ] {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(form)),
                "{flag}: {form} is not listed in\n{text}"
            );
        }
    }
    // A subcommand's own help is clap's, on stdout too.
    let out = sops_install(&sb, &["decrypt", "--help"]);
    assert_eq!(out.status, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--age-key-file"));
}

#[test]
fn a_subcommand_given_bad_arguments_fails_on_one_line_with_where_to_look() {
    let sb = Sandbox::new();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["decrypt", "--bogus", "f.yaml"],
            "'--bogus'",
            "sops-install decrypt --help",
        ),
        (&["decrypt"], "<FILE>", "sops-install decrypt --help"),
        (
            &["recipient", "--check"],
            "<FILES>",
            "sops-install recipient --help",
        ),
        (
            &[
                "initrd-secret",
                "--mode",
                "99",
                "--sops-file",
                "x",
                "--out",
                "y",
            ],
            "\"99\" is not an octal mode",
            "sops-install initrd-secret --help",
        ),
    ];
    for (args, names, hint) in cases {
        let out = sops_install(&sb, args);
        assert_eq!(out.status, 2, "{args:?}: {}", out.stderr_text());
        assert!(out.stdout.is_empty(), "{args:?}: stdout");
        let line = one_line(&out);
        assert!(line.contains(names), "{args:?}: {names} not in {line:?}");
        assert!(
            line.trim_end().ends_with(&format!("; hint: see `{hint}`")),
            "{args:?}: no hint in {line:?}"
        );
    }
}

// ---- initrd-secret ----

fn fixture(rel: &str) -> PathBuf {
    common::fixtures_dir().join(rel)
}

/// `sops-install initrd-secret ARGS` run under `umask`.
fn initrd_secret(sb: &Sandbox, umask: &str, args: &[&str]) -> Outcome {
    let mut cmd = sb.command("/bin/sh");
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" initrd-secret \"$@\""))
        .arg(env!("CARGO_BIN_EXE_sops-install"))
        .args(args);
    common::run(&mut cmd)
}

fn mode_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

fn one_line(out: &Outcome) -> String {
    if let Some(problem) = common::stderr_shape_problem(&out.stderr) {
        panic!("{problem}");
    }
    let text = out.stderr_text();
    assert!(
        common::leaked_secrets(&out.stderr, common::KNOWN_SECRETS).is_empty(),
        "secret on stderr: {text}"
    );
    text
}

/// Names of the entries of `dir` (to see that no temporary file is left behind).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn initrd_secret_writes_one_secret_with_exactly_the_mode_asked() {
    let sb = Sandbox::new();
    let key1 = fixture("keys/age1.txt");
    let dir = sb.path("initrd");
    std::fs::create_dir(&dir).expect("mkdir");
    let basic = fixture("enc/basic.yaml");
    // The umask neither widens nor narrows the mode.
    for (umask, mode, expected) in [
        ("000", "0400", 0o400),
        ("077", "0640", 0o640),
        ("022", "600", 0o600),
    ] {
        let out_path = dir.join("password");
        let out = initrd_secret(
            &sb,
            umask,
            &[
                "--sops-file",
                basic.to_str().unwrap(),
                "--format",
                "yaml",
                "--key",
                "db/password",
                "--mode",
                mode,
                "--age-key-file",
                key1.to_str().unwrap(),
                "--out",
                out_path.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status, 0, "umask {umask}: {}", out.stderr_text());
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
        // What `sops decrypt --extract '["db"]["password"]'` printed: the raw string.
        assert_eq!(
            std::fs::read(&out_path).expect("written"),
            common::fixture_bytes("out/yaml-extract-string.out")
        );
        assert_eq!(mode_of(&out_path), expected, "umask {umask} mode {mode}");
        // The file is replaced on the next run; nothing else is left in the directory.
        assert_eq!(entries(&dir), ["password"]);
    }
    // An ssh host key as the age key (sops.age.sshKeyPaths), the whole file (empty key).
    let host = common::fixture_host_key();
    let whole = dir.join("whole");
    let out = initrd_secret(
        &sb,
        "022",
        &[
            "--sops-file",
            fixture("enc/ssh.native.yaml").to_str().unwrap(),
            "--age-ssh-key",
            host.path.to_str().unwrap(),
            "--out",
            whole.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr_text());
    assert_eq!(
        std::fs::read(&whole).expect("written"),
        common::fixture_bytes("out/yaml-ssh-native.out")
    );
    assert_eq!(mode_of(&whole), 0o400, "the default mode");
}

#[test]
fn initrd_secret_refuses_symlinks_and_fails_on_one_line() {
    let sb = Sandbox::new();
    let key1 = fixture("keys/age1.txt");
    let basic = fixture("enc/basic.yaml");
    let dir = sb.path("initrd");
    std::fs::create_dir(&dir).expect("mkdir");
    let victim = sb.write("victim", b"untouched");
    let args = |out: &Path, key: &str, key_file: &Path| -> Vec<String> {
        [
            "--sops-file",
            basic.to_str().unwrap(),
            "--key",
            key,
            "--age-key-file",
            key_file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        initrd_secret(&sb, "022", &a)
    };
    // A symlink as the destination.
    let link = dir.join("link");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let out = run(args(&link, "db/password", &key1));
    assert_eq!(out.status, 1, "{}", out.stderr_text());
    assert!(
        one_line(&out).contains("is a symlink; refusing"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(std::fs::read(&victim).expect("victim"), b"untouched");
    // A symlink as its directory.
    let linked_dir = sb.path("linked-dir");
    std::os::unix::fs::symlink(&dir, &linked_dir).expect("symlink");
    let out = run(args(&linked_dir.join("s"), "db/password", &key1));
    assert_eq!(out.status, 1, "{}", out.stderr_text());
    assert!(
        one_line(&out).contains("is a symlink; refusing"),
        "{}",
        out.stderr_text()
    );
    assert!(!dir.join("s").exists());
    // No key opens the file: one line naming the file and the secret, nothing written.
    let target = dir.join("s");
    let out = run(args(&target, "db/password", &fixture("keys/wrong.txt")));
    assert_eq!(out.status, 128, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(
        line.contains("basic.yaml") && line.contains("\"db/password\""),
        "{line}"
    );
    // A key the file does not have.
    let out = run(args(&target, "db/nope", &key1));
    assert_ne!(out.status, 0);
    let line = one_line(&out);
    assert!(
        line.contains("basic.yaml") && line.contains("db/nope"),
        "{line}"
    );
    // A sops file that is not there: one line with what to do.
    let mut a = args(&target, "db/password", &key1);
    a[1] = sb.path("absent.yaml").to_str().unwrap().to_string();
    let out = run(a);
    assert_eq!(out.status, 1, "{}", out.stderr_text());
    let line = one_line(&out);
    assert!(
        line.contains("absent.yaml: cannot read: ")
            && line.contains("; hint: give --sops-file the path of a readable sops file"),
        "{line}"
    );
    assert_eq!(entries(&dir), ["link"], "nothing but the symlink is left");
    // A mode beyond the permission bits is a usage error.
    let mut a = args(&target, "db/password", &key1);
    a.extend(["--mode".to_string(), "4755".to_string()]);
    let out = run(a);
    assert_ne!(out.status, 0);
    assert!(out.stderr_text().contains("0777"), "{}", out.stderr_text());
}
