//! JSON text -> document tree, accepting exactly what Go's `encoding/json` accepts.
//!
//! One value must fill the input (surrounding JSON whitespace allowed) and it must be an
//! object. Members keep their order and duplicates. Numbers become floats. Strings decode
//! every JSON escape; a surrogate escape that is not the first half of a valid pair becomes
//! U+FFFD, as does every byte of invalid UTF-8. Errors name a line and column, never content.

use super::number::{self, ScanError};
use super::utf8::{decode_char, REPLACEMENT};
use super::MAX_DEPTH;
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::{Entry, Map, Value};

/// Parses a whole document whose top level must be an object.
pub(crate) fn parse_document(input: &[u8]) -> Result<Map, StoreError> {
    let mut p = Parser { input, pos: 0 };
    p.skip_ws();
    let start = p.pos;
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < input.len() {
        return Err(p.error_at(p.pos, "invalid character after top-level value"));
    }
    match value {
        Value::Map(m) => Ok(m),
        other => Err(p.error_at(
            start,
            format!(
                "the top level must be an object, not a {}",
                other.kind_name()
            ),
        )),
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// An error at byte offset `at`, with a 1-based line and column (in bytes).
    fn error_at(&self, at: usize, msg: impl std::fmt::Display) -> StoreError {
        let before = self.input.get(..at).unwrap_or(self.input);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        StoreError::new(format!("line {line}, column {col}: {msg}"))
    }

    fn end_error(&self) -> StoreError {
        self.error_at(self.input.len(), "unexpected end of JSON input")
    }

    /// An error at the current byte, or the end-of-input error when there is none.
    fn unexpected(&self, context: &str) -> StoreError {
        if self.pos >= self.input.len() {
            self.end_error()
        } else {
            self.error_at(self.pos, format!("invalid character {context}"))
        }
    }

    /// One value starting at the current position (whitespace already skipped); `depth` is
    /// the number of objects and arrays around it.
    fn value(&mut self, depth: usize) -> Result<Value, StoreError> {
        match self.peek() {
            None => Err(self.end_error()),
            Some(b'{') => self.object(depth + 1).map(Value::Map),
            Some(b'[') => self.array(depth + 1).map(Value::List),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected("looking for beginning of value")),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), StoreError> {
        if depth > MAX_DEPTH {
            return Err(self.error_at(
                self.pos,
                format!("objects and arrays nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Map, StoreError> {
        self.check_depth(depth)?;
        self.pos += 1;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(map);
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("looking for beginning of object key string"));
            }
            let key = self.key()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("after object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            map.0.push(Entry::Pair(key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(map);
                }
                _ => return Err(self.unexpected("after object key:value pair")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>, StoreError> {
        self.check_depth(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.unexpected("after array element")),
            }
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, StoreError> {
        for &want in word {
            match self.peek() {
                Some(b) if b == want => self.pos += 1,
                _ => return Err(self.unexpected("in literal")),
            }
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<Value, StoreError> {
        let start = self.pos;
        let end = match number::scan(self.input, start) {
            Ok(end) => end,
            Err(ScanError::End) => return Err(self.end_error()),
            Err(ScanError::BadByte(at)) => {
                return Err(self.error_at(at, "invalid character in numeric literal"))
            }
        };
        self.pos = end;
        let text = self.input.get(start..end).unwrap_or(&[]);
        // sops 3.13 reads an integer literal that fits an int64 as that integer (exactly);
        // everything else (fractions, exponents, larger integers) stays a float64.
        if let Some(i) = number::to_i64(text) {
            return Ok(Value::Int(i));
        }
        let v = number::to_f64(text)
            .ok_or_else(|| self.error_at(start, "number out of range for a float64"))?;
        Ok(Value::Float(v))
    }

    /// A member name; keys are not secret, so they become ordinary strings.
    fn key(&mut self) -> Result<String, StoreError> {
        let at = self.pos;
        let bytes = self.string()?;
        String::from_utf8(bytes.as_bytes().to_vec())
            .map_err(|_| self.error_at(at, "object key is not valid UTF-8"))
    }

    /// A string starting at the opening quote, decoded straight into secret memory.
    fn string(&mut self) -> Result<SecretBytes, StoreError> {
        self.pos += 1;
        let mut out = SecretBytes::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.end_error());
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => self.escape(&mut out)?,
                0x00..=0x1f => return Err(self.unexpected("in string literal")),
                0x20..=0x7f => {
                    let run_end = self.ascii_run_end();
                    out.extend_from_slice(self.input.get(self.pos..run_end).unwrap_or(&[]));
                    self.pos = run_end;
                }
                _ => {
                    let rest = self.input.get(self.pos..).unwrap_or(&[]);
                    match decode_char(rest) {
                        Some((_, len)) => {
                            out.extend_from_slice(rest.get(..len).unwrap_or(&[]));
                            self.pos += len;
                        }
                        None => {
                            out.extend_from_slice(REPLACEMENT);
                            self.pos += 1;
                        }
                    }
                }
            }
        }
    }

    /// The end of the run of plain printable ASCII (no quote, no backslash) at the cursor.
    fn ascii_run_end(&self) -> usize {
        let mut i = self.pos;
        while let Some(&b) = self.input.get(i) {
            if !(0x20..=0x7f).contains(&b) || b == b'"' || b == b'\\' {
                break;
            }
            i += 1;
        }
        i
    }

    fn escape(&mut self, out: &mut SecretBytes) -> Result<(), StoreError> {
        self.pos += 1;
        let Some(b) = self.peek() else {
            return Err(self.end_error());
        };
        let simple = match b {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return Err(self.unexpected("in string escape code")),
        };
        if let Some(c) = simple {
            out.push(c);
            self.pos += 1;
            return Ok(());
        }
        self.pos += 1;
        let unit = self.hex4()?;
        let c = if (0xd800..0xdc00).contains(&unit) {
            self.low_surrogate()
                .map(|low| 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))
        } else {
            Some(unit)
        };
        let c = c.and_then(char::from_u32).unwrap_or('\u{fffd}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    /// Four hex digits after `\u`.
    fn hex4(&mut self) -> Result<u32, StoreError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.end_error());
            };
            let d = (b as char)
                .to_digit(16)
                .ok_or_else(|| self.unexpected("in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Ok(v)
    }

    /// Consumes a `\uDC00`..`\uDFFF` escape that completes a surrogate pair, if one follows.
    fn low_surrogate(&mut self) -> Option<u32> {
        let next = self.input.get(self.pos..self.pos.checked_add(6)?)?;
        if next.first() != Some(&b'\\') || next.get(1) != Some(&b'u') {
            return None;
        }
        let hex = std::str::from_utf8(next.get(2..)?).ok()?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let low = u32::from_str_radix(hex, 16).ok()?;
        if !(0xdc00..0xe000).contains(&low) {
            return None;
        }
        self.pos += 6;
        Some(low)
    }
}
