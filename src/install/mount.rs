//! The RAM filesystem that holds the generations (Linux, system mode).
//!
//! ramfs by default, tmpfs with `noswap` when asked (falling back without `noswap` on kernels
//! that lack it, with a warning), always `nodev,nosuid,noexec`, root-owned, group `keys`, 0751.
//! An existing mount of the right type is reused; in user mode nothing is mounted.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::statfs::statfs;

use super::{InstallError, Layout};

const RAMFS_MAGIC: i64 = 0x8584_58f6;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Makes sure the mount point exists and (system mode, Linux) is the wanted RAM filesystem.
pub fn ensure(layout: &Layout) -> Result<(), InstallError> {
    let mp = &layout.mount_point;
    super::create_dirs(mp).map_err(|e| InstallError::io("cannot create the mount point", mp, e))?;
    if layout.user_mode || !cfg!(target_os = "linux") {
        return Ok(());
    }
    let wanted = if layout.use_tmpfs {
        TMPFS_MAGIC
    } else {
        RAMFS_MAGIC
    };
    if !(is_mount_point(mp)? && fs_type(mp)? == wanted) {
        let flags = MsFlags::MS_NODEV | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
        let (kind, data) = if layout.use_tmpfs {
            ("tmpfs", "mode=0751,noswap")
        } else {
            ("ramfs", "mode=0751")
        };
        match mount(Some("none"), mp, Some(kind), flags, Some(data)) {
            Err(Errno::EINVAL) if layout.use_tmpfs => {
                tracing::warn!(
                    "tmpfs does not support noswap on this kernel: secrets in {} may be swapped",
                    mp.display()
                );
                mount(Some("none"), mp, Some(kind), flags, Some("mode=0751"))
            }
            other => other,
        }
        .map_err(|e| InstallError::io(format!("failed to mount {kind} for secrets on"), mp, e))?;
    }
    std::os::unix::fs::chown(mp, Some(0), Some(layout.keys_gid))
        .map_err(|e| InstallError::io("cannot chown", mp, e))?;
    std::fs::set_permissions(mp, std::fs::Permissions::from_mode(0o751))
        .map_err(|e| InstallError::io("cannot chmod", mp, e))?;
    Ok(())
}

/// System mode: the mount point and the symlink path must lie where only root can change
/// them. Every existing component (from `/` down to the path itself) must be owned by root,
/// and the directories above it writable by no one else unless sticky (`/tmp`). Otherwise
/// another user could swap the mount point for a symlink just before root mounts a ramfs on
/// it (over `/etc`, say), or replace the secrets symlink with his own tree.
pub fn check_places(layout: &Layout) -> Result<(), InstallError> {
    if layout.user_mode {
        return Ok(());
    }
    for (what, path) in [
        ("the secrets mount point", &layout.mount_point),
        ("the secrets symlink path", &layout.symlink_path),
    ] {
        let mut here = std::path::PathBuf::new();
        let last = path.components().count();
        for (i, c) in path.components().enumerate() {
            here.push(c);
            let Ok(m) = std::fs::symlink_metadata(&here) else {
                break;
            };
            let mode = m.mode();
            // Who may write inside the place itself does not matter (a mount covers it, the
            // symlink replaces it); who may replace it does: its owner and those of the
            // directories above.
            let is_last = i + 1 == last;
            let open_to_others = !is_last && m.is_dir() && mode & 0o022 != 0 && mode & 0o1000 == 0;
            if m.uid() != 0 || open_to_others {
                return Err(InstallError(format!(
                    "refusing {what} {}: {} is owned by uid {} with mode {:04o}, so someone other \
                     than root could change what it leads to",
                    path.display(),
                    here.display(),
                    m.uid(),
                    mode & 0o7777
                )));
            }
        }
    }
    Ok(())
}

fn is_mount_point(path: &Path) -> Result<bool, InstallError> {
    let here = std::fs::metadata(path).map_err(|e| InstallError::io("cannot stat", path, e))?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let up = std::fs::metadata(parent).map_err(|e| InstallError::io("cannot stat", parent, e))?;
    Ok(here.dev() != up.dev() || here.ino() == up.ino())
}

#[allow(clippy::unnecessary_cast)]
fn fs_type(path: &Path) -> Result<i64, InstallError> {
    let st = statfs(path).map_err(|e| InstallError::io("cannot statfs", path, e))?;
    Ok(st.filesystem_type().0 as i64)
}
