//! The part of OpenPGP needed to open a sops `pgp` entry with an RSA key held in memory.
//!
//! A sops `enc` is an armored message: public-key encrypted session key packets (v3, RSA
//! PKCS#1 v1.5), then symmetrically encrypted integrity-protected data (v1: AES in OpenPGP's
//! CFB mode with a zero IV, ended by a SHA-1 modification detection code), holding an
//! optionally compressed literal data packet whose contents are the data key (RFC 4880 §5.1,
//! §5.13, §5.14, §13.9). Nothing else is accepted: no legacy unprotected data, no other
//! ciphers. Session keys and plaintext live in zeroizing buffers.
//!
//! Why not the `pgp` crate (rPGP), measured for issue 17 item 8 (2026-12-04, rustc 1.95, the
//! release profile of Cargo.toml: LTO, one codegen unit, stripped): this module replaced by
//! `pgp` 0.17.0 (the newest the MSRV 1.85 resolves; `Message::from_string`, `decrypt`,
//! `decompress`, with the key built from ssh_to_pgp's secret-key packets) passed every PGP test
//! (`cargo test --test install -- pgp`: 9 of 9, `--test key_sources`, `--lib keys::`), but
//! `cargo build --release --bin sops-install; ls -l target/release/sops-install` gave
//! 7,139,672 bytes (7,099,168 with `default-features = false`) against 4,942,848 for the same
//! commit without it: +2.2 MB (+44%), above the 6 MB the issue allows. So this reader stays
//! (the experiment, a local branch, was not merged).

use std::borrow::Cow;
use std::io::Read;

use aes::cipher::{consts::U16, BlockEncrypt, BlockSizeUser, KeyInit};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, Zeroizing};

const TAG_PKESK: u8 = 1;
const TAG_COMPRESSED: u8 = 8;
const TAG_MARKER: u8 = 10;
const TAG_LITERAL: u8 = 11;
const TAG_SEIPD: u8 = 18;

/// The message cannot be read with this key (never any plaintext in the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PgpMessageError(Cow<'static, str>);

impl From<&'static str> for PgpMessageError {
    fn from(text: &'static str) -> Self {
        PgpMessageError(Cow::Borrowed(text))
    }
}

impl From<String> for PgpMessageError {
    fn from(text: String) -> Self {
        PgpMessageError(Cow::Owned(text))
    }
}

/// What opening a message with one key gave.
pub enum Opened {
    /// The literal data: the sops data key or Shamir part.
    Plaintext(Zeroizing<Vec<u8>>),
    /// The message has no session key for this key ID.
    NotForThisKey,
}

/// Opens an armored message with the RSA key whose v4 key ID is `key_id`.
pub fn open(
    armored: &str,
    key_id: &[u8; 8],
    key: &RsaPrivateKey,
) -> Result<Opened, PgpMessageError> {
    open_binary(&dearmor(armored)?, key_id, key)
}

/// Opens a de-armored message (the packets).
pub fn open_binary(
    binary: &[u8],
    key_id: &[u8; 8],
    key: &RsaPrivateKey,
) -> Result<Opened, PgpMessageError> {
    let packets = split_packets(binary)?;
    let mut session = None;
    let mut addressed = false;
    let mut data = None;
    for (tag, body) in &packets {
        match *tag {
            TAG_PKESK => {
                if let Some(rsa_ct) = pkesk_for(body, key_id)? {
                    addressed = true;
                    if session.is_none() {
                        session = decrypt_session_key(&rsa_ct, key);
                    }
                }
            }
            TAG_SEIPD => data = Some(body),
            TAG_MARKER => {}
            3 => {}
            9 => {
                return Err(PgpMessageError::from(
                    "the message uses unprotected (no MDC) encryption",
                ))
            }
            20 => {
                return Err(PgpMessageError::from(
                    "the message uses GnuPG's OCB packets, which are not supported",
                ))
            }
            other => {
                return Err(PgpMessageError::from(format!(
                    "unexpected OpenPGP packet {other} in the message"
                )))
            }
        }
    }
    if !addressed {
        return Ok(Opened::NotForThisKey);
    }
    let session = session.ok_or("the key does not decrypt the message's session key")?;
    let data = data.ok_or("the message has no encrypted data")?;
    let inner = decrypt_seipd(data, &session)?;
    literal_data(&inner, 0).map(Opened::Plaintext)
}

