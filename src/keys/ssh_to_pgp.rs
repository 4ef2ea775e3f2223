//! An RSA ssh private key written out as the OpenPGP key ssh-to-pgp makes of it: a v4 RSA key
//! created at time 0 (so its fingerprint is the one `recipient` prints and the installer
//! matches), one user ID, and a positive self-certification signed with SHA-256 that allows
//! certify, sign and encrypt (RFC 4880 §5.2, §5.5, §5.11). The secret-key form stores the RSA
//! numbers unprotected (`-private-key`), as ssh-to-pgp does.

use std::path::Path;

use base64::Engine;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Pkcs1v15Sign};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::openpgp_v4::{self, push_mpi};
use super::pgp_message::crc24;
use super::rsa_ssh_key;
use super::KeyError;

/// The user ID of the generated key.
pub const USER_ID: &str = "root (Imported from SSH) <root@localhost>";

const TAG_SIGNATURE: u8 = 2;
const TAG_SECRET_KEY: u8 = 5;
const TAG_PUBLIC_KEY: u8 = 6;
const TAG_USER_ID: u8 = 13;
const HASH_SHA256: u8 = 8;
/// DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The transferable key, binary; the secret-key packets hold key material and wipe on drop.
pub struct PgpKey {
    pub fingerprint: [u8; 20],
    pub packets: Zeroizing<Vec<u8>>,
    pub private: bool,
}

/// Reads the RSA ssh key at `path` and builds its OpenPGP key (public, or with `private` the
/// secret key).
pub fn from_ssh_key(path: &Path, private: bool) -> Result<PgpKey, KeyError> {
    let key = rsa_ssh_key::load(path)?;
    let rsa = &key.key;
    let n = rsa.n().to_bytes_be();
    let e = rsa.e().to_bytes_be();
    let public_body = openpgp_v4::rsa_v4_public_body(&n, &e, 0);

    let mut out = Zeroizing::new(Vec::new());
    if private {
        let body = secret_body(&public_body, rsa)?;
        push_packet(&mut out, TAG_SECRET_KEY, &body);
    } else {
        push_packet(&mut out, TAG_PUBLIC_KEY, &public_body);
    }
    push_packet(&mut out, TAG_USER_ID, USER_ID.as_bytes());
    let sig = self_certification(&public_body, &key.fingerprint, rsa)?;
    push_packet(&mut out, TAG_SIGNATURE, &sig);
    Ok(PgpKey {
        fingerprint: key.fingerprint,
        packets: out,
        private,
    })
}

impl PgpKey {
    /// ASCII armor (RFC 4880 §6.2).
    pub fn armored(&self) -> Zeroizing<String> {
        let kind = if self.private { "PRIVATE" } else { "PUBLIC" };
        let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.packets));
        let mut s = Zeroizing::new(format!("-----BEGIN PGP {kind} KEY BLOCK-----\n\n"));
        for chunk in b64.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            s.push('\n');
        }
        let crc = crc24(&self.packets).to_be_bytes();
        s.push('=');
        s.push_str(&base64::engine::general_purpose::STANDARD.encode(&crc[1..]));
        s.push_str(&format!("\n-----END PGP {kind} KEY BLOCK-----\n"));
        s
    }
}

/// A new-format packet header and body.
fn push_packet(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(0xC0 | tag);
    let len = body.len();
    if len < 192 {
        out.push(len as u8);
    } else if len < 8384 {
        let l = len - 192;
        out.push((l >> 8) as u8 + 192);
        out.push(l as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// The positive certification (0x13) of the user ID by the key itself.
fn self_certification(
    public_body: &[u8],
    fingerprint: &[u8; 20],
    rsa: &rsa::RsaPrivateKey,
) -> Result<Vec<u8>, KeyError> {
    let mut hashed = Vec::new();
    // Signature creation time: the key's own, 0.
    hashed.extend_from_slice(&[5, 2, 0, 0, 0, 0]);
    // Key flags: certify, sign, encrypt communications and storage.
    hashed.extend_from_slice(&[2, 27, 0x0F]);
    // Preferred hash: SHA-256; preferred symmetric: AES-256, AES-128.
    hashed.extend_from_slice(&[2, 21, HASH_SHA256]);
    hashed.extend_from_slice(&[3, 11, 9, 7]);
    // Issuer fingerprint.
    hashed.extend_from_slice(&[22, 33, 4]);
    hashed.extend_from_slice(fingerprint);

    let mut sig = vec![4, 0x13, openpgp_v4::ALGO_RSA, HASH_SHA256];
    sig.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
    sig.extend_from_slice(&hashed);

    let mut h = Sha256::new();
    h.update([0x99]);
    h.update((public_body.len() as u16).to_be_bytes());
    h.update(public_body);
    h.update([0xB4]);
    h.update((USER_ID.len() as u32).to_be_bytes());
    h.update(USER_ID.as_bytes());
    h.update(&sig);
    h.update([4, 0xFF]);
    h.update((sig.len() as u32).to_be_bytes());
    let digest = h.finalize();

    let scheme = Pkcs1v15Sign {
        hash_len: Some(32),
        prefix: SHA256_DIGEST_INFO.to_vec().into_boxed_slice(),
    };
    let signature = rsa
        .sign(scheme, &digest)
        .map_err(|e| KeyError::Unsupported(format!("cannot sign the user ID: {e}").into()))?;

    // Unhashed: the issuer key ID.
    let mut unhashed = vec![9, 16];
    unhashed.extend_from_slice(&openpgp_v4::key_id(fingerprint));
    sig.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
    sig.extend_from_slice(&unhashed);
    sig.extend_from_slice(&digest[..2]);
    push_mpi(&mut sig, &signature);
    Ok(sig)
}

/// The secret-key packet body: the public body, no protection, MPIs d, p, q, u with p < q and
/// u = p⁻¹ mod q, and the two-byte checksum of the MPIs.
fn secret_body(
    public_body: &[u8],
    rsa: &rsa::RsaPrivateKey,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let [a, b] = rsa.primes() else {
        return Err(KeyError::Unsupported(
            "only two-prime RSA keys can be written as OpenPGP keys".into(),
        ));
    };
    let (p, q) = if a < b { (a, b) } else { (b, a) };
    // q is prime, so p^(q-2) is p's inverse mod q.
    let u = p.modpow(&(q - BigUint::from(2u8)), q);
    let mut mpis = Zeroizing::new(Vec::new());
    for v in [rsa.d(), p, q, &u] {
        let bytes = Zeroizing::new(v.to_bytes_be());
        push_mpi(&mut mpis, &bytes);
    }
    let checksum = mpis
        .iter()
        .fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b)));
    let mut body = Zeroizing::new(public_body.to_vec());
    body.push(0);
    body.extend_from_slice(&mpis);
    body.extend_from_slice(&checksum.to_be_bytes());
    Ok(body)
}
