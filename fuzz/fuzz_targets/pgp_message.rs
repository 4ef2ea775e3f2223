//! Opening a PGP message (armored text or raw packets) with an RSA key never panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rsa::rand_core::{CryptoRng, Error, RngCore};
use rsa::RsaPrivateKey;
use sops_install::keys::pgp_message;

/// A fixed xorshift stream: the same throwaway key in every run, no key file in the tree.
struct Fixed(u64);

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Fixed {}

fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut Fixed(0x9E37_79B9_7F4A_7C15), 1024).expect("key"))
}

const KEY_ID: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0, rest)) => {
            let _ = pgp_message::open_binary(rest, &KEY_ID, key());
        }
        _ => {
            let _ = pgp_message::open(&String::from_utf8_lossy(data), &KEY_ID, key());
        }
    }
});
