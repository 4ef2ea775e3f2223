//! yaml.v3's typing of plain scalars: the one definition both directions use.
//!
//! The reader types a plain scalar with it (null and boolean words, integers in Go's base-0
//! syntax after dropping `_`, floats, `.inf`/`.nan`, timestamps); the printer asks the same
//! question to decide whether a string must be double-quoted to read back as a string, and
//! adds the two YAML 1.1 forms yaml.v3's encoder also quotes for compatibility (`yes`/`no`/`on`/
//! `off` words and base-60 numbers) without reading them as such.

use zeroize::Zeroizing;

use crate::sops::tree::Timestamp;

/// What a plain scalar reads as when it is not a string.
#[derive(Debug, PartialEq)]
pub(super) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    /// Fits Go's uint64 but not int64 (yaml.v3 reads it; sops cannot process it).
    Uint,
    Float(f64),
    Time(Timestamp),
}

/// The type yaml.v3 gives the plain scalar `s`; `None` means "a string". `timestamps` allows
/// the timestamp forms (plain scalars and `!!timestamp` only).
pub(super) fn plain(s: &str, timestamps: bool) -> Option<Plain> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Plain::Null),
        "true" | "True" | "TRUE" => return Some(Plain::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Plain::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Plain::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Plain::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Plain::Float(f64::NAN)),
        _ => {}
    }
    let first = s.as_bytes().first().copied().unwrap_or_default();
    if first == b'.' {
        return dot_float(s).map(Plain::Float);
    }
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return None;
    }
    if timestamps {
        if let Some(t) = parse_timestamp(s) {
            return Some(Plain::Time(t));
        }
    }
    let plain: Zeroizing<String> = Zeroizing::new(s.chars().filter(|&c| c != '_').collect());
    match go_parse_int(&plain) {
        IntParse::Int(i) => Some(Plain::Int(i)),
        IntParse::Uint => Some(Plain::Uint),
        IntParse::No => yaml_float(&plain).map(Plain::Float),
    }
}

/// True when yaml.v3's encoder would quote the string `s` rather than print it plain.
pub(super) fn needs_quotes(s: &str) -> bool {
    plain(s, true).is_some() || is_old_bool(s) || is_base60(s)
}

/// The YAML 1.1 booleans yaml.v3 reads as strings but quotes when printing.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 base-60 numbers, quoted by the printer:
/// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`
fn is_base60(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && i - start < 2 && b[i].is_ascii_digit() {
            i += 1;
        }
        // One digit, or two with the first in 0-5.
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

enum IntParse {
    Int(i64),
    /// Fits Go's uint64 but not int64.
    Uint,
    No,
}

/// Go's `ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)` (on text without `_`).
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

/// Go's `ParseFloat` on a plain scalar starting with `.` (yaml.v3 hands it the text as it is):
/// `.digits[e[+-]digits]`, finite, with Go's literal rule for `_` (only between two digits).
fn dot_float(s: &str) -> Option<f64> {
    let raw = s.as_bytes();
    let underscores_ok = raw.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0
                && raw[i - 1].is_ascii_digit()
                && raw.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return None;
    }
    let s: Zeroizing<String> = Zeroizing::new(s.chars().filter(|c| *c != '_').collect());
    let b = s.as_bytes();
    let mut i = 1;
    let start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == start || !exponent_tail(b, i) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// True when `b[i..]` is empty or `[eE][-+]?[0-9]+`.
fn exponent_tail(b: &[u8], mut i: usize) -> bool {
    if i == b.len() {
        return true;
    }
    if !matches!(b[i], b'e' | b'E') {
        return false;
    }
    i += 1;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i > start && i == b.len()
}

/// A float in yaml.v3's syntax `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` that Go
/// parses without a range error.
pub(super) fn yaml_float(s: &str) -> Option<f64> {
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

/// yaml.v3's timestamp forms, as Go's `time.Parse` reads its layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999` (UTC) and
/// `2006-1-2`, after yaml.v3's check that the text starts with four digits and a dash.
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

#[cfg(test)]
mod tests {
    use super::{needs_quotes, parse_timestamp, plain, Plain};

    #[test]
    fn strings_that_read_back_as_other_types_need_quotes() {
        for s in [
            "",
            "~",
            "null",
            "NULL",
            "true",
            "False",
            "y",
            "no",
            "OFF",
            "123",
            "-7",
            "+1",
            "0x1F",
            "0o17",
            "017",
            "0b101",
            "1_000",
            "1e3",
            "1.5",
            ".5",
            "+.5",
            "1.",
            ".inf",
            "-.Inf",
            ".NaN",
            "2024-01-01",
            "2024-1-2",
            "12:30",
            "190:20:30.15",
            "-1:30",
            "08",
            ".5_0",
            "18446744073709551615",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
        ] {
            assert!(needs_quotes(s), "{s:?}");
        }
    }

    #[test]
    fn other_strings_stay_plain() {
        for s in [
            "inf",
            "NaN",
            "Inf",
            "-",
            "+",
            ".",
            "hello",
            "0x",
            "1e",
            "1e400",
            "_1",
            "2024-13-01",
            "2024-02-30",
            "12:60",
            "yes!",
            "nul",
            "<<",
            "1.2.3",
            "0x1p3",
            "--1",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43",
            "._5",
            ".5_",
            ".5__0",
        ] {
            assert!(!needs_quotes(s), "{s:?}");
        }
    }

    #[test]
    fn the_four_yaml_v3_layouts_are_timestamps() {
        for s in [
            "2024-01-02",
            "2024-1-2",
            "2001-12-14T21:59:43Z",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2001-12-14 1:2:3",
            "2000-02-29",
        ] {
            assert!(parse_timestamp(s).is_some(), "{s}");
        }
    }

    #[test]
    fn near_misses_are_not_timestamps() {
        for s in [
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43",
            "2024-13-01",
            "2023-02-29",
            "2024-001-01",
            "24-01-01",
            "2024-01-01x",
            "2001-12-14T25:00:00Z",
            "2001-12-14T21:59:43z",
        ] {
            assert!(parse_timestamp(s).is_none(), "{s}");
        }
    }

    #[test]
    fn a_dot_float_may_separate_digits_with_underscores_as_go_does() {
        // sops 3.11 (yaml.v3) encrypts `.5_0` with type float and prints it back as 0.5; `._5`
        // stays a string. The reader and the printer now agree on both.
        assert_eq!(plain(".5_0", true), Some(Plain::Float(0.5)));
        assert_eq!(plain(".5e1_0", true), Some(Plain::Float(5e9)));
        assert_eq!(plain("._5", true), None);
        assert_eq!(plain("1_0.5", true), Some(Plain::Float(10.5)));
    }
}
