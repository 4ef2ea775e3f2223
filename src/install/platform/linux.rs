//! Linux: ramfs (or tmpfs with `noswap`) for the generations, `O_PATH` descriptors for the
//! link walk, and a symlink's target read through the descriptor that was stat'ed.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{Mode, SFlag};
use nix::sys::statfs::statfs;

use super::{is_mount_point, Entry};
use crate::install::InstallError;

const RAMFS_MAGIC: i64 = 0x8584_58f6;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// How the link walk holds a directory: a path-only descriptor, never through a symlink.
pub const HOLD_DIR: OFlag = OFlag::O_PATH
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Whether `path` is already the mount the installer would make (ramfs, or tmpfs if asked).
pub fn is_secrets_fs(path: &Path, use_tmpfs: bool) -> Result<bool, InstallError> {
    let wanted = if use_tmpfs { TMPFS_MAGIC } else { RAMFS_MAGIC };
    Ok(is_mount_point(path)? && fs_type(path)? == wanted)
}

/// Mounts ramfs (tmpfs with `noswap` when `use_tmpfs`; without `noswap`, with a warning, on
/// kernels that lack it) on `mount_point`, `nodev,nosuid,noexec`, mode 0751, unless it is
/// already there.
pub fn mount_secrets_fs(mount_point: &Path, use_tmpfs: bool) -> Result<(), InstallError> {
    if is_secrets_fs(mount_point, use_tmpfs)? {
        return Ok(());
    }
    let mp = mount_point;
    let flags = MsFlags::MS_NODEV | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    let (kind, data) = if use_tmpfs {
        ("tmpfs", "mode=0751,noswap")
    } else {
        ("ramfs", "mode=0751")
    };
    match mount(Some("none"), mp, Some(kind), flags, Some(data)) {
        Err(Errno::EINVAL) if use_tmpfs => {
            tracing::warn!(
                "tmpfs does not support noswap on this kernel: secrets in {} may be swapped",
                mp.display()
            );
            mount(Some("none"), mp, Some(kind), flags, Some("mode=0751"))
        }
        other => other,
    }
    .map_err(|e| InstallError::io(format!("failed to mount {kind} for secrets on"), mp, e))
}

#[allow(clippy::unnecessary_cast)]
fn fs_type(path: &Path) -> Result<i64, InstallError> {
    let st = statfs(path).map_err(|e| InstallError::io("cannot statfs", path, e))?;
    Ok(st.filesystem_type().0 as i64)
}

/// Looks at `name` in `dir` without following it. Owner and target come from one open inode,
/// so a symlink swapped in between cannot pass with another's owner.
pub fn symlink_at(dir: &OwnedFd, name: &OsStr) -> Result<Entry, Errno> {
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = match nix::fcntl::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(Entry::Changed),
        Err(e) => return Err(e),
    };
    let st = nix::sys::stat::fstat(&fd)?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFLNK {
        return Ok(Entry::Other);
    }
    let target = nix::fcntl::readlinkat(&fd, "")?;
    Ok(Entry::Symlink {
        uid: st.st_uid,
        target: PathBuf::from(target),
    })
}