/// The armored message's binary contents; the CRC-24 line, when present, is checked.
fn dearmor(text: &str) -> Result<Vec<u8>, PgpMessageError> {
    use base64::Engine;
    let mut lines = text.lines().map(str::trim);
    lines
        .by_ref()
        .find(|l| *l == "-----BEGIN PGP MESSAGE-----")
        .ok_or("not an armored PGP message")?;
    let mut b64 = String::new();
    let mut crc = None;
    let mut ended = false;
    for line in lines {
        if line == "-----END PGP MESSAGE-----" {
            ended = true;
            break;
        }
        if line.is_empty() || line.contains(':') {
            continue; // the separator and armor headers (`Version: …`)
        }
        match line.strip_prefix('=') {
            Some(sum) => crc = Some(sum.to_string()),
            None => b64.push_str(line),
        }
    }
    if !ended {
        return Err(PgpMessageError::from(
            "the PGP message armor has no end line",
        ));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine
        .decode(b64.as_bytes())
        .map_err(|_| "the PGP message armor is not valid base64")?;
    if let Some(sum) = crc {
        let want = engine
            .decode(sum.as_bytes())
            .map_err(|_| "the PGP message checksum is not valid base64")?;
        let got = crc24(&bytes).to_be_bytes();
        if want != got[1..] {
            return Err(PgpMessageError::from(
                "the PGP message armor checksum does not match",
            ));
        }
    }
    Ok(bytes)
}

pub(crate) fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xB7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= 0x186_4CFB;
            }
        }
    }
    crc & 0xFF_FFFF
}

/// Splits a packet sequence into (tag, body); partial body lengths are joined.
fn split_packets(data: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, PgpMessageError> {
    let truncated = || "the OpenPGP message is truncated".to_string();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let head = data[pos];
        pos += 1;
        if head & 0x80 == 0 {
            return Err(PgpMessageError::from(
                "the OpenPGP message is malformed (bad packet header)",
            ));
        }
        if head & 0x40 == 0 {
            let tag = (head >> 2) & 0x0f;
            let len = match head & 3 {
                0 => Some(usize::from(*data.get(pos).ok_or_else(truncated)?)),
                1 => Some(be(data.get(pos..pos + 2).ok_or_else(truncated)?)),
                2 => Some(be(data.get(pos..pos + 4).ok_or_else(truncated)?)),
                _ => None,
            };
            pos += [1, 2, 4, 0][usize::from(head & 3)];
            let end = match len {
                Some(l) => pos.checked_add(l).ok_or_else(truncated)?,
                None => data.len(),
            };
            out.push((tag, data.get(pos..end).ok_or_else(truncated)?.to_vec()));
            pos = end;
            continue;
        }
        let tag = head & 0x3f;
        let mut body = Vec::new();
        loop {
            let first = *data.get(pos).ok_or_else(truncated)?;
            pos += 1;
            let (len, partial) = match first {
                0..=191 => (usize::from(first), false),
                192..=223 => {
                    let second = *data.get(pos).ok_or_else(truncated)?;
                    pos += 1;
                    (
                        ((usize::from(first) - 192) << 8) + usize::from(second) + 192,
                        false,
                    )
                }
                255 => {
                    let l = be(data.get(pos..pos + 4).ok_or_else(truncated)?);
                    pos += 4;
                    (l, false)
                }
                _ => (1usize << (first & 0x1f), true),
            };
            let end = pos.checked_add(len).ok_or_else(truncated)?;
            body.extend_from_slice(data.get(pos..end).ok_or_else(truncated)?);
            pos = end;
            if !partial {
                break;
            }
        }
        out.push((tag, body));
    }
    Ok(out)
}

fn be(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | usize::from(b))
}

/// The RSA ciphertext of a v3 PKESK addressed to `key_id` (or to the wildcard ID 0).
fn pkesk_for(body: &[u8], key_id: &[u8; 8]) -> Result<Option<Vec<u8>>, PgpMessageError> {
    let bad = || "a session key packet is malformed".to_string();
    if body.first() != Some(&3) {
        return Ok(None); // v6 PKESKs address v6 keys only
    }
    let id = body.get(1..9).ok_or_else(bad)?;
    let algo = *body.get(9).ok_or_else(bad)?;
    if (id != key_id && id != [0u8; 8]) || !(algo == 1 || algo == 2) {
        return Ok(None);
    }
    let bits = be(body.get(10..12).ok_or_else(bad)?);
    let mpi = body.get(12..12 + bits.div_ceil(8)).ok_or_else(bad)?;
    Ok(Some(mpi.to_vec()))
}

