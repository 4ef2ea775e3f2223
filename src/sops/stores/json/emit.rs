//! Document tree -> JSON text as sops prints it: Go's compact encoding passed through
//! `json.Indent` with a tab, which is written here directly.
//!
//! Layout: `{`/`[`, each member or element on its own line one tab deeper, `"key": value`,
//! `,` at line ends, the closing bracket at the parent's indentation; empty containers (also
//! those holding only comments) as `{}`/`[]`. Comments are dropped, times are RFC 3339 strings.
//! Strings are escaped as Go does with HTML escaping on.

use zeroize::Zeroize;

use super::number::{write_float, write_int};
use super::utf8::decode_char;
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::{Entry, Map, Value};

/// Deepest nesting the writer follows (the readers of every store cap lower).
const MAX_EMIT_DEPTH: usize = 1024;

/// The output being built, in secret memory.
pub(crate) struct Emitter {
    out: SecretBytes,
}

impl Emitter {
    pub(crate) fn new() -> Self {
        Emitter {
            out: SecretBytes::new(),
        }
    }

    pub(crate) fn finish(self) -> SecretBytes {
        self.out
    }

    pub(crate) fn newline(&mut self) {
        self.out.push(b'\n');
    }

    fn line_break(&mut self, indent: usize) {
        self.out.push(b'\n');
        for _ in 0..indent {
            self.out.push(b'\t');
        }
    }

    /// Writes any value at nesting level `indent` (the cursor is already placed).
    pub(crate) fn value(&mut self, v: &Value, indent: usize) -> Result<(), StoreError> {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(true) => self.out.push_str("true"),
            Value::Bool(false) => self.out.push_str("false"),
            Value::Int(i) => write_int(&mut self.out, *i)?,
            Value::Float(f) => write_float(&mut self.out, *f)?,
            Value::Str(s) => self.string(s.as_bytes()),
            Value::Time(t) => {
                let mut text = t.to_rfc3339_nano();
                self.string(text.as_bytes());
                text.zeroize();
            }
            Value::Map(m) => self.map(m, indent)?,
            Value::List(items) => self.list(items, indent)?,
            // Lists skip their comments; one anywhere else has no JSON form.
            Value::Comment(_) => {
                return Err(StoreError::new(
                    "json: a comment cannot be printed as a value",
                ))
            }
        }
        Ok(())
    }

    fn check_depth(indent: usize) -> Result<(), StoreError> {
        if indent >= MAX_EMIT_DEPTH {
            return Err(StoreError::new(format!(
                "json: cannot print maps and lists nested deeper than {MAX_EMIT_DEPTH} levels"
            )));
        }
        Ok(())
    }

    /// Writes an object whose opening brace goes at the cursor and whose members are at
    /// `indent + 1` tabs.
    pub(crate) fn map(&mut self, m: &Map, indent: usize) -> Result<(), StoreError> {
        Self::check_depth(indent)?;
        self.out.push(b'{');
        let mut first = true;
        for entry in &m.0 {
            let Entry::Pair(key, value) = entry else {
                continue;
            };
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.line_break(indent + 1);
            self.string(key.as_bytes());
            self.out.push_str(": ");
            self.value(value, indent + 1)?;
        }
        if !first {
            self.line_break(indent);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn list(&mut self, items: &[Value], indent: usize) -> Result<(), StoreError> {
        Self::check_depth(indent)?;
        self.out.push(b'[');
        let mut first = true;
        for item in items {
            if let Value::Comment(_) = item {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.line_break(indent + 1);
            self.value(item, indent + 1)?;
        }
        if !first {
            self.line_break(indent);
        }
        self.out.push(b']');
        Ok(())
    }

    /// Writes a quoted string with Go's escaping (HTML-safe; invalid UTF-8 as `\ufffd`).
    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        let mut i = 0;
        while let Some(&b) = s.get(i) {
            if b < 0x80 {
                self.ascii(b);
                i += 1;
                continue;
            }
            let rest = s.get(i..).unwrap_or(&[]);
            match decode_char(rest) {
                Some(('\u{2028}', len)) => {
                    self.out.push_str("\\u2028");
                    i += len;
                }
                Some(('\u{2029}', len)) => {
                    self.out.push_str("\\u2029");
                    i += len;
                }
                Some((_, len)) => {
                    self.out.extend_from_slice(rest.get(..len).unwrap_or(&[]));
                    i += len;
                }
                None => {
                    self.out.push_str("\\ufffd");
                    i += 1;
                }
            }
        }
        self.out.push(b'"');
    }

    fn ascii(&mut self, b: u8) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match b {
            b'"' => self.out.push_str("\\\""),
            b'\\' => self.out.push_str("\\\\"),
            b'\n' => self.out.push_str("\\n"),
            b'\r' => self.out.push_str("\\r"),
            b'\t' => self.out.push_str("\\t"),
            0x08 => self.out.push_str("\\b"),
            0x0c => self.out.push_str("\\f"),
            0x00..=0x1f | b'<' | b'>' | b'&' => {
                self.out.push_str("\\u00");
                for nibble in [b >> 4, b & 0xf] {
                    self.out
                        .push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
                }
            }
            _ => self.out.push(b),
        }
    }
}
