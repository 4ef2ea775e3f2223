//! Why a key source could not be used, and what to do about it.

use std::borrow::Cow;

use super::helper::HelperError;
use crate::hint::Hint;

/// A key source (a key file, a plugin, gpg) that could not be loaded or failed to open an
/// entry. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read (missing, unreadable, a directory, too large).
    #[error("cannot read: {message}")]
    Read {
        kind: std::io::ErrorKind,
        message: String,
    },
    #[error("not a text file (invalid UTF-8)")]
    NotUtf8,
    /// A line of an age identity file.
    #[error("line {line}: {fault}")]
    Line { line: usize, fault: &'static str },
    /// The file is not a key of the kind the option takes.
    #[error("{0}")]
    NotAKey(&'static str),
    #[error("the key is protected by a passphrase, which cannot be asked for at activation")]
    Passphrase,
    /// A key of a type this source cannot use.
    #[error("{0}")]
    Unsupported(Cow<'static, str>),
    /// The key parsed but its numbers do not fit together.
    #[error("{0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Helper(#[from] HelperError),
    /// gpg ran and failed (its own last line of error output, or how it ended).
    #[error("{0}")]
    Gpg(String),
    /// A `pgp` entry an RSA ssh key should open is not a message it can read.
    #[error("{0}")]
    PgpMessage(#[from] super::pgp_message::PgpMessageError),
    /// An age plugin is missing, refused or failed.
    #[error("{0}")]
    Plugin(String),
    /// `SOPS_AGE_KEY_CMD` gave no identities (for the recipient named in the text).
    #[error("{0}")]
    KeyCommand(String),
}

impl KeyError {
    /// A read failure, keeping the kind for the hint.
    pub fn read(e: &std::io::Error) -> KeyError {
        KeyError::Read {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        use std::io::ErrorKind;
        let text = match self {
            KeyError::Read {
                kind: ErrorKind::NotFound,
                ..
            } => {
                "the key file is not on this machine: put the key there (or let sops.age.generateKey \
                 make one) or correct the path"
            }
            KeyError::Read {
                kind: ErrorKind::PermissionDenied,
                ..
            } => {
                "make the key file readable by the user that installs secrets (owner root, or the \
                 user in home-manager; mode 0400 or 0600)"
            }
            KeyError::Read { .. } => {
                "point the option at the key file itself: a regular file, owner root, mode 0400 \
                 or 0600"
            }
            KeyError::NotUtf8 | KeyError::NotAKey(_) => {
                "give each option the key it takes: sops.age.keyFile an age identity file \
                 (age-keygen), sops.age.sshKeyPaths an OpenSSH ed25519 or rsa private key, \
                 sops.gnupg.sshKeyPaths an RSA private key"
            }
            KeyError::Line { .. } => {
                "fix or remove that line: an age identity file holds AGE-SECRET-KEY-1… lines \
                 (from age-keygen), AGE-PLUGIN-… lines, # comments and empty lines"
            }
            KeyError::Passphrase => {
                "use a key without a passphrase (remove it on a copy with `ssh-keygen -p -N '' -f \
                 KEY`)"
            }
            KeyError::Unsupported(_) => {
                "use an ed25519 or rsa key for sops.age.sshKeyPaths and an RSA key for \
                 sops.gnupg.sshKeyPaths"
            }
            KeyError::Malformed(_) => {
                "the key file is damaged: restore it, or make a new key and add its recipient to \
                 .sops.yaml (`sops-install recipient` prints it)"
            }
            KeyError::Helper(e) => return e.hint(),
            KeyError::Gpg(_) => {
                "check that gpg has the secret key in that GnuPG home (`gpg --homedir HOME \
                 --list-secret-keys`), or set sops.gnupg.home"
            }
            KeyError::PgpMessage(_) => {
                "the file's pgp entry is damaged or made for another key: run `sops updatekeys \
                 FILE` where the file can be opened"
            }
            KeyError::KeyCommand(_) => {
                "run the SOPS_AGE_KEY_CMD command by hand: it must print age identities \
                 (AGE-SECRET-KEY-1… lines) on standard output without asking anything"
            }
            KeyError::Plugin(_) => {
                "install the plugin for the activation (sops.age.plugins) and check that its \
                 device is present; a plugin that asks for a PIN or a touch cannot be answered \
                 during activation"
            }
        };
        Some(Hint::new(text))
    }
}
