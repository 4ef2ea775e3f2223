//! `keepLastGoodOnFailure`: a sops file that cannot be opened keeps its secrets' last good
//! values instead of failing the whole activation.
//!
//! With the option set (and only when installing), each sops file is read, parsed, checked and
//! decrypted on its own. The secrets of a file that fails (missing, unreadable, not parseable,
//! no key opens it, MAC mismatch, a secret's key not in it) take their bytes, owner and mode
//! from the live generation; every other secret and every template is new (a template that
//! uses a kept secret is rendered with the kept value). The new generation is still built
//! complete and swapped in atomically, and the run then exits 1 with one line per failing
//! file. A secret of a failing file that has no value in the live generation (first activation,
//! a new secret) fails the run before anything is written, as without the option.
//!
//! Previous values are read from the live generation's directory, never through a symlink:
//! the generation directory and every directory below it are opened with
//! `O_DIRECTORY|O_NOFOLLOW` relative to the one above, the file with `O_NOFOLLOW|O_NONBLOCK`,
//! and only a regular file of at most the sops-file size limit is read. They are read before
//! the lock is taken; under the lock [`Kept::check_still_live`] makes sure the same generation
//! is still live, so a run that raced another never swaps in values older than the live ones.

use std::collections::HashMap;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use super::sops_files::{self, users};
use crate::install::generation::{self, Live};
use crate::install::Layout;
use crate::keys::Identities;
use crate::manifest::owners::FileIds;
use crate::manifest::{Manifest, Secret};
use crate::render::files::PreviousValue;
use crate::secret_bytes::SecretBytes;
use crate::sops::DecryptedFile;

/// Whether this run opens sops files one by one and keeps the values of failing ones.
pub fn wanted(manifest: &Manifest, installing: bool) -> bool {
    manifest.keep_last_good && installing
}

/// What [`open_each`] found: the values to keep and one line per failing sops file.
#[derive(Debug, Default)]
pub struct Kept {
    /// Secret name -> the value, owner and mode it keeps.
    pub values: HashMap<String, PreviousValue>,
    /// One line per sops file that failed; the run exits 1 after installing when non-empty.
    pub failures: Vec<String>,
    /// The live generation the values were read from.
    read_from: Option<Live>,
}

impl Kept {
    /// Under the lock: the generation the values came from must still be the live one.
    pub fn check_still_live(&self, live: &Live) -> Result<(), String> {
        match &self.read_from {
            Some(from) if from != live => Err(format!(
                "the live secrets generation changed while this run read the values it keeps \
                 ({} before, {} now); nothing was changed, run the activation again",
                describe(from),
                describe(live)
            )),
            _ => Ok(()),
        }
    }
}

fn describe(live: &Live) -> String {
    match live {
        Live::Generation(n, _) => format!("generation {n}"),
        Live::Missing => "none".into(),
        Live::Elsewhere(p) => format!("a link to {}", p.display()),
        Live::NotASymlink => "not a symlink".into(),
    }
}

/// Opens every sops file of the manifest on its own. Files that fail are reported in
/// [`Kept::failures`] and their secrets' live values returned in [`Kept::values`]; the error
/// (nothing is to be written) is the line of a failing file with a secret that has no value to
/// keep.
pub fn open_each(
    manifest: &Manifest,
    ids: &Identities,
    layout: &Layout,
) -> Result<(HashMap<PathBuf, DecryptedFile>, Kept), String> {
    let mut decrypted = HashMap::new();
    let mut failing: Vec<(PathBuf, String)> = Vec::new();
    // One small manifest per sops file (no templates) for the usual parse, check and decrypt.
    let mut base = manifest.clone();
    base.secrets.clear();
    base.templates.clear();
    let mut paths: Vec<&Path> = Vec::new();
    for s in &manifest.secrets {
        if !paths.contains(&s.sops_file.as_path()) {
            paths.push(&s.sops_file);
        }
    }
    for path in paths {
        let sub = Manifest {
            secrets: of_file(manifest, path).cloned().collect(),
            ..base.clone()
        };
        match open_one(&sub, ids) {
            Ok(files) => decrypted.extend(files),
            Err(line) => failing.push((path.to_path_buf(), line)),
        }
    }
    let mut kept = Kept::default();
    if failing.is_empty() {
        return Ok((decrypted, kept));
    }
    let live = generation::live(layout).map_err(|e| e.to_string())?;
    for (path, line) in &failing {
        for s in of_file(manifest, path) {
            let previous = match &live {
                Live::Generation(_, dir) => previous_value(&layout.mount_point, dir, s)?,
                _ => None,
            };
            let Some(previous) = previous else {
                return Err(format!(
                    "{line}; secret {:?} has no previous value to keep (keepLastGoodOnFailure)",
                    s.name
                ));
            };
            kept.values.insert(s.name.clone(), previous);
        }
        kept.failures
            .push(format!("keeping the previous values: {line}"));
    }
    kept.read_from = Some(live);
    Ok((decrypted, kept))
}

