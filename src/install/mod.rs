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

/// The umask every run sets before it creates anything: whatever the caller's umask, nothing
/// the installer makes is group- or world-writable, and every creating call already asks for
/// the final mode (so the umask only ever narrows, never decides).
pub const UMASK: nix::sys::stat::mode_t = 0o022;

/// Sets [`UMASK`] for this process (and the helpers it runs).
pub fn set_umask() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(UMASK));
}

/// Creates `dir` and its missing parents with mode 0755 (never 0777 less a caller's umask).
pub fn create_dirs(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
}

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
