//! Scalars: which style yaml.v3 picks for a string, and how each style is written.
//!
//! sops encodes every scalar on its own and parses the result back before placing it in the
//! document, so a string's style depends only on the string: literal if it has a `\n`, double
//! quoted if it would read back as another type, plain otherwise; then the emitter's analysis
//! downgrades plain to single-quoted and single-quoted or literal to double-quoted when the
//! characters require it (see the spec, section 7.1).

use base64::Engine;

use super::super::typing::needs_quotes;
use super::chars::{char_width, chars, is_break, is_printable};
use super::writer::Out;
use crate::secret_bytes::SecretBytes;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// A scalar ready to print: its text, an explicit tag (`!!merge`, `!!binary`) and its style.
pub(super) struct Scalar<'a> {
    pub(super) text: Text<'a>,
    pub(super) tag: Option<&'static str>,
    pub(super) style: Style,
    /// The text contains a line break (then it cannot be a simple key).
    pub(super) multiline: bool,
}

pub(super) enum Text<'a> {
    Borrowed(&'a [u8]),
    Secret(SecretBytes),
}

impl Text<'_> {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Text::Borrowed(b) => b,
            Text::Secret(s) => s.as_bytes(),
        }
    }
}

/// A string value or key as a scalar.
pub(super) fn string_scalar(s: &[u8]) -> Scalar<'_> {
    let Ok(text) = std::str::from_utf8(s) else {
        return binary_scalar(s);
    };
    if text == "<<" {
        return Scalar {
            text: Text::Borrowed(s),
            tag: Some("!!merge"),
            style: Style::Plain,
            multiline: false,
        };
    }
    let wanted = if text.contains('\n') {
        Style::Literal
    } else if needs_quotes(text) {
        Style::Double
    } else {
        Style::Plain
    };
    let a = analyze(s);
    let style = match wanted {
        Style::Plain if a.plain_ok => Style::Plain,
        Style::Plain if a.single_ok => Style::Single,
        Style::Literal if a.block_ok => Style::Literal,
        _ => Style::Double,
    };
    if style == Style::Literal && s.first() == Some(&b'\t') {
        // yaml.v3 cannot read back a literal block whose first line starts with a tab (the
        // indentation detection rejects it), so sops' encode-and-reparse step fails, leaves an
        // empty node, and that prints as `null` [verified with sops 3.11].
        return plain_scalar("null".to_string());
    }
    Scalar {
        text: Text::Borrowed(s),
        tag: None,
        style,
        multiline: a.line_breaks,
    }
}

/// Invalid UTF-8: `!!binary` with base64, broken into lines of 70 when longer than that.
fn binary_scalar(s: &[u8]) -> Scalar<'static> {
    let encoded = SecretBytes::from(base64::engine::general_purpose::STANDARD.encode(s));
    let mut text = SecretBytes::with_capacity(encoded.len() + encoded.len() / 70 + 1);
    let multiline = encoded.len() >= 70;
    for chunk in encoded.as_bytes().chunks(70) {
        text.extend_from_slice(chunk);
        if multiline {
            text.push(b'\n');
        }
    }
    Scalar {
        text: Text::Secret(text),
        tag: Some("!!binary"),
        style: if multiline {
            Style::Literal
        } else {
            Style::Plain
        },
        multiline,
    }
}

/// A non-string value already rendered (`null`, `true`, `42`, `1e+06`, a timestamp); the
/// text moves into a `SecretBytes` (no copy) so it is wiped after use.
pub(super) fn plain_scalar(text: String) -> Scalar<'static> {
    Scalar {
        text: Text::Secret(SecretBytes::from(text)),
        tag: None,
        style: Style::Plain,
        multiline: false,
    }
}

struct Analysis {
    plain_ok: bool,
    single_ok: bool,
    block_ok: bool,
    line_breaks: bool,
}

fn analyze(s: &[u8]) -> Analysis {
    let mut indicators = s.starts_with(b"---") || s.starts_with(b"...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut i = 0;
    while i < s.len() {
        let w = char_width(s[i]).min(s.len() - i);
        let ch = &s[i..i + w];
        let next = s.get(i + w).copied();
        let followed_by_ws = matches!(next, None | Some(b' ' | b'\t'));
        let c = ch[0];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => indicators = true,
                b'?' | b':' | b'-' if followed_by_ws => indicators = true,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_ws => indicators = true,
                b'#' if preceded_by_ws => indicators = true,
                _ => {}
            }
        }
        if c == b'\t' {
            tabs = true;
        } else if !is_printable(ch) {
            special = true;
        }
        let last = i + w == s.len();
        if c == b' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= prev_break;
            (prev_space, prev_break) = (true, false);
        } else if is_break(ch) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= prev_space;
            (prev_space, prev_break) = (false, true);
        } else {
            (prev_space, prev_break) = (false, false);
        }
        preceded_by_ws = matches!(c, b' ' | b'\t' | 0) || is_break(ch);
        i += w;
    }
    let mut plain_ok = !(leading_space || leading_break || trailing_space || trailing_break);
    let mut single_ok = true;
    let mut block_ok = !trailing_space;
    if break_space {
        plain_ok = false;
        single_ok = false;
    }
    if space_break || tabs || special {
        plain_ok = false;
        single_ok = false;
    }
    if space_break || special {
        block_ok = false;
    }
    if line_breaks || indicators {
        plain_ok = false;
    }
    if s.is_empty() {
        (plain_ok, single_ok, block_ok) = (true, true, false);
    }
    Analysis {
        plain_ok,
        single_ok,
        block_ok,
        line_breaks,
    }
}

