//! Installer integration tests: the real binary, as root, in a private mount namespace with a
//! real ramfs, against sops files made by the real sops. See `harness` for how.

mod harness;
#[path = "../common/openpgp.rs"]
mod openpgp;
#[path = "../common/plugin.rs"]
mod plugin;

mod adversarial;
mod adversarial_validation;
mod changes;
mod failures;
mod fault_matrix;
mod generations;
mod keys_and_owners;
mod pgp_keys;
mod plugins;
mod security;
mod templates_and_links;
mod user_mode;
