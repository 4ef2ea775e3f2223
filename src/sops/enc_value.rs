//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` values: parsing and AES-256-GCM decryption.
//!
//! The syntax follows sops' pattern (greedy fields, anything after the closing `]` ignored),
//! base64 is decoded as leniently as Go's decoder, and the IV is used at whatever length it
//! has (sops writes 32 bytes, which GCM hashes into its counter block).

use aes_gcm::aead::consts::{U12, U32};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, KeyInit};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::secret_bytes::SecretBytes;

/// The type tag of an encrypted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Comment,
    Bytes,
}

/// A parsed `ENC[...]` value (ciphertext is not secret).
#[derive(Debug, Clone)]
pub struct EncValue {
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    /// The type tag as written; an error if it is not one sops knows.
    pub value_type: Result<ValueType, UnknownValueType>,
}

/// A type tag sops does not know (at most 32 characters of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValueType(pub String);

/// Why an `ENC[...]` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncError {
    /// Not of the `ENC[AES256_GCM,...]` form at all.
    NotEncrypted,
    /// The form is right but a field is not valid base64 or has the wrong length.
    Malformed(&'static str),
    /// GCM authentication failed: wrong key, tampered value, or moved to another key.
    Authentication,
}

const PREFIX: &[u8] = b"ENC[AES256_GCM,data:";

/// Splits `ENC[AES256_GCM,data:D,iv:I,tag:T,type:Y]` into its four fields exactly as sops'
/// pattern `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]` does: `.` stops at a
/// newline, every group is greedy and non-empty, and text after the last usable `]` is
/// ignored. Greedy groups each take the last separator that leaves the rest matchable, which
/// is found from the right in linear time (a backtracking regex was the hottest spot of an
/// activation).
fn split_fields(s: &[u8]) -> Option<[&[u8]; 4]> {
    let rest = s.strip_prefix(PREFIX)?;
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    let close = line.iter().rposition(|&b| b == b']')?;
    let ty = last_before(line, b",type:", close)?;
    let tag = last_before(line, b",tag:", ty)?;
    let iv = last_before(line, b",iv:", tag)?;
    if iv == 0 {
        return None;
    }
    Some([
        &line[..iv],
        &line[iv + 4..tag],
        &line[tag + 5..ty],
        &line[ty + 6..close],
    ])
}

/// The last position of `needle` in `hay` that leaves at least one byte before `end`.
fn last_before(hay: &[u8], needle: &[u8], end: usize) -> Option<usize> {
    let limit = end.checked_sub(needle.len() + 1)?;
    (0..=limit).rev().find(|&p| hay[p..].starts_with(needle))
}

const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether a string looks like an encrypted value at all.
pub fn looks_encrypted(s: &[u8]) -> bool {
    s.starts_with(b"ENC[")
}

