//! Change detection: the new generation (in memory) against the live one (on disk).
//!
//! A secret is added when the live tree lacks it, modified when its bytes differ or (system
//! mode) its owner, group or mode does, removed when the live tree has a file the manifest no
//! longer names. Symlinks inside the live tree (custom paths that point back into it) are not
//! secrets and are never reported. Nothing is compared on the first activation after boot,
//! when the symlink path does not resolve.

use std::collections::HashSet;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::manifest::{CREDENTIALS_DIR, RENDERED_DIR};
use crate::render::files::GenerationFile;
use crate::secret_bytes::SecretBytes;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub removed: Vec<String>,
    pub added_rendered: Vec<String>,
    pub modified_rendered: Vec<String>,
    pub removed_rendered: Vec<String>,
    /// Units to restart / reload, in manifest order (duplicates kept, as sops-nix does).
    pub restart: Vec<String>,
    pub reload: Vec<String>,
}

/// Which owner and group a live file must have to count as unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerCheck {
    /// Each file's resolved owner and group (system mode).
    Resolved,
    /// This user and group for every file (user mode: the installer's user owns them all).
    All { uid: u32, gid: u32 },
    /// Not compared (a dry run whose owner names could not be resolved).
    Off,
}

/// Compares the new generation's `files` (as rendered, in memory) with the tree `live`
/// resolves to, owners as `owners` says.
pub fn compare(
    live: &Path,
    files: &[GenerationFile],
    owners: OwnerCheck,
) -> Result<Changes, super::ReportError> {
    let mut c = Changes::default();
    if std::fs::metadata(live).is_err() {
        return Ok(c);
    }
    for f in files {
        let path = live.join(&f.rel);
        let state = match live_state(&path, f, owners) {
            Ok(state) => state,
            Err(source) => return Err(super::ReportError::ReadLive { path, source }),
        };
        let Some(added) = state else { continue };
        let list = match (f.rendered, added) {
            (false, true) => &mut c.added,
            (false, false) => &mut c.modified,
            (true, true) => &mut c.added_rendered,
            (true, false) => &mut c.modified_rendered,
        };
        list.push(f.name.clone());
        c.restart.extend(f.restart.iter().cloned());
        c.reload.extend(f.reload.iter().cloned());
    }
    let secrets: HashSet<&str> = files
        .iter()
        .filter(|f| !f.rendered)
        .map(|f| f.rel.as_str())
        .collect();
    let templates: HashSet<&str> = files
        .iter()
        .filter(|f| f.rendered)
        .map(|f| f.name.as_str())
        .collect();
    let mut found = Vec::new();
    walk(live, "", &mut found);
    for rel in found {
        match rel.strip_prefix(&format!("{RENDERED_DIR}/")) {
            Some(t) if !templates.contains(t) => c.removed_rendered.push(t.to_string()),
            Some(_) => {}
            // The credential copies (activation::credentials) are not secrets of their own.
            None if rel.starts_with(&format!("{CREDENTIALS_DIR}/")) => {}
            None if !secrets.contains(rel.as_str()) => c.removed.push(rel),
            None => {}
        }
    }
    for list in [
        &mut c.added,
        &mut c.modified,
        &mut c.removed,
        &mut c.added_rendered,
        &mut c.modified_rendered,
        &mut c.removed_rendered,
    ] {
        list.sort();
    }
    Ok(c)
}

/// `Some(true)`: not in the live tree (added); `Some(false)`: there but different in content,
/// owner or mode (modified); `None`: unchanged. One open, one fstat and, only when size,
/// owner and mode agree, one read of the live file.
fn live_state(
    path: &Path,
    f: &GenerationFile,
    owners: OwnerCheck,
) -> std::io::Result<Option<bool>> {
    // O_NONBLOCK: a FIFO planted in the live tree must not hang the activation.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        // Missing, a dangling link, or unreadable: sops-nix counts all of these as added.
        Err(_) => return Ok(Some(true)),
    };
    let m = file.metadata()?;
    if !m.is_file() {
        return Ok(Some(true));
    }
    let owner_changed = match owners {
        OwnerCheck::Resolved => (m.uid(), m.gid()) != (f.ids.uid, f.ids.gid),
        OwnerCheck::All { uid, gid } => (m.uid(), m.gid()) != (uid, gid),
        OwnerCheck::Off => false,
    };
    let mode_changed = m.permissions().mode() & 0o7777 != f.ids.mode;
    if owner_changed || mode_changed || m.len() != f.content.len() as u64 {
        return Ok(Some(false));
    }
    // Same size: read exactly that many bytes into a zeroizing buffer and compare.
    let mut old = SecretBytes::zeroed(f.content.len());
    let mut file = file;
    match file.read_exact(old.as_mut_bytes()) {
        Ok(()) => Ok((old != f.content).then_some(false)),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(Some(false)),
        Err(e) => Err(e),
    }
}

/// Regular files below `dir` (relative paths), not following symlinks.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&entry.path(), &rel, out),
            Ok(t) if t.is_file() => out.push(rel),
            _ => {}
        }
    }
}

impl Changes {
    /// The lines sops-nix prints, in its order; `dry` uses the `would …` forms.
    pub fn lines(&self, dry: bool) -> Vec<String> {
        let verbs: [(&str, &str); 3] = if dry {
            [
                ("would add", ""),
                ("would modify", ""),
                ("would remove", ""),
            ]
        } else {
            [("adding", ""), ("modifying", ""), ("removing", "")]
        };
        let groups = [
            (verbs[0].0, "secret", &self.added),
            (verbs[1].0, "secret", &self.modified),
            (verbs[2].0, "secret", &self.removed),
            (verbs[0].0, "rendered secret", &self.added_rendered),
            (verbs[1].0, "rendered secret", &self.modified_rendered),
            (verbs[2].0, "rendered secret", &self.removed_rendered),
        ];
        groups
            .iter()
            .filter(|(_, _, names)| !names.is_empty())
            .map(|(verb, noun, names)| {
                let plural = if names.len() == 1 { "" } else { "s" };
                format!("{verb} {noun}{plural}: {}", names.join(", "))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_pluralised_sorted_and_in_sops_nix_order() {
        let c = Changes {
            added: vec!["a".into(), "b".into()],
            removed: vec!["x".into()],
            added_rendered: vec!["t".into()],
            ..Changes::default()
        };
        assert_eq!(
            c.lines(false),
            vec![
                "adding secrets: a, b",
                "removing secret: x",
                "adding rendered secret: t"
            ]
        );
        assert_eq!(
            c.lines(true),
            vec![
                "would add secrets: a, b",
                "would remove secret: x",
                "would add rendered secret: t"
            ]
        );
    }
}
