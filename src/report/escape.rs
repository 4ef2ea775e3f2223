//! Making text safe to print as one line on a terminal or in the journal.
//!
//! Names, paths, unit names and text relayed from gpg, plugins and systemctl come from
//! manifests and helpers we do not control. Control characters (C0, DEL, C1: newlines, carriage
//! returns, terminal escapes) and Unicode direction overrides (which reorder what a reader
//! sees) are shown as escapes (`\n`, `\u{1b}`, `\u{202e}`), so one line stays one line and
//! means what it says. Every error, warning, note, change line and log line goes through here.

use std::borrow::Cow;

/// True for characters that must not reach a terminal as they are.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every control character and direction override escaped.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`escape`] for bytes that may not be UTF-8 (invalid sequences become U+FFFD).
pub fn escape_bytes(bytes: &[u8]) -> String {
    escape(&String::from_utf8_lossy(bytes)).into_owned()
}

/// A writer for the log formatter: each write is one formatted event; its final newline is
/// kept and everything else is escaped.
pub struct EscapingWriter<W: std::io::Write>(pub W);

impl<W: std::io::Write> std::io::Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, newline) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (buf, false),
        };
        let mut line = escape_bytes(body);
        if newline {
            line.push('\n');
        }
        self.0.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn control_characters_and_direction_overrides_are_escaped() {
        assert_eq!(
            escape("a\nb\r\t\u{1b}[31m\u{7f}\u{85}\u{202e}c\0"),
            "a\\nb\\r\\t\\u{1b}[31m\\u{7f}\\u{85}\\u{202e}c\\u{0}"
        );
        assert!(matches!(escape("plain é"), Cow::Borrowed("plain é")));
    }

    #[test]
    fn the_log_writer_keeps_one_line_per_event() {
        let mut w = EscapingWriter(Vec::new());
        w.write_all(b"WARN x\ny\xff\x1b\n").unwrap();
        assert_eq!(w.0, "WARN x\\ny\u{fffd}\\u{1b}\n".as_bytes());
    }
}
