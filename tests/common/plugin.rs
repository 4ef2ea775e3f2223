//! The test age plugin `age-plugin-sopstest` (examples/age-plugin-sopstest.rs): where its
//! binary is (built by `cargo test --all-targets`; built here when a narrower test run left it
//! out), a directory holding only it to put on PATH, and identities made with it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NAME: &str = "age-plugin-sopstest";

/// The built plugin binary.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in target/<profile>/deps");
        let bin = profile_dir.join("examples").join(NAME);
        if !bin.is_file() {
            let target_dir = profile_dir.parent().expect("target dir");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "--quiet", "--example", NAME, "--manifest-path"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target_dir);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("cargo runs");
            assert!(status.success(), "cargo build --example {NAME} failed");
        }
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
    .clone()
}

/// A fresh directory under `parent` with only the plugin in it (to prepend to PATH).
pub fn path_dir(parent: &Path) -> PathBuf {
    let dir = parent.join("plugin-bin");
    std::fs::create_dir_all(&dir).expect("create plugin dir");
    let link = dir.join(NAME);
    if !link.exists() {
        std::os::unix::fs::symlink(binary(), &link).expect("link the plugin");
    }
    dir
}

/// PATH with `dir` in front of the current PATH.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut parts = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(parts).expect("PATH")
}

/// The key file text of a plugin identity wrapping an `AGE-SECRET-KEY-1…` secret (with the
/// `# recipient:` comment the plugin prints), optionally asking for `pin` first.
pub fn identity_for(secret: &str, pin: Option<&str>) -> String {
    let mut cmd = Command::new(binary());
    cmd.args(["--identity-for", secret]);
    if let Some(pin) = pin {
        cmd.args(["--pin", pin]);
    }
    let out = cmd.output().expect("the plugin runs");
    assert!(
        out.status.success(),
        "{NAME} --identity-for failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A new X25519 key from the real age-keygen: (key file text, secret line, recipient).
pub fn age_keygen() -> (String, String, String) {
    let out = Command::new("age-keygen")
        .output()
        .expect("age-keygen runs");
    assert!(out.status.success(), "age-keygen failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let secret = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("secret line")
        .to_string();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key comment")
        .to_string();
    (text, secret, recipient)
}
