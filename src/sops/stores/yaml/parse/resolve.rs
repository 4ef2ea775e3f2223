//! Scalar typing as yaml.v3 resolves it: null and boolean words, integers in Go's base-0
//! syntax (underscores removed), floats, `.inf`/`.nan`, timestamps (plain scalars only), and
//! explicit tags (`!!str`, `!!binary`, `!!int`, ...). Unknown tags give the text as a string.

use base64::Engine;

use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Timestamp, Value};

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
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Some(Value::Null)),
        "true" | "True" | "TRUE" => return Ok(Some(Value::Bool(true))),
        "false" | "False" | "FALSE" => return Ok(Some(Value::Bool(false))),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Some(Value::Float(f64::INFINITY)))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Some(Value::Float(f64::NEG_INFINITY))),
        ".nan" | ".NaN" | ".NAN" => return Ok(Some(Value::Float(f64::NAN))),
        _ => {}
    }
    let first = s.as_bytes().first().copied().unwrap_or_default();
    if first == b'.' {
        return Ok(yaml_float(s).map(Value::Float));
    }
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return Ok(None);
    }
    if timestamps {
        if let Some(t) = parse_timestamp(s) {
            return Ok(Some(Value::Time(t)));
        }
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    match go_parse_int(&plain) {
        IntParse::Int(i) => return Ok(Some(Value::Int(i))),
        IntParse::Uint => {
            return Err("integer beyond the signed 64-bit range (sops cannot process it)")
        }
        IntParse::No => {}
    }
    Ok(yaml_float(&plain).map(Value::Float))
}

enum IntParse {
    Int(i64),
    /// Fits Go's uint64 but not int64.
    Uint,
    No,
}

/// Go's `ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`.
fn go_parse_int(s: &str) -> IntParse {
    let (neg, signed, body) = match s.as_bytes().first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.get(..2).map(|p| p.to_ascii_lowercase());
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return IntParse::No;
    }
    let Ok(mag) = u64::from_str_radix(digits, radix) else {
        return IntParse::No;
    };
    if neg {
        if mag <= 1u64 << 63 {
            IntParse::Int((mag as i64).wrapping_neg())
        } else {
            IntParse::No
        }
    } else if mag <= i64::MAX as u64 {
        IntParse::Int(mag as i64)
    } else if !signed {
        IntParse::Uint
    } else {
        IntParse::No
    }
}

/// A float in yaml.v3's syntax `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` that Go
/// parses without a range error. The emitter asks the same question to decide quoting.
pub(in crate::sops::stores::yaml) fn yaml_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Reads up to `max` ASCII digits at `*i`; at least one is required.
fn digits(b: &[u8], i: &mut usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v = 0u32;
    while *i - start < max && b.get(*i).is_some_and(u8::is_ascii_digit) {
        v = v * 10 + u32::from(b[*i] - b'0');
        *i += 1;
    }
    (*i > start).then_some(v)
}

/// yaml.v3's timestamp forms: `YYYY-M-D`, `YYYY-M-D[Tt]h:m:s[.frac](Z|±hh:mm)` and
/// `YYYY-M-D h:m:s[.frac]` (UTC).
pub(super) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 6 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut i = 0;
    let year = digits(b, &mut i, 4)? as i32;
    i += 1;
    let month = digits(b, &mut i, 2)?;
    (b.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    let day = digits(b, &mut i, 2)?;
    let mut t = Timestamp {
        year,
        month: month as u8,
        day: day as u8,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_seconds: 0,
    };
    if i == b.len() {
        return t.is_valid().then_some(t);
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    i += 1;
    t.hour = digits(b, &mut i, 2)? as u8;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    t.minute = digits(b, &mut i, 2)? as u8;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    t.second = digits(b, &mut i, 2)? as u8;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut n = 0u32;
        let mut count = 0;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if count < 9 {
                n = n * 10 + u32::from(b[i] - b'0');
                count += 1;
            }
            i += 1;
        }
        t.nanos = n * 10u32.pow(9 - count);
    }
    if sep != b' ' {
        match b.get(i) {
            Some(b'Z') => i += 1,
            Some(&c @ (b'+' | b'-')) => {
                let z = b.get(i + 1..i + 6)?;
                if z[2] != b':' || !z[..2].iter().chain(&z[3..]).all(u8::is_ascii_digit) {
                    return None;
                }
                let hh = i32::from(z[0] - b'0') * 10 + i32::from(z[1] - b'0');
                let mm = i32::from(z[3] - b'0') * 10 + i32::from(z[4] - b'0');
                if hh > 24 || mm > 60 {
                    return None;
                }
                let off = hh * 3600 + mm * 60;
                t.offset_seconds = if c == b'-' { -off } else { off };
                i += 6;
            }
            _ => return None,
        }
    }
    (i == b.len() && t.is_valid()).then_some(t)
}
