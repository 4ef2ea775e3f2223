//! Installer integration tests: the real binary, as root, in a private mount namespace with a
//! real ramfs, against sops files made by the real sops. See `harness` for how; this binary has
//! its own runner (`harness = false`): declare tests with `ns_test!` (root, own namespace) or
//! `local_test!` (no root). A plain `#[test]` would never run here, so a test checks for one.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
#[path = "../common/openpgp.rs"]
mod openpgp;
#[path = "../common/plugin.rs"]
mod plugin;

mod adversarial;

mod adversarial_validation;
mod attack;
mod changes;
mod credentials;
mod failures;
mod fault_matrix;
mod generations;
mod hints;
mod keep_last_good;
mod keys_and_owners;
mod link_walk;
mod pgp_keys;
mod plugins;
mod security;
mod templates_and_links;
mod templates_for_users;
mod user_mode;

local_test! {
    fn every_test_of_this_binary_is_declared_with_its_macros() {
        // harness = false: a plain #[test] here would compile and never run.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/install");
        let mut plain = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[test]") {
                    plain.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
        assert!(
            plain.is_empty(),
            "plain #[test] functions never run in tests/install (harness = false); use ns_test! \
             (root, own mount namespace) or local_test! (no root) instead:\n{}",
            plain.join("\n")
        );
    }
}

fn main() {
    harness::main();
}
