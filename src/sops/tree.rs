//! The document tree every store reads into and writes from.
//!
//! A sops file is one or more *branches* (YAML documents; every other store has exactly one),
//! each an ordered map. Order and duplicate keys are kept, comments are items of their map or
//! elements of their list, exactly as sops models them. Strings and comments live in
//! [`SecretBytes`] because after decryption they are plaintext.
//!
//! This module also owns the value renderings that do not depend on a store: the bytes fed to
//! the MAC and written into `ENC[...]` plaintexts (Go's `FormatFloat(v, 'f', -1, 64)`, `True`,
//! RFC 3339 with nanoseconds).

use crate::secret_bytes::SecretBytes;

/// One leaf or collection.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string (UTF-8 for every store but binary, where it is the raw file content).
    Str(SecretBytes),
    Time(Timestamp),
    Map(Map),
    List(Vec<Value>),
    /// A comment that is an element of a list (comments in maps are [`Entry::Comment`]).
    Comment(SecretBytes),
}

/// Marks a comment text as inline: sops 3.13 keeps a comment that followed a scalar value on
/// its line (yaml.v3's line comment) and prints it after that value again. A comment read from
/// a file never holds a line break, so the mark cannot be part of one.
pub const INLINE_MARK: u8 = b'\n';

/// The text of an inline comment (without its mark), `None` for an ordinary one.
pub fn inline_comment(text: &[u8]) -> Option<&[u8]> {
    text.strip_prefix(&[INLINE_MARK])
}

/// A comment text without its inline mark.
pub fn comment_text(text: &[u8]) -> &[u8] {
    inline_comment(text).unwrap_or(text)
}

/// An ordered map; duplicate keys are allowed and kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(pub Vec<Entry>);

/// One item of a map: a key with its value, or a comment line.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Pair(String, Value),
    Comment(SecretBytes),
}

impl Map {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// The value of the first pair with this key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find_map(|e| match e {
            Entry::Pair(k, v) if k == key => Some(v),
            _ => None,
        })
    }

    /// Key/value pairs in order, comments skipped.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().filter_map(|e| match e {
            Entry::Pair(k, v) => Some((k.as_str(), v)),
            Entry::Comment(_) => None,
        })
    }

    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.0.push(Entry::Pair(key.into(), value));
    }
}

impl Value {
    /// A string value made from UTF-8 text.
    pub fn str(s: &str) -> Value {
        Value::Str(SecretBytes::from(s))
    }

    /// Bytes fed to the MAC and used as the plaintext of an `ENC[...]` value, as sops renders
    /// them. `None` for values that have no such rendering (maps, lists, null, comments).
    pub fn render_scalar(&self) -> Option<SecretBytes> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(SecretBytes::from(i.to_string())),
            Value::Float(f) => Some(SecretBytes::from(go_format_float_f(*f))),
            Value::Bool(true) => Some(SecretBytes::from("True")),
            Value::Bool(false) => Some(SecretBytes::from("False")),
            Value::Time(t) => Some(SecretBytes::from(t.to_rfc3339_nano())),
            Value::Null | Value::Map(_) | Value::List(_) | Value::Comment(_) => None,
        }
    }

    /// A short name for the kind of value, for error messages (never the value itself).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Time(_) => "timestamp",
            Value::Map(_) => "map",
            Value::List(_) => "list",
            Value::Comment(_) => "comment",
        }
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn go_format_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        // Rust's Display for f64 prints the shortest round-trip digits in positional notation,
        // including "-0" for negative zero, which is what Go's 'f' format with precision -1 does.
        format!("{v}")
    }
}

/// A timestamp as Go's `time.Time` keeps it: civil date and time, nanoseconds, and the
/// offset it was written with (UTC when none was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
    /// Offset east of UTC in seconds; 0 prints as `Z`.
    pub offset_seconds: i32,
}

