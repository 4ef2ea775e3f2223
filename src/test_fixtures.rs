//! Where unit tests find the shared sops fixtures made by the real sops.

use std::path::{Path, PathBuf};

/// `$SOPS_FIXTURES`, else the first `shared/fixtures/sops` beside the crate or beside one of its
/// parents (a worktree may sit deeper than the main checkout).
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOPS_FIXTURES") {
        return PathBuf::from(dir);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/fixtures/sops"))
        .find(|d| d.join("cases.tsv").is_file())
        .unwrap_or_else(|| here.join("../shared/fixtures/sops"))
}
