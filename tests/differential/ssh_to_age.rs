//! `sops-install recipient` against the original `ssh-to-age` (the version sops-nix's go.mod
//! names) on freshly generated ed25519 keys: the public recipient must be the same, and the
//! private conversions must be interchangeable. For each key: our `age1…` line equals
//! `ssh-to-age -i KEY.pub`; `age-keygen -y` of `ssh-to-age -private-key` gives that recipient
//! too; an age message to our recipient opens with ssh-to-age's identity (`age -d`); and one
//! sops file encrypted to all of ssh-to-age's recipients opens with our `decrypt --ssh-key KEY`
//! (our private conversion) for every key.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common;
use crate::world;

/// How many keys (`SOPS_INSTALL_SSH_TO_AGE_KEYS`, default 50).
fn count() -> usize {
    std::env::var("SOPS_INSTALL_SSH_TO_AGE_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn output(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ours_converted(key: &Path) -> String {
    let text = output(
        Command::new(world::ours())
            .args(["recipient", "--ssh-key"])
            .arg(key),
        "sops-install recipient",
    );
    text.lines()
        .find(|l| l.contains("(converted to age)"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no converted age line in:\n{text}"))
        .to_string()
}

pub fn recipients() {
    let ssh_to_age = world::original("SSH_TO_AGE", "ssh-to-age").unwrap_or_else(|e| panic!("{e}"));
    common::require_tools(&["ssh-keygen", "age", "age-keygen"]);
    let sops = common::real_sops();
    let dir = tempfile::tempdir().expect("temp dir");
    let n = count();
    let mut theirs_all = Vec::new();
    let mut keys = Vec::new();
    for i in 0..n {
        let key = dir.path().join(format!("key{i}"));
        output(
            Command::new("ssh-keygen")
                .args([
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    &format!("k{i}"),
                    "-f",
                ])
                .arg(&key),
            "ssh-keygen",
        );
        let ours = ours_converted(&key);
        let theirs = output(
            Command::new(&ssh_to_age)
                .arg("-i")
                .arg(key.with_extension("pub")),
            "ssh-to-age -i",
        )
        .trim()
        .to_string();
        assert_eq!(ours, theirs, "key {i}: recipients differ");
        let identity = dir.path().join(format!("identity{i}.txt"));
        let private = output(
            Command::new(&ssh_to_age)
                .args(["-private-key", "-i"])
                .arg(&key),
            "ssh-to-age -private-key",
        );
        std::fs::write(&identity, &private).expect("identity");
        let derived = output(
            Command::new("age-keygen").arg("-y").arg(&identity),
            "age-keygen -y",
        );
        assert_eq!(
            derived.trim(),
            ours,
            "key {i}: ssh-to-age's identity is for another recipient"
        );
        // A message to our recipient opens with ssh-to-age's identity.
        let message = format!("message {i}\n");
        let plain = dir.path().join(format!("plain{i}"));
        std::fs::write(&plain, &message).expect("plain");
        let enc = dir.path().join(format!("msg{i}.age"));
        output(
            Command::new("age")
                .args(["-r", &ours, "-o"])
                .arg(&enc)
                .arg(&plain),
            "age -r",
        );
        let opened = output(
            Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(&identity)
                .arg(&enc),
            "age -d with ssh-to-age's identity",
        );
        assert_eq!(opened, message, "key {i}");
        theirs_all.push(theirs);
        keys.push(key);
    }
    // One sops file for every ssh-to-age recipient; each key opens it through our conversion.
    let plain = dir.path().join("secret.yaml");
    std::fs::write(&plain, "secret: opened\n").expect("plain");
    let enc_text = output(
        Command::new(&sops)
            .args(["encrypt", "--age", &theirs_all.join(",")])
            .arg(&plain)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env_remove("SOPS_AGE_KEY_FILE"),
        "sops encrypt",
    );
    let enc = dir.path().join("enc.yaml");
    std::fs::write(&enc, enc_text).expect("sops file");
    for (i, key) in keys.iter().enumerate() {
        let out = output(
            Command::new(world::ours())
                .args(["decrypt", "--ssh-key"])
                .arg(key)
                .arg(&enc)
                .env_remove("SOPS_AGE_KEY_FILE")
                .env_remove("SOPS_AGE_KEY")
                .env_remove("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
                .env("HOME", dir.path()),
            "sops-install decrypt --ssh-key",
        );
        assert_eq!(out, "secret: opened\n", "key {i}");
    }
    println!("ssh-to-age: {n} ed25519 keys agree (public recipient, private identity both ways)");
}
