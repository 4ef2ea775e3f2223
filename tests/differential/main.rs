//! Differential tests: sops-nix's original `sops-install-secrets` and ours run the same cases
//! (same manifests, sops files, keys, users and paths), each in its own mount namespace, and
//! every observable result is compared: the `/run` tree, stdout lines, the restart/reload lists,
//! exit statuses and the class of the error. Differences we make on purpose are named per
//! scenario with the README entry that lists them; anything else fails the test.
//!
//! A custom runner (`harness = false`): `cargo test --test differential [FILTER]`. The same
//! binary, called with `__differential_inside JOB`, is the runner inside the namespace.
//! The original comes from `SOPS_NIX_INSTALL_SECRETS` (and `SSH_TO_AGE`), else the cache
//! directory `.ci/run` fills; when it is missing, the tests fail saying what to install.

#[path = "../common/mod.rs"]
mod common;
mod random;
mod scenarios;
mod ssh_to_age;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};

type TestFn = fn();

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(world::INSIDE) {
        world::inside(std::path::Path::new(&args[2]));
        return;
    }
    let tests: Vec<(&str, TestFn)> = vec![
        ("scenarios", scenarios::all as TestFn),
        ("random_manifests", random::run),
        ("ssh_to_age_recipients", ssh_to_age::recipients),
    ];
    // libtest's options: those with a value take the next argument; `--ignored` asks for the
    // ignored tests only, and none of these is ignored.
    let mut filters: Vec<&String> = Vec::new();
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--test-threads" | "--skip" | "--format" | "--color" | "--logfile" | "-Z" => {
                rest.next();
            }
            "--ignored" => {
                println!("\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed");
                return;
            }
            _ if a.starts_with('-') => {}
            _ => filters.push(a),
        }
    }
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &tests {
            println!("{name}: test");
        }
        return;
    }
    let chosen: Vec<_> = tests
        .into_iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    let mut ignored = 0;
    for (name, f) in &chosen {
        // A missing prerequisite is reported as ignored with the reason, never as passed
        // (.ci/run fails when anything was ignored).
        if let Some(why) = missing_prerequisite(name) {
            println!("test {name} ... ignored ({why})");
            ignored += 1;
            continue;
        }
        let ok = catch_unwind(AssertUnwindSafe(f)).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; {ignored} ignored;",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len() - ignored,
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

/// Why test `name` cannot run here: root for the namespace scenarios, the original programs.
fn missing_prerequisite(name: &str) -> Option<String> {
    let root = nix::unistd::geteuid().is_root();
    let original = |var, tool| world::original(var, tool).err();
    match name {
        "scenarios" | "random_manifests" if !root => {
            Some("needs root (ramfs mounts in private mount namespaces)".into())
        }
        "scenarios" | "random_manifests" => {
            original("SOPS_NIX_INSTALL_SECRETS", "sops-install-secrets")
        }
        "ssh_to_age_recipients" => original("SSH_TO_AGE", "ssh-to-age"),
        _ => None,
    }
}
