//! `sops-install initrd-secret`: one secret of one sops file written to one path, for nixpkgs'
//! initrd secret hook (`boot.initrd.secretPaths.<path>.generateSecretCommand`), which runs it
//! while the bootloader is installed (`nixos-rebuild switch|boot`) and packs the file into the
//! initrd's secrets archive.
//!
//! Keys: the manifest's sources given as flags (`--age-key-file`, `--age-ssh-key`,
//! `--pgp-ssh-key`, `--gnupg-home`) plus sops' variables, exactly as activation loads them
//! ([`crate::keys::for_sources`]).
//!
//! Writing: the file is created next to its destination under a temporary name with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` and no permissions, given its exact mode on the descriptor
//! (the umask plays no part, nothing is ever wider than asked), filled, synced and renamed
//! over the destination. A destination or a parent directory that is a symlink is refused,
//! and so is a destination another user could tamper with before the initrd is built: a
//! symlink on its path owned by someone else, or a directory on it that is not root's or ours,
//! or that group or others can write to without the sticky bit (they could move the file away
//! and put their own in its place).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::CommandError;
use crate::keys::{EnvKeys, KeySources};
use crate::sops::stores::Format;

/// What to write where, and with which keys.
#[derive(Debug, Default)]
pub struct InitrdSecretArgs {
    pub sops_file: PathBuf,
    /// The store of the sops file (default: from its extension, binary otherwise).
    pub format: Option<Format>,
    /// sops-nix's key syntax: `a/b` walks nested maps, empty is the whole file.
    pub key: String,
    /// Permission bits of the written file (at most 0o777).
    pub mode: u32,
    pub out: PathBuf,
    pub age_key_file: Option<PathBuf>,
    pub age_ssh_keys: Vec<PathBuf>,
    pub pgp_ssh_keys: Vec<PathBuf>,
    pub gnupg_home: Option<PathBuf>,
}

/// Parses a mode given in octal (`0400`, `400`, `0o400`); at most `0777`.
pub fn parse_mode(text: &str) -> Result<u32, OutError> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    let mode = u32::from_str_radix(digits, 8).map_err(|_| OutError::NotOctal(text.to_string()))?;
    if mode > 0o777 {
        return Err(OutError::NotPermissionBits(text.to_string()));
    }
    Ok(mode)
}

/// The mode or the destination of `--out` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutError {
    #[error("{0:?} is not an octal mode such as 0400")]
    NotOctal(String),
    #[error("{0:?}: only permission bits (at most 0777) are allowed")]
    NotPermissionBits(String),
    /// Something other than a plain file in a plain directory is in the way.
    #[error("{0}")]
    Destination(String),
    /// Creating, writing or renaming the file failed.
    #[error("{0}")]
    Write(String),
}

impl OutError {
    /// What to do about it.
    pub fn hint(&self) -> Option<crate::hint::Hint> {
        Some(crate::hint::Hint::new(match self {
            OutError::NotOctal(_) | OutError::NotPermissionBits(_) => {
                "give --mode in octal, e.g. 0400"
            }
            OutError::Destination(_) => {
                "give --out a file path in an existing directory, with no symlink on the way"
            }
            OutError::Write(_) => "check that the directory of --out is writable and not full",
        }))
    }
}

/// Decrypts the secret and writes it; the error is one line naming the file and the secret.
pub fn run(args: &InitrdSecretArgs, env: &EnvKeys) -> Result<(), CommandError> {
    let shown = args.sops_file.display();
    let key_shown = if args.key.is_empty() {
        "the whole file".to_string()
    } else {
        format!("key {:?}", args.key)
    };
    if args.mode > 0o777 {
        return Err(CommandError::new(
            1,
            format!("--mode {:o}: only permission bits are allowed", args.mode),
        ));
    }
    let format = args
        .format
        .unwrap_or_else(|| Format::from_path(&args.sops_file));
    // Checked before anything is decrypted: a symlinked destination is a mistake or an attack.
    check_destination(&args.out)
        .map_err(|e| CommandError::new(1, crate::hint::line(&e, e.hint().as_ref())))?;
    let input = crate::input_file::read(&args.sops_file, crate::input_file::SOPS_FILE_MAX)
        .map_err(|e| {
            let hint = crate::hint::Hint::new(
                "give --sops-file the path of a readable sops file (a regular file); in \
                 sops.initrdSecrets, check the secret's `sopsFile`",
            );
            CommandError::new(
                1,
                crate::hint::line(format!("{shown}: cannot read: {e}"), Some(&hint)),
            )
        })?;
    let ids = crate::keys::for_sources(
        &KeySources {
            age_ssh_key_paths: &args.age_ssh_keys,
            age_key_file: args.age_key_file.as_deref(),
            ssh_key_paths: &args.pgp_ssh_keys,
            gnupg_home: args.gnupg_home.as_deref(),
        },
        env,
    );
    let fail = |e: crate::sops::SopsError| {
        let hint = e.hint_for(&shown.to_string());
        CommandError::new(
            e.exit_code(),
            crate::hint::line(format!("{shown} ({key_shown}): {e}"), hint.as_ref()),
        )
    };
    let file = crate::sops::decrypt(&input, format, &ids).map_err(fail)?;
    let key = crate::manifest::SecretKey::parse(&args.key);
    let value = file.secret(key.segments()).map_err(fail)?;
    write_exclusive(&args.out, args.mode, value.as_bytes()).map_err(|e| {
        CommandError::new(
            1,
            crate::hint::line(
                format!("{} ({key_shown} of {shown}): {e}", args.out.display()),
                e.hint().as_ref(),
            ),
        )
    })
}

