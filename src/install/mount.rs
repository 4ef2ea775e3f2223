//! The RAM filesystem that holds the generations (system mode): ramfs or tmpfs on Linux, a
//! RAM disk on macOS (see `platform`), always `nodev,nosuid,noexec`, root-owned, group `keys`,
//! 0751. An existing mount of the right kind is reused; in user mode nothing is mounted.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

use super::{platform, Cause, InstallError, Layout};

/// Makes sure the mount point exists and (system mode) is the wanted RAM filesystem.
pub fn ensure(layout: &Layout) -> Result<(), InstallError> {
    let mp = &layout.mount_point;
    // The mount point itself is made 0751 (as sops-nix makes it), which is what user mode,
    // where nothing is mounted over it, keeps; its missing parents are 0755.
    if let Some(parent) = mp.parent() {
        super::create_dirs(parent)
            .map_err(|e| InstallError::io("cannot create the mount point", mp, e))?;
    }
    match std::fs::DirBuilder::new().mode(0o751).create(mp) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(InstallError::io("cannot create the mount point", mp, e));
        }
        _ => {}
    }
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

/// May someone other than root rename or replace entries of a directory with this mode and
/// group? World write does, unless the directory is sticky; group write does unless the group
/// is the system's own: gid 0, and on macOS also `daemon` (gid 1), which owns `/private/var/run`
/// (`root:daemon 0775`) and so the default mount point's parent.
fn others_may_replace(mode: u32, gid: u32) -> bool {
    let sticky = mode & 0o1000 != 0;
    let system_group = gid == 0 || (cfg!(target_os = "macos") && gid == 1);
    !sticky && (mode & 0o002 != 0 || (mode & 0o020 != 0 && !system_group))
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
            let open_to_others = !is_last && m.is_dir() && others_may_replace(mode, m.gid());
            if m.uid() != 0 || open_to_others {
                return Err(InstallError::new(
                    Cause::Unsafe,
                    format!(
                        "refusing {what} {}: {} is owned by uid {} with mode {:04o}, so someone \
                         other than root could change what it leads to",
                        path.display(),
                        here.display(),
                        m.uid(),
                        mode & 0o7777
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::others_may_replace;

    #[test]
    fn only_root_and_system_groups_may_write_above_the_secrets() {
        assert!(!others_may_replace(0o40755, 0));
        assert!(!others_may_replace(0o40775, 0), "group root is root");
        assert!(
            others_may_replace(0o40775, 100),
            "a user group may rename entries"
        );
        assert!(others_may_replace(0o40757, 0), "world write");
        assert!(!others_may_replace(0o41777, 0), "sticky, like /tmp");
        assert_eq!(
            others_may_replace(0o40775, 1),
            !cfg!(target_os = "macos"),
            "daemon owns /private/var/run on macOS only"
        );
    }
}
