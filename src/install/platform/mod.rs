//! What differs between Linux and macOS in the install layer, behind one small API: mounting
//! the RAM filesystem for the generations, recognising one already mounted, holding directory
//! descriptors during the link walk, and reading a symlink's owner and target together.
//!
//! Everything Linux-only (ramfs/tmpfs, `MsFlags`, statfs magic numbers, `O_PATH`) lives in
//! `linux.rs`; the macOS RAM disk in `macos.rs`, with its argument building and output parsing
//! in `ramdisk.rs`, which is compiled and unit-tested on every platform.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::InstallError;

pub mod ramdisk;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{is_secrets_fs, mount_secrets_fs, symlink_at, HOLD_DIR};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{is_secrets_fs, mount_secrets_fs, symlink_at, HOLD_DIR};

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!("sops-install installs secrets on Linux and macOS only");

/// A name looked up in a held directory without following it.
#[derive(Debug)]
pub enum Entry {
    /// A symlink: its owner and target, read from the same inode.
    Symlink { uid: u32, target: PathBuf },
    /// Something that is not a symlink.
    Other,
    /// Gone or replaced while looked at: look again.
    Changed,
}

/// Whether `path` is the root of a mount (its device differs from its parent's, or it is `/`).
pub(crate) fn is_mount_point(path: &Path) -> Result<bool, InstallError> {
    let here = std::fs::metadata(path).map_err(|e| InstallError::io("cannot stat", path, e))?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let up = std::fs::metadata(parent).map_err(|e| InstallError::io("cannot stat", parent, e))?;
    Ok(here.dev() != up.dev() || here.ino() == up.ino())
}
