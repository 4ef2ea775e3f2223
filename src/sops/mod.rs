//! One sops file -> decrypted tree: stores, metadata, data key, `ENC[...]` values, MAC.

pub mod stores;
pub mod tree;
