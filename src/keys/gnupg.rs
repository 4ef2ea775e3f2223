//! Opening sops `pgp` entries with the gpg program and an existing GnuPG home.
//!
//! Run as sops runs it: `$SOPS_GPG_EXEC -d` (default `gpg`), the armored message on standard
//! input, the data key read from standard output, `GNUPGHOME` set to the home. Standard error
//! is captured and its last line becomes the reason when gpg fails. Like sops, no `--batch` and
//! no timeout: a passphrase-protected key may make gpg's agent ask through a pinentry.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::secret_bytes::SecretBytes;

/// gpg with one GnuPG home.
#[derive(Debug, Clone)]
pub struct Gnupg {
    /// `None`: whatever gpg uses by default (`GNUPGHOME`, `~/.gnupg`), as the sops CLI does.
    pub home: Option<PathBuf>,
    pub exec: OsString,
}

impl Gnupg {
    /// Decrypts one armored message; the error is one line saying why gpg failed.
    pub fn decrypt(&self, armored: &str) -> Result<SecretBytes, String> {
        let exec = PathBuf::from(&self.exec);
        let mut cmd = Command::new(&self.exec);
        cmd.arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(home) = &self.home {
            cmd.env("GNUPGHOME", home);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", exec.display()))?;
        // Write stdin from a thread: gpg may fill its output pipes before reading everything.
        let mut stdin = child.stdin.take().ok_or("gpg has no standard input")?;
        let input = armored.as_bytes().to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let mut out = SecretBytes::with_capacity(64);
        let mut err = Vec::new();
        let mut stderr = child.stderr.take().ok_or("gpg has no standard error")?;
        let err_reader = std::thread::spawn(move || {
            let _ = stderr.read_to_end(&mut err);
            err
        });
        let mut read_error = None;
        if let Some(mut stdout) = child.stdout.take() {
            let mut chunk = zeroize::Zeroizing::new([0u8; 256]);
            loop {
                match stdout.read(&mut chunk[..]) {
                    Ok(0) => break,
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
        let _ = writer.join();
        let err = err_reader.join().unwrap_or_default();
        let status = child
            .wait()
            .map_err(|e| format!("{} did not finish: {e}", exec.display()))?;
        if let Some(e) = read_error {
            return Err(format!(
                "cannot read the output of {} -d: {e}",
                exec.display()
            ));
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
        Err(match (status.code(), last) {
            (_, l) if !l.is_empty() => format!("{} -d failed: {l}", exec.display()),
            (Some(c), _) => format!("{} -d exited with status {c}", exec.display()),
            (None, _) => format!("{} -d was killed by a signal", exec.display()),
        })
    }
}
