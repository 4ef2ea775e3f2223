//! Scalar typing as yaml.v3 resolves it: plain scalars by the shared rules of
//! [`typing`](super::super::typing) (null and boolean words, integers, floats, timestamps), and
//! explicit tags (`!!str`, `!!binary`, `!!int`, ...). Unknown tags give the text as a string.

use base64::Engine;

use super::super::typing::{self, Plain};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::Value;

/// A node's tag, reduced to what matters for typing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Timestamp,
    Binary,
    Merge,
    Map,
    Seq,
    /// `!` alone, or a tag yaml.v3 does not resolve (`!mytag`).
    Other,
}

impl Tag {
    /// Parses the text of a tag property (starting with `!`).
    pub fn from_text(t: &str) -> Tag {
        let core = if let Some(rest) = t.strip_prefix("!!") {
            rest
        } else if let Some(rest) = t
            .strip_prefix("!<tag:yaml.org,2002:")
            .and_then(|r| r.strip_suffix('>'))
        {
            rest
        } else {
            return Tag::Other;
        };
        match core {
            "str" => Tag::Str,
            "int" => Tag::Int,
            "float" => Tag::Float,
            "bool" => Tag::Bool,
            "null" => Tag::Null,
            "timestamp" => Tag::Timestamp,
            "binary" => Tag::Binary,
            "merge" => Tag::Merge,
            "map" => Tag::Map,
            "seq" => Tag::Seq,
            _ => Tag::Other,
        }
    }
}

/// Why a scalar could not be typed (the caller adds the line).
pub(super) type ResolveError = &'static str;

/// Types a scalar: `plain` is false for quoted and block scalars.
pub(super) fn resolve(
    text: SecretBytes,
    plain: bool,
    tag: Option<Tag>,
) -> Result<Value, ResolveError> {
    match tag {
        None if !plain => Ok(Value::Str(text)),
        None => {
            let Some(s) = text.as_str() else {
                return Ok(Value::Str(text));
            };
            match implicit(s, true)? {
                Some(v) => Ok(v),
                None => Ok(Value::Str(text)),
            }
        }
        Some(Tag::Str | Tag::Merge | Tag::Other) => Ok(Value::Str(text)),
        Some(Tag::Map | Tag::Seq) => Err("a collection tag on a scalar"),
        Some(Tag::Binary) => decode_binary(&text),
        Some(t) => {
            let s = text.as_str().ok_or("invalid UTF-8")?;
            let v = implicit(s, t == Tag::Timestamp)?;
            match (t, v) {
                (Tag::Int, Some(v @ Value::Int(_))) => Ok(v),
                (Tag::Float, Some(v @ Value::Float(_))) => Ok(v),
                (Tag::Float, Some(Value::Int(i))) => Ok(Value::Float(i as f64)),
                (Tag::Bool, Some(v @ Value::Bool(_))) => Ok(v),
                (Tag::Null, Some(v @ Value::Null)) => Ok(v),
                (Tag::Timestamp, Some(v @ Value::Time(_))) => Ok(v),
                _ => Err("scalar does not match its explicit tag"),
            }
        }
    }
}

fn decode_binary(text: &SecretBytes) -> Result<Value, ResolveError> {
    let cleaned: Vec<u8> = text
        .as_bytes()
        .iter()
        .copied()
        .filter(|&c| c != b'\n' && c != b'\r')
        .collect();
    let cleaned = SecretBytes::from_vec(cleaned);
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let mut out = SecretBytes::with_capacity(cleaned.len() / 4 * 3 + 3);
    let decoded = engine
        .decode(cleaned.as_bytes())
        .map_err(|_| "invalid base64 in !!binary scalar")?;
    out.extend_from_slice(&decoded);
    let mut decoded = decoded;
    zeroize::Zeroize::zeroize(&mut decoded);
    Ok(Value::Str(out))
}

/// The implicit type of a plain scalar; `None` means "a string". `timestamps` allows the
/// timestamp forms.
fn implicit(s: &str, timestamps: bool) -> Result<Option<Value>, ResolveError> {
    Ok(match typing::plain(s, timestamps) {
        None => None,
        Some(Plain::Null) => Some(Value::Null),
        Some(Plain::Bool(b)) => Some(Value::Bool(b)),
        Some(Plain::Int(i)) => Some(Value::Int(i)),
        Some(Plain::Uint) => {
            return Err("integer beyond the signed 64-bit range (sops cannot process it)")
        }
        Some(Plain::Float(f)) => Some(Value::Float(f)),
        Some(Plain::Time(t)) => Some(Value::Time(t)),
    })
}
