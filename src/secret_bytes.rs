//! `SecretBytes`: the one type that holds plaintext and key material.
//!
//! Its memory is wiped when it is dropped, and also when it has to grow: the old allocation is
//! zeroized before it is released, so appending never leaves stray copies on the heap. `Debug`
//! prints only the length; there is no `Display`, so plaintext cannot end up in a log line or an
//! error message by accident.

use std::fmt;
use zeroize::Zeroize;

/// Bytes that must never be logged and are zeroized on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// An empty buffer.
    pub fn new() -> Self {
        SecretBytes(Vec::new())
    }

    /// An empty buffer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        SecretBytes(Vec::with_capacity(n))
    }

    /// `n` zero bytes, to be overwritten in place (for example by a read).
    pub fn zeroed(n: usize) -> Self {
        SecretBytes(vec![0; n])
    }

    /// Takes ownership of `v` (no copy is made).
    pub fn from_vec(v: Vec<u8>) -> Self {
        SecretBytes(v)
    }

    /// Copies `s` into a new secret buffer.
    pub fn copy_from(s: &[u8]) -> Self {
        let mut out = SecretBytes::with_capacity(s.len());
        out.0.extend_from_slice(s);
        out
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access for in-place decryption.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// The bytes as UTF-8, if they are.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends bytes; when the buffer must grow, the old allocation is zeroized first.
    pub fn extend_from_slice(&mut self, s: &[u8]) {
        self.reserve(s.len());
        self.0.extend_from_slice(s);
    }

    pub fn push(&mut self, b: u8) {
        self.reserve(1);
        self.0.push(b);
    }

    pub fn push_str(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }

    /// Makes room for `additional` bytes without leaving an unzeroized copy behind.
    pub fn reserve(&mut self, additional: usize) {
        let needed = self.0.len().saturating_add(additional);
        if needed <= self.0.capacity() {
            return;
        }
        let new_cap = needed.max(self.0.capacity().saturating_mul(2)).max(64);
        let mut grown = Vec::with_capacity(new_cap);
        grown.extend_from_slice(&self.0);
        let mut old = std::mem::replace(&mut self.0, grown);
        old.zeroize();
    }

    /// Shortens the buffer, wiping the bytes removed.
    pub fn truncate(&mut self, len: usize) {
        if len < self.0.len() {
            self.0[len..].zeroize();
            self.0.truncate(len);
        }
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl From<&str> for SecretBytes {
    fn from(s: &str) -> Self {
        SecretBytes::copy_from(s.as_bytes())
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes::from_vec(v)
    }
}

impl From<String> for SecretBytes {
    fn from(s: String) -> Self {
        SecretBytes::from_vec(s.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_content() {
        let s = SecretBytes::from("hunter2");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("7 bytes"));
    }

    #[test]
    fn growing_keeps_the_content() {
        let mut s = SecretBytes::new();
        for i in 0..1000u32 {
            s.extend_from_slice(&i.to_le_bytes());
        }
        assert_eq!(s.len(), 4000);
        assert_eq!(&s.as_bytes()[4..8], &1u32.to_le_bytes());
    }

    #[test]
    fn truncate_wipes_the_tail() {
        let mut s = SecretBytes::from("abcdef");
        s.truncate(2);
        assert_eq!(s.as_bytes(), b"ab");
    }
}
