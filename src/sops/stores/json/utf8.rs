//! UTF-8 decoding one character at a time as Go's `utf8.DecodeRune` does: a byte that does
//! not start a complete, shortest-form, non-surrogate sequence up to U+10FFFF is invalid on
//! its own, and decoding resumes at the next byte (so every such byte becomes one U+FFFD).

/// The UTF-8 encoding of U+FFFD.
pub(crate) const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

/// The character starting at `bytes[0]` and its length in bytes, or `None` when that byte
/// does not start a valid sequence (the caller then skips exactly one byte).
/// `bytes` must not be empty for a result other than `None`.
pub(crate) fn decode_char(bytes: &[u8]) -> Option<(char, usize)> {
    let lead = *bytes.first()?;
    let len = match lead {
        0x00..=0x7f => return Some((char::from(lead), 1)),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let seq = bytes.get(..len)?;
    let s = std::str::from_utf8(seq).ok()?;
    let c = s.chars().next()?;
    Some((c, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_sequences_decode_to_their_character() {
        assert_eq!(decode_char(b"a"), Some(('a', 1)));
        assert_eq!(decode_char("é!".as_bytes()), Some(('é', 2)));
        assert_eq!(decode_char("\u{2028}".as_bytes()), Some(('\u{2028}', 3)));
        assert_eq!(decode_char("😀".as_bytes()), Some(('😀', 4)));
    }

    #[test]
    fn truncated_overlong_and_surrogate_sequences_are_invalid_at_their_first_byte() {
        for bad in [
            &b"\xe2\x82"[..],
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xf0\x9f\x98",
            b"\x80",
            b"\xff",
            b"",
        ] {
            assert_eq!(decode_char(bad), None);
        }
    }
}
