//! Generation numbering and the staged new generation.
//!
//! As in sops-nix, the number comes from the live symlink's target (`/run/secrets.d/7` -> 8),
//! not from the directory listing. The staged directory is removed on drop unless the swap
//! committed it, so no failure before the swap leaves a partial generation behind.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{InstallError, Layout};

/// What the symlink path currently is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// Nothing there (first activation after boot).
    Missing,
    /// A symlink to generation `n` of our mount point.
    Generation(u64, PathBuf),
    /// A symlink somewhere else (another mount point, or dangling elsewhere).
    Elsewhere(PathBuf),
    /// A real file or directory in the way.
    NotASymlink,
}

/// Reads the symlink path.
pub fn live(layout: &Layout) -> Result<Live, InstallError> {
    let link = &layout.symlink_path;
    match std::fs::read_link(link) {
        Ok(target) => {
            let in_mount = target.parent() == Some(layout.mount_point.as_path());
            match (in_mount, target.file_name().and_then(|n| n.to_str())) {
                (true, Some(name)) => match name.parse::<u64>() {
                    Ok(n) => Ok(Live::Generation(n, target)),
                    Err(_) => Err(InstallError(format!(
                        "{} points at {}, whose name is not a generation number",
                        link.display(),
                        target.display()
                    ))),
                },
                _ => Ok(Live::Elsewhere(target)),
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Live::Missing),
        Err(e) if e.raw_os_error() == Some(nix::libc::EINVAL) => Ok(Live::NotASymlink),
        Err(e) => Err(InstallError::io("cannot read the symlink", link, e)),
    }
}

impl Live {
    pub fn number(&self) -> u64 {
        match self {
            Live::Generation(n, _) => *n,
            _ => 0,
        }
    }
}

/// A generation being written; removed on drop unless committed.
pub struct Staged {
    pub number: u64,
    pub dir: PathBuf,
    committed: bool,
}

impl Staged {
    /// Creates `<mount point>/<number>` afresh: root, group keys, mode 0751 (exactly).
    pub fn create(layout: &Layout, number: u64) -> Result<Staged, InstallError> {
        let dir = layout.mount_point.join(number.to_string());
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&dir),
            Ok(_) => std::fs::remove_file(&dir),
            Err(_) => Ok(()),
        }
        .map_err(|e| InstallError::io("cannot remove the stale", &dir, e))?;
        let staged = Staged {
            number,
            dir,
            committed: false,
        };
        make_dir(&staged.dir, layout)?;
        Ok(staged)
    }

    /// The swap succeeded: keep the directory.
    pub fn commit(mut self) -> PathBuf {
        self.committed = true;
        std::mem::take(&mut self.dir)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed && !self.dir.as_os_str().is_empty() {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                tracing::warn!(
                    "cannot remove the unfinished generation {}: {e}",
                    self.dir.display()
                );
            }
        }
    }
}

/// Creates one directory of a generation with its exact mode and owner.
pub fn make_dir(dir: &Path, layout: &Layout) -> Result<(), InstallError> {
    std::fs::create_dir(dir).map_err(|e| InstallError::io("cannot create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o751))
        .map_err(|e| InstallError::io("cannot chmod", dir, e))?;
    if !layout.user_mode {
        std::os::unix::fs::chown(dir, Some(0), Some(layout.keys_gid))
            .map_err(|e| InstallError::io("cannot chown", dir, e))?;
    }
    Ok(())
}
