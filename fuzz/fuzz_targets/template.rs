//! Rendering arbitrary template text never panics and never loses text around placeholders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::render::{render, Substitution};
use sops_install::secret_bytes::SecretBytes;

const A: &str = "<SOPS:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:PLACEHOLDER>";
const B: &str = "<SOPS:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:PLACEHOLDER>";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (va, vb) = (SecretBytes::from("value-a"), SecretBytes::from(A));
        let subs = [Substitution { placeholder: A, value: &va }, Substitution { placeholder: B, value: &vb }];
        if let Ok(out) = render(text, &subs) {
            if !text.contains(A) && !text.contains(B) {
                assert_eq!(out.as_bytes(), text.as_bytes());
            }
        }
    }
});
