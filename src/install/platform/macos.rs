//! macOS: the generations live on an HFS+ RAM disk made with `hdiutil` (see `ramdisk.rs`),
//! the link walk holds directories with `O_RDONLY|O_DIRECTORY|O_NOFOLLOW` (there is no
//! `O_PATH`), and a symlink's target is read by name between two checks that the name still
//! is the same inode, unchanged.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::fcntl::OFlag;

pub use super::symlink_at_by_name as symlink_at;
use super::{is_mount_point, ramdisk};
use crate::install::{Cause, InstallError};

/// How the link walk holds a directory: opened for reading, never through a symlink.
pub const HOLD_DIR: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Whether `path` is already a RAM disk of ours: a mount point holding HFS that `mount` lists
/// with `nodev,nosuid` from a device `hdiutil info` shows as attached from `ram://`.
/// (`use_tmpfs` has no meaning on macOS.)
pub fn is_secrets_fs(path: &Path, _use_tmpfs: bool) -> Result<bool, InstallError> {
    if !is_mount_point(path)? {
        return Ok(false);
    }
    let st =
        nix::sys::statfs::statfs(path).map_err(|e| InstallError::io("cannot statfs", path, e))?;
    if st.filesystem_type_name() != "hfs" {
        return Ok(false);
    }
    let canonical = path
        .canonicalize()
        .map_err(|e| InstallError::io("cannot resolve", path, e))?;
    let listing = run(&ramdisk::list_mounts_args())?;
    let Some(entry) = ramdisk::mounted_on(&listing, &canonical) else {
        return Ok(false);
    };
    let info = run(&ramdisk::info_args())?;
    Ok(ramdisk::reusable(&entry, &info))
}

/// Makes a RAM disk and mounts it on `mount_point`, unless one of ours is already there. A
/// device whose format or mount fails is detached again.
pub fn mount_secrets_fs(mount_point: &Path, use_tmpfs: bool) -> Result<(), InstallError> {
    if is_secrets_fs(mount_point, use_tmpfs)? {
        return Ok(());
    }
    let attached = run(&ramdisk::attach_args(ramdisk::sectors(ramdisk::SIZE_BYTES)))?;
    let device = ramdisk::parse_attached_device(&attached)
        .map_err(|e| InstallError::new(Cause::Other, e.to_string()))?;
    let made = run(&ramdisk::newfs_args(&device))
        .and_then(|_| run(&ramdisk::mount_args(&device, mount_point)));
    if let Err(e) = made {
        if let Err(d) = run(&ramdisk::detach_args(&device)) {
            tracing::warn!("{d}");
        }
        return Err(InstallError::new(
            e.cause,
            format!(
                "cannot mount a RAM disk for secrets on {}: {e}",
                mount_point.display()
            ),
        ));
    }
    Ok(())
}

/// Runs a system tool (absolute path first in `argv`); its stdout, or an error with its
/// stderr.
fn run(argv: &[OsString]) -> Result<String, InstallError> {
    let shown = argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let Some((program, args)) = argv.split_first() else {
        return Err(InstallError::new(Cause::Other, "no command to run"));
    };
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| InstallError::io("cannot run", Path::new(&shown), e))?;
    if !out.status.success() {
        return Err(InstallError::new(
            Cause::Other,
            format!(
                "{shown} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
