//! Differential tests: sops-nix's original `sops-install-secrets` and ours run the same cases
//! (same manifests, sops files, keys, users and paths), each in its own mount namespace, and
//! every observable result is compared: the `/run` tree, stdout lines, the restart/reload lists,
//! exit statuses and the class of the error. Differences we make on purpose are named per
//! scenario with the README entry that lists them; anything else fails the test.
//!
//! A libtest-mimic runner (`harness = false`): `cargo test --test differential [FILTER]`. The same
//! binary, called with `__differential_inside JOB`, is the runner inside the namespace.
//! The original comes from `SOPS_NIX_INSTALL_SECRETS` (and `SSH_TO_AGE`), else the cache
//! directory `.ci/run` fills; when it is missing, the test is ignored with what to install.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod random;
mod scenarios;
mod ssh_to_age;
mod world;

type TestFn = fn();

fn main() {
    let raw: Vec<String> = std::env::args().collect();
    if raw.get(1).map(String::as_str) == Some(world::INSIDE) {
        world::inside(std::path::Path::new(&raw[2]));
        return;
    }
    let args = libtest_mimic::Arguments::from_args();
    // Each test with the original it needs: missing, it is ignored with what to install.
    let tests: [(&str, TestFn, &str, &str); 3] = [
        (
            "scenarios",
            scenarios::all,
            "SOPS_NIX_INSTALL_SECRETS",
            "sops-install-secrets",
        ),
        (
            "random_manifests",
            random::run,
            "SOPS_NIX_INSTALL_SECRETS",
            "sops-install-secrets",
        ),
        (
            "ssh_to_age_recipients",
            ssh_to_age::recipients,
            "SSH_TO_AGE",
            "ssh-to-age",
        ),
    ];
    let root = nix::unistd::geteuid().is_root();
    let trials = tests
        .into_iter()
        .map(|(name, f, var, bin)| {
            libtest_mimic::Trial::ignorable_test(name, move || {
                match world::original(var, bin) {
                    // A path given explicitly that is not there is an error, not a skip.
                    Err(why) if std::env::var_os(var).is_some() => return Err(why.into()),
                    Err(why) => return Ok(libtest_mimic::Completion::ignored_with(why)),
                    Ok(_) => {}
                }
                if !root && name != "ssh_to_age_recipients" {
                    return Ok(libtest_mimic::Completion::ignored_with(
                        "needs root (private mount namespaces, ramfs)",
                    ));
                }
                f();
                Ok(libtest_mimic::Completion::Completed)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
