//! Literal (`|`) and folded (`>`) block scalars: header indicators, content indentation
//! (explicit or detected from the first non-empty line), folding and chomping.

use super::scanner::{PResult, Parser};
use crate::secret_bytes::SecretBytes;

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

impl<'a> Parser<'a> {
    /// Reads a block scalar whose indicator (`|` or `>`) is at `pos`. `parent_indent` is the
    /// indentation of the collection holding it (-1 at the top of a document).
    pub fn block_scalar(&mut self, parent_indent: isize) -> PResult<SecretBytes> {
        let literal = self.peek() == Some(b'|');
        self.pos += 1;
        let mut chomp = Chomp::Clip;
        let mut explicit: Option<usize> = None;
        for _ in 0..2 {
            match self.peek() {
                Some(b'-') if chomp == Chomp::Clip => chomp = Chomp::Strip,
                Some(b'+') if chomp == Chomp::Clip => chomp = Chomp::Keep,
                Some(c @ b'1'..=b'9') if explicit.is_none() => explicit = Some((c - b'0') as usize),
                _ => break,
            }
            self.pos += 1;
        }
        let had_ws = matches!(self.peek(), Some(b' ' | b'\t'));
        self.skip_inline_ws();
        if self.peek() == Some(b'#') && had_ws {
            // yaml.v3 makes it the scalar's line comment: inline in sops 3.13.
            let text = self.read_comment();
            let mut marked = SecretBytes::copy_from(&[crate::sops::tree::INLINE_MARK]);
            marked.extend_from_slice(text.as_bytes());
            self.trailing.push(marked);
        }
        if !self.at_eol() {
            return Err(self.err_col("invalid block scalar header"));
        }
        self.eat_break();
        let base = parent_indent.max(-1);
        let indent = match explicit {
            Some(m) => (base.max(0) as usize) + m,
            None => {
                let detected = self.detect_indent();
                detected.max((base + 1) as usize).max(1)
            }
        };
        let mut out = SecretBytes::new();
        let mut empties = 0usize;
        let mut had_content = false;
        let mut prev_more_indented = false;
        loop {
            if self.eof() {
                break;
            }
            let line_begin = (self.pos, self.line, self.line_start);
            let mut sp = 0;
            while sp < indent && self.peek() == Some(b' ') {
                self.pos += 1;
                sp += 1;
            }
            if sp < indent {
                self.skip_inline_ws();
                if self.at_break() {
                    self.eat_break();
                    empties += 1;
                    continue;
                }
                if self.eof() {
                    break;
                }
                self.restore(line_begin);
                break;
            }
            if self.at_eol() {
                empties += 1;
                if !self.eat_break() {
                    break;
                }
                continue;
            }
            let start = self.pos;
            while !self.at_eol() {
                self.pos += 1;
            }
            let text = &self.b[start..self.pos];
            let more_indented = matches!(text.first(), Some(b' ' | b'\t'));
            if !had_content {
                push_n(&mut out, b'\n', empties);
            } else if literal || more_indented || prev_more_indented {
                push_n(&mut out, b'\n', empties + 1);
            } else if empties == 0 {
                out.push(b' ');
            } else {
                push_n(&mut out, b'\n', empties);
            }
            out.extend_from_slice(text);
            had_content = true;
            prev_more_indented = more_indented;
            empties = 0;
            if !self.eat_break() {
                break;
            }
        }
        match (chomp, had_content) {
            (Chomp::Strip, _) => {}
            (Chomp::Clip, true) => out.push(b'\n'),
            (Chomp::Clip, false) => {}
            (Chomp::Keep, true) => push_n(&mut out, b'\n', empties + 1),
            (Chomp::Keep, false) => push_n(&mut out, b'\n', empties),
        }
        Ok(out)
    }

    /// The indentation of the first non-empty line from `pos` (0 when there is none).
    fn detect_indent(&self) -> usize {
        let mut i = self.pos;
        loop {
            let mut sp = 0;
            while self.b.get(i) == Some(&b' ') {
                i += 1;
                sp += 1;
            }
            match self.b.get(i) {
                Some(b'\n') => i += 1,
                Some(b'\r') => {
                    i += 1;
                    if self.b.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                None => return 0,
                Some(_) => return sp,
            }
        }
    }
}

fn push_n(out: &mut SecretBytes, c: u8, n: usize) {
    for _ in 0..n {
        out.push(c);
    }
}
