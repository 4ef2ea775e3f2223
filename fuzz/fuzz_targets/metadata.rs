//! Decoding the `sops` metadata of arbitrary YAML or JSON never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::sops::metadata;
use sops_install::sops::stores::{self, Format};

fuzz_target!(|data: &[u8]| {
    for format in [Format::Yaml, Format::Json] {
        if let Ok(loaded) = stores::load(format, data) {
            if let Some(raw) = &loaded.metadata {
                let _ = metadata::decode(raw);
            }
        }
    }
});