/// A session key: cipher algorithm and key bytes.
struct SessionKey {
    algo: u8,
    key: Zeroizing<Vec<u8>>,
}

/// RSA-decrypts `algo || key || checksum`; `None` when the padding or checksum is wrong.
fn decrypt_session_key(ciphertext: &[u8], key: &RsaPrivateKey) -> Option<SessionKey> {
    use rsa::traits::PublicKeyParts;
    let size = key.size();
    if ciphertext.len() > size {
        return None;
    }
    let mut padded = vec![0u8; size - ciphertext.len()];
    padded.extend_from_slice(ciphertext);
    let plain = Zeroizing::new(key.decrypt(Pkcs1v15Encrypt, &padded).ok()?);
    let (&algo, rest) = plain.split_first()?;
    if rest.len() < 2 {
        return None;
    }
    let (bytes, sum) = rest.split_at(rest.len() - 2);
    let total = bytes
        .iter()
        .fold(0u16, |a, &b| a.wrapping_add(u16::from(b)));
    if total.to_be_bytes() != sum {
        return None;
    }
    Some(SessionKey {
        algo,
        key: Zeroizing::new(bytes.to_vec()),
    })
}

/// Decrypts a v1 SEIPD body and checks its MDC; returns the inner packets.
fn decrypt_seipd(body: &[u8], session: &SessionKey) -> Result<Zeroizing<Vec<u8>>, PgpMessageError> {
    match body.first() {
        Some(1) => {}
        Some(2) => {
            return Err(PgpMessageError::from(
                "the message uses AEAD (SEIPD v2) encryption, which is not supported",
            ))
        }
        _ => {
            return Err(PgpMessageError::from(
                "the encrypted data packet is malformed",
            ))
        }
    }
    let mut plain = Zeroizing::new(body[1..].to_vec());
    let key = &session.key[..];
    match (session.algo, key.len()) {
        (7, 16) => cfb_decrypt(
            &aes::Aes128::new_from_slice(key).map_err(|_| "bad key")?,
            &mut plain,
        ),
        (8, 24) => cfb_decrypt(
            &aes::Aes192::new_from_slice(key).map_err(|_| "bad key")?,
            &mut plain,
        ),
        (9, 32) => cfb_decrypt(
            &aes::Aes256::new_from_slice(key).map_err(|_| "bad key")?,
            &mut plain,
        ),
        (7..=9, _) => {
            return Err(PgpMessageError::from(
                "the session key's length does not fit its cipher",
            ))
        }
        (algo, _) => {
            return Err(PgpMessageError::from(format!(
                "the message uses symmetric cipher {algo}; only AES is supported"
            )))
        }
    }
    // prefix (16 random bytes + 2 repeated) || packets || 0xD3 0x14 || SHA-1
    if plain.len() < 18 + 22 {
        return Err(PgpMessageError::from("the encrypted data is too short"));
    }
    let mdc_at = plain.len() - 22;
    let mut h = Sha1::new();
    h.update(&plain[..mdc_at + 2]);
    let digest: [u8; 20] = h.finalize().into();
    if plain[mdc_at..mdc_at + 2] != [0xD3, 0x14] || digest[..] != plain[mdc_at + 2..] {
        return Err(PgpMessageError::from(
            "the message fails its integrity check (MDC)",
        ));
    }
    Ok(Zeroizing::new(plain[18..mdc_at].to_vec()))
}

/// OpenPGP CFB with a zero IV (the random prefix stands in for it), no resynchronisation.
fn cfb_decrypt<C: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(cipher: &C, data: &mut [u8]) {
    let mut register = aes::Block::default();
    for chunk in data.chunks_mut(16) {
        let mut keystream = register;
        cipher.encrypt_block(&mut keystream);
        register[..chunk.len()].copy_from_slice(chunk);
        for (b, k) in chunk.iter_mut().zip(keystream.iter()) {
            *b ^= k;
        }
        keystream.zeroize();
    }
}

