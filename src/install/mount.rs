//! The RAM filesystem that holds the generations (system mode): ramfs or tmpfs on Linux, a
//! RAM disk on macOS (see `platform`), always `nodev,nosuid,noexec`, root-owned, group `keys`,
//! 0751. An existing mount of the right kind is reused; in user mode nothing is mounted.

use std::os::unix::fs::PermissionsExt;

use super::{platform, InstallError, Layout};

/// Makes sure the mount point exists and (system mode) is the wanted RAM filesystem.
pub fn ensure(layout: &Layout) -> Result<(), InstallError> {
    let mp = &layout.mount_point;
    super::create_dirs(mp).map_err(|e| InstallError::io("cannot create the mount point", mp, e))?;
    if layout.user_mode {
        return Ok(());
    }
    platform::mount_secrets_fs(mp, layout.use_tmpfs)?;
    std::os::unix::fs::chown(mp, Some(0), Some(layout.keys_gid))
        .map_err(|e| InstallError::io("cannot chown", mp, e))?;
    std::fs::set_permissions(mp, std::fs::Permissions::from_mode(0o751))
        .map_err(|e| InstallError::io("cannot chmod", mp, e))?;
    Ok(())
}
