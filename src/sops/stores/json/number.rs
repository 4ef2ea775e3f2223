//! JSON numbers: the grammar (`-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`), conversion
//! to float64 as Go's `ParseFloat` does (correctly rounded, out of range is an error), and
//! Go's JSON spelling of floats and ints.
//!
//! Rendered numbers are plaintext, so they are formatted in a stack buffer that is wiped
//! afterwards and copied straight into the output.

use std::fmt::Write as _;

use zeroize::Zeroize;

use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;

/// Why a number did not scan.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// The input ended inside the number.
    End,
    /// The byte at this offset cannot continue the number.
    BadByte(usize),
}

/// Scans a number starting at `start` (a `-` or a digit) and returns where it ends.
pub(crate) fn scan(input: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut i = start;
    if input.get(i) == Some(&b'-') {
        i += 1;
    }
    match input.get(i) {
        None => return Err(ScanError::End),
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits_end(input, i),
        Some(_) => return Err(ScanError::BadByte(i)),
    }
    if input.get(i) == Some(&b'.') {
        i += 1;
        match input.get(i) {
            None => return Err(ScanError::End),
            Some(b'0'..=b'9') => i = digits_end(input, i),
            Some(_) => return Err(ScanError::BadByte(i)),
        }
    }
    if let Some(b'e' | b'E') = input.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = input.get(i) {
            i += 1;
        }
        match input.get(i) {
            None => return Err(ScanError::End),
            Some(b'0'..=b'9') => i = digits_end(input, i),
            Some(_) => return Err(ScanError::BadByte(i)),
        }
    }
    Ok(i)
}

fn digits_end(input: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = input.get(i) {
        i += 1;
    }
    i
}

/// The float64 nearest to a scanned number, `None` when it is beyond the float64 range (Go's
/// `ParseFloat` reports a range error there; tiny numbers round to zero without error).
pub(crate) fn to_f64(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// The int64 of an integer literal (no fraction, no exponent) that fits one, as sops 3.13
/// keeps it; `-0` is 0.
pub(crate) fn to_i64(text: &[u8]) -> Option<i64> {
    if text.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// A fixed buffer for one rendered number, wiped on drop.
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(std::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Drop for StackBuf {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// Appends `v` as Go's `encoding/json` writes a float64: shortest round-trip digits,
/// positional when 1e-6 <= |v| < 1e21 (and for zero), otherwise `d.ddde±x` with at least two
/// exponent digits for positive exponents and none padded for negative ones (`1e+21`, `1e-7`).
pub(crate) fn write_float(out: &mut SecretBytes, v: f64) -> Result<(), StoreError> {
    if !v.is_finite() {
        return Err(StoreError::new("json: unsupported value (NaN or infinity)"));
    }
    let abs = v.abs();
    let mut buf = StackBuf::new();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        write!(buf, "{v}").map_err(|_| render_error())?;
        out.extend_from_slice(buf.bytes());
        return Ok(());
    }
    write!(buf, "{v:e}").map_err(|_| render_error())?;
    let text = buf.bytes();
    let e = text
        .iter()
        .position(|&b| b == b'e')
        .ok_or_else(render_error)?;
    let (mantissa, exp) = (
        text.get(..e).unwrap_or(&[]),
        text.get(e + 1..).unwrap_or(&[]),
    );
    out.extend_from_slice(mantissa);
    out.push(b'e');
    match exp.strip_prefix(b"-") {
        Some(digits) => {
            out.push(b'-');
            out.extend_from_slice(digits);
        }
        None => {
            out.push(b'+');
            if exp.len() < 2 {
                out.push(b'0');
            }
            out.extend_from_slice(exp);
        }
    }
    Ok(())
}

/// Appends an integer in decimal.
pub(crate) fn write_int(out: &mut SecretBytes, v: i64) -> Result<(), StoreError> {
    let mut buf = StackBuf::new();
    write!(buf, "{v}").map_err(|_| render_error())?;
    out.extend_from_slice(buf.bytes());
    Ok(())
}

fn render_error() -> StoreError {
    StoreError::new("json: a number could not be rendered")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut out = SecretBytes::new();
        write_float(&mut out, v).expect("finite");
        String::from_utf8(out.as_bytes().to_vec()).expect("ascii")
    }

    #[test]
    fn floats_switch_to_exponent_form_outside_1e_minus_6_to_1e21() {
        assert_eq!(float(1.0), "1");
        assert_eq!(float(1e10), "10000000000");
        assert_eq!(float(1e20), "100000000000000000000");
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(0.000001), "0.000001");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(1.5e-10), "1.5e-10");
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(float(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(float(-1.5e300), "-1.5e+300");
        assert_eq!(float(-0.0), "-0");
        assert_eq!(float(0.0), "0");
        assert_eq!(float(12345678901234567890.0), "12345678901234567000");
    }

    #[test]
    fn nan_and_infinities_cannot_be_printed() {
        let mut out = SecretBytes::new();
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(write_float(&mut out, v).is_err());
        }
        assert!(out.is_empty());
    }

    #[test]
    fn ints_print_in_decimal() {
        let mut out = SecretBytes::new();
        write_int(&mut out, i64::MIN).expect("renders");
        assert_eq!(out.as_bytes(), b"-9223372036854775808");
    }

    #[test]
    fn the_number_grammar_is_json_s() {
        for ok in [
            "0",
            "-0",
            "12",
            "1.5",
            "1e5",
            "1E+5",
            "-0.0e-0",
            "123.456e789",
        ] {
            assert_eq!(scan(ok.as_bytes(), 0), Ok(ok.len()), "{ok}");
        }
        assert_eq!(scan(b"01", 0), Ok(1));
        assert_eq!(scan(b"1.5.", 0), Ok(3));
        for (bad, at) in [("-x", 1), ("1.x", 2), ("1e}", 2), ("1e+x", 3), ("-.5", 1)] {
            assert_eq!(
                scan(bad.as_bytes(), 0),
                Err(ScanError::BadByte(at)),
                "{bad}"
            );
        }
        for end in ["-", "1.", "1e", "1e-"] {
            assert_eq!(scan(end.as_bytes(), 0), Err(ScanError::End), "{end}");
        }
    }

    #[test]
    fn conversion_rounds_correctly_and_rejects_overflow() {
        assert_eq!(to_f64(b"9007199254740993"), Some(9007199254740992.0));
        assert_eq!(to_f64(b"1e-400"), Some(0.0));
        assert_eq!(to_f64(b"1e400"), None);
        assert_eq!(to_f64(b"-1e400"), None);
        assert_eq!(to_f64(b"0.1"), Some(0.1));
    }
}
