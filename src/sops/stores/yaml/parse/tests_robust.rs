//! Robustness: the parser returns (never panics or hangs) on every truncation of every YAML
//! fixture and on single-byte mutations of a few of them.

use super::load;
use super::tests_fixtures::{fixtures, read};

fn yaml_fixtures() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["plain", "enc", "negative", "frozen"] {
        let Ok(entries) = std::fs::read_dir(fixtures().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_truncation_of_every_fixture_returns_without_panicking() {
    let files = yaml_fixtures();
    assert!(files.len() > 30, "{files:?}");
    for f in files {
        let data = read(&f);
        for len in 0..=data.len() {
            let _ = load(&data[..len]);
        }
    }
}

#[test]
fn single_byte_mutations_return_without_panicking() {
    let replacements = [
        b' ', b'\n', b'\t', b'-', b':', b'#', b'"', b'\'', b'[', b'{', b'|', b'&', b'*', 0xff,
    ];
    for f in [
        "plain/comments.yaml",
        "plain/anchors.yaml",
        "plain/structure.yaml",
    ] {
        let data = read(f);
        let mut buf = data.clone();
        for i in 0..data.len() {
            for &r in &replacements {
                buf[i] = r;
                let _ = load(&buf);
            }
            buf[i] = data[i];
        }
    }
}

#[test]
fn hostile_shapes_return_errors_or_values_quickly() {
    let cases: Vec<Vec<u8>> = vec![
        b"k: ".repeat(10_000),
        b"- ".repeat(10_000),
        b"[".repeat(100_000),
        b"{a: ".repeat(100_000),
        b"? ".repeat(10_000),
        b"&a ".repeat(10_000),
        b"k: \""
            .iter()
            .chain(b"\\".repeat(10_001).iter())
            .copied()
            .collect(),
        b"k:\n"
            .iter()
            .chain(b" \n".repeat(100_000).iter())
            .copied()
            .collect(),
        b"a: &a [x]\nb: *a\n".repeat(1000),
        b"a: |\n"
            .iter()
            .chain(b"  x\n\n".repeat(50_000).iter())
            .copied()
            .collect(),
    ];
    for c in cases {
        let start = std::time::Instant::now();
        let _ = load(&c);
        assert!(start.elapsed().as_secs() < 5);
    }
}
