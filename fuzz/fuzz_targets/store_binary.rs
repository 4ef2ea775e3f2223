//! The binary store: parsing arbitrary bytes, and printing whatever parses, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::sops::stores::{self, Format};

fuzz_target!(|data: &[u8]| {
    if let Ok(loaded) = stores::load(Format::Binary, data) {
        let _ = stores::emit_file(Format::Binary, &loaded.branches);
    }
});