/// Writes the scalar at the cursor; `indent` is the column continuation lines start at.
pub(super) fn write_scalar(out: &mut Out, sc: &Scalar<'_>, indent: usize) {
    if let Some(tag) = sc.tag {
        out.indicator(tag.as_bytes(), true, false, false);
    }
    let text = sc.text.bytes();
    match sc.style {
        Style::Plain => {
            if !out.at_whitespace() {
                out.write(b" ");
            }
            out.write(text);
            out.mark_content();
        }
        Style::Single => write_single(out, text, indent),
        Style::Double => write_double(out, text),
        Style::Literal => write_literal(out, text, indent),
    }
}

fn write_single(out: &mut Out, text: &[u8], indent: usize) {
    out.indicator(b"'", true, false, false);
    let mut breaks = false;
    for ch in chars(text) {
        if is_break(ch) {
            if !breaks && ch == b"\n" {
                out.put_break();
            }
            out.write_break(ch);
            breaks = true;
        } else {
            if breaks {
                out.write_indent(indent);
            }
            if ch == b"'" {
                out.write(b"'");
            }
            out.write(ch);
            out.mark_content();
            breaks = false;
        }
    }
    out.indicator(b"'", false, false, false);
}

fn write_double(out: &mut Out, text: &[u8]) {
    out.indicator(b"\"", true, false, false);
    // yaml.v3 checks for a byte order mark at the start of the value on every character, so a
    // value starting with U+FEFF gets every character escaped.
    let bom = text.starts_with(&[0xEF, 0xBB, 0xBF]);
    for ch in chars(text) {
        if bom || !is_printable(ch) || is_break(ch) || ch == b"\"" || ch == b"\\" {
            write_escape(out, ch);
        } else {
            out.write(ch);
        }
    }
    out.indicator(b"\"", false, false, false);
}

fn write_escape(out: &mut Out, ch: &[u8]) {
    let code = std::str::from_utf8(ch)
        .ok()
        .and_then(|s| s.chars().next())
        .map_or(u32::from(ch[0]), u32::from);
    let named: Option<&[u8]> = match code {
        0x00 => Some(b"\\0"),
        0x07 => Some(b"\\a"),
        0x08 => Some(b"\\b"),
        0x09 => Some(b"\\t"),
        0x0A => Some(b"\\n"),
        0x0B => Some(b"\\v"),
        0x0C => Some(b"\\f"),
        0x0D => Some(b"\\r"),
        0x1B => Some(b"\\e"),
        0x22 => Some(b"\\\""),
        0x5C => Some(b"\\\\"),
        0x85 => Some(b"\\N"),
        0xA0 => Some(b"\\_"),
        0x2028 => Some(b"\\L"),
        0x2029 => Some(b"\\P"),
        _ => None,
    };
    match named {
        Some(e) => out.write(e),
        None => {
            // `\xXX`, `\uXXXX` or `\UXXXXXXXX`, upper-case hex, built on the stack.
            let (letter, digits) = match code {
                0..=0xFF => (b'x', 2),
                0x100..=0xFFFF => (b'u', 4),
                _ => (b'U', 8),
            };
            let mut buf = [0u8; 10];
            buf[0] = b'\\';
            buf[1] = letter;
            for k in 0..digits {
                let nibble = (code >> (4 * (digits - 1 - k))) & 0xF;
                buf[2 + k] = b"0123456789ABCDEF"[nibble as usize];
            }
            out.write(&buf[..2 + digits]);
        }
    }
}

fn write_literal(out: &mut Out, text: &[u8], indent: usize) {
    out.indicator(b"|", true, false, false);
    let first = chars(text).next().unwrap_or(b"");
    if first == b" " || is_break(first) {
        out.indicator(b"4", false, false, false);
    }
    let all: Vec<&[u8]> = chars(text).collect();
    let chomp: Option<&[u8]> = match all.as_slice() {
        [] => Some(b"-"),
        [.., last] if !is_break(last) => Some(b"-"),
        [_] => Some(b"+"),
        [.., before, _] if is_break(before) => Some(b"+"),
        _ => None,
    };
    if let Some(c) = chomp {
        out.indicator(c, false, false, false);
    }
    if let Some(comment) = out.header_comment.take() {
        out.write(b" #");
        out.write(comment.as_bytes());
    }
    out.put_break();
    out.line_started();
    let mut breaks = true;
    for ch in all {
        if is_break(ch) {
            out.write_break(ch);
            breaks = true;
        } else {
            if breaks {
                out.write_indent(indent);
            }
            out.write(ch);
            out.left_indentation();
            breaks = false;
        }
    }
}
