//! Tests against files made with the real sops 3.11: the fixtures in tests/data/sops and the pinned
//! corpus in tests/data/dotenv-ini (see its make.sh), for both flat stores (INI and dotenv).

use std::path::{Path, PathBuf};

use crate::sops::stores::{dotenv, ini, LoadedFile, StoreError};
use crate::sops::tree::{Entry, Map, Value};

pub fn fixtures() -> PathBuf {
    crate::test_fixtures::fixtures_dir()
}

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dotenv-ini")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (sops fixtures made by {})",
            path.display(),
            crate::test_fixtures::made_by()
        )
    })
}

type Loader = fn(&[u8]) -> Result<LoadedFile, StoreError>;
type Emitter = fn(&[Map]) -> Result<crate::secret_bytes::SecretBytes, StoreError>;

/// (corpus directory name, extension, loader, emitter)
pub const KINDS: [(&str, &str, Loader, Emitter); 2] = [
    ("ini", "ini", ini::load, ini::emit_file),
    ("dotenv", "env", dotenv::load, dotenv::emit_file),
];

/// The corpus case names of one kind, sorted.
pub fn cases(kind: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus().join("in").join(kind))
        .unwrap_or_else(|e| panic!("corpus missing: {e}"))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some(name.rsplit_once('.')?.0.to_string())
        })
        .collect();
    names.sort();
    names
}

/// Names listed in one of the corpus's list files (`ini/name` lines).
pub fn listed(file: &str, kind: &str) -> Vec<String> {
    let text = std::fs::read_to_string(corpus().join(file)).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix(kind)?.strip_prefix('/'))
        .map(str::to_string)
        .collect()
}

