//! PGP key sources: RSA ssh keys used in memory, and gpg with a GnuPG home.
//!
//! Both answer the same question for one sops `pgp` entry: here is the data key, or this
//! entry is not for me, or I should have opened it and could not (with the reason).

use super::gnupg::Gnupg;
use super::openpgp_v4;
use super::pgp_message::{self, Opened};
use super::rsa_ssh_key::RsaPgpKey;
use super::{KeyError, KeySource};
use crate::secret_bytes::SecretBytes;

/// One PGP key source.
pub enum PgpKey {
    /// An RSA ssh key as the OpenPGP key ssh-to-pgp derives from it.
    Rsa {
        key: Box<RsaPgpKey>,
        path: std::path::PathBuf,
    },
    /// The gpg program with a GnuPG home.
    Gnupg { gpg: Gnupg },
}

/// What one source made of one entry.
pub enum Attempt {
    Opened(SecretBytes),
    NotForThisKey,
    Failed(KeyError),
}

impl PgpKey {
    /// How the key shows in messages, next to the file's `pgp FINGERPRINT` recipients.
    pub fn recipient(&self) -> String {
        match self {
            PgpKey::Rsa { key, .. } => format!("pgp {}", openpgp_v4::to_hex(&key.fingerprint)),
            PgpKey::Gnupg { .. } => "pgp (any secret key gpg has)".to_string(),
        }
    }

    /// The v4 fingerprint of an RSA ssh key's OpenPGP key.
    pub fn fingerprint(&self) -> Option<[u8; 20]> {
        match self {
            PgpKey::Rsa { key, .. } => Some(key.fingerprint),
            PgpKey::Gnupg { .. } => None,
        }
    }

    pub fn source(&self) -> KeySource {
        match self {
            PgpKey::Rsa { path, .. } => KeySource::SshKeyAsPgp(path.clone()),
            PgpKey::Gnupg { gpg } => KeySource::Gnupg(gpg.home.clone()),
        }
    }

    /// Tries to open one armored `enc`.
    pub fn open(&self, armored: &str) -> Attempt {
        match self {
            PgpKey::Rsa { key, .. } => {
                let id = openpgp_v4::key_id(&key.fingerprint);
                match pgp_message::open(armored, &id, &key.key) {
                    Ok(Opened::Plaintext(p)) => Attempt::Opened(SecretBytes::copy_from(&p)),
                    Ok(Opened::NotForThisKey) => Attempt::NotForThisKey,
                    Err(e) => Attempt::Failed(e.into()),
                }
            }
            PgpKey::Gnupg { gpg } => match gpg.decrypt(armored) {
                Ok(p) => Attempt::Opened(p),
                Err(e) => Attempt::Failed(e),
            },
        }
    }
}
