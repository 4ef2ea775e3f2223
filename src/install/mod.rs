//! Putting decrypted secrets on disk: lock, mount, stage generation N+1, write, swap the
//! symlink, link custom paths, prune old generations.
//!
//! The new generation is staged beside the live one and removed again if anything fails
//! before the swap, so a failed run never disturbs the secrets services are using.

pub mod generation;
pub mod links;
pub mod lock;
pub mod mount;
pub mod platform;
pub mod prune;
pub mod swap;
pub mod write;

use std::path::PathBuf;

/// Where and how the generations live.
#[derive(Debug, Clone)]
pub struct Layout {
    pub mount_point: PathBuf,
    pub symlink_path: PathBuf,
    pub user_mode: bool,
    pub use_tmpfs: bool,
    /// Group of the secrets directories (root in user mode, where nothing is chowned).
    pub keys_gid: u32,
}

/// An install step failed; the message names the step and the path.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InstallError(pub String);

impl InstallError {
    pub fn io(
        what: impl std::fmt::Display,
        path: &std::path::Path,
        e: impl std::fmt::Display,
    ) -> Self {
        InstallError(format!("{what} {}: {e}", path.display()))
    }
}