fn of_file<'a>(manifest: &'a Manifest, path: &'a Path) -> impl Iterator<Item = &'a Secret> {
    manifest.secrets.iter().filter(move |s| s.sops_file == path)
}

/// Parse, key check and decryption of the one sops file of `sub`; the error is its line.
fn open_one(sub: &Manifest, ids: &Identities) -> Result<HashMap<PathBuf, DecryptedFile>, String> {
    let path = sub
        .secrets
        .first()
        .map(|s| s.sops_file.clone())
        .unwrap_or_default();
    let used_by = users(sub, &path);
    let problem_line = |problems: crate::manifest::validate::Problems| {
        let suffix = format!(" (used by {used_by})");
        let reasons: Vec<String> = problems
            .0
            .iter()
            .map(|p| match p.field {
                "sopsFile" => p
                    .message
                    .strip_suffix(&suffix)
                    .unwrap_or(&p.message)
                    .to_string(),
                _ => format!("{}: {}", p.subject, p.message),
            })
            .collect();
        format!(
            "failed to decrypt '{}' ({used_by}): {}",
            path.display(),
            reasons.join("; ")
        )
    };
    let files = sops_files::parse_all(sub).map_err(problem_line)?;
    files.check_keys(sub).map_err(problem_line)?;
    files.decrypt_all(sub, ids).map_err(|e| e.to_string())
}

/// The live value of `secret` (bytes, owner, mode), read below `generation` without following
/// any symlink; `None` when it is not there as a regular file.
fn previous_value(
    mount_point: &Path,
    generation: &Path,
    secret: &Secret,
) -> Result<Option<PreviousValue>, String> {
    let fail = |e: &dyn std::fmt::Display| {
        format!(
            "cannot read the previous value of secret {:?} in {}: {e}",
            secret.name,
            generation.display()
        )
    };
    let dir_flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    // The mount point itself may be reached through symlinks (`/var/run`), as everywhere else.
    let mount = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_CLOEXEC)
        .open(mount_point)
        .map_err(|e| fail(&e))?;
    let Some(number) = generation.file_name() else {
        return Ok(None);
    };
    let mut parts: Vec<&std::ffi::OsStr> = vec![number];
    parts.extend(Path::new(&secret.name).iter());
    let Some((file_name, dirs)) = parts.split_last() else {
        return Ok(None);
    };
    let mut here = OwnedFd::from(mount);
    for part in dirs {
        match openat(&here, *part, dir_flags | OFlag::O_NOFOLLOW, Mode::empty()) {
            Ok(fd) => here = fd,
            // Missing, a symlink (ELOOP) or not a directory: no previous value there.
            Err(_) => return Ok(None),
        }
    }
    let file_flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = match openat(&here, *file_name, file_flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(_) => return Ok(None),
    };
    let mut file = std::fs::File::from(fd);
    let meta = file.metadata().map_err(|e| fail(&e))?;
    if !meta.is_file() {
        return Ok(None);
    }
    if meta.len() > crate::input_file::SOPS_FILE_MAX {
        return Err(fail(&format!(
            "it is larger than {} bytes",
            crate::input_file::SOPS_FILE_MAX
        )));
    }
    let len = usize::try_from(meta.len()).map_err(|e| fail(&e))?;
    let mut content = SecretBytes::zeroed(len);
    file.read_exact(content.as_mut_bytes())
        .map_err(|e| fail(&e))?;
    Ok(Some(PreviousValue {
        content,
        ids: FileIds {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o777,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_from_one_generation_are_not_swapped_over_another() {
        let gen = |n: u64| Live::Generation(n, PathBuf::from(format!("/run/secrets.d/{n}")));
        let kept = Kept {
            read_from: Some(gen(3)),
            ..Kept::default()
        };
        assert_eq!(kept.check_still_live(&gen(3)), Ok(()));
        let e = kept.check_still_live(&gen(4)).unwrap_err();
        assert!(
            e.contains("generation 3 before, generation 4 now")
                && e.contains("nothing was changed"),
            "{e}"
        );
        assert!(kept.check_still_live(&Live::Missing).is_err());
        // Nothing kept: nothing to check.
        assert_eq!(Kept::default().check_still_live(&gen(9)), Ok(()));
    }
}
