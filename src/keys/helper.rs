//! Finding and starting helper programs (gpg, `age-plugin-<name>`, systemctl) safely.
//!
//! A helper is never looked up in the working directory: an empty or relative `PATH` entry
//! (the activation snippet of old modules exports `PATH=''`, which `execvp` and `which` read
//! as "the current directory") is ignored. A name with a slash must be an absolute path and
//! is used as is; a bare name is looked up in the absolute `PATH` entries only. The process's
//! own `PATH` is reduced to its absolute entries at start ([`sanitize_process_path`]), so a
//! library that spawns by name is held to the same rule.
//!
//! Helpers get a small environment ([`KEPT_VARIABLES`]): no `SOPS_AGE_KEY` or other key
//! variables, which [`forget_key_variables`] also removes from this process once read.

use crate::hint::Hint;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// When the warning that a helper is awaited is printed.
pub const SLOW_AFTER: Duration = Duration::from_secs(5);
/// The default helper timeout in seconds (`SOPS_INSTALL_HELPER_TIMEOUT`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// `SOPS_INSTALL_HELPER_TIMEOUT` (seconds, at least 1), else the default.
pub fn helper_timeout() -> Duration {
    let secs = std::env::var("SOPS_INSTALL_HELPER_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

/// Warns after [`SLOW_AFTER`] that `shown` is awaited and calls `kill` at the deadline.
/// `finish` must be called before the helper is reaped (so what `kill` targets is the helper).
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<bool>>,
}

impl Watchdog {
    pub fn start(
        shown: String,
        timeout: Duration,
        kill: impl FnOnce() + Send + 'static,
    ) -> Watchdog {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let theirs = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let (lock, cvar) = &*theirs;
            let start = Instant::now();
            let mut warned = false;
            let Ok(mut finished) = lock.lock() else {
                return false;
            };
            while !*finished {
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    kill();
                    return true;
                }
                let next = if warned {
                    timeout
                } else {
                    SLOW_AFTER.min(timeout)
                };
                finished = match cvar.wait_timeout(finished, next.saturating_sub(elapsed)) {
                    Ok((f, _)) => f,
                    Err(_) => return false,
                };
                if !*finished && !warned && start.elapsed() >= SLOW_AFTER {
                    warned = true;
                    tracing::warn!(
                        "waiting for {shown} (killed after {} s; SOPS_INSTALL_HELPER_TIMEOUT)",
                        timeout.as_secs()
                    );
                }
            }
            false
        });
        Watchdog {
            done,
            thread: Some(thread),
        }
    }

    /// Stops the watchdog; whether it had to kill.
    pub fn finish(mut self) -> bool {
        let (lock, cvar) = &*self.done;
        if let Ok(mut d) = lock.lock() {
            *d = true;
        }
        cvar.notify_all();
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or(false)
    }
}

/// The environment variables a helper inherits (all others are cleared): the search path,
/// home and locale, and what gpg's agent and pinentry need to ask for a passphrase.
pub const KEPT_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "GNUPGHOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
    "GPG_TTY",
    "GPG_AGENT_INFO",
    "TERM",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
];

/// The key variables read at start and then removed from the process environment.
const KEY_VARIABLES: &[&str] = &[
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
];

/// The absolute entries of a `PATH` value, in order.
pub fn absolute_entries(path: &OsStr) -> Vec<PathBuf> {
    path.as_bytes()
        .split(|b| *b == b':')
        .map(|e| Path::new(OsStr::from_bytes(e)))
        .filter(|e| e.is_absolute())
        .map(Path::to_path_buf)
        .collect()
}

/// Rewrites this process's `PATH` to its absolute entries (removes it when none is left, so
/// nothing falls back to the working directory). Call at start, before any thread exists.
pub fn sanitize_process_path() {
    let Some(path) = std::env::var_os("PATH") else {
        return;
    };
    let kept = absolute_entries(&path);
    if kept.is_empty() {
        std::env::remove_var("PATH");
    } else if let Ok(joined) = std::env::join_paths(kept) {
        std::env::set_var("PATH", joined);
    }
}

/// Removes the key variables from this process's environment once they were read, so no
/// helper (gpg, a plugin, systemctl) inherits them. Call before any thread exists.
pub fn forget_key_variables() {
    for v in KEY_VARIABLES {
        std::env::remove_var(v);
    }
}

/// A helper program cannot be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    #[error("{0} is a relative path; helper programs must be given by absolute path or bare name")]
    Relative(String),
    #[error("an empty program name")]
    Empty,
    #[error("{program} was not found in the absolute entries of PATH ({path:?}); empty and relative entries are ignored, never the current directory")]
    NotFound { program: String, path: String },
}

impl HelperError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        Some(Hint::new(match self {
            HelperError::Relative(_) | HelperError::Empty => {
                "give the program by absolute path (e.g. SOPS_GPG_EXEC=/run/current-system/sw/bin/gpg)"
            }
            HelperError::NotFound { .. } => {
                "install the program, or put its directory in PATH as an absolute entry"
            }
        }))
    }
}

