//! The INI reader: gopkg.in/ini.v1 as sops 3.11 loads files (non-unique sections), rebuilt
//! from the behaviour of the real binary (spec 2.6; cases pinned in tests/data/dotenv-ini).
//!
//! Lines split after `\n`, leading whitespace ignored, blank lines skipped. `;`/`#` lines
//! collect into a pending comment that goes to the next section header or key (ini.v1 keeps
//! the raw lines, sops strips the first line's marker). Values lose inline comments, one pair
//! of surrounding `"`/`'`, and may be `"""`/backquote quoted (possibly over several lines) or
//! continued with a trailing backslash.

use std::collections::HashMap;

use super::text::{find, find_any, rfind, trim, trim_start};
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;

/// One key of a section; `comment` is what sops stores as the comment item after it.
pub struct IniKey {
    pub name: String,
    pub value: SecretBytes,
    pub comment: Option<SecretBytes>,
}

/// One section in file order; the implicit `DEFAULT` section is always the first.
pub struct IniSection {
    pub name: String,
    pub comment: Option<SecretBytes>,
    pub keys: Vec<IniKey>,
    index: HashMap<String, usize>,
}

impl IniSection {
    fn new(name: String, comment: Option<SecretBytes>) -> Self {
        IniSection {
            name,
            comment,
            keys: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds a key; a repeated name replaces the earlier value and comment in place.
    fn set(&mut self, name: String, value: SecretBytes, comment: Option<SecretBytes>) {
        if let Some(key) = self.index.get(&name).and_then(|&i| self.keys.get_mut(i)) {
            key.value = value;
            key.comment = comment;
            return;
        }
        self.index.insert(name.clone(), self.keys.len());
        self.keys.push(IniKey {
            name,
            value,
            comment,
        });
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    line_no: usize,
    /// Raw comment lines (and inline comments) not yet given to a section or key.
    comment: SecretBytes,
}

impl<'a> Parser<'a> {
    /// The next line including its `\n`, or `None` at the end of the input.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let rest = self.input.get(self.pos..).filter(|r| !r.is_empty())?;
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        self.pos += len;
        self.line_no += 1;
        Some(&rest[..len])
    }

    fn err(&self, msg: &str) -> StoreError {
        StoreError::at_line(self.line_no, msg)
    }

    /// The pending comment as sops stores it: trimmed, first marker stripped; `None` if none.
    fn take_comment(&mut self) -> Option<SecretBytes> {
        let pending = std::mem::take(&mut self.comment);
        let text = trim(pending.as_bytes());
        if text.is_empty() {
            return None;
        }
        let strip: &[u8] = match text[0] {
            b';' => b"; ",
            b'#' => b"# ",
            _ => b"",
        };
        let start = text
            .iter()
            .position(|b| !strip.contains(b))
            .unwrap_or(text.len());
        Some(SecretBytes::copy_from(&text[start..]))
    }

    fn utf8(&self, bytes: &[u8], what: &str) -> Result<String, StoreError> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(self.err(&format!("{what} is not valid UTF-8"))),
        }
    }

    fn section_header(&mut self, line: &[u8]) -> Result<IniSection, StoreError> {
        let Some(close) = line.iter().rposition(|&b| b == b']') else {
            return Err(self.err("unclosed section header"));
        };
        let name = line.get(1..close).unwrap_or_default();
        if name.is_empty() {
            return Err(self.err("empty section name"));
        }
        let name = self.utf8(name, "a section name")?;
        let after = &line[close + 1..];
        if let Some(i) = find_any(after, b"#;") {
            self.comment.extend_from_slice(&after[i..]);
        }
        Ok(IniSection::new(name, self.take_comment()))
    }

