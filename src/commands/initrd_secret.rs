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
//! over the destination. A destination or a parent directory that is a symlink is refused.

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
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    let mode = u32::from_str_radix(digits, 8)
        .map_err(|_| format!("{text:?} is not an octal mode such as 0400"))?;
    if mode > 0o777 {
        return Err(format!(
            "{text:?}: only permission bits (at most 0777) are allowed"
        ));
    }
    Ok(mode)
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
    check_destination(&args.out).map_err(|e| CommandError::new(1, e))?;
    let input = crate::input_file::read(&args.sops_file, crate::input_file::SOPS_FILE_MAX)
        .map_err(|e| CommandError::new(1, format!("{shown}: cannot read: {e}")))?;
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
        CommandError::new(e.exit_code(), format!("{shown} ({key_shown}): {e}"))
    };
    let file = crate::sops::decrypt(&input, format, &ids).map_err(fail)?;
    let key = crate::manifest::SecretKey::parse(&args.key);
    let value = file.secret(key.segments()).map_err(fail)?;
    write_exclusive(&args.out, args.mode, value.as_bytes()).map_err(|e| {
        CommandError::new(
            1,
            format!("{} ({key_shown} of {shown}): {e}", args.out.display()),
        )
    })
}

/// The destination must not be a symlink or a directory, nor its parent a symlink.
fn check_destination(out: &Path) -> Result<(), String> {
    let shown = out.display();
    if out.file_name().is_none() {
        return Err(format!("{shown}: --out must name a file"));
    }
    if let Ok(m) = std::fs::symlink_metadata(out) {
        if m.file_type().is_symlink() {
            return Err(format!(
                "{shown} is a symlink; refusing to write through it"
            ));
        }
        if m.is_dir() {
            return Err(format!("{shown} is a directory"));
        }
    }
    let parent = parent_of(out);
    match std::fs::symlink_metadata(&parent) {
        Ok(m) if m.file_type().is_symlink() => Err(format!(
            "{shown}: its directory {} is a symlink; refusing to write through it",
            parent.display()
        )),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!("{shown}: {} is not a directory", parent.display())),
        Err(e) => Err(format!("{shown}: its directory {}: {e}", parent.display())),
    }
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a temporary file beside `out` exclusively with no permissions, sets `mode` on the
/// descriptor, writes `data`, syncs and renames it over `out`.
fn write_exclusive(out: &Path, mode: u32, data: &[u8]) -> Result<(), String> {
    let name = out
        .file_name()
        .ok_or_else(|| "--out must name a file".to_string())?;
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
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
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
        return Err(format!("cannot write: {e}"));
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
        assert!(parse_mode("4755").unwrap_err().contains("0777"));
        assert!(parse_mode("0800").unwrap_err().contains("octal"));
        assert!(parse_mode("").is_err());
    }
}
