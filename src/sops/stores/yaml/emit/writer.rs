//! The output cursor of the emitter: bytes go straight into a `SecretBytes`, and the cursor
//! tracks the column and whether the current line holds only indentation (`indention`) or ends
//! in whitespace, because yaml.v3 decides line breaks and separating spaces from exactly these
//! three facts.

use super::chars::{char_width, is_break};
use crate::secret_bytes::SecretBytes;

pub(super) struct Out {
    pub(super) buf: SecretBytes,
    column: usize,
    whitespace: bool,
    indention: bool,
    /// Column of the foot comment just written: the next line at that column is preceded by a
    /// blank line (yaml.v3 separates a foot comment from what follows at its level).
    foot_indent: Option<usize>,
    /// A line comment for the next block scalar's header line (`k: | #c`), as yaml.v3 writes
    /// it there rather than after the text.
    pub(super) header_comment: Option<SecretBytes>,
}

/// Whether `b` starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

impl Out {
    pub(super) fn new() -> Out {
        Out {
            buf: SecretBytes::new(),
            column: 0,
            whitespace: true,
            indention: true,
            foot_indent: None,
            header_comment: None,
        }
    }

    /// Appends raw bytes that contain no line break, counting characters as columns.
    pub(super) fn write(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
        self.column += s.iter().filter(|b| starts_char(**b)).count();
    }

    /// Ends the line with `\n`.
    pub(super) fn put_break(&mut self) {
        self.buf.push(b'\n');
        self.column = 0;
        self.indention = true;
    }

    /// Writes a line-break character of the content: `\n` as a line end, any other break
    /// (U+2028, U+2029) copied raw but still counted as the start of a new line.
    pub(super) fn write_break(&mut self, ch: &[u8]) {
        if ch == b"\n" {
            self.put_break();
        } else {
            self.buf.extend_from_slice(ch);
            self.column = 0;
            self.indention = true;
        }
    }

    /// Moves to column `indent`: a new line unless the current one holds only indentation
    /// short of it, then spaces.
    pub(super) fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.foot_indent.take() == Some(indent) {
            self.put_break();
        }
        while self.column < indent {
            self.write(b" ");
        }
        self.whitespace = true;
        self.indention = true;
    }

    /// Writes an indicator such as `-`, `:`, `?`, `{`, a quote or a tag, preceded by a space
    /// when `need_ws` and the cursor is not after whitespace.
    pub(super) fn indicator(&mut self, s: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.write(b" ");
        }
        self.write(s);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// Marks that ordinary content was written (no longer at whitespace or indentation).
    pub(super) fn mark_content(&mut self) {
        self.whitespace = false;
        self.indention = false;
    }

    /// Content of a block scalar was written: the line holds more than indentation.
    pub(super) fn left_indentation(&mut self) {
        self.indention = false;
    }

    /// After the header line of a block scalar: the new line counts as whitespace.
    pub(super) fn line_started(&mut self) {
        self.whitespace = true;
        self.indention = true;
    }

    pub(super) fn at_whitespace(&self) -> bool {
        self.whitespace
    }

    /// Writes foot comments: like [`Out::comments`], and remembers their column.
    pub(super) fn foot_comments(&mut self, texts: &[&[u8]], indent: usize) {
        if !texts.is_empty() {
            self.comments(texts, indent);
            self.foot_indent = Some(indent);
        }
    }

    /// Sets the column a foot comment is considered to be at (the document end forces 0).
    pub(super) fn force_foot_indent(&mut self, indent: Option<usize>) {
        self.foot_indent = indent;
    }

    /// Writes comment lines `#text` at column `indent` (yaml.v3's comment writer: a line break
    /// inside a text starts a new line at `indent`, with `# ` added when it lacks the `#`).
    pub(super) fn comments(&mut self, texts: &[&[u8]], indent: usize) {
        if texts.is_empty() {
            return;
        }
        self.write_indent(indent);
        let mut breaks = false;
        for (n, text) in texts.iter().enumerate() {
            if n > 0 {
                self.put_break();
                breaks = true;
            }
            // Each item is written as "#" + text.
            if breaks {
                self.write_indent(indent);
            }
            self.write(b"#");
            self.left_indentation();
            breaks = false;
            let mut pound = true;
            let mut i = 0;
            while i < text.len() {
                let w = char_width(text[i]).min(text.len() - i);
                let ch = &text[i..i + w];
                if is_break(ch) {
                    self.write_break(ch);
                    breaks = true;
                    pound = false;
                } else {
                    if breaks {
                        self.write_indent(indent);
                    }
                    if !pound {
                        if ch != b"#" {
                            self.write(b"# ");
                        }
                        pound = true;
                    }
                    self.write(ch);
                    self.left_indentation();
                    breaks = false;
                }
                i += w;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }
}