    /// Splits a key line into the key name and the raw text after the delimiter.
    fn key_and_rest(&self, line: &'a [u8]) -> Result<(String, &'a [u8]), StoreError> {
        let quote: &[u8] = if line.starts_with(b"\"\"\"") {
            b"\"\"\""
        } else if line.starts_with(b"\"") {
            b"\""
        } else if line.starts_with(b"`") {
            b"`"
        } else {
            b""
        };
        let (name, after_name) = if quote.is_empty() {
            let Some(d) = find_any(line, b"=:") else {
                return Err(self.err("key-value delimiter not found"));
            };
            (&line[..d], &line[d..])
        } else {
            let inner = &line[quote.len()..];
            let Some(end) = find(inner, quote) else {
                return Err(self.err("missing closing key quote"));
            };
            (&inner[..end], &inner[end + quote.len()..])
        };
        let Some(d) = find_any(after_name, b"=:") else {
            return Err(self.err("key-value delimiter not found"));
        };
        let name = trim(name);
        if name.is_empty() {
            return Err(self.err("empty key name"));
        }
        Ok((self.utf8(name, "a key")?, &after_name[d + 1..]))
    }

    /// Reads the value that starts with `raw` (the rest of the key line, with its `\n`).
    fn value(&mut self, raw: &[u8]) -> Result<SecretBytes, StoreError> {
        let line = trim_start(raw);
        let quote: &[u8] = if line.len() > 3 && line.starts_with(b"\"\"\"") {
            b"\"\"\""
        } else if line.starts_with(b"`") {
            b"`"
        } else {
            b""
        };
        if !quote.is_empty() {
            return self.quoted_value(&line[quote.len()..], quote);
        }
        let mut v = trim(line);
        if let Some(head) = v.strip_suffix(b"\\") {
            return Ok(self.continued_value(head));
        }
        if let Some(i) = find_any(v, b"#;") {
            self.comment.extend_from_slice(&v[i..]);
            v = trim(&v[..i]);
        }
        for q in [b'"', b'\''] {
            let inner_has_q = v.len() >= 2 && v[1..v.len() - 1].contains(&q);
            if v.len() >= 2 && v[0] == q && v[v.len() - 1] == q && !inner_has_q {
                v = &v[1..v.len() - 1];
                break;
            }
        }
        Ok(SecretBytes::copy_from(v))
    }

    /// A `"""` or backquoted value: up to the last quote of the line it closes on.
    fn quoted_value(&mut self, first: &[u8], quote: &[u8]) -> Result<SecretBytes, StoreError> {
        if let Some(end) = rfind(first, quote) {
            return Ok(SecretBytes::copy_from(&first[..end]));
        }
        let opened_at = self.line_no;
        let mut value = SecretBytes::copy_from(first);
        loop {
            let Some(line) = self.next_line() else {
                return Err(StoreError::at_line(
                    opened_at,
                    "missing closing quote of a quoted value",
                ));
            };
            if let Some(end) = rfind(line, quote) {
                value.extend_from_slice(&line[..end]);
                let after = &line[end + quote.len()..];
                if let Some(i) = find_any(after, b"#;") {
                    self.comment.extend_from_slice(&after[i..]);
                }
                return Ok(value);
            }
            value.extend_from_slice(line);
        }
    }

    /// A value whose line ends in a backslash: trimmed following lines are appended until one
    /// does not end in a backslash, or a blank line or the end of the input.
    fn continued_value(&mut self, head: &[u8]) -> SecretBytes {
        let mut value = SecretBytes::copy_from(head);
        while let Some(line) = self.next_line() {
            let part = trim(line);
            if part.is_empty() {
                break;
            }
            match part.strip_suffix(b"\\") {
                Some(more) => value.extend_from_slice(more),
                None => {
                    value.extend_from_slice(part);
                    break;
                }
            }
        }
        value
    }
}

/// Parses an INI file into its sections (the first is always the implicit `DEFAULT`).
pub fn parse(input: &[u8]) -> Result<Vec<IniSection>, StoreError> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let mut p = Parser {
        input,
        pos: 0,
        line_no: 0,
        comment: SecretBytes::new(),
    };
    let mut sections = vec![IniSection::new("DEFAULT".to_string(), None)];
    while let Some(raw) = p.next_line() {
        let line = trim_start(raw);
        match line.first() {
            None => continue,
            Some(b';' | b'#') => p.comment.extend_from_slice(line),
            Some(b'[') => {
                let section = p.section_header(line)?;
                sections.push(section);
            }
            Some(_) => {
                let (name, rest) = p.key_and_rest(line)?;
                let value = p.value(rest)?;
                let comment = p.take_comment();
                if let Some(section) = sections.last_mut() {
                    section.set(name, value, comment);
                }
            }
        }
    }
    Ok(sections)
}
