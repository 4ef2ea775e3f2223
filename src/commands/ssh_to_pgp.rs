//! `sops-install ssh-to-pgp` (also run as `ssh-to-pgp`): ssh-to-pgp's command line, printing
//! the OpenPGP key of an RSA ssh key. Flags take one or two dashes and `-flag value` or
//! `-flag=value`: `-i FILE` (default stdin), `-o FILE` (default stdout),
//! `-format auto|binary|armor` (auto: armor, except binary for `-o` names ending in .gpg, .pgp
//! or .bin) and `-private-key` (the secret key instead of the public one).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::CommandError;
use crate::keys::openpgp_v4;
use crate::keys::ssh_to_pgp;

pub const USAGE: &str =
    "usage: ssh-to-pgp [-i RSA_SSH_KEY] [-o OUT] [-format auto|binary|armor] [-private-key]\n";

#[derive(Debug, PartialEq)]
pub struct Args {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub armor: Option<bool>,
    pub private: bool,
    pub help: bool,
}

fn usage_error(msg: impl std::fmt::Display) -> CommandError {
    CommandError::new(2, format!("{msg}\n{USAGE}"))
}

/// Parses the flags (program name excluded).
pub fn parse(args: &[OsString]) -> Result<Args, CommandError> {
    let mut out = Args {
        input: None,
        output: None,
        armor: None,
        private: false,
        help: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let text = arg
            .to_str()
            .ok_or_else(|| usage_error(format!("invalid argument {arg:?}")))?;
        let flag = text
            .strip_prefix("--")
            .or_else(|| text.strip_prefix('-'))
            .filter(|f| !f.is_empty())
            .ok_or_else(|| usage_error(format!("unexpected argument {text:?}")))?;
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(OsString::from(v))),
            None => (flag, None),
        };
        let mut value = || -> Result<OsString, CommandError> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| usage_error(format!("flag needs an argument: -{name}")))
        };
        match name {
            "i" => out.input = Some(PathBuf::from(value()?)),
            "o" => out.output = Some(PathBuf::from(value()?)),
            "format" => {
                out.armor = match value()?.to_str() {
                    Some("auto") => None,
                    Some("armor") => Some(true),
                    Some("binary") => Some(false),
                    _ => return Err(usage_error("-format must be auto, binary or armor")),
                }
            }
            "private-key" => out.private = true,
            "h" | "help" => out.help = true,
            _ => {
                return Err(usage_error(format!(
                    "flag provided but not defined: -{name}"
                )))
            }
        }
    }
    Ok(out)
}

/// Runs the command: writes the key, returns its fingerprint (upper-case hex).
pub fn run(args: &Args) -> Result<String, CommandError> {
    let input = args
        .input
        .clone()
        .unwrap_or_else(|| PathBuf::from("/dev/stdin"));
    let key = ssh_to_pgp::from_ssh_key(&input, args.private)
        .map_err(|e| CommandError::new(1, format!("{}: {e}", input.display())))?;
    let armor = args.armor.unwrap_or_else(|| {
        !args.output.as_ref().is_some_and(|o| {
            o.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "gpg" | "pgp" | "bin"))
        })
    });
    let armored;
    let bytes: &[u8] = if armor {
        armored = key.armored();
        armored.as_bytes()
    } else {
        &key.packets
    };
    match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            let mode = if args.private { 0o600 } else { 0o644 };
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(path)
                .and_then(|mut f| {
                    // An existing file keeps its mode on open: a private key narrows it first.
                    if args.private {
                        use std::os::unix::fs::PermissionsExt;
                        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                    }
                    f.write_all(bytes)
                })
                .map_err(|e| {
                    CommandError::new(1, format!("{}: cannot write: {e}", path.display()))
                })?;
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| CommandError::new(1, format!("cannot write the output: {e}")))?;
        }
    }
    Ok(openpgp_v4::to_hex(&key.fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, CommandError> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn go_style_flags_parse() {
        let a = p(&[
            "-i",
            "k",
            "--o=out.asc",
            "-format",
            "binary",
            "-private-key",
        ])
        .unwrap();
        assert_eq!(a.input, Some(PathBuf::from("k")));
        assert_eq!(a.output, Some(PathBuf::from("out.asc")));
        assert_eq!(a.armor, Some(false));
        assert!(a.private);
        assert!(p(&["-format", "pem"]).is_err());
        assert!(p(&["-x"]).is_err());
        assert!(p(&["-i"]).is_err());
        assert!(p(&["key"]).is_err());
    }
}