/// Finds `program`: an absolute path as is; a bare name in the absolute `PATH` entries.
pub fn resolve(program: &OsStr) -> Result<PathBuf, HelperError> {
    let shown = Path::new(program).display().to_string();
    if program.as_bytes().contains(&b'/') {
        let p = Path::new(program);
        if !p.is_absolute() {
            return Err(HelperError::Relative(shown));
        }
        return Ok(p.to_path_buf());
    }
    if program.is_empty() {
        return Err(HelperError::Empty);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in absolute_entries(&path) {
        let candidate = dir.join(program);
        let runnable = std::fs::metadata(&candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if runnable {
            return Ok(candidate);
        }
    }
    Err(HelperError::NotFound {
        program: shown,
        path: path.to_string_lossy().into_owned(),
    })
}

/// A command for `program` (resolved by [`resolve`]) with only [`KEPT_VARIABLES`] passed on.
pub fn command(program: &OsStr) -> Result<std::process::Command, HelperError> {
    let path = resolve(program)?;
    let mut cmd = std::process::Command::new(path);
    cmd.env_clear();
    for v in KEPT_VARIABLES {
        if let Some(value) = std::env::var_os(v) {
            cmd.env(v, value);
        }
    }
    Ok(cmd)
}

/// How reading a helper's standard output ended.
#[derive(Debug)]
pub enum Bounded {
    /// Read to its end, within the limit.
    Complete,
    /// More than the limit came; reading stopped (what was read is not the whole output).
    TooMuch,
    /// Reading failed; what was read must not pass for the whole output.
    Failed(std::io::Error),
}

/// Reads `from` to its end through `chunk` (which the caller may zeroize), giving what it
/// reads to `sink`, and stops once more than `max` bytes would have come.
pub fn read_bounded(
    from: &mut impl std::io::Read,
    max: usize,
    chunk: &mut [u8],
    mut sink: impl FnMut(&[u8]),
) -> Bounded {
    let mut total = 0usize;
    loop {
        match from.read(chunk) {
            Ok(0) => return Bounded::Complete,
            Ok(n) if total.saturating_add(n) > max => return Bounded::TooMuch,
            Ok(n) => {
                total += n;
                sink(&chunk[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Bounded::Failed(e),
        }
    }
}

/// How much of a helper's standard error is kept (its end) for the error message.
pub const STDERR_KEPT: usize = 8192;

/// Reads a helper's standard error on its own thread to the end, keeping only its last
/// [`STDERR_KEPT`] bytes: a flood of messages cannot grow memory, nor block the helper.
pub fn stderr_tail(
    mut stderr: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stderr.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    kept.extend_from_slice(&chunk[..n]);
                    if kept.len() > STDERR_KEPT {
                        kept.drain(..kept.len() - STDERR_KEPT);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        kept
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bounded_reads_up_to_the_limit_and_no_further() {
        let read = |input: &[u8], max: usize| {
            let mut got = Vec::new();
            let mut chunk = [0u8; 3];
            let ended = read_bounded(&mut &input[..], max, &mut chunk, |b| {
                got.extend_from_slice(b)
            });
            (ended, got)
        };
        let (ended, got) = read(b"0123456789", 10);
        assert!(matches!(ended, Bounded::Complete), "{ended:?}");
        assert_eq!(got, b"0123456789");
        let (ended, got) = read(b"0123456789", 9);
        assert!(matches!(ended, Bounded::TooMuch), "{ended:?}");
        assert!(got.len() <= 9, "never more than the limit: {got:?}");

        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("pipe broke"))
            }
        }
        let ended = read_bounded(&mut Broken, 10, &mut [0u8; 4], |_| {});
        assert!(matches!(ended, Bounded::Failed(ref e) if e.to_string() == "pipe broke"));
    }

    #[test]
    fn stderr_tail_keeps_only_the_end() {
        let text: Vec<u8> = (0..STDERR_KEPT + 100)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let kept = stderr_tail(std::io::Cursor::new(text.clone()))
            .join()
            .unwrap();
        assert_eq!(kept, text[100..]);
    }

    #[test]
    fn only_absolute_path_entries_count() {
        let got = absolute_entries(OsStr::new(":.:bin:/usr/bin::/bin/"));
        assert_eq!(got, vec![PathBuf::from("/usr/bin"), PathBuf::from("/bin/")]);
        assert!(absolute_entries(OsStr::new("")).is_empty());
    }

    #[test]
    fn relative_paths_are_refused_and_absolute_ones_kept() {
        assert!(resolve(OsStr::new("./gpg"))
            .unwrap_err()
            .to_string()
            .contains("relative"));
        assert_eq!(
            resolve(OsStr::new("/nix/store/x/bin/gpg")).unwrap(),
            PathBuf::from("/nix/store/x/bin/gpg")
        );
    }
}
