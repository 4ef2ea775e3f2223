//! RSA ssh private keys (`sops.gnupg.sshKeyPaths`) as the OpenPGP keys ssh-to-pgp derives.
//!
//! The key is read from OpenSSH's format (`BEGIN OPENSSH PRIVATE KEY`) or PEM (PKCS#1
//! `BEGIN RSA PRIVATE KEY`, PKCS#8 `BEGIN PRIVATE KEY`) straight into an `rsa` private key,
//! which wipes itself on drop; its OpenPGP fingerprint is the v4 one with creation time 0. No
//! keyring is written anywhere.

use std::path::Path;

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use zeroize::Zeroizing;

use super::{openpgp_v4, KeyError};

/// An RSA key with its OpenPGP v4 fingerprint (creation time 0).
pub struct RsaPgpKey {
    pub key: RsaPrivateKey,
    pub fingerprint: [u8; 20],
}

/// Reads and parses the key at `path`.
pub fn load(path: &Path) -> Result<RsaPgpKey, KeyError> {
    let bytes = crate::input_file::read(path, crate::input_file::KEY_FILE_MAX)
        .map(Zeroizing::new)
        .map_err(|e| KeyError::read(&e))?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| KeyError::NotAKey("not an RSA private key"))?;
    let key = parse(text)?;
    let fingerprint =
        openpgp_v4::rsa_v4_fingerprint(&key.n().to_bytes_be(), &key.e().to_bytes_be(), 0);
    Ok(RsaPgpKey { key, fingerprint })
}

fn parse(text: &str) -> Result<RsaPrivateKey, KeyError> {
    if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let key = ssh_key::PrivateKey::from_openssh(text)
            .map_err(|_| KeyError::NotAKey("not a valid OpenSSH private key"))?;
        if key.is_encrypted() {
            return Err(KeyError::Passphrase);
        }
        let pair = key.key_data().rsa().ok_or_else(|| {
            KeyError::Unsupported(
                format!(
                    "only RSA keys can be used as PGP keys, this is a {} key",
                    key.algorithm()
                )
                .into(),
            )
        })?;
        let int = |m: &ssh_key::Mpint| {
            m.as_positive_bytes()
                .map(BigUint::from_bytes_be)
                .ok_or(KeyError::Malformed("the RSA key is malformed"))
        };
        let primes = vec![int(&pair.private.p)?, int(&pair.private.q)?];
        let key = RsaPrivateKey::from_components(
            int(&pair.public.n)?,
            int(&pair.public.e)?,
            int(&pair.private.d)?,
            primes,
        )
        .map_err(|_| KeyError::Malformed("the RSA key is malformed"))?;
        return checked(key);
    }
    if text.contains("ENCRYPTED") {
        return Err(KeyError::Passphrase);
    }
    if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        let key = RsaPrivateKey::from_pkcs1_pem(text.trim())
            .map_err(|_| KeyError::NotAKey("not a valid PEM RSA private key"))?;
        return checked(key);
    }
    if text.contains("-----BEGIN PRIVATE KEY-----") {
        let key = RsaPrivateKey::from_pkcs8_pem(text.trim())
            .map_err(|_| KeyError::NotAKey("not a PKCS#8 RSA private key"))?;
        return checked(key);
    }
    Err(KeyError::NotAKey("not an RSA private key (OpenSSH or PEM)"))
}

fn checked(key: RsaPrivateKey) -> Result<RsaPrivateKey, KeyError> {
    key.validate()
        .map_err(|_| KeyError::Malformed("the RSA key is inconsistent"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ed25519_key_is_refused_by_name() {
        let path = crate::test_fixtures::fixtures_dir().join("keys/ssh_host_ed25519_key");
        let err = load(&path).err().unwrap().to_string();
        assert!(
            err.contains("only RSA keys") && err.contains("ed25519"),
            "{err}"
        );
    }

    #[test]
    fn other_text_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "hello").unwrap();
        assert!(load(&p)
            .err()
            .unwrap()
            .to_string()
            .contains("not an RSA private key"));
        assert!(load(&dir.path().join("missing"))
            .err()
            .unwrap()
            .to_string()
            .starts_with("cannot read"));
    }
}
