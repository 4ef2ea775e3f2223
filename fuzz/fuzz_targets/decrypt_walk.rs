//! The whole walk (rules, ENC values, typing, MAC) over arbitrary YAML with a fixed data key
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_install::sops::data_key::DataKey;
use sops_install::sops::decrypt;
use sops_install::sops::stores::Format;

fuzz_target!(|data: &[u8]| {
    if let Ok((loaded, meta)) = decrypt::parse(data, Format::Yaml) {
        let key = DataKey::from_bytes([7u8; 32]);
        let _ = decrypt::decrypt_with_key(loaded, Format::Yaml, &meta, &key);
    }
});
