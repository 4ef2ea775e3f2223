//! The atomic switch of the symlink path to the new generation: a new symlink is made beside
//! it and renamed over it, so readers see either the old or the new tree, never neither.
//! Such temporary symlinks left by a run that was killed are removed by the next run.

use std::path::Path;

use super::generation::Live;
use super::{InstallError, Layout};

/// Points `layout.symlink_path` at `generation`.
pub fn swap(layout: &Layout, live: &Live, generation: &Path) -> Result<(), InstallError> {
    let link = &layout.symlink_path;
    let parent = link.parent().unwrap_or(Path::new("/"));
    super::create_dirs(parent).map_err(|e| InstallError::io("cannot create", parent, e))?;
    if *live == Live::NotASymlink {
        clear_obstacle(link)?;
    }
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_leftovers(parent, &name);
    let tmp = parent.join(format!(".{name}.new-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(generation, &tmp)
        .map_err(|e| InstallError::io("cannot create the symlink", &tmp, e))?;
    std::fs::rename(&tmp, link).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        InstallError::io("cannot update secrets symlink", link, e)
    })
}

/// Temporary symlinks of runs that were killed between making one and renaming it. The caller
/// holds the run lock, so no other run is between those two steps; only symlinks named exactly
/// `.<name>.new-<pid>` are removed, not a user's `.<name>.new-backup`.
fn remove_leftovers(parent: &Path, name: &str) {
    let prefix = format!(".{name}.new-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            && entry.file_type().is_ok_and(|t| t.is_symlink());
        if ours {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!("cannot remove {}: {e}", entry.path().display());
            }
        }
    }
}

/// A real file or directory where the symlink belongs. A file is removed (a stray
/// `/run/secrets`, as sops-nix does), and so is an empty directory; a directory with anything
/// in it is never deleted, in system mode as in user mode (where the path is in the home
/// directory): it is an error, and the previous generation stays live.
fn clear_obstacle(link: &Path) -> Result<(), InstallError> {
    let meta =
        std::fs::symlink_metadata(link).map_err(|e| InstallError::io("cannot stat", link, e))?;
    if !meta.is_dir() {
        return std::fs::remove_file(link).map_err(|e| InstallError::io("cannot replace", link, e));
    }
    // Whatever stops the removal, the directory is in the way: the hint says to move it.
    std::fs::remove_dir(link).map_err(|_| {
        InstallError::new(
            super::Cause::InTheWay,
            format!(
                "cannot replace {}: it is a directory that is not empty, and the secrets \
                 symlink must take its place",
                link.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::remove_leftovers;

    #[test]
    fn only_temporary_symlinks_named_with_a_pid_are_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let link = |name: &str| std::os::unix::fs::symlink("/nowhere", dir.path().join(name));
        link(".secrets.new-4242").unwrap();
        // A user's own symlink, and the temporary one of a run for `secrets.new-x` beside it.
        link(".secrets.new-backup").unwrap();
        link(".secrets.new-x.new-77").unwrap();
        remove_leftovers(dir.path(), "secrets");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".secrets.new-backup", ".secrets.new-x.new-77"]);
    }
}