/// The destination must not be a symlink or a directory, nor its parent a symlink.
fn check_destination(out: &Path) -> Result<(), OutError> {
    let shown = out.display();
    if out.file_name().is_none() {
        return Err(OutError::Destination(format!(
            "{shown}: --out must name a file"
        )));
    }
    if let Ok(m) = std::fs::symlink_metadata(out) {
        if m.file_type().is_symlink() {
            return Err(OutError::Destination(format!(
                "{shown} is a symlink; refusing to write through it"
            )));
        }
        if m.is_dir() {
            return Err(OutError::Destination(format!("{shown} is a directory")));
        }
    }
    let parent = parent_of(out);
    match std::fs::symlink_metadata(&parent) {
        Ok(m) if m.file_type().is_symlink() => Err(OutError::Destination(format!(
            "{shown}: its directory {} is a symlink; refusing to write through it",
            parent.display()
        ))),
        Ok(m) if m.is_dir() => check_ancestors(out, &parent),
        Ok(_) => Err(OutError::Destination(format!(
            "{shown}: {} is not a directory",
            parent.display()
        ))),
        Err(e) => Err(OutError::Destination(format!(
            "{shown}: its directory {}: {e}",
            parent.display()
        ))),
    }
}

/// No one but root and us can change the way to `parent`: every symlink on the path as
/// given is root's or ours, and every directory from `/` to `parent` (symlinks followed) is
/// root's or ours and writable by group or others only with the sticky bit (as `/tmp`), up to
/// the first one that no one else may pass through (mode without group or other `x`).
fn check_ancestors(out: &Path, parent: &Path) -> Result<(), OutError> {
    use std::os::unix::fs::MetadataExt;
    let shown = out.display();
    let me = nix::unistd::geteuid().as_raw();
    let trusted = |uid: u32| uid == 0 || uid == me;
    let absolute =
        std::path::absolute(parent).map_err(|e| OutError::Destination(format!("{shown}: {e}")))?;
    let mut here = PathBuf::new();
    for part in absolute.components() {
        here.push(part);
        let m = std::fs::symlink_metadata(&here)
            .map_err(|e| OutError::Destination(format!("{shown}: {}: {e}", here.display())))?;
        if m.file_type().is_symlink() && !trusted(m.uid()) {
            return Err(OutError::Destination(format!(
                "{shown}: {} is a symlink owned by uid {}, who could point it anywhere; refusing",
                here.display(),
                m.uid()
            )));
        }
    }
    let real = std::fs::canonicalize(parent).map_err(|e| {
        OutError::Destination(format!("{shown}: its directory {}: {e}", parent.display()))
    })?;
    let mut here = PathBuf::new();
    for part in real.components() {
        here.push(part);
        let m = std::fs::metadata(&here)
            .map_err(|e| OutError::Destination(format!("{shown}: {}: {e}", here.display())))?;
        let open_to_others = m.mode() & 0o022 != 0 && m.mode() & 0o1000 == 0;
        if !trusted(m.uid()) || open_to_others {
            return Err(OutError::Destination(format!(
                "{shown}: the directory {} (uid {}, mode {:04o}) lets another user replace \
                 the written secret; refusing",
                here.display(),
                m.uid(),
                m.mode() & 0o7777
            )));
        }
        // No one else can pass this directory (nixpkgs' `mktemp -d`): what is below it is
        // out of their reach, whatever its modes.
        if m.mode() & 0o011 == 0 {
            break;
        }
    }
    Ok(())
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a temporary file beside `out` exclusively with no permissions, sets `mode` on the
/// descriptor, writes `data`, syncs and renames it over `out`.
fn write_exclusive(out: &Path, mode: u32, data: &[u8]) -> Result<(), OutError> {
    let name = out
        .file_name()
        .ok_or_else(|| OutError::Destination("--out must name a file".to_string()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".sops-install-{}", std::process::id()));
    let tmp = parent_of(out).join(tmp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(|e| OutError::Write(format!("cannot create {}: {e}", tmp.display())))?;
    let written = file
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(data))
        .and_then(|()| file.sync_all());
    drop(file);
    let renamed = written.and_then(|()| {
        // Checked again just before the rename: a symlink put there meanwhile is replaced by
        // the rename itself (rename never follows it), but is reported rather than silently
        // swapped, so the caller learns someone races it.
        match std::fs::symlink_metadata(out) {
            Ok(m) if m.file_type().is_symlink() => Err(std::io::Error::other(
                "became a symlink while the secret was written; refusing",
            )),
            _ => std::fs::rename(&tmp, out),
        }
    });
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(OutError::Write(format!("cannot write: {e}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_permission_bits() {
        assert_eq!(parse_mode("0400").unwrap(), 0o400);
        assert_eq!(parse_mode("440").unwrap(), 0o440);
        assert_eq!(parse_mode("0o600").unwrap(), 0o600);
        assert!(parse_mode("4755").unwrap_err().to_string().contains("0777"));
        assert!(parse_mode("0800")
            .unwrap_err()
            .to_string()
            .contains("octal"));
        assert!(parse_mode("").is_err());
    }
}
