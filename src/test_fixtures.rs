//! Where unit tests find the sops fixtures made by the real sops: `tests/data/sops/` in this
//! repository (made by its `regenerate.sh`; `VERSIONS` names the sops and age that made them).

use std::path::{Path, PathBuf};

/// `$SOPS_FIXTURES` (a regenerated copy, for example), else `tests/data/sops` of this crate.
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOPS_FIXTURES") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sops")
}

/// The first line of the fixtures' `VERSIONS` file (which sops made them), for failure messages.
pub fn made_by() -> String {
    let path = fixtures_dir().join("VERSIONS");
    match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().next().unwrap_or("").to_string(),
        Err(e) => format!("{}: {e}", path.display()),
    }
}

/// The bytes of a fixture file; a missing one fails naming its full path and the sops version
/// that made the set.
pub fn read(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "sops fixture {}: {e} (fixtures made by {}; tests/data/sops/regenerate.sh rebuilds them)",
            path.display(),
            made_by()
        )
    })
}