/// What sops's own emitter printed for the data of a `clear/` file (its metadata removed).
fn clear_without_metadata(kind: &str, clear: &[u8]) -> Vec<u8> {
    if kind == "dotenv" {
        let mut out = Vec::new();
        for line in clear.split_inclusive(|&b| b == b'\n') {
            if !line.starts_with(b"sops_") {
                out.extend_from_slice(line);
            }
        }
        return out;
    }
    let at = if clear.starts_with(b"[sops]\n") {
        0
    } else {
        clear
            .windows(8)
            .position(|w| w == b"\n[sops]\n")
            .map(|i| i + 1)
            .expect("no [sops] section")
    };
    let mut data = clear[..at].to_vec();
    // The last data section was followed by the blank line that separates it from [sops].
    if data.ends_with(b"\n\n") {
        data.pop();
    }
    data
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_plain_fixtures_print_exactly_as_sops_decrypt_does() {
    let dir = fixtures();
    for (plain, out, load, emit) in [
        (
            "plain/basic.env",
            "out/dotenv-basic.out",
            dotenv::load as Loader,
            dotenv::emit_file as Emitter,
        ),
        (
            "plain/empty.env",
            "out/dotenv-empty.out",
            dotenv::load,
            dotenv::emit_file,
        ),
        (
            "plain/basic.ini",
            "out/ini-basic.out",
            ini::load,
            ini::emit_file,
        ),
    ] {
        let loaded = load(&read(&dir.join(plain))).unwrap();
        let printed = emit(&loaded.branches).unwrap();
        assert_eq!(
            show(printed.as_bytes()),
            show(&read(&dir.join(out))),
            "{plain}"
        );
    }
}

#[test]
fn every_corpus_input_parses_and_prints_as_sops_does_or_fails_as_sops_does() {
    for (kind, ext, load, emit) in KINDS {
        let names = cases(kind);
        assert!(names.len() >= 20, "{kind}: only {} cases", names.len());
        for name in names {
            let input = read(&corpus().join(format!("in/{kind}/{name}.{ext}")));
            let err_file = corpus().join(format!("err/{kind}/{name}.err"));
            if err_file.exists() {
                let why = std::fs::read_to_string(&err_file).unwrap_or_default();
                if why.contains("top-level entry called 'sops'") {
                    // sops refuses to encrypt it again; to a loader it is metadata.
                    assert!(load(&input).unwrap().metadata.is_some(), "{kind}/{name}");
                } else {
                    assert!(load(&input).is_err(), "{kind}/{name} should be refused");
                }
                continue;
            }
            let loaded = load(&input).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
            let printed = emit(&loaded.branches).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
            let clear = read(&corpus().join(format!("clear/{kind}/{name}.{ext}")));
            let want = clear_without_metadata(kind, &clear);
            assert_eq!(show(printed.as_bytes()), show(&want), "{kind}/{name}");
        }
    }
}

#[test]
fn sops_written_corpus_files_load_and_print_as_sops_decrypt_does() {
    for (kind, ext, load, emit) in KINDS {
        let not_fixpoint = listed("not-fixpoint.txt", kind);
        for name in cases(kind) {
            let clear_path = corpus().join(format!("clear/{kind}/{name}.{ext}"));
            if !clear_path.exists() || not_fixpoint.contains(&name) {
                continue;
            }
            let loaded = load(&read(&clear_path)).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
            assert!(loaded.metadata.is_some(), "{kind}/{name}: no metadata");
            let printed = emit(&loaded.branches).unwrap();
            let want = read(&corpus().join(format!("out/{kind}/{name}.out")));
            assert_eq!(show(printed.as_bytes()), show(&want), "{kind}/{name}");
        }
    }
}

/// The tree with every string value replaced, to compare an encrypted file's shape.
fn shape(m: &Map) -> Vec<String> {
    let mut out = Vec::new();
    for e in &m.0 {
        match e {
            Entry::Comment(_) => out.push("#".to_string()),
            Entry::Pair(k, Value::Map(inner)) => {
                out.push(format!("{k}:{{"));
                out.extend(shape(inner));
                out.push("}".to_string());
            }
            Entry::Pair(k, v) => out.push(format!("{k}={}", v.kind_name())),
        }
    }
    out
}

#[test]
fn encrypted_corpus_files_have_the_shape_of_their_clear_twins() {
    for (kind, ext, load, _) in KINDS {
        // sops itself cannot read some of its clear/ files back (see make.sh).
        let not_fixpoint = listed("not-fixpoint.txt", kind);
        for name in cases(kind) {
            let enc_path = corpus().join(format!("enc/{kind}/{name}.{ext}"));
            if !enc_path.exists() || not_fixpoint.contains(&name) {
                continue;
            }
            let enc = load(&read(&enc_path)).unwrap_or_else(|e| panic!("{kind}/{name}: {e}"));
            let clear = load(&read(&corpus().join(format!("clear/{kind}/{name}.{ext}")))).unwrap();
            assert_eq!(
                shape(&enc.branches[0]),
                shape(&clear.branches[0]),
                "{kind}/{name}"
            );
            let (Some(Value::Map(md)), Some(Value::Map(_))) = (&enc.metadata, &clear.metadata)
            else {
                panic!("{kind}/{name}: metadata missing")
            };
            assert!(md.get("mac").is_some() && md.get("lastmodified").is_some());
        }
    }
}

#[test]
fn truncations_of_every_file_never_panic() {
    let dir = fixtures();
    let mut files: Vec<(PathBuf, Loader, Emitter)> = vec![
        (dir.join("enc/basic.env"), dotenv::load, dotenv::emit_file),
        (dir.join("enc/empty.env"), dotenv::load, dotenv::emit_file),
        (dir.join("plain/basic.env"), dotenv::load, dotenv::emit_file),
        (dir.join("enc/basic.ini"), ini::load, ini::emit_file),
        (dir.join("plain/basic.ini"), ini::load, ini::emit_file),
    ];
    for (kind, ext, load, emit) in KINDS {
        for name in cases(kind) {
            for sub in ["in", "clear"] {
                let p = corpus().join(format!("{sub}/{kind}/{name}.{ext}"));
                if p.exists() {
                    files.push((p, load, emit));
                }
            }
        }
    }
    for (path, load, emit) in files {
        let bytes = read(&path);
        for len in 0..=bytes.len() {
            if let Ok(loaded) = load(&bytes[..len]) {
                let _ = emit(&loaded.branches);
            }
        }
    }
}
