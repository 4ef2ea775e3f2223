//! Decryption benchmark: one sops YAML file with 1000 values, parsed, decrypted, MAC-checked
//! and printed, as `sops-install decrypt` does it (without process start-up).
//!
//! Run: `cargo bench --bench decrypt`. Prints the median, minimum and maximum of many runs.
//! The key in `benches/data/` is a throwaway key made for this benchmark.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use sops_install::keys::Identities;
use sops_install::sops::{self, stores::Format};

fn main() {
    // `cargo test --all-targets` builds and runs benches with --bench-less arguments; only
    // measure when run by `cargo bench` (which passes --bench).
    let measuring = std::env::args().any(|a| a == "--bench");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data");
    let input = std::fs::read(data.join("1000-values.enc.yaml")).expect("benchmark input");
    let mut ids = Identities::new();
    ids.add_age_key_file(&data.join("bench-age-key.txt"));

    let once = || {
        let file = sops::decrypt(&input, Format::Yaml, &ids).expect("benchmark file decrypts");
        file.emit(Format::Yaml)
            .expect("benchmark file prints")
            .len()
    };
    let printed = once();
    if !measuring {
        println!("decrypt bench: smoke run ok ({printed} bytes printed)");
        return;
    }
    let runs = 200;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(once());
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "decrypt 1000-value yaml: median {:.2} ms, min {:.2} ms, max {:.2} ms over {runs} runs ({} bytes of {} input)",
        ms(times[runs / 2]),
        ms(times[0]),
        ms(times[runs - 1]),
        printed,
        input.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
