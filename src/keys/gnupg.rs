//! Opening sops `pgp` entries with the gpg program and an existing GnuPG home.
//!
//! Run as sops runs it: `$SOPS_GPG_EXEC -d` (default `gpg`), the armored message on standard
//! input, the data key read from standard output, `GNUPGHOME` set to the home. Standard error
//! is captured and its last line becomes the reason when gpg fails.
//!
//! gpg is found and started as every helper is ([`super::helper`]: never from the working
//! directory, a small environment). It is bounded: a data key is 32 bytes, so more than
//! [`OUTPUT_MAX`] bytes on standard output is an error, only the last [`super::helper::STDERR_KEPT`] bytes of
//! standard error are kept; after 5 s a warning names the program awaited, and
//! after `SOPS_INSTALL_HELPER_TIMEOUT` seconds (default 60; a passphrase-protected key may
//! make gpg's agent ask through a pinentry) gpg is killed and the entry fails.

use super::helper::{helper_timeout, Watchdog};
use super::KeyError;
use crate::secret_bytes::SecretBytes;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;

/// Most bytes read from gpg's standard output (a data key is 32).
pub const OUTPUT_MAX: usize = 4096;
/// gpg with one GnuPG home.
#[derive(Debug, Clone)]
pub struct Gnupg {
    /// `None`: whatever gpg uses by default (`GNUPGHOME`, `~/.gnupg`), as the sops CLI does.
    pub home: Option<PathBuf>,
    pub exec: OsString,
}

impl Gnupg {
    /// Decrypts one armored message; the error is one line saying why gpg failed.
    pub fn decrypt(&self, armored: &str) -> Result<SecretBytes, KeyError> {
        let exec = PathBuf::from(&self.exec);
        let mut cmd = super::helper::command(&self.exec)?;
        cmd.arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(home) = &self.home {
            cmd.env("GNUPGHOME", home);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| KeyError::Gpg(format!("cannot run {}: {e}", exec.display())))?;
        let timeout = helper_timeout();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let watchdog = Watchdog::start(format!("{} -d", exec.display()), timeout, move || {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        });
        // Write stdin from a thread: gpg may fill its output pipes before reading everything.
        let mut stdin = child
            .stdin
            .take()
            .ok_or(KeyError::Gpg("gpg has no standard input".into()))?;
        let input = armored.as_bytes().to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let stderr = child
            .stderr
            .take()
            .ok_or(KeyError::Gpg("gpg has no standard error".into()))?;
        let err_reader = super::helper::stderr_tail(stderr);
        let mut out = SecretBytes::with_capacity(64);
        let mut read_error = None;
        let mut too_much = false;
        if let Some(mut stdout) = child.stdout.take() {
            let mut chunk = zeroize::Zeroizing::new([0u8; 256]);
            loop {
                match stdout.read(&mut chunk[..]) {
                    Ok(0) => break,
                    Ok(n) if out.len() + n > OUTPUT_MAX => {
                        too_much = true;
                        let _ = child.kill();
                        break;
                    }
                    Ok(n) => out.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        // A key cut short must not pass for the whole key.
                        read_error = Some(e);
                        break;
                    }
                }
            }
        }
        // Unblock a gpg stuck writing to a pipe no one reads, then reap it.
        if too_much || read_error.is_some() {
            let _ = child.kill();
        }
        let killed = watchdog.finish();
        let status = child
            .wait()
            .map_err(|e| KeyError::Gpg(format!("{} did not finish: {e}", exec.display())))?;
        let _ = writer.join();
        let err = err_reader.join().unwrap_or_default();
        if killed {
            return Err(KeyError::Gpg(format!(
                "{} -d did not finish within {} s and was killed (SOPS_INSTALL_HELPER_TIMEOUT)",
                exec.display(),
                timeout.as_secs()
            )));
        }
        if too_much {
            return Err(KeyError::Gpg(format!(
                "{} -d printed more than {OUTPUT_MAX} bytes; a data key is 32 bytes",
                exec.display()
            )));
        }
        if let Some(e) = read_error {
            return Err(KeyError::Gpg(format!(
                "cannot read the output of {} -d: {e}",
                exec.display()
            )));
        }
        if status.success() {
            return Ok(out);
        }
        let text = String::from_utf8_lossy(&err);
        let last = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("");
        Err(KeyError::Gpg(match (status.code(), last) {
            (_, l) if !l.is_empty() => format!("{} -d failed: {l}", exec.display()),
            (Some(c), _) => format!("{} -d exited with status {c}", exec.display()),
            (None, _) => format!("{} -d was killed by a signal", exec.display()),
        }))
    }
}
