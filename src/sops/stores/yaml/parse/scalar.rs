//! Scalar text: plain scalars (with line folding), single- and double-quoted scalars (with
//! escapes and folding), and literal / folded block scalars (with chomping and indentation
//! indicators). Everything here produces the decoded text; typing is `resolve`'s job.

use super::scanner::{PResult, Parser};
use crate::secret_bytes::SecretBytes;

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'a> Parser<'a> {
    /// Reads the rest of the current line of a plain scalar; returns the byte range of its
    /// text without trailing whitespace and leaves `pos` right after that text.
    pub fn plain_line(&mut self, flow: bool) -> (usize, usize) {
        let start = self.pos;
        let mut end = self.pos;
        while let Some(c) = self.peek() {
            let stop = match c {
                b'\n' | b'\r' => true,
                b':' => {
                    self.blank_at(1) || (flow && self.peek_at(1).is_some_and(is_flow_indicator))
                }
                b'#' => self.pos > start && matches!(self.b.get(self.pos - 1), Some(b' ' | b'\t')),
                _ => flow && is_flow_indicator(c),
            };
            if stop {
                break;
            }
            self.pos += 1;
            if c != b' ' && c != b'\t' {
                end = self.pos;
            }
        }
        self.pos = end;
        (start, end)
    }

    /// Continues a plain scalar over the following lines that are indented at least
    /// `min_indent` (any indentation in flow context), folding line breaks.
    pub fn plain_continue(
        &mut self,
        out: &mut SecretBytes,
        min_indent: usize,
        flow: bool,
    ) -> PResult<()> {
        loop {
            let saved = (self.pos, self.line, self.line_start);
            self.skip_inline_ws();
            if !self.at_break() {
                self.restore(saved);
                return Ok(());
            }
            let mut breaks = 0usize;
            while self.eat_break() {
                breaks += 1;
                self.skip_inline_ws();
            }
            let stop = match self.peek() {
                None | Some(b'#') => true,
                Some(c) => {
                    self.at_doc_marker()
                        || (!flow && self.col() < min_indent)
                        || (flow && (is_flow_indicator(c) || (c == b':' && self.blank_at(1))))
                }
            };
            if stop {
                self.restore(saved);
                return Ok(());
            }
            let (s, e) = self.plain_line(flow);
            if s == e {
                self.restore(saved);
                return Ok(());
            }
            if breaks == 1 {
                out.push(b' ');
            } else {
                for _ in 1..breaks {
                    out.push(b'\n');
                }
            }
            out.extend_from_slice(&self.b[s..e]);
        }
    }

    pub fn restore(&mut self, saved: (usize, usize, usize)) {
        (self.pos, self.line, self.line_start) = saved;
    }

    /// Length of a Unicode line break (NEL, LS, PS) at `pos`, 0 if there is none.
    fn unicode_break_len(&self) -> usize {
        match (self.peek(), self.peek_at(1), self.peek_at(2)) {
            (Some(0xc2), Some(0x85), _) => 2,
            (Some(0xe2), Some(0x80), Some(0xa8 | 0xa9)) => 3,
            _ => 0,
        }
    }

    /// Consumes one line break of any kind; returns its text as kept in a folded scalar
    /// (LS and PS stay themselves, every other break becomes `\n`), or `None` if there is none.
    fn eat_any_break(&mut self) -> Option<&'a [u8]> {
        if self.eat_break() {
            return Some(b"\n");
        }
        match self.unicode_break_len() {
            0 => None,
            2 => {
                self.pos += 2;
                Some(b"\n")
            }
            n => {
                let text = &self.b[self.pos..self.pos + n];
                self.pos += n;
                Some(text)
            }
        }
    }

    /// Folds a line break inside a quoted scalar: trailing whitespace already written since
    /// `ws_mark` is dropped, leading whitespace of the next lines is skipped; a lone `\n`
    /// break becomes a space, a LS/PS break is kept, later breaks are kept.
    fn fold_quoted_break(&mut self, out: &mut SecretBytes, ws_mark: Option<usize>) -> PResult<()> {
        if let Some(m) = ws_mark {
            out.truncate(m);
        }
        let mut leading: Option<&'a [u8]> = None;
        let mut more = SecretBytes::new();
        while let Some(brk) = self.eat_any_break() {
            if leading.is_none() {
                leading = Some(brk);
            } else {
                more.extend_from_slice(brk);
            }
            self.skip_inline_ws();
        }
        if self.at_doc_marker() {
            return Err(self.err("document marker inside a quoted scalar"));
        }
        match leading {
            Some(b"\n") if more.is_empty() => out.push(b' '),
            Some(b"\n") => out.extend_from_slice(more.as_bytes()),
            Some(other) => {
                out.extend_from_slice(other);
                out.extend_from_slice(more.as_bytes());
            }
            None => {}
        }
        Ok(())
    }

    /// Reads a single-quoted scalar starting at its opening quote.
    pub fn single_quoted(&mut self) -> PResult<SecretBytes> {
        let start_line = self.line;
        self.pos += 1;
        let mut out = SecretBytes::new();
        let mut ws_mark = None;
        loop {
            match self.peek() {
                None => {
                    return Err(crate::sops::stores::StoreError::at_line(
                        start_line,
                        "unterminated single-quoted string",
                    ))
                }
                Some(b'\'') => {
                    if self.peek_at(1) == Some(b'\'') {
                        out.push(b'\'');
                        self.pos += 2;
                        ws_mark = None;
                    } else {
                        self.pos += 1;
                        return Ok(out);
                    }
                }
                Some(b'\n' | b'\r') => {
                    self.fold_quoted_break(&mut out, ws_mark)?;
                    ws_mark = None;
                }
                Some(_) if self.unicode_break_len() > 0 => {
                    self.fold_quoted_break(&mut out, ws_mark)?;
                    ws_mark = None;
                }
                Some(c @ (b' ' | b'\t')) => {
                    ws_mark.get_or_insert(out.len());
                    out.push(c);
                    self.pos += 1;
                }
                Some(_) => {
                    let s = self.pos;
                    while !matches!(
                        self.peek(),
                        None | Some(b'\'' | b' ' | b'\t' | b'\n' | b'\r')
                    ) && (self.pos == s || self.unicode_break_len() == 0)
                    {
                        self.pos += 1;
                    }
                    out.extend_from_slice(&self.b[s..self.pos]);
                    ws_mark = None;
                }
            }
        }
    }

    /// Reads a double-quoted scalar starting at its opening quote.
    pub fn double_quoted(&mut self) -> PResult<SecretBytes> {
        let start_line = self.line;
        self.pos += 1;
        let mut out = SecretBytes::new();
        let mut ws_mark = None;
        loop {
            match self.peek() {
                None => {
                    return Err(crate::sops::stores::StoreError::at_line(
                        start_line,
                        "unterminated double-quoted string",
                    ))
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    if self.at_break() {
                        self.eat_break();
                        self.skip_inline_ws();
                    } else {
                        self.escape(&mut out)?;
                    }
                    ws_mark = None;
                }
                Some(b'\n' | b'\r') => {
                    self.fold_quoted_break(&mut out, ws_mark)?;
                    ws_mark = None;
                }
                Some(_) if self.unicode_break_len() > 0 => {
                    self.fold_quoted_break(&mut out, ws_mark)?;
                    ws_mark = None;
                }
                Some(c @ (b' ' | b'\t')) => {
                    ws_mark.get_or_insert(out.len());
                    out.push(c);
                    self.pos += 1;
                }
                Some(_) => {
                    let s = self.pos;
                    while !matches!(
                        self.peek(),
                        None | Some(b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r')
                    ) && (self.pos == s || self.unicode_break_len() == 0)
                    {
                        self.pos += 1;
                    }
                    out.extend_from_slice(&self.b[s..self.pos]);
                    ws_mark = None;
                }
            }
        }
    }

    /// Decodes one escape sequence after its backslash.
    fn escape(&mut self, out: &mut SecretBytes) -> PResult<()> {
        let Some(c) = self.peek() else {
            return Err(self.err("unterminated double-quoted string"));
        };
        self.pos += 1;
        let simple: Option<char> = match c {
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\x0b'),
            b'f' => Some('\x0c'),
            b'r' => Some('\r'),
            b'e' => Some('\x1b'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'/' => Some('/'),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{a0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            _ => None,
        };
        let ch = match (simple, c) {
            (Some(ch), _) => ch,
            (None, b'x' | b'u' | b'U') => {
                let n = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let digits = self
                    .b
                    .get(self.pos..self.pos + n)
                    .and_then(|d| std::str::from_utf8(d).ok())
                    .filter(|d| d.bytes().all(|x| x.is_ascii_hexdigit()))
                    .ok_or_else(|| self.err_col("invalid escape in double-quoted string"))?;
                let code = u32::from_str_radix(digits, 16)
                    .map_err(|_| self.err_col("invalid escape in double-quoted string"))?;
                self.pos += n;
                char::from_u32(code)
                    .ok_or_else(|| self.err_col("escape names an invalid character"))?
            }
            _ => return Err(self.err_col("invalid escape in double-quoted string")),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }
}
