//! OpenSSH private keys (usually `/etc/ssh/ssh_host_ed25519_key`) as age identities.
//!
//! One host key yields up to two identities: the native age `ssh-ed25519` / `ssh-rsa` identity
//! (for files whose recipient is the SSH public key line) and, for ed25519, the X25519 identity
//! that ssh-to-age derives (for files encrypted to the converted `age1…` recipient). The two are
//! not interchangeable, so both are loaded.

use std::path::Path;
use std::str::FromStr;

use zeroize::Zeroizing;

use super::{KeyError, KeySource, LoadedIdentity};

/// Both identities of a host key (native, then converted for ed25519).
pub fn load(path: &Path) -> Result<Vec<LoadedIdentity>, KeyError> {
    let bytes = read(path)?;
    let native = native_identity(&bytes, path)?;
    let mut found = vec![native];
    if found[0].recipient.starts_with("ssh-ed25519 ") {
        found.push(converted_identity(&bytes, path)?);
    }
    Ok(found)
}

/// Only the native identity (an RSA key given for PGP also answers `ssh-rsa` recipients).
pub fn load_native(path: &Path) -> Result<LoadedIdentity, KeyError> {
    let bytes = read(path)?;
    native_identity(&bytes, path)
}

/// Only the ssh-to-age conversion (ed25519 keys only).
pub fn load_converted(path: &Path) -> Result<LoadedIdentity, KeyError> {
    let bytes = read(path)?;
    converted_identity(&bytes, path)
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    crate::input_file::read(path, crate::input_file::KEY_FILE_MAX)
        .map(Zeroizing::new)
        .map_err(|e| KeyError::read(&e))
}

/// The native identity of an OpenSSH private key given as bytes (the output of
/// `SOPS_AGE_SSH_PRIVATE_KEY_CMD`), loaded from `source`.
pub fn load_native_text(bytes: &[u8], source: KeySource) -> Result<LoadedIdentity, KeyError> {
    let mut found = native(bytes, source.to_string())?;
    found.source = source;
    Ok(found)
}

fn native_identity(bytes: &[u8], path: &Path) -> Result<LoadedIdentity, KeyError> {
    native(bytes, path.display().to_string())
}

fn native(bytes: &[u8], name: String) -> Result<LoadedIdentity, KeyError> {
    let identity = age::ssh::Identity::from_buffer(bytes, Some(name.clone()))
        .map_err(|_| KeyError::NotAKey("not an OpenSSH private key"))?;
    let recipient = match &identity {
        age::ssh::Identity::Unencrypted(_) => public_key_line(&identity)?,
        age::ssh::Identity::Encrypted(_) => return Err(KeyError::Passphrase),
        age::ssh::Identity::Unsupported(_) => {
            return Err(KeyError::Unsupported(
                "unsupported SSH key type (only ed25519 and rsa keys can open age files)".into(),
            ))
        }
    };
    Ok(LoadedIdentity {
        identity: Box::new(identity),
        recipient,
        source: KeySource::SshKey(name.into()),
        via_plugin: false,
    })
}

/// The OpenSSH public key line (`ssh-ed25519 AAAA…`) of an unencrypted key.
fn public_key_line(identity: &age::ssh::Identity) -> Result<String, KeyError> {
    age::ssh::Recipient::try_from(identity.clone())
        .map(|r| r.to_string())
        .map_err(|_| {
            KeyError::Malformed("the public half of the SSH key is malformed or unsupported")
        })
}

fn converted_identity(bytes: &[u8], path: &Path) -> Result<LoadedIdentity, KeyError> {
    let pair = ssh_to_age::convert::ssh_private_key_to_age(bytes).map_err(|_| {
        KeyError::Unsupported(
            "cannot convert to an age identity (only ed25519 keys convert)".into(),
        )
    })?;
    let secret = Zeroizing::new(pair.secret);
    let identity = age::x25519::Identity::from_str(&secret)
        .map_err(|_| KeyError::Malformed("the converted age identity is malformed"))?;
    Ok(LoadedIdentity {
        identity: Box::new(identity),
        recipient: pair.recipient,
        source: KeySource::SshKeyAsAge(path.to_path_buf()),
        via_plugin: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        crate::test_fixtures::fixtures_dir().join("keys").join(name)
    }

    #[test]
    fn an_ed25519_host_key_gives_the_native_and_the_converted_recipient() {
        let path = fixture("ssh_host_ed25519_key");
        let found = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let public =
            String::from_utf8(crate::test_fixtures::read("keys/ssh_host_ed25519_key.pub")).unwrap();
        let mut public_fields = public.split_whitespace();
        let expected_native = format!(
            "{} {}",
            public_fields.next().unwrap(),
            public_fields.next().unwrap()
        );
        assert_eq!(found[0].recipient, expected_native);
        let age_txt = String::from_utf8(crate::test_fixtures::read(
            "keys/ssh_host_ed25519_key.age.txt",
        ))
        .unwrap();
        let expected_age = age_txt
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap();
        assert_eq!(found[1].recipient, expected_age);
    }

    #[test]
    fn a_file_that_is_not_a_key_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, "not a key").unwrap();
        assert!(load(&path).is_err());
    }
}
