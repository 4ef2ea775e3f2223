//! One sops file -> decrypted tree: stores, metadata, data key, `ENC[...]` values, MAC.
//!
//! Reading order: `stores` parse the text, `metadata` decodes the `sops` block, `data_key`
//! opens it with the loaded identities (`shamir` for key groups), `walk` decrypts every value
//! (`enc_value`) and hashes the tree, `decrypt` checks the MAC; `extract` cuts secrets out.
//! `parsed` keeps a file parsed but not yet decrypted (build-time checks, then decryption).

pub mod data_key;
pub mod decrypt;
pub mod enc_value;
pub mod error;
pub mod extract;
pub mod metadata;
pub mod parsed;
pub mod shamir;
pub mod stores;
pub mod tree;
pub mod walk;

pub use decrypt::{decrypt, DecryptedFile};
pub use error::SopsError;
