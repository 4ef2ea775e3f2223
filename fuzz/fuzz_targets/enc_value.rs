//! `ENC[AES256_GCM,...]` parsing and decryption of arbitrary input never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::sops::enc_value::EncValue;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = EncValue::parse(data) {
        let _ = v.decrypt(&[7u8; 32], b"a:b:");
    }
});
