//! The emitter's view of characters: UTF-8 widths, line breaks and yaml.v3's printable set.
//!
//! Both the scalar writer and the output cursor need these; keeping them here lets `scalar`
//! use `writer` without `writer` reaching back into `scalar`.

/// The UTF-8 length of a character from its first byte (1 for stray bytes).
pub(super) fn char_width(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// LF, CR, NEL, U+2028, U+2029.
pub(super) fn is_break(ch: &[u8]) -> bool {
    matches!(
        ch,
        b"\n" | b"\r" | [0xC2, 0x85] | [0xE2, 0x80, 0xA8] | [0xE2, 0x80, 0xA9]
    )
}

/// yaml.v3's printable set (tab and all of U+10000.. are not printable).
pub(super) fn is_printable(ch: &[u8]) -> bool {
    match *ch {
        [b] => b == b'\n' || (0x20..=0x7E).contains(&b),
        [0xC2, b] => b >= 0xA0,
        [a, _] => a > 0xC2,
        [0xED, b, _] => b < 0xA0,
        [0xEF, 0xBB, 0xBF] | [0xEF, 0xBF, 0xBE] | [0xEF, 0xBF, 0xBF] => false,
        [_, _, _] => true,
        _ => false,
    }
}

/// Iterates over the characters of valid UTF-8 as byte slices.
pub(super) fn chars(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= s.len() {
            return None;
        }
        let w = char_width(s[i]).min(s.len() - i);
        let ch = &s[i..i + w];
        i += w;
        Some(ch)
    })
}
