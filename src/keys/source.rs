//! Where a key came from, as a type: what messages print (`Display`, the same words as
//! always) and what callers match on (the path of a converted ssh key, a gpg home), so that
//! nothing parses a label again.

use std::fmt;
use std::path::{Path, PathBuf};

/// One key source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An age identity file (`ageKeyFile`, `SOPS_AGE_KEY_FILE`, `--age-key-file`).
    AgeKeyFile(PathBuf),
    /// age identities given as text, named by where the text came from (`SOPS_AGE_KEY`).
    AgeKeyText(String),
    /// An OpenSSH private key used natively, for `ssh-ed25519` / `ssh-rsa` recipients.
    SshKey(PathBuf),
    /// An ed25519 OpenSSH key converted to the age X25519 identity ssh-to-age derives.
    SshKeyAsAge(PathBuf),
    /// An RSA OpenSSH key used as the OpenPGP key ssh-to-pgp derives from it.
    SshKeyAsPgp(PathBuf),
    /// The identities of one age plugin, named on `lines` of an age source.
    Plugin {
        within: Box<KeySource>,
        lines: Vec<usize>,
    },
    /// gpg with a GnuPG home (`None`: gpg's own default home).
    Gnupg(Option<PathBuf>),
}

impl KeySource {
    /// The key file behind the source, if it is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            KeySource::AgeKeyFile(p)
            | KeySource::SshKey(p)
            | KeySource::SshKeyAsAge(p)
            | KeySource::SshKeyAsPgp(p) => Some(p),
            KeySource::Gnupg(home) => home.as_deref(),
            KeySource::AgeKeyText(_) | KeySource::Plugin { .. } => None,
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::AgeKeyFile(p) | KeySource::SshKey(p) | KeySource::SshKeyAsPgp(p) => {
                write!(f, "{}", p.display())
            }
            KeySource::AgeKeyText(label) => f.write_str(label),
            KeySource::SshKeyAsAge(p) => write!(f, "{} (converted to age)", p.display()),
            KeySource::Plugin { within, lines } => {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                let s = if lines.len() == 1 { "" } else { "s" };
                write!(f, "{within} line{s} {}", lines.join(", "))
            }
            KeySource::Gnupg(Some(home)) => write!(f, "GnuPG home {}", home.display()),
            KeySource::Gnupg(None) => f.write_str("gpg's default GnuPG home"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_print_as_messages_always_named_them() {
        let key = PathBuf::from("/etc/ssh/ssh_host_ed25519_key");
        assert_eq!(
            KeySource::SshKeyAsAge(key.clone()).to_string(),
            "/etc/ssh/ssh_host_ed25519_key (converted to age)"
        );
        assert_eq!(
            KeySource::SshKey(key).to_string(),
            "/etc/ssh/ssh_host_ed25519_key"
        );
        let file = KeySource::AgeKeyFile("/k.txt".into());
        assert_eq!(
            KeySource::Plugin {
                within: Box::new(file.clone()),
                lines: vec![2, 5]
            }
            .to_string(),
            "/k.txt lines 2, 5"
        );
        assert_eq!(
            KeySource::Plugin {
                within: Box::new(KeySource::AgeKeyText("SOPS_AGE_KEY".into())),
                lines: vec![1]
            }
            .to_string(),
            "SOPS_AGE_KEY line 1"
        );
        assert_eq!(
            KeySource::Gnupg(Some("/g".into())).to_string(),
            "GnuPG home /g"
        );
        assert_eq!(
            KeySource::Gnupg(None).to_string(),
            "gpg's default GnuPG home"
        );
        assert_eq!(file.path(), Some(Path::new("/k.txt")));
    }
}
