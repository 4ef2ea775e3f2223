//! A lock beside the mount point, so two runs for the same secrets never interleave.
//!
//! The lock file lives next to the mount point (`/run/.secrets.d.lock`), not inside it: the
//! mount point's directory is replaced by the ramfs when it is mounted.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::InstallError;

/// Holds the lock until dropped.
pub struct RunLock {
    _lock: Flock<File>,
}

/// Waits for, then takes, the lock for `mount_point`.
pub fn acquire(mount_point: &Path) -> Result<RunLock, InstallError> {
    let parent = mount_point.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(|e| InstallError::io("cannot create", parent, e))?;
    let name = mount_point
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = parent.join(format!(".{name}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| InstallError::io("cannot open the lock file", &path, e))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| InstallError::io("cannot lock", &path, e))?;
    Ok(RunLock { _lock: lock })
}
