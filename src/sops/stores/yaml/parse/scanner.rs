//! The parser's cursor over the input: position, line and column bookkeeping, line breaks,
//! whitespace, and the comment lines skipped between nodes (kept as pending or trailing
//! comments for the collections to claim).

use std::collections::HashMap;

use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::Value;

/// Deepest nesting of collections accepted (and of values built from aliases).
pub(super) const MAX_DEPTH: usize = 200;

/// A full-line comment waiting for the collection that owns it.
pub(super) struct Pending {
    pub col: usize,
    pub text: SecretBytes,
}

/// An anchored value with its size (nodes plus string bytes) and nesting height.
pub(super) struct Anchored {
    pub value: Value,
    pub weight: usize,
    pub height: usize,
}

pub(super) struct Parser<'a> {
    pub b: &'a [u8],
    pub pos: usize,
    /// 1-based line of `pos`.
    pub line: usize,
    /// Byte offset where the line of `pos` starts.
    pub line_start: usize,
    /// Collections currently open.
    pub depth: usize,
    pub anchors: HashMap<String, Anchored>,
    /// What alias expansion may still copy (nodes plus string bytes).
    pub budget: usize,
    /// Full-line comments seen but not yet placed, in input order.
    pub pending: Vec<Pending>,
    /// Comments that followed content on the same line, for the current entry or element.
    pub trailing: Vec<SecretBytes>,
    /// Just after a block plain scalar: the column from which a tab may stand in the
    /// indentation of the blank lines that follow it (yaml.v3 scans them as part of the
    /// scalar); anywhere else a tab in a line's indentation is an error.
    pub tab_ok_from: Option<usize>,
}

pub(super) type PResult<T> = Result<T, StoreError>;

impl<'a> Parser<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        let mut p = Parser {
            b,
            pos: 0,
            line: 1,
            line_start: 0,
            depth: 0,
            anchors: HashMap::new(),
            budget: b.len().saturating_mul(16).max(1 << 20),
            pending: Vec::new(),
            trailing: Vec::new(),
            tab_ok_from: None,
        };
        if b.starts_with("\u{feff}".as_bytes()) {
            p.pos = 3;
            p.line_start = 3;
        }
        p
    }

    pub fn err(&self, msg: impl std::fmt::Display) -> StoreError {
        StoreError::at_line(self.line, msg)
    }

    pub fn err_col(&self, msg: impl std::fmt::Display) -> StoreError {
        StoreError::at_line(self.line, format_args!("column {}: {msg}", self.col() + 1))
    }

    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos.saturating_add(off)).copied()
    }

    pub fn col(&self) -> usize {
        self.pos - self.line_start
    }

    pub fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub fn at_break(&self) -> bool {
        matches!(self.peek(), Some(b'\n' | b'\r'))
    }

    pub fn at_eol(&self) -> bool {
        self.eof() || self.at_break()
    }

    /// The byte at `off` is a space, tab, line break or the end of input.
    pub fn blank_at(&self, off: usize) -> bool {
        matches!(self.peek_at(off), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    }

    /// Consumes one line break (`\r\n`, `\n` or `\r`) if there is one.
    pub fn eat_break(&mut self) -> bool {
        match self.peek() {
            Some(b'\r') => {
                self.pos += 1;
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            Some(b'\n') => self.pos += 1,
            _ => return false,
        }
        self.line += 1;
        self.line_start = self.pos;
        true
    }

    pub fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// At column 0 on `---` or `...` followed by a blank.
    pub fn at_doc_marker(&self) -> bool {
        self.col() == 0
            && self.blank_at(3)
            && (self.b[self.pos..].starts_with(b"---") || self.b[self.pos..].starts_with(b"..."))
    }

    /// Only spaces and tabs precede `pos` on its line.
    fn line_blank_before(&self) -> bool {
        self.b[self.line_start..self.pos]
            .iter()
            .all(|&c| c == b' ' || c == b'\t')
    }

    /// Reads a comment at `#` to the end of its line; returns its text.
    pub fn read_comment(&mut self) -> SecretBytes {
        let start = self.pos + 1;
        while !self.at_eol() {
            self.pos += 1;
        }
        SecretBytes::copy_from(&self.b[start.min(self.pos)..self.pos])
    }

    /// Skips spaces, line breaks and comments up to the next content (or the end). Full-line
    /// comments go to `pending`, comments after content on the same line to `trailing`. In
    /// block context a tab in the indentation of a content line is an error.
    pub fn skip_to_content(&mut self, block: bool) -> PResult<()> {
        let tab_ok_from = self.tab_ok_from.take();
        let mut after_comment = false;
        loop {
            let line_start = self.line_blank_before();
            while let Some(c @ (b' ' | b'\t')) = self.peek() {
                if c == b'\t' && block && line_start {
                    let col = self.col();
                    match tab_ok_from {
                        Some(min) if !after_comment && col >= min => {}
                        Some(_) if !after_comment => {
                            return Err(self.err("found a tab character that violates indentation"))
                        }
                        _ => {
                            return Err(
                                self.err("found a tab character in the indentation of a line")
                            )
                        }
                    }
                }
                self.pos += 1;
            }
            match self.peek() {
                Some(b'#') => {
                    after_comment = true;
                    let full_line = self.line_blank_before();
                    let col = self.col();
                    let text = self.read_comment();
                    if full_line {
                        self.pending.push(Pending { col, text });
                    } else {
                        self.trailing.push(text);
                    }
                }
                Some(b'\n' | b'\r') => {
                    self.eat_break();
                }
                None => return Ok(()),
                Some(_) => {
                    if block
                        && self.line_blank_before()
                        && self.b[self.line_start..self.pos].contains(&b'\t')
                    {
                        return Err(self.err("tab character used for indentation"));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Takes the pending comments from the start while their column is at least `min_col`.
    pub fn take_pending_from(&mut self, min_col: usize) -> Vec<SecretBytes> {
        let n = self.pending.iter().take_while(|p| p.col >= min_col).count();
        self.pending.drain(..n).map(|p| p.text).collect()
    }

    pub fn take_all_pending(&mut self) -> Vec<SecretBytes> {
        self.pending.drain(..).map(|p| p.text).collect()
    }

    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The text from `start` to `pos` as UTF-8 (the input was checked to be UTF-8 and slices
    /// are cut at ASCII bytes, so this cannot fail in practice).
    pub fn text(&self, start: usize, end: usize) -> PResult<&'a str> {
        self.b
            .get(start..end)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or_else(|| self.err("invalid UTF-8"))
    }
}
