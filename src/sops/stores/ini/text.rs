//! Byte-level text helpers common to the INI and dotenv stores: Go's Unicode whitespace
//! trimming on possibly invalid UTF-8, and Go's rendering of non-string scalars as sops prints
//! them in flat stores (`1.0`, `1E+06`, `<nil>`, RFC 3339 without fractions).

use crate::secret_bytes::SecretBytes;
use crate::sops::tree::Value;

/// The length of the whitespace character at the start of `s`, if there is one.
///
/// Whitespace is Unicode `White_Space` (what Go's `unicode.IsSpace` and Rust's
/// `char::is_whitespace` both test); invalid UTF-8 is never whitespace.
fn leading_space_len(s: &[u8]) -> Option<usize> {
    let first = *s.first()?;
    let len = match first {
        0x00..=0x7f => return (first as char).is_whitespace().then_some(1),
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(s.get(..len)?).ok()?.chars().next()?;
    c.is_whitespace().then_some(len)
}

/// The length of the whitespace character at the end of `s`, if there is one.
fn trailing_space_len(s: &[u8]) -> Option<usize> {
    let last = *s.last()?;
    if last < 0x80 {
        return (last as char).is_whitespace().then_some(1);
    }
    // Step back over at most three continuation bytes to the start of the last character.
    let mut start = s.len() - 1;
    while start > 0 && s.len() - start < 4 && (s[start] & 0xc0) == 0x80 {
        start -= 1;
    }
    let tail = s.get(start..)?;
    leading_space_len(tail).filter(|&n| n == tail.len())
}

/// `s` without leading whitespace.
pub fn trim_start(mut s: &[u8]) -> &[u8] {
    while let Some(n) = leading_space_len(s) {
        s = &s[n..];
    }
    s
}

/// `s` without trailing whitespace.
pub fn trim_end(mut s: &[u8]) -> &[u8] {
    while let Some(n) = trailing_space_len(s) {
        s = &s[..s.len() - n];
    }
    s
}

/// `s` without leading and trailing whitespace (Go's `strings.TrimSpace`).
pub fn trim(s: &[u8]) -> &[u8] {
    trim_end(trim_start(s))
}

/// The index of the first byte of `s` that is one of `set`.
pub fn find_any(s: &[u8], set: &[u8]) -> Option<usize> {
    s.iter().position(|b| set.contains(b))
}

/// The index of the last occurrence of `needle` in `s`.
pub fn rfind(s: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || s.len() < needle.len() {
        return None;
    }
    (0..=s.len() - needle.len())
        .rev()
        .find(|&i| s[i..].starts_with(needle))
}

/// The index of the first occurrence of `needle` in `s`.
pub fn find(s: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || s.len() < needle.len() {
        return None;
    }
    (0..=s.len() - needle.len()).find(|&i| s[i..].starts_with(needle))
}

/// Appends a scalar as sops 3.11 prints it in a dotenv or INI file.
///
/// Strings are copied; integers in decimal; booleans `true`/`false`; null `<nil>`; timestamps
/// in RFC 3339 without fractional seconds; floats as Go's `FormatFloat(v, 'G', -1, 64)` with
/// `.0` added when that looks like an integer (`1.0`, `-0.0`, `1E+06`, `0.0001`, `NaN`,
/// `+Inf`). Returns `Err` with the kind name for maps, lists and comments.
pub fn push_scalar(out: &mut SecretBytes, v: &Value) -> Result<(), &'static str> {
    match v {
        Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("<nil>"),
        Value::Time(t) => out.push_str(&t.to_rfc3339_seconds()),
        Value::Float(f) => out.push_str(&go_format_float_upper_g(*f)),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => return Err(v.kind_name()),
    }
    Ok(())
}

/// Go's `strconv.FormatFloat(v, 'G', -1, 64)`, plus `.0` when the result has only digits.
fn go_format_float_upper_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip mantissa and a bare exponent (`1.5e-7`).
    let sci = format!("{v:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    let mut s = if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exp.unsigned_abs())
    } else {
        // Shortest digits in positional notation, as Go's %f part of 'G' prints them.
        format!("{v}")
    };
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        s.push_str(".0");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_follows_unicode_whitespace_and_stops_at_invalid_utf8() {
        assert_eq!(trim(b" \t\x0b\x0c\r\n a b \r\n"), b"a b");
        assert_eq!(trim("\u{a0}x\u{3000}".as_bytes()), b"x");
        assert_eq!(trim(b"\xff \xc2"), b"\xff \xc2");
        assert_eq!(trim(b" \xc2\xa0"), b"");
        assert_eq!(trim_end("x\u{2028}".as_bytes()), b"x");
        assert_eq!(trim(b""), b"");
    }

    #[test]
    fn floats_print_as_sops_prints_them_in_flat_stores() {
        let cases = [
            (1.0, "1.0"),
            (100000.0, "100000.0"),
            (1234567.0, "1.234567E+06"),
            (0.000001, "1E-06"),
            (1e21, "1E+21"),
            (1e-7, "1E-07"),
            (5e-324, "5E-324"),
            (0.0001, "0.0001"),
            (123456789012345678.0, "1.2345678901234568E+17"),
            (1.5e300, "1.5E+300"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (12345.678, "12345.678"),
            (1e6, "1E+06"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(go_format_float_upper_g(v), want, "{v}");
        }
    }

    #[test]
    fn scalars_other_than_floats_print_like_go() {
        let mut out = SecretBytes::new();
        push_scalar(&mut out, &Value::Null).unwrap();
        push_scalar(&mut out, &Value::Bool(true)).unwrap();
        push_scalar(&mut out, &Value::Int(-9223372036854775808)).unwrap();
        assert_eq!(out.as_bytes(), b"<nil>true-9223372036854775808");
        assert!(push_scalar(&mut out, &Value::List(vec![])).is_err());
    }
}
