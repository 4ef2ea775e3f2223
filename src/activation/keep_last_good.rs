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
//!
//! A live file is owned by its secret's owner, who may `chmod` it and rewrite it. So each run
//! with the option records, in `<mount point>/last-good.json` (ours, 0400, written before the
//! swap), the generation number and every secret's SHA-256, owner, group and mode as
//! installed; a value is kept only when the live file still has that digest, and it keeps the
//! recorded owner, group and mode, not whatever the file has now. A secret's owner can thus
//! neither widen its mode in later generations nor plant bytes that a template or credential
//! of someone else would then be rendered from. A live generation without a record (made
//! without the option) has no values to keep.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sops_files::{self, users};
use crate::hint::{Advised, Hint};
use crate::install::generation::{self, Live};
use crate::install::{InstallError, Layout};
use crate::keys::Identities;
use crate::manifest::owners::FileIds;
use crate::manifest::{Manifest, Secret};
use crate::render::files::{GenerationFile, PreviousValue};
use crate::secret_bytes::SecretBytes;
use crate::sops::DecryptedFile;

/// Why a run with `keepLastGoodOnFailure` cannot go on. Each message is the one line of the
/// failure; the hint comes from what failed.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// The live generation changed between reading the kept values and taking the lock.
    #[error("the live secrets generation changed while this run read the values it keeps ({before} before, {now} now); nothing was changed, run the activation again")]
    LiveChanged { before: String, now: String },
    #[error("{0}")]
    Live(#[from] InstallError),
    /// A previous value exists but cannot be read.
    #[error("cannot read the previous value of secret {secret:?} in {}: {why}", .generation.display())]
    Previous {
        secret: String,
        generation: PathBuf,
        why: String,
    },
    /// The record of what was installed ([`RECORD`]) cannot be written or trusted.
    #[error("{0}")]
    Record(String),
    /// The live file is not what was installed (its owner rewrote it), or was not recorded.
    #[error("{failure}; secret {secret:?} {why}")]
    NotAsInstalled {
        failure: FileFailure,
        secret: String,
        why: String,
    },
    /// A failing file has a secret with nothing to keep.
    #[error("{failure}; secret {secret:?} has no previous value to keep (keepLastGoodOnFailure)")]
    NothingToKeep {
        failure: FileFailure,
        secret: String,
    },
}

impl KeepError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            KeepError::LiveChanged { .. } => Some(Hint::new(
                "another activation ran meanwhile: run this one again",
            )),
            KeepError::Live(e) => e.hint(),
            KeepError::Previous { .. } => Some(Hint::new(
                "the live generation was changed by something else: fix the sops file so \
                 nothing needs to be kept",
            )),
            KeepError::Record(_) => Some(Hint::new(
                "the secrets mount point holds a record this run did not write: remove it, or \
                 fix the sops file so nothing needs to be kept",
            )),
            KeepError::NotAsInstalled { .. } => Some(Hint::new(
                "the live file was changed after it was installed, so it is not kept: fix the \
                 sops file",
            )),
            KeepError::NothingToKeep { failure, .. } => failure.hint.clone(),
        }
    }
}

impl Advised for KeepError {
    fn hint(&self) -> Option<Hint> {
        KeepError::hint(self)
    }
}

/// One sops file that could not be opened: its line (file, secrets, reasons) and the advice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}")]
pub struct FileFailure {
    pub line: String,
    pub hint: Option<Hint>,
}

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
    pub fn check_still_live(&self, live: &Live) -> Result<(), KeepError> {
        match &self.read_from {
            Some(from) if from != live => Err(KeepError::LiveChanged {
                before: describe(from),
                now: describe(live),
            }),
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
) -> Result<(HashMap<PathBuf, DecryptedFile>, Kept), KeepError> {
    let mut decrypted = HashMap::new();
    let mut failing: Vec<(PathBuf, FileFailure)> = Vec::new();
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
    let live = generation::live(layout)?;
    let installed = match &live {
        Live::Generation(n, _) => read_record(layout, *n)?,
        _ => None,
    };
    for (path, line) in &failing {
        for s in of_file(manifest, path) {
            let previous = match (&live, &installed) {
                (Live::Generation(_, dir), Some(record)) => {
                    previous_value(&layout.mount_point, dir, s)?
                        .map(|found| verified(found, record.secrets.get(&s.name)))
                        .transpose()
                        .map_err(|why| KeepError::NotAsInstalled {
                            failure: line.clone(),
                            secret: s.name.clone(),
                            why,
                        })?
                }
                _ => None,
            };
            let Some(previous) = previous else {
                return Err(KeepError::NothingToKeep {
                    failure: line.clone(),
                    secret: s.name.clone(),
                });
            };
            kept.values.insert(s.name.clone(), previous);
        }
        kept.failures.push(crate::hint::line(
            format!("keeping the previous values: {line}"),
            line.hint.as_ref(),
        ));
    }
    kept.read_from = Some(live);
    Ok((decrypted, kept))
}

/// The file that records what each generation's secrets were installed as.
pub const RECORD: &str = "last-good.json";

/// A secret as a run installed it: its digest and the owner, group and mode it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Installed {
    sha256: String,
    uid: u32,
    gid: u32,
    mode: u32,
}

