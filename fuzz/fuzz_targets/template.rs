//! Rendering arbitrary template text with an arbitrary placeholder map never panics and never
//! loses text around placeholders.
//!
//! The input is split at 0xFF bytes: the first piece is the template text, the following ones
//! (at most four) are placeholders, which may be empty, duplicated, non-ASCII or overlapping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::render::{render, Substitution};
use sops_install::secret_bytes::SecretBytes;

const A: &str = "<SOPS:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:PLACEHOLDER>";
const B: &str = "<SOPS:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:PLACEHOLDER>";

fuzz_target!(|data: &[u8]| {
    let mut pieces = data.split(|b| *b == 0xff);
    let Some(Ok(text)) = pieces.next().map(std::str::from_utf8) else {
        return;
    };
    let mut placeholders: Vec<&str> = Vec::new();
    for p in pieces.take(4) {
        match std::str::from_utf8(p) {
            Ok(p) => placeholders.push(p),
            Err(_) => return,
        }
    }
    if placeholders.is_empty() {
        placeholders = vec![A, B];
    }
    let values: Vec<SecretBytes> = (0..placeholders.len())
        .map(|i| SecretBytes::from(format!("value-{i}").as_str()))
        .collect();
    let subs: Vec<Substitution<'_>> = placeholders
        .iter()
        .zip(&values)
        .map(|(p, v)| Substitution { placeholder: p, value: v })
        .collect();
    if let Ok(out) = render(text, &subs) {
        if placeholders.iter().all(|p| p.is_empty() || !text.contains(p)) {
            assert_eq!(out.as_bytes(), text.as_bytes());
        }
    }
});
