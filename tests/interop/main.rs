//! Interop with the real sops: a seeded corpus of generated documents in all five stores is
//! encrypted by `sops encrypt` under every encryption option, then decrypted (whole, with
//! `--extract`, and converted to another store) by `sops decrypt` and by the binary under test;
//! exit statuses and stdout bytes must agree. All mismatches are listed before failing.
//!
//! Knobs: `SOPS_INTEROP_SEED`, `SOPS_INTEROP_DOCS` (corpus size), `SOPS_INSTALL_UNDER_TEST=sops`
//! (self-check: compares sops with itself), `SOPS_INTEROP_KEEP=1` (keep the work directory).
//! On failure the work directory (plaintexts,
//! encrypted files, keys, rules) is kept and its path printed.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod flat;
mod pools;
mod run;
mod tree;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const DEFAULT_SEED: u64 = 0x5eed_2026;
const DEFAULT_DOCS: usize = 320;
const WORKERS: usize = 2;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

#[test]
fn a_generated_corpus_decrypts_exactly_as_the_real_sops_decrypts_it() {
    common::require_tools(&["sops", "age-keygen"]);
    let started = Instant::now();
    let seed = env_number("SOPS_INTEROP_SEED", DEFAULT_SEED);
    let count = env_number("SOPS_INTEROP_DOCS", DEFAULT_DOCS as u64) as usize;
    let docs = corpus::generate(seed, count);
    let sandbox = common::Sandbox::new();
    let setup = run::Setup::new(&sandbox, &common::fixtures_dir());
    eprintln!(
        "interop: sops at {}, under test {}",
        setup.sops.display(),
        setup.under_test.program.display()
    );

    let next = AtomicUsize::new(0);
    let mut results: Vec<run::DocResult> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(doc) = docs.get(i) else { break };
                        done.push(run::check_doc(&setup, doc));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| panic!("an interop worker panicked"))
            })
            .collect()
    });
    results.sort_by_key(|r| r.id);

    let comparisons: usize = results.iter().map(|r| r.comparisons).sum();
    let succeeded: usize = results.iter().map(|r| r.sops_succeeded).sum();
    let versions: usize = results.iter().map(|r| r.version_differences).sum();
    let regression: usize = results.iter().map(|r| r.mac_regression).sum();
    let mismatches: Vec<&String> = results.iter().flat_map(|r| &r.mismatches).collect();
    let skipped: Vec<&String> = results.iter().filter_map(|r| r.skipped.as_ref()).collect();
    for m in &mismatches {
        eprintln!("MISMATCH {m}");
    }
    for s in &skipped {
        eprintln!("SKIPPED {s}");
    }
    let per_store: Vec<String> = run::STORES
        .iter()
        .map(|st| {
            format!(
                "{} {}",
                docs.iter().filter(|d| d.store == *st).count(),
                st.name()
            )
        })
        .collect();
    eprintln!(
        "interop: {} documents ({}), seed {seed:#x}, {comparisons} comparisons ({succeeded} \
         where sops succeeded), {} mismatches, {versions} where ours follows sops 3.13.2 instead, \
         {regression} where sops 3.13.2 hit getsops/sops#2243 and ours answered as 3.11, {} skipped, {:.1}s",
        docs.len(),
        per_store.join(", "),
        mismatches.len(),
        skipped.len(),
        started.elapsed().as_secs_f64()
    );
    let degenerate = succeeded * 4 < comparisons * 3;
    let failed = !mismatches.is_empty() || skipped.len() * 20 > docs.len() || degenerate;
    drop(setup);
    if failed || std::env::var_os("SOPS_INTEROP_KEEP").is_some() {
        let dir = sandbox.keep();
        eprintln!(
            "interop: work directory kept at {} (doc-NNN.<ext> plaintext, doc-NNN.enc.<ext> \
             encrypted; keys age*.txt; rules sops-*.yaml)",
            dir.display()
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} of {comparisons} comparisons differ from sops (listed above as MISMATCH)",
        mismatches.len()
    );
    assert!(
        skipped.len() * 20 <= docs.len(),
        "sops refused to encrypt {} of {} generated documents: fix the generator",
        skipped.len(),
        docs.len()
    );
    assert!(
        !degenerate,
        "sops itself failed {} of {comparisons} decryptions: the corpus tests too little",
        comparisons - succeeded
    );
}
