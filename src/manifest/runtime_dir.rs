//! `%r` / `%%` expansion of user-mode paths (home-manager), as sops-nix does it: split on `%%`,
//! replace `%r` by the runtime directory in each piece, join with `%`.

use crate::hint::Hint;

/// Expands `%r` to `runtime_dir` and `%%` to `%`; any other `%x` is left alone.
pub fn expand(s: &str, runtime_dir: &str) -> String {
    s.split("%%")
        .map(|piece| piece.replace("%r", runtime_dir))
        .collect::<Vec<_>>()
        .join("%")
}

/// The runtime directory is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeDirError {
    #[error("cannot figure out runtime directory: $XDG_RUNTIME_DIR is not set")]
    NotSet,
    #[error("cannot run {GETCONF} DARWIN_USER_TEMP_DIR: {0}")]
    Getconf(String),
    /// What `getconf` did instead of printing a directory.
    #[error("cannot figure out runtime directory: {GETCONF} DARWIN_USER_TEMP_DIR: {0}")]
    Darwin(String),
}

impl RuntimeDirError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        Some(Hint::new(match self {
            RuntimeDirError::NotSet => {
                "run it in the user's session (the home-manager service does; systemd --user \
                 sets XDG_RUNTIME_DIR), or avoid %r in the paths"
            }
            RuntimeDirError::Getconf(_) | RuntimeDirError::Darwin(_) => {
                "run it as the logged-in user (launchd agents get DARWIN_USER_TEMP_DIR), or \
                 avoid %r in the paths"
            }
        }))
    }
}

/// The runtime directory: `XDG_RUNTIME_DIR` on Linux, `getconf DARWIN_USER_TEMP_DIR` on macOS.
pub fn current() -> Result<String, RuntimeDirError> {
    if cfg!(target_os = "macos") {
        let out = std::process::Command::new(GETCONF)
            .arg("DARWIN_USER_TEMP_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| RuntimeDirError::Getconf(e.to_string()))?;
        darwin_temp_dir(out.status.success(), &out.stdout, &out.stderr)
    } else {
        match std::env::var("XDG_RUNTIME_DIR") {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(RuntimeDirError::NotSet),
        }
    }
}

/// `getconf`, by absolute path so a PATH of age plugins cannot hide it.
const GETCONF: &str = "/usr/bin/getconf";

/// The directory `getconf DARWIN_USER_TEMP_DIR` printed, without its trailing newline and
/// slash; an error when it failed or printed nothing absolute.
fn darwin_temp_dir(ok: bool, stdout: &[u8], stderr: &[u8]) -> Result<String, RuntimeDirError> {
    let text = String::from_utf8_lossy(stdout);
    let text = text.trim_end();
    let dir = text.strip_suffix('/').unwrap_or(text);
    if ok && dir.starts_with('/') && !dir.contains('\n') {
        return Ok(dir.to_string());
    }
    let why = String::from_utf8_lossy(stderr);
    let why = if !ok {
        format!("it failed: {}", why.trim())
    } else {
        format!("it printed {text:?}")
    };
    Err(RuntimeDirError::Darwin(why))
}

#[cfg(test)]
mod tests {
    use super::{darwin_temp_dir, expand};

    #[test]
    fn darwin_user_temp_dir_loses_its_trailing_slash_and_failures_say_so() {
        assert_eq!(
            darwin_temp_dir(true, b"/var/folders/xy/abc123/T/\n", b""),
            Ok("/var/folders/xy/abc123/T".to_string())
        );
        let e = darwin_temp_dir(false, b"", b"getconf: no such variable\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "cannot figure out runtime directory: /usr/bin/getconf DARWIN_USER_TEMP_DIR: \
             it failed: getconf: no such variable"
        );
        let e = darwin_temp_dir(true, b"\n", b"").unwrap_err().to_string();
        assert!(e.ends_with("it printed \"\""), "{e}");
        assert!(darwin_temp_dir(true, b"relative/T/\n", b"").is_err());
    }

    #[test]
    fn percent_r_expands_and_double_percent_is_a_literal_percent() {
        assert_eq!(
            expand("%r/secrets.d", "/run/user/1000"),
            "/run/user/1000/secrets.d"
        );
        assert_eq!(expand("%%r", "/x"), "%r");
        assert_eq!(expand("a%%b", "/x"), "a%b");
        assert_eq!(expand("%x%r", "/x"), "%x/x");
        assert_eq!(expand("%%%r", "/x"), "%/x");
    }
}