/// [`RECORD`]: the generation it describes and its secrets by name.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    generation: u64,
    secrets: BTreeMap<String, Installed>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Under the lock, before the swap: records the secrets of generation `number` (the staged
/// one) as they are written, when the manifest keeps last good values. Created afresh with
/// mode 0400, never through a symlink, renamed over the record of the previous generation.
pub fn record(
    manifest: &Manifest,
    files: &[GenerationFile],
    number: u64,
    layout: &Layout,
) -> Result<(), KeepError> {
    if !manifest.keep_last_good {
        return Ok(());
    }
    let record = Record {
        generation: number,
        secrets: files
            .iter()
            .filter(|f| !f.rendered)
            .map(|f| {
                let ids = &f.ids;
                let installed = Installed {
                    sha256: sha256_hex(f.content.as_bytes()),
                    uid: ids.uid,
                    gid: ids.gid,
                    mode: ids.mode,
                };
                (f.name.clone(), installed)
            })
            .collect(),
    };
    let path = layout.mount_point.join(RECORD);
    let tmp = layout.mount_point.join(format!(".{RECORD}.new"));
    let fail = |at: &Path, e: &dyn std::fmt::Display| {
        KeepError::Record(format!(
            "cannot record the installed secrets in {}: {e}",
            at.display()
        ))
    };
    let text = serde_json::to_vec(&record).map_err(|e| fail(&path, &e))?;
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(&tmp, &e)),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(|e| fail(&tmp, &e))?;
    let written = file.write_all(&text).and_then(|()| {
        drop(file);
        std::fs::rename(&tmp, &path)
    });
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(&path, &e)
    })
}

/// The record of generation `live`, if there is one we wrote: a regular file (not through a
/// symlink), owned by us, writable by no one else, of that generation.
fn read_record(layout: &Layout, live: u64) -> Result<Option<Record>, KeepError> {
    let path = layout.mount_point.join(RECORD);
    let fail = |e: &dyn std::fmt::Display| {
        KeepError::Record(format!("cannot read {}: {e}", path.display()))
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(&e)),
    };
    let m = file.metadata().map_err(|e| fail(&e))?;
    if !m.is_file() || m.uid() != nix::unistd::geteuid().as_raw() || m.mode() & 0o022 != 0 {
        return Err(fail(&format!(
            "it is not a regular file of ours that only we can write (uid {}, mode {:04o})",
            m.uid(),
            m.mode() & 0o7777
        )));
    }
    let mut text = Vec::new();
    file.take(crate::input_file::SOPS_FILE_MAX)
        .read_to_end(&mut text)
        .map_err(|e| fail(&e))?;
    let record: Record = serde_json::from_slice(&text).map_err(|e| fail(&e))?;
    Ok((record.generation == live).then_some(record))
}

/// The live value, if it is still what was installed: same digest; it keeps the recorded
/// owner, group and mode (a `chmod` by the file's owner is not carried over).
fn verified(found: PreviousValue, installed: Option<&Installed>) -> Result<PreviousValue, String> {
    let Some(installed) = installed else {
        return Err("has no recorded installed value to keep (keepLastGoodOnFailure)".into());
    };
    if sha256_hex(found.content.as_bytes()) != installed.sha256 {
        return Err(format!(
            "is not kept: its live file was changed after it was installed (now uid {}, gid {}, \
             mode {:04o}); nothing was changed (keepLastGoodOnFailure)",
            found.ids.uid, found.ids.gid, found.ids.mode
        ));
    }
    Ok(PreviousValue {
        content: found.content,
        ids: FileIds {
            uid: installed.uid,
            gid: installed.gid,
            mode: installed.mode,
        },
    })
}

fn of_file<'a>(manifest: &'a Manifest, path: &'a Path) -> impl Iterator<Item = &'a Secret> {
    manifest.secrets.iter().filter(move |s| s.sops_file == path)
}

/// Parse, key check and decryption of the one sops file of `sub`; the error is its line.
fn open_one(
    sub: &Manifest,
    ids: &Identities,
) -> Result<HashMap<PathBuf, DecryptedFile>, FileFailure> {
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
        FileFailure {
            line: format!(
                "failed to decrypt '{}' ({used_by}): {}",
                path.display(),
                reasons.join("; ")
            ),
            hint: problems.hint(),
        }
    };
    let files = sops_files::parse_all(sub).map_err(problem_line)?;
    files.check_keys(sub).map_err(problem_line)?;
    files.decrypt_all(sub, ids).map_err(|e| FileFailure {
        line: e.to_string(),
        hint: e.hint(),
    })
}

/// The live value of `secret` (bytes, owner, mode), read below `generation` without following
/// any symlink; `None` when it is not there as a regular file.
fn previous_value(
    mount_point: &Path,
    generation: &Path,
    secret: &Secret,
) -> Result<Option<PreviousValue>, KeepError> {
    let fail = |e: &dyn std::fmt::Display| KeepError::Previous {
        secret: secret.name.clone(),
        generation: generation.to_path_buf(),
        why: e.to_string(),
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
        assert!(kept.check_still_live(&gen(3)).is_ok());
        let e = kept.check_still_live(&gen(4)).unwrap_err().to_string();
        assert!(
            e.contains("generation 3 before, generation 4 now")
                && e.contains("nothing was changed"),
            "{e}"
        );
        assert!(kept.check_still_live(&Live::Missing).is_err());
        // Nothing kept: nothing to check.
        assert!(Kept::default().check_still_live(&gen(9)).is_ok());
    }
}
