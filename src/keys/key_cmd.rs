//! `SOPS_AGE_KEY_CMD`: a command that prints age identities, run as sops runs it; and sops
//! 3.13's `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, run the same way, which prints one OpenSSH private
//! key (ed25519 or rsa, without a passphrase) used natively for `ssh-…` recipients.
//!
//! The value is split into words like a shell would (quotes, backslashes; no expansion, no
//! pipes) and run directly, with `SOPS_AGE_RECIPIENT` set to the recipient sops is trying,
//! so one command can serve several keys. Its standard output is read as a key file.
//!
//! It is started as every helper is ([`super::helper`]): never from the working directory, a
//! small environment without the key variables, standard input closed, standard output
//! bounded by the key-file limit, the last line of standard error kept for the reason, and
//! killed after `SOPS_INSTALL_HELPER_TIMEOUT` seconds.

use std::process::Stdio;

use zeroize::Zeroizing;

use super::helper::{helper_timeout, read_bounded, Bounded, Watchdog};

/// The variable naming the command.
pub const VARIABLE: &str = "SOPS_AGE_KEY_CMD";
/// The variable naming the command that prints an OpenSSH private key (sops 3.13).
pub const SSH_VARIABLE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// The variable the command gets: the recipient being tried.
pub const RECIPIENT_VARIABLE: &str = "SOPS_AGE_RECIPIENT";

/// The key command could not give identities: one line saying why (never its output).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyCommandError(pub String);

impl From<String> for KeyCommandError {
    fn from(text: String) -> Self {
        KeyCommandError(text)
    }
}

impl From<super::helper::HelperError> for KeyCommandError {
    fn from(e: super::helper::HelperError) -> Self {
        KeyCommandError(e.to_string())
    }
}

/// Runs the command for `recipient`; its standard output, or one line saying why not.
pub fn run(command_line: &str, recipient: &str) -> Result<Zeroizing<String>, KeyCommandError> {
    let words = shlex::split(command_line)
        .ok_or_else(|| "cannot be split into words (an unclosed quote?)".to_string())?;
    let (program, args) = words.split_first().ok_or_else(|| "is empty".to_string())?;
    let mut cmd = super::helper::command(program.as_ref())?;
    cmd.args(args)
        .env(RECIPIENT_VARIABLE, recipient)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let timeout = helper_timeout();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let watchdog = Watchdog::start(program.clone(), timeout, move || {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    });
    let err_reader = child.stderr.take().map(super::helper::stderr_tail);
    let max = usize::try_from(crate::input_file::KEY_FILE_MAX).unwrap_or(usize::MAX);
    let mut out = Zeroizing::new(Vec::new());
    let mut ended = Bounded::Complete;
    if let Some(mut stdout) = child.stdout.take() {
        let mut chunk = Zeroizing::new([0u8; 4096]);
        ended = read_bounded(&mut stdout, max, &mut chunk[..], |b| {
            out.extend_from_slice(b)
        });
    }
    let (too_much, read_error) = match ended {
        Bounded::Complete => (false, None),
        Bounded::TooMuch => (true, None),
        Bounded::Failed(e) => (false, Some(e)),
    };
    if too_much || read_error.is_some() {
        let _ = child.kill();
    }
    let killed = watchdog.finish();
    let status = child
        .wait()
        .map_err(|e| format!("{program} did not finish: {e}"))?;
    let err = err_reader.and_then(|t| t.join().ok()).unwrap_or_default();
    if killed {
        return Err(KeyCommandError(format!(
            "{program} did not finish within {} s and was killed (SOPS_INSTALL_HELPER_TIMEOUT)",
            timeout.as_secs()
        )));
    }
    if too_much {
        return Err(KeyCommandError(format!(
            "{program} printed more than {max} bytes"
        )));
    }
    if let Some(e) = read_error {
        return Err(KeyCommandError(format!(
            "cannot read the output of {program}: {e}"
        )));
    }
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let last = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("");
        return Err(KeyCommandError(match (status.code(), last) {
            (_, l) if !l.is_empty() => format!("{program} failed: {l}"),
            (Some(c), _) => format!("{program} exited with status {c}"),
            (None, _) => format!("{program} was killed by a signal"),
        }));
    }
    match std::str::from_utf8(&out) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(_) => Err(KeyCommandError(format!("{program} printed invalid UTF-8"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_split_and_gets_the_recipient() {
        let out = run("/bin/sh -c 'printf %s \"$SOPS_AGE_RECIPIENT\"'", "age1xyz").unwrap();
        assert_eq!(out.as_str(), "age1xyz");
    }

    #[test]
    fn failures_are_one_line_with_the_reason() {
        let e = run("/bin/sh -c 'echo no key here >&2; exit 3'", "age1x").unwrap_err();
        assert_eq!(e.0, "/bin/sh failed: no key here");
        assert!(run("'unclosed", "r")
            .unwrap_err()
            .0
            .contains("unclosed quote"));
        assert!(run("  ", "r").unwrap_err().0.contains("empty"));
        assert!(run("./relative", "r").unwrap_err().0.contains("relative"));
    }
}