impl EncValue {
    pub fn parse(s: &[u8]) -> Result<EncValue, EncError> {
        let fields = split_fields(s).ok_or(EncError::NotEncrypted)?;
        let field = |i: usize| fields[i - 1];
        let decode = |i: usize, name: &'static str| {
            LENIENT_BASE64
                .decode(field(i))
                .map_err(|_| EncError::Malformed(name))
        };
        let data = decode(1, "data is not base64")?;
        let iv = decode(2, "iv is not base64")?;
        let tag = decode(3, "tag is not base64")?;
        if tag.len() != 16 {
            return Err(EncError::Malformed("the tag is not 16 bytes"));
        }
        if iv.len() != 32 && iv.len() != 12 {
            return Err(EncError::Malformed("the iv is neither 32 nor 12 bytes"));
        }
        let value_type = match field(4) {
            b"str" => Ok(ValueType::Str),
            b"int" => Ok(ValueType::Int),
            b"float" => Ok(ValueType::Float),
            b"bool" => Ok(ValueType::Bool),
            b"time" => Ok(ValueType::Time),
            b"comment" => Ok(ValueType::Comment),
            b"bytes" => Ok(ValueType::Bytes),
            other => Err(UnknownValueType(
                String::from_utf8_lossy(other).chars().take(32).collect(),
            )),
        };
        Ok(EncValue {
            data,
            iv,
            tag,
            value_type,
        })
    }

    /// Decrypts with the data key, authenticating `aad` (the value's key path).
    pub fn decrypt(&self, key: &[u8; 32], aad: &[u8]) -> Result<SecretBytes, EncError> {
        let mut buf = SecretBytes::copy_from(&self.data);
        let tag = GenericArray::from_slice(&self.tag);
        let key = GenericArray::from_slice(key);
        let ok = if self.iv.len() == 32 {
            AesGcm::<Aes256, U32>::new(key).decrypt_in_place_detached(
                GenericArray::from_slice(&self.iv),
                aad,
                buf.as_mut_bytes(),
                tag,
            )
        } else {
            AesGcm::<Aes256, U12>::new(key).decrypt_in_place_detached(
                GenericArray::from_slice(&self.iv),
                aad,
                buf.as_mut_bytes(),
                tag,
            )
        };
        ok.map_err(|_| EncError::Authentication)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand splitter agrees with sops' regular expression on inputs built from the
    /// pieces that matter (separators repeated, brackets, newlines, empty fields).
    #[test]
    fn the_field_splitter_matches_the_sops_pattern() {
        let re =
            regex::bytes::Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
                .unwrap();
        let pieces: [&[u8]; 9] = [
            b",iv:", b",tag:", b",type:", b"]", b"a", b"\n", b",", b"b]", b"ENC[",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut matched = 0;
        for _ in 0..50_000 {
            let mut s = PREFIX.to_vec();
            // Half the inputs follow the real layout with noise between the separators.
            let skeleton: &[&[u8]] = if next() % 2 == 0 {
                &[b",iv:", b",tag:", b",type:", b"]"]
            } else {
                &[]
            };
            for sep in skeleton.iter().chain([&b""[..]].iter()) {
                for _ in 0..(next() % 4) {
                    s.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
                s.extend_from_slice(sep);
            }
            let want = re.captures(&s).map(|c| {
                [1, 2, 3, 4].map(|i| c.get(i).map(|m| m.as_bytes().to_vec()).unwrap_or_default())
            });
            let got = split_fields(&s).map(|f| f.map(<[u8]>::to_vec));
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&s));
            matched += usize::from(want.is_some());
        }
        assert!(
            matched > 500,
            "only {matched} inputs matched: the generator is too weak"
        );
    }

    // From the spec's worked example (frozen/mac-example.enc.yaml).
    const KEY: &str = "64731b2f9647d13fb76ec90dc765e704650da9f638295549e466c997d07481e1";
    const USER: &str = "ENC[AES256_GCM,data:tOgQRis=,iv:O+Kh7ut7GwdJIuY3bxwciF+gdec5QrOFG8sEES5wOvs=,tag:9Kgou5GWwoFStKGHNMik2Q==,type:str]";

    fn key() -> [u8; 32] {
        let mut k = [0u8; 32];
        hex::decode_to_slice(KEY, &mut k).unwrap();
        k
    }

    #[test]
    fn a_value_decrypts_with_its_key_path() {
        let v = EncValue::parse(USER.as_bytes()).unwrap();
        assert_eq!(v.value_type, Ok(ValueType::Str));
        assert_eq!(v.decrypt(&key(), b"db:user:").unwrap().as_bytes(), b"admin");
    }

    #[test]
    fn another_key_path_fails_authentication() {
        let v = EncValue::parse(USER.as_bytes()).unwrap();
        assert_eq!(
            v.decrypt(&key(), b"db:password:").err(),
            Some(EncError::Authentication)
        );
    }

    #[test]
    fn plain_text_is_not_an_enc_value() {
        assert_eq!(
            EncValue::parse(b"admin").err(),
            Some(EncError::NotEncrypted)
        );
        assert_eq!(
            EncValue::parse(b"ENC[AES256_GCM,data:,iv:,tag:,type:str]").err(),
            Some(EncError::NotEncrypted)
        );
    }

    #[test]
    fn broken_base64_and_wrong_lengths_are_malformed() {
        let bad = USER.replace("tOgQRis=", "t*gQRis=");
        assert!(matches!(
            EncValue::parse(bad.as_bytes()),
            Err(EncError::Malformed(_))
        ));
        let short_tag = USER.replace("9Kgou5GWwoFStKGHNMik2Q==", "9Kgo");
        assert!(matches!(
            EncValue::parse(short_tag.as_bytes()),
            Err(EncError::Malformed(_))
        ));
    }

    #[test]
    fn unknown_type_tags_are_kept_for_the_error() {
        let v = EncValue::parse(USER.replace("type:str", "type:xyz").as_bytes()).unwrap();
        assert_eq!(v.value_type, Err(UnknownValueType("xyz".to_string())));
    }

    #[test]
    fn text_after_the_closing_bracket_is_ignored() {
        let v = EncValue::parse(format!("{USER} trailing").as_bytes()).unwrap();
        assert_eq!(v.decrypt(&key(), b"db:user:").unwrap().as_bytes(), b"admin");
    }
}
