//! Writing the files of a staged generation.
//!
//! Each file is created exclusively (`O_EXCL|O_NOFOLLOW`) with no permissions, given its final
//! owner and exact mode on the open descriptor, and only then filled: no byte of plaintext is
//! ever readable by anyone the final mode would not allow, and the umask plays no part.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::generation::make_dir;
use super::{Cause, InstallError, Layout};
use crate::render::files::GenerationFile;

/// Writes every file below `dir`, creating sub-directories as needed.
pub fn write_all(
    dir: &Path,
    files: &[GenerationFile],
    layout: &Layout,
) -> Result<(), InstallError> {
    // Directories made or checked already: many secrets usually share a few directories.
    let mut known_dirs: HashSet<PathBuf> = HashSet::new();
    let me = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    for f in files {
        let target = dir.join(&f.rel);
        create_parents(dir, &f.rel, layout, &mut known_dirs)?;
        write_one(&target, f, layout, me)?;
    }
    Ok(())
}

fn create_parents(
    dir: &Path,
    rel: &str,
    layout: &Layout,
    known_dirs: &mut HashSet<PathBuf>,
) -> Result<(), InstallError> {
    let mut current = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        current.push(part);
        if known_dirs.contains(&current) {
            continue;
        }
        known_dirs.insert(current.clone());
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(InstallError::new(
                    Cause::InTheWay,
                    format!(
                        "cannot create directory {}: a secret file has that name",
                        current.display()
                    ),
                ))
            }
            Err(_) => make_dir(&current, layout)?,
        }
    }
    Ok(())
}

/// `me` is this process's effective uid and gid, which a new file already has.
fn write_one(
    path: &Path,
    f: &GenerationFile,
    layout: &Layout,
    me: (u32, u32),
) -> Result<(), InstallError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| InstallError::io("cannot create", path, e))?;
    if !layout.user_mode && (f.ids.uid, f.ids.gid) != me {
        std::os::unix::fs::fchown(&file, Some(f.ids.uid), Some(f.ids.gid))
            .map_err(|e| InstallError::io("cannot chown", path, e))?;
    }
    file.set_permissions(std::fs::Permissions::from_mode(f.ids.mode))
        .map_err(|e| InstallError::io("cannot chmod", path, e))?;
    file.write_all(f.content.as_bytes())
        .map_err(|e| InstallError::io("cannot write", path, e))?;
    Ok(())
}
