//! `%r` / `%%` expansion of user-mode paths (home-manager), as sops-nix does it: split on `%%`,
//! replace `%r` by the runtime directory in each piece, join with `%`.

/// Expands `%r` to `runtime_dir` and `%%` to `%`; any other `%x` is left alone.
pub fn expand(s: &str, runtime_dir: &str) -> String {
    s.split("%%")
        .map(|piece| piece.replace("%r", runtime_dir))
        .collect::<Vec<_>>()
        .join("%")
}

/// The runtime directory: `XDG_RUNTIME_DIR` on Linux, `getconf DARWIN_USER_TEMP_DIR` on macOS.
pub fn current() -> Result<String, String> {
    if cfg!(target_os = "macos") {
        let out = std::process::Command::new("/usr/bin/getconf")
            .arg("DARWIN_USER_TEMP_DIR")
            .output()
            .map_err(|e| format!("cannot run getconf DARWIN_USER_TEMP_DIR: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        Ok(text.strip_suffix('/').unwrap_or(&text).to_string())
    } else {
        match std::env::var("XDG_RUNTIME_DIR") {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err("cannot figure out runtime directory: $XDG_RUNTIME_DIR is not set".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

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
