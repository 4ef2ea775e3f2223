//! Generation numbering and the staged new generation.
//!
//! As in sops-nix, the number comes from the live symlink's target (`/run/secrets.d/7` -> 8),
//! not from the directory listing. The staged directory is removed on drop unless the swap
//! committed it, so no failure before the swap leaves a partial generation behind.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::{Cause, InstallError, Layout};

/// What the symlink path currently is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// Nothing there (first activation after boot).
    Missing,
    /// A symlink to generation `n` of our mount point (the generation's absolute path).
    Generation(u64, PathBuf),
    /// A symlink somewhere else (another mount point, `/`, or dangling elsewhere): not ours,
    /// never compared with, walked or deleted through.
    Elsewhere(PathBuf),
    /// A real file or directory in the way.
    NotASymlink,
}

/// Reads the symlink path. The target is resolved however it is spelt: relative to the
/// link's directory (`secrets.d/7`), with `.`, `..`, doubled or trailing slashes, or through
/// a symlinked parent (`/var/run/secrets.d/7` when `/var/run` is `/run`).
pub fn live(layout: &Layout) -> Result<Live, InstallError> {
    let link = &layout.symlink_path;
    match std::fs::read_link(link) {
        Ok(target) => {
            let base = link.parent().unwrap_or(Path::new("/"));
            let resolved = lexical(&base.join(&target));
            let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
                return Ok(Live::Elsewhere(target));
            };
            if !same_dir(parent, &layout.mount_point) {
                return Ok(Live::Elsewhere(target));
            }
            let name = name.to_string_lossy();
            match name.parse::<u64>() {
                Ok(n) if n.to_string() == name => {
                    Ok(Live::Generation(n, layout.mount_point.join(&*name)))
                }
                _ => Err(InstallError::new(
                    Cause::InTheWay,
                    format!(
                        "{} points at {}, whose name is not a generation number",
                        link.display(),
                        target.display()
                    ),
                )),
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Live::Missing),
        Err(e) if e.raw_os_error() == Some(nix::libc::EINVAL) => Ok(Live::NotASymlink),
        Err(e) => Err(InstallError::io("cannot read the symlink", link, e)),
    }
}

/// `path` without `.`, empty components, and with `..` taken back lexically.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether two directory paths name the same directory: equal once spelt plainly, or the same
/// inode once their own symlinks are followed (only directories are looked at, never walked).
fn same_dir(a: &Path, b: &Path) -> bool {
    if lexical(a) == lexical(b) {
        return true;
    }
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.is_dir() && x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

impl Live {
    pub fn number(&self) -> u64 {
        match self {
            Live::Generation(n, _) => *n,
            _ => 0,
        }
    }

    /// The number of the generation to stage: one more than the live one. At the counter's
    /// end there is no next number: an error, never a wrap to 0 over an existing generation.
    pub fn next(&self) -> Result<u64, InstallError> {
        self.number().checked_add(1).ok_or_else(|| {
            InstallError::new(
                Cause::Other,
                format!(
                    "the generation counter is at its maximum ({}); remove the secrets symlink \
                     and mount point (or reboot) to start again at 1",
                    u64::MAX
                ),
            )
        })
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
    // Made 0751 by the mkdir itself (the installer's umask is 022, see [`super::set_umask`]);
    // the chmod only pins the exact bits against an unusual default ACL, it never widens.
    std::fs::DirBuilder::new()
        .mode(0o751)
        .create(dir)
        .map_err(|e| InstallError::io("cannot create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o751))
        .map_err(|e| InstallError::io("cannot chmod", dir, e))?;
    if !layout.user_mode {
        std::os::unix::fs::chown(dir, Some(0), Some(layout.keys_gid))
            .map_err(|e| InstallError::io("cannot chown", dir, e))?;
    }
    Ok(())
}
