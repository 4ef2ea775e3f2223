//! Would a string written as a plain scalar read back as something other than a string?
//!
//! yaml.v3's encoder double-quotes such strings. This reproduces its resolution rules as far as
//! they decide that question: null, bool, `.inf`/`.nan` words, integers (Go `ParseInt` with base
//! prefixes after dropping `_`, or `ParseUint`), YAML-style floats that Go parses without a range
//! error, timestamps as Go's `time.Parse` accepts them in yaml.v3's four layouts, plus the YAML
//! 1.1 booleans and base-60 numbers that yaml.v3 quotes for compatibility.

use zeroize::Zeroizing;

/// True when yaml.v3 would quote `s` rather than print it plain.
pub(super) fn needs_quotes(s: &str) -> bool {
    resolves_to_non_string(s) || is_old_bool(s) || is_base60(s)
}

fn resolves_to_non_string(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return true; // empty is null
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            is_special_word(s)
        }
        b'.' => is_special_word(s) || is_dot_float(s),
        b'+' | b'-' | b'0'..=b'9' => is_special_word(s) || is_number_or_time(s),
        _ => false,
    }
}

fn is_special_word(s: &str) -> bool {
    matches!(
        s,
        "~" | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    )
}

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
            2 => return false,
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

/// Go `ParseFloat` on a string starting with `.`: `.digits[e[+-]digits]`, finite; Go's
/// literal syntax allows `_` between two digits.
fn is_dot_float(s: &str) -> bool {
    let raw = s.as_bytes();
    let underscores_ok = raw.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0
                && raw[i - 1].is_ascii_digit()
                && raw.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return false;
    }
    let s: Zeroizing<String> = Zeroizing::new(s.chars().filter(|c| *c != '_').collect());
    let b = s.as_bytes();
    let mut i = 1;
    let start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == start {
        return false;
    }
    if !exponent_tail(b, i) {
        return false;
    }
    s.parse::<f64>().is_ok_and(f64::is_finite)
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

fn is_number_or_time(s: &str) -> bool {
    if super::timestamp::is_go_timestamp(s) {
        return true;
    }
    let plain: Zeroizing<String> = Zeroizing::new(s.chars().filter(|c| *c != '_').collect());
    is_go_int(&plain) || is_yaml_float(&plain)
}

/// Go `ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds.
fn is_go_int(s: &str) -> bool {
    let b = s.as_bytes();
    let (neg, signed, rest) = match b.first() {
        Some(b'-') => (true, true, &b[1..]),
        Some(b'+') => (false, true, &b[1..]),
        _ => (false, false, b),
    };
    let (base, digits): (u32, &[u8]) = match rest {
        [b'0', b'x' | b'X', d @ ..] => (16, d),
        [b'0', b'o' | b'O', d @ ..] => (8, d),
        [b'0', b'b' | b'B', d @ ..] => (2, d),
        [b'0', _, ..] => (8, rest),
        _ => (10, rest),
    };
    if digits.is_empty() {
        return false;
    }
    let mut value: u64 = 0;
    for &c in digits {
        let Some(d) = (c as char).to_digit(base) else {
            return false;
        };
        let Some(v) = value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        else {
            return false;
        };
        value = v;
    }
    if neg {
        value <= 1u64 << 63
    } else if signed {
        value <= i64::MAX as u64
    } else {
        true
    }
}

/// A float in yaml.v3's syntax that Go parses without a range error: the reader's own test.
fn is_yaml_float(s: &str) -> bool {
    super::super::parse::yaml_float(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::needs_quotes;

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
}