/// The contents of the literal data packet, decompressing once if needed.
fn literal_data(packets: &[u8], depth: u8) -> Result<Zeroizing<Vec<u8>>, PgpMessageError> {
    let mut split = split_packets(packets)?;
    let result = match split.as_slice() {
        [(TAG_LITERAL, body)] => literal_body(body),
        [(TAG_COMPRESSED, body)] if depth == 0 => {
            let inflated = decompress(body)?;
            literal_data(&inflated, depth + 1)
        }
        _ => Err(PgpMessageError::from(
            "the decrypted message is not a single literal data packet",
        )),
    };
    for (_, body) in &mut split {
        body.zeroize();
    }
    result
}

fn literal_body(body: &[u8]) -> Result<Zeroizing<Vec<u8>>, PgpMessageError> {
    let bad = || "the literal data packet is malformed".to_string();
    let name_len = usize::from(*body.get(1).ok_or_else(bad)?);
    let start = 2 + name_len + 4;
    Ok(Zeroizing::new(body.get(start..).ok_or_else(bad)?.to_vec()))
}

fn decompress(body: &[u8]) -> Result<Zeroizing<Vec<u8>>, PgpMessageError> {
    let (&algo, data) = body
        .split_first()
        .ok_or("the compressed data packet is empty")?;
    let mut out = Zeroizing::new(Vec::new());
    // One byte more than allowed is read, to tell "too large" from "just fits".
    let limit = MAX_INFLATED as u64 + 1;
    let result = match algo {
        0 => {
            out.extend_from_slice(data);
            Ok(0)
        }
        1 => flate2::read::DeflateDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out),
        2 => flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out),
        other => {
            return Err(PgpMessageError::from(format!(
                "the message uses compression {other}; only ZIP and ZLIB are supported"
            )))
        }
    };
    result.map_err(|_| "the compressed data is corrupt")?;
    if out.len() > MAX_INFLATED {
        return Err(PgpMessageError::from(format!(
            "the compressed data is too large (more than {} KiB once inflated)",
            MAX_INFLATED >> 10
        )));
    }
    Ok(out)
}

