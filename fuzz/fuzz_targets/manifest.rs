//! Parsing and validating arbitrary manifest JSON never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::manifest::{raw, validate};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = raw::parse(text) {
            let _ = validate::validate(m, &validate::RuntimeDir::Known("/run/user/0".into()), true);
        }
    }
});
