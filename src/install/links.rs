//! Symlinks at custom paths (`path = "/var/lib/app/secret"` -> `/run/secrets/app-secret`).
//!
//! Made after the swap so links into the live tree resolve to the new generation. In system
//! mode each link is built in a private temporary directory beside its final place, `lchown`ed
//! to the secret's owner there, then renamed into place: it is never visible with the wrong
//! owner, and a link already right (target and owner) is left alone; such directories left by a
//! killed run are removed by the next. The links a run made are
//! recorded on the secrets filesystem, so the next run removes the ones the manifest dropped.
//!
//! [`check`] runs before the swap: a link whose parent walks through a symlink someone else
//! owns (a non-root user could point it at any directory, and root would then create the link
//! there), through something that is not a directory, or whose place holds a non-empty
//! directory fails the run while the previous generation is still live. `ensure` repeats the check just before making each link.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{InstallError, Layout};

/// One wanted link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `secret "name"` or `template "name"`, for messages (not recorded).
    #[serde(skip)]
    pub owner_of: String,
    pub path: PathBuf,
    pub target: PathBuf,
    pub uid: u32,
    pub gid: u32,
}

const RECORD: &str = "custom-links.json";

/// Creates or fixes every link, then removes links an earlier run made that are gone now.
pub fn apply(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let mut errors = Vec::new();
    for link in links {
        if let Err(e) = ensure(layout, link) {
            errors.push(e.0);
        }
    }
    remove_stale(layout, links);
    record(layout, links)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(InstallError(format!(
            "failed to prepare symlinks to secret store: {}",
            errors.join("; ")
        )))
    }
}

/// Checks every link's parent directories without changing anything; one message for all.
pub fn check(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let errors: Vec<String> = links
        .iter()
        .filter_map(|l| check_parents(layout, l).err())
        .map(|e| e.0)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(InstallError(errors.join("; ")))
    }
}

/// Every existing ancestor of the link must be a directory, or a symlink owned by root (or, in
/// user mode, by us) that leads to one; what such a symlink points at is walked the same way,
/// so a trusted symlink into a path another user controls does not pass. Missing ancestors
/// are fine: they will be created.
fn check_parents(layout: &Layout, link: &Link) -> Result<(), InstallError> {
    use std::path::Component;
    let me = nix::unistd::geteuid().as_raw();
    let trusted = |uid: u32| uid == 0 || (layout.user_mode && uid == me);
    let fail = |why: String| {
        InstallError(format!(
            "{}: cannot link {}: {why}",
            link.owner_of,
            link.path.display()
        ))
    };
    let parent = link.path.parent().unwrap_or(Path::new("/"));
    // `resolved` is always a real directory reached so far; symlinks met on the way are
    // replaced by their targets' components, as the kernel resolves them.
    let mut resolved = PathBuf::from("/");
    let mut todo: std::collections::VecDeque<std::ffi::OsString> =
        std::collections::VecDeque::new();
    let push_front = |todo: &mut std::collections::VecDeque<std::ffi::OsString>, p: &Path| {
        for c in p.components().rev() {
            todo.push_front(c.as_os_str().to_owned());
        }
    };
    push_front(&mut todo, parent);
    let mut hops = 0;
    while let Some(part) = todo.pop_front() {
        match Path::new(&part).components().next() {
            Some(Component::RootDir) => resolved = PathBuf::from("/"),
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::Normal(name)) => {
                let next = resolved.join(name);
                let meta = match std::fs::symlink_metadata(&next) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(fail(format!("cannot stat {}: {e}", next.display()))),
                };
                if meta.file_type().is_symlink() {
                    if !trusted(meta.uid()) {
                        return Err(fail(format!(
                            "{} is a symlink owned by uid {}, who could point it anywhere; refusing to follow it",
                            next.display(),
                            meta.uid()
                        )));
                    }
                    hops += 1;
                    if hops > 40 {
                        return Err(fail(format!("too many symlinks at {}", next.display())));
                    }
                    let target = std::fs::read_link(&next)
                        .map_err(|e| fail(format!("cannot read {}: {e}", next.display())))?;
                    push_front(&mut todo, &target);
                } else if meta.is_dir() {
                    resolved = next;
                } else {
                    return Err(fail(format!("{} is not a directory", next.display())));
                }
            }
            _ => {}
        }
    }
    // `ensure` only replaces an empty directory at the link's own place.
    let occupied = std::fs::symlink_metadata(&link.path).is_ok_and(|m| m.is_dir())
        && std::fs::read_dir(&link.path).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        return Err(fail(
            "a directory that is not empty is in the way".to_string(),
        ));
    }
    Ok(())
}