/// The most a compressed packet may inflate to. A data key or Shamir part is a few dozen bytes;
/// a deflate stream can grow a thousandfold, so without a bound a small message could exhaust
/// memory at boot.
const MAX_INFLATED: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfb_matches_the_nist_aes128_vector_after_one_block() {
        // SP 800-38A F.3.13 (CFB128-AES128.Decrypt): with a zero IV the first keystream block
        // is E(0); encrypting the vector's IV as a first ciphertext block makes the second
        // plaintext block the vector's first one.
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let iv = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let ct = hex::decode("3b3fd92eb72dad20333449f8e83cfb4a").unwrap();
        let cipher = aes::Aes128::new_from_slice(&key).unwrap();
        let mut data = [iv.clone(), ct].concat();
        cfb_decrypt(&cipher, &mut data);
        assert_eq!(hex::encode(&data[16..]), "6bc1bee22e409f96e93d7e117393172a");
        let mut again = [iv, hex::decode("3b3f").unwrap()].concat();
        cfb_decrypt(&cipher, &mut again);
        assert_eq!(hex::encode(&again[16..]), "6bc1");
    }

    #[test]
    fn armor_checksums_are_verified() {
        assert_eq!(
            crc24(b"123456789"),
            0x21_CF02,
            "the CRC-24/OPENPGP check value"
        );
        // "hello" armored with its CRC-24, then with one payload character changed.
        let good =
            "-----BEGIN PGP MESSAGE-----\nVersion: x\n\naGVsbG8=\n=MkYP\n-----END PGP MESSAGE-----";
        let sum = crc24(b"hello").to_be_bytes();
        use base64::Engine;
        let line = base64::engine::general_purpose::STANDARD.encode(&sum[1..]);
        let good = good.replace("MkYP", &line);
        assert_eq!(dearmor(&good).unwrap(), b"hello");
        assert!(dearmor(&good.replace("aGVsbG8=", "aGVsbG9=")).is_err());
        assert!(dearmor("-----BEGIN PGP MESSAGE-----\n\naGVsbG8=\n").is_err());
    }

    #[test]
    fn the_message_sops_wrote_through_gpg_parses() {
        // The fixture's pgp entry (made by sops with gpg; its key is not kept).
        let text = String::from_utf8(crate::test_fixtures::read("enc/pgp+age.yaml")).unwrap();
        let start = text.find("-----BEGIN PGP MESSAGE-----").unwrap();
        let end = text.find("-----END PGP MESSAGE-----").unwrap();
        let armored = &text[start..end + "-----END PGP MESSAGE-----".len()];
        let packets = split_packets(&dearmor(armored).unwrap()).unwrap();
        let tags: Vec<u8> = packets.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, [TAG_PKESK, TAG_SEIPD]);
        let (_, pkesk) = &packets[0];
        let id: [u8; 8] = pkesk[1..9].try_into().unwrap();
        assert!(
            pkesk_for(pkesk, &id).unwrap().is_some(),
            "addressed to its key ID"
        );
        assert!(
            pkesk_for(pkesk, &[7; 8]).unwrap().is_none(),
            "not to another"
        );
        assert_eq!(packets[1].1[0], 1, "SEIPD v1");
    }

    /// OpenPGP CFB encryption (zero IV), the inverse of `cfb_decrypt`.
    fn cfb_encrypt(cipher: &aes::Aes256, data: &mut [u8]) {
        let mut register = aes::Block::default();
        for chunk in data.chunks_mut(16) {
            let mut keystream = register;
            cipher.encrypt_block(&mut keystream);
            for (b, k) in chunk.iter_mut().zip(keystream.iter()) {
                *b ^= k;
            }
            register[..chunk.len()].copy_from_slice(chunk);
        }
    }

    #[test]
    fn the_mdc_is_checked_and_the_literal_data_returned() {
        let key = [0x42u8; 32];
        let literal = [&[0xC0 | TAG_LITERAL, 6 + 3, b'b', 0][..], &[0; 4], b"KEY"].concat();
        let mut plain = [&[9u8; 16][..], &[9, 9], &literal, &[0xD3, 0x14]].concat();
        let mdc: [u8; 20] = Sha1::digest(&plain).into();
        plain.extend_from_slice(&mdc);
        cfb_encrypt(&aes::Aes256::new_from_slice(&key).unwrap(), &mut plain);
        let body = [&[1u8][..], &plain].concat();
        let session = || SessionKey {
            algo: 9,
            key: Zeroizing::new(key.to_vec()),
        };
        let inner = decrypt_seipd(&body, &session()).unwrap();
        assert_eq!(&literal_data(&inner, 0).unwrap()[..], b"KEY");
        for at in [5, 20, body.len() - 1] {
            let mut bad = body.clone();
            bad[at] ^= 1;
            let err = decrypt_seipd(&bad, &session()).err().unwrap().to_string();
            assert!(err.contains("integrity check"), "{at}: {err}");
        }
        let aes128 = SessionKey {
            algo: 7,
            key: Zeroizing::new(key.to_vec()),
        };
        let err = decrypt_seipd(&body, &aes128).err().unwrap().to_string();
        assert!(err.contains("length"), "{err}");
    }

    #[test]
    fn a_compressed_packet_may_not_inflate_without_bound() {
        // 16 MiB of zeros deflate to about 16 KiB: anyone with the public key can make such a
        // message, and it must not make the installer allocate what the data inflates to.
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 16 << 20]).unwrap();
        let body = [&[1u8][..], &enc.finish().unwrap()].concat();
        let Err(err) = decompress(&body) else {
            panic!("a 16 MiB inflation was accepted");
        };
        assert!(err.to_string().contains("too large"), "{err}");
        // A small one still inflates.
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(b"KEY").unwrap();
        let body = [&[1u8][..], &enc.finish().unwrap()].concat();
        assert_eq!(&decompress(&body).unwrap()[..], b"KEY");
    }

    #[test]
    fn partial_body_lengths_are_joined() {
        // new-format literal packet, first part 2 bytes (0xE1), last part 3 bytes
        let data = [0xC0 | TAG_LITERAL, 0xE1, b'a', b'b', 3, b'c', b'd', b'e'];
        let p = split_packets(&data).unwrap();
        assert_eq!(p, vec![(TAG_LITERAL, b"abcde".to_vec())]);
        // old format, one-byte length
        let p = split_packets(&[0x80 | (TAG_MARKER << 2), 3, b'P', b'G', b'P']).unwrap();
        assert_eq!(p, vec![(TAG_MARKER, b"PGP".to_vec())]);
        assert!(split_packets(&[0xC0 | TAG_LITERAL, 5, 1]).is_err());
    }
}