impl Timestamp {
    /// Go's `time.Time.MarshalText` (RFC 3339 with nanoseconds, trailing zeros trimmed).
    pub fn to_rfc3339_nano(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push_str(&self.offset_suffix());
        s
    }

    /// Go's RFC 3339 layout without fractional seconds (used for the MAC's additional data).
    pub fn to_rfc3339_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.offset_suffix()
        )
    }

    fn offset_suffix(&self) -> String {
        if self.offset_seconds == 0 {
            return "Z".to_string();
        }
        let sign = if self.offset_seconds < 0 { '-' } else { '+' };
        let abs = self.offset_seconds.unsigned_abs();
        format!("{sign}{:02}:{:02}", abs / 3600, (abs / 60) % 60)
    }

    /// Parses RFC 3339 as Go's `time.Parse(time.RFC3339Nano, s)` does: `T` and `Z` upper case,
    /// optional fraction, `Z` or `±hh:mm`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = num(0..4)? as i32;
        let month = num(5..7)? as u8;
        let day = num(8..10)? as u8;
        let hour = num(11..13)? as u8;
        let minute = num(14..16)? as u8;
        let second = num(17..19)? as u8;
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start || end - start > 9 {
                return None;
            }
            let digits = &s[start..end];
            nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
            i = end;
        }
        let offset_seconds = match &s[i..] {
            "Z" => 0,
            rest if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
                let rb = rest.as_bytes();
                if rb[3] != b':' {
                    return None;
                }
                let hh = num(i + 1..i + 3)? as i32;
                let mm = num(i + 4..i + 6)? as i32;
                if hh > 23 || mm > 59 {
                    return None;
                }
                let off = hh * 3600 + mm * 60;
                if rest.starts_with('-') {
                    -off
                } else {
                    off
                }
            }
            _ => return None,
        };
        let t = Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset_seconds,
        };
        t.is_valid().then_some(t)
    }

    /// Whether the civil fields name a real instant (Go rejects day 31 of a 30-day month etc.).
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
            && self.nanos < 1_000_000_000
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_render_like_go_f_format() {
        assert_eq!(go_format_float_f(1.0), "1");
        assert_eq!(go_format_float_f(1e10), "10000000000");
        assert_eq!(go_format_float_f(-0.0), "-0");
        assert_eq!(go_format_float_f(1e-7), "0.0000001");
        assert_eq!(go_format_float_f(f64::INFINITY), "+Inf");
        assert_eq!(go_format_float_f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_format_float_f(f64::NAN), "NaN");
    }

    #[test]
    fn timestamps_round_trip_rfc3339() {
        for s in [
            "2024-01-02T00:00:00Z",
            "2001-12-14T21:59:43.1-05:00",
            "2001-12-14T21:59:43.123456789+02:00",
        ] {
            let t = Timestamp::parse_rfc3339(s).expect(s);
            assert_eq!(t.to_rfc3339_nano(), s);
        }
    }

    #[test]
    fn rfc3339_seconds_drops_the_fraction_and_writes_zero_offset_as_z() {
        let t = Timestamp::parse_rfc3339("2026-11-22T11:16:41.000+00:00").unwrap();
        assert_eq!(t.to_rfc3339_seconds(), "2026-11-22T11:16:41Z");
        let t = Timestamp::parse_rfc3339("2026-11-22T13:16:41+02:00").unwrap();
        assert_eq!(t.to_rfc3339_seconds(), "2026-11-22T13:16:41+02:00");
    }

    #[test]
    fn lower_case_t_and_bad_dates_are_rejected() {
        assert!(Timestamp::parse_rfc3339("2026-11-22t11:16:41Z").is_none());
        assert!(Timestamp::parse_rfc3339("2026-11-22T11:16:41z").is_none());
        assert!(Timestamp::parse_rfc3339("2026-02-30T11:16:41Z").is_none());
        assert!(Timestamp::parse_rfc3339("").is_none());
    }
}