fn ensure(layout: &Layout, link: &Link) -> Result<(), InstallError> {
    check_parents(layout, link)?;
    let path = &link.path;
    let parent = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(|e| InstallError::io("cannot create", parent, e))?;
    // Before the early return below: a run killed after its rename left the link right.
    remove_dead_staging(parent);
    let (want_uid, want_gid) = if layout.user_mode {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    } else {
        (link.uid, link.gid)
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let same_target = std::fs::read_link(path).is_ok_and(|t| t == link.target);
            if same_target && m.uid() == want_uid && m.gid() == want_gid {
                return Ok(());
            }
        }
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir(path).map_err(|e| {
                InstallError::io(
                    "cannot override",
                    path,
                    format!("{e} (a directory is in the way)"),
                )
            })?;
        }
        _ => {}
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{STAGING}{}-", std::process::id()))
        .tempdir_in(parent)
        .map_err(|e| InstallError::io("cannot create a temporary directory in", parent, e))?;
    let staged = tmp.path().join("link");
    std::os::unix::fs::symlink(&link.target, &staged)
        .map_err(|e| InstallError::io("cannot create symlink", &staged, e))?;
    if !layout.user_mode {
        std::os::unix::fs::lchown(&staged, Some(link.uid), Some(link.gid))
            .map_err(|e| InstallError::io("cannot chown symlink", &staged, e))?;
    }
    std::fs::rename(&staged, path)
        .map_err(|e| InstallError::io("cannot put the symlink at", path, e))
}

/// Prefix of the private directory a link is built in: `<STAGING><pid>-<random>`.
const STAGING: &str = ".sops-install-link-";

/// Staging directories of runs that were killed before they renamed their link into place
/// (their pid no longer exists). Those of live runs are left alone, whoever they are.
fn remove_dead_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STAGING))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let dead = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH);
        if dead && entry.file_type().is_ok_and(|t| t.is_dir()) {
            if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!("cannot remove {}: {e}", entry.path().display());
            }
        }
    }
}

fn record_path(layout: &Layout) -> PathBuf {
    layout.mount_point.join(RECORD)
}

fn remove_stale(layout: &Layout, links: &[Link]) {
    let Ok(text) = std::fs::read_to_string(record_path(layout)) else {
        return;
    };
    let Ok(old): Result<Vec<Link>, _> = serde_json::from_str(&text) else {
        return;
    };
    for stale in old
        .iter()
        .filter(|o| !links.iter().any(|l| l.path == o.path))
    {
        let ours = std::fs::symlink_metadata(&stale.path).is_ok_and(|m| m.file_type().is_symlink())
            && std::fs::read_link(&stale.path).is_ok_and(|t| t == stale.target);
        if ours {
            if let Err(e) = std::fs::remove_file(&stale.path) {
                tracing::warn!("cannot remove the stale link {}: {e}", stale.path.display());
            }
        }
    }
}

fn record(layout: &Layout, links: &[Link]) -> Result<(), InstallError> {
    let path = record_path(layout);
    let tmp = layout.mount_point.join(format!(".{RECORD}.new"));
    let text = serde_json::to_string(links)
        .map_err(|e| InstallError(format!("cannot record links: {e}")))?;
    std::fs::write(&tmp, text).map_err(|e| InstallError::io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| InstallError::io("cannot write", &path, e))
}
