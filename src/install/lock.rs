//! A lock beside the mount point, so two runs for the same secrets never interleave.
//!
//! The lock file lives next to the mount point (`/run/.secrets.d.lock`), not inside it: the
//! mount point's directory is replaced by the ramfs when it is mounted. Only a regular file
//! owned by us is used as the lock (not a FIFO, which would hang the open, nor another
//! user's file, which that user could hold locked forever).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::{Cause, InstallError};

/// Holds the lock until dropped.
pub struct RunLock {
    _lock: Flock<File>,
}

/// Waits for, then takes, the lock for `mount_point`.
pub fn acquire(mount_point: &Path) -> Result<RunLock, InstallError> {
    let parent = mount_point.parent().unwrap_or(Path::new("/"));
    super::create_dirs(parent).map_err(|e| InstallError::io("cannot create", parent, e))?;
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
        // O_NONBLOCK: a FIFO planted there must not hang the open.
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| {
            let in_the_way = matches!(e.raw_os_error(), Some(nix::libc::ENXIO | nix::libc::ELOOP));
            let err = InstallError::io("cannot open the lock file", &path, e);
            if in_the_way {
                err.because(Cause::InTheWay)
            } else {
                err
            }
        })?;
    // Someone else's lock file could be held by them forever, and a FIFO or device is no lock.
    let meta = file
        .metadata()
        .map_err(|e| InstallError::io("cannot stat the lock file", &path, e))?;
    if !meta.is_file() || meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(InstallError::io(
            "refusing the lock file",
            &path,
            format!(
                "it is not a regular file owned by uid {}; remove it",
                nix::unistd::geteuid()
            ),
        )
        .because(Cause::InTheWay));
    }
    let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| {
        InstallError::io("cannot lock", &path, e).because(Cause::Lock(Some(e as i32)))
    })?;
    Ok(RunLock { _lock: lock })
}
