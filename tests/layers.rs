//! The library's stages, upstream first: manifest -> keys -> sops -> render -> install ->
//! report. This test reads every `crate::…` path (and every `super::…` that leaves a stage) in
//! each stage directory under src/ and fails on any reference to another stage that is not an
//! edge of [`ALLOWED`], or to the modules above the stages (`activation` runs them, `commands`
//! are the CLI). The compiler does not forbid cycles between modules of one crate; this does.
//! `input_file`, `secret_bytes` and `test_fixtures` are leaves every stage may use.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The stages, upstream first.
const STAGES: [&str; 6] = ["manifest", "keys", "sops", "render", "install", "report"];

/// Modules above the stages: they may use every stage, no stage may use them.
const TOP: [&str; 2] = ["activation", "commands"];

/// Every reference allowed from one stage to another, as (from stage, module path prefix,
/// why). `*` stands for every stage.
const ALLOWED: [(&str, &str, &str); 10] = [
    (
        "manifest",
        "sops::stores::Format",
        "against the flow, on purpose: a secret names its file's format, and `Format` lives          with the stores that parse each format; the manifest only carries the value",
    ),
    (
        "keys",
        "manifest",
        "`keys::for_manifest` loads the key sources a manifest names",
    ),
    (
        "sops",
        "keys",
        "data keys are opened with the loaded identities; nothing else of the manifest side:          the sops layer takes paths, formats and key segments",
    ),
    (
        "render",
        "manifest",
        "secrets and templates are built as the manifest describes them, with resolved owners",
    ),
    ("render", "sops", "secrets are cut from decrypted files"),
    ("install", "render", "the rendered files are what is written"),
    (
        "report",
        "render",
        "the rendered files are compared with the live ones",
    ),
    (
        "report",
        "manifest",
        "where rendered templates live in a generation (`RENDERED_DIR`)",
    ),
    (
        "report",
        "keys::helper",
        "systemctl is run like every other helper (clean environment, no key variables)",
    ),
    (
        "*",
        "report::escape",
        "escaping untrusted text for one-line messages is a leaf any stage may use",
    ),
];

/// One reference from a source file to a crate-root module path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    /// Path segments below the crate root (`["sops", "stores", "Format"]`).
    path: Vec<String>,
    line: usize,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The text of `line` without a `//` comment (doc comments included).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Paths in a `use` tree that starts at `text` (after `crate::`): `a::b`, `{a, b::{c, d}}`.
/// Returns the paths and how many bytes were read.
fn use_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let bytes = text.as_bytes();
    let mut prefix: Vec<String> = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'{') {
            i += 1;
            let mut out = Vec::new();
            loop {
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    i += 1;
                }
                if i >= text.len() || bytes[i] == b'}' {
                    return (out, i + 1);
                }
                let (inner, used) = use_tree(&text[i..]);
                // Anything else (`*`, `as x`): skip a byte.
                i += used.max(1);
                for p in inner.into_iter().filter(|p| !p.is_empty()) {
                    let mut full = prefix.clone();
                    full.extend(p);
                    out.push(full);
                }
            }
        }
        let start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(text[start..i].to_string());
        if !text[i..].starts_with("::") {
            return (vec![prefix], i);
        }
        i += 2;
    }
}

/// Every crate-root path `source` refers to. `depth` is the module depth of the file
/// (`src/sops/mod.rs` is 1, `src/sops/walk.rs` 2), so that `super::` chains that reach the
/// crate root count too.
fn references(source: &str, depth: usize) -> Vec<Reference> {
    let mut code = String::new();
    let mut line_starts = Vec::new();
    for line in source.lines() {
        line_starts.push(code.len());
        code.push_str(code_of(line));
        code.push('\n');
    }
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);
    let mut out = Vec::new();
    for (pos, _) in code.match_indices("crate::") {
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue;
        }
        let (paths, _) = use_tree(&code[pos + "crate::".len()..]);
        out.extend(paths.into_iter().map(|path| Reference {
            path,
            line: line_of(pos),
        }));
    }
    for (pos, _) in code.match_indices("super::") {
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut rest = &code[pos..];
        let mut supers = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            supers += 1;
            rest = r;
        }
        if supers < depth {
            continue;
        }
        let (paths, _) = use_tree(rest);
        out.extend(paths.into_iter().map(|path| Reference {
            path,
            line: line_of(pos),
        }));
    }
    out
}

/// Why `from` may not refer to `path`, or `None` when it may.
fn violation(from: &str, path: &[String]) -> Option<String> {
    let target = path.first()?;
    if target == from {
        return None;
    }
    let joined = path.join("::");
    let allowed = ALLOWED.iter().any(|(f, prefix, _)| {
        (*f == "*" || *f == from)
            && (joined == *prefix || joined.starts_with(&format!("{prefix}::")))
    });
    if allowed {
        return None;
    }
    if TOP.contains(&target.as_str()) {
        return Some(format!(
            "stage {from} uses {joined}, which sits above the stages"
        ));
    }
    let from_at = STAGES.iter().position(|s| *s == from)?;
    let target_at = STAGES.iter().position(|s| s == target)?;
    let direction = if target_at > from_at {
        "downstream"
    } else {
        "upstream, but not an allowed edge"
    };
    Some(format!(
        "stage {from} uses {joined}: {target} is {direction} of {from} ({})",
        STAGES.join(" -> ")
    ))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The module depth of a file below src/ (`sops/mod.rs` 1, `sops/walk.rs` 2).
fn depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// Every forbidden reference under src/, as `file:line: why`.
fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for stage in STAGES {
        let mut files = Vec::new();
        rust_files(&src.join(stage), &mut files);
        assert!(!files.is_empty(), "no sources for stage {stage}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let rel = file.strip_prefix(src).unwrap();
            for r in references(&text, depth(rel)) {
                if let Some(why) = violation(stage, &r.path) {
                    found.push(format!("src/{}:{}: {why}", rel.display(), r.line));
                }
            }
        }
    }
    found
}

#[test]
fn every_allowed_edge_but_one_goes_upstream() {
    for (from, to, why) in ALLOWED {
        let target = to.split("::").next().unwrap_or(to);
        let at = |s: &str| STAGES.iter().position(|x| *x == s);
        if from == "*" || why.starts_with("against the flow") {
            continue;
        }
        assert!(
            at(target) < at(from) && at(target).is_some(),
            "{from} -> {to} is not upstream"
        );
    }
}

#[test]
fn every_allowed_edge_of_one_stage_is_used() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (from, to, _) in ALLOWED.iter().filter(|(from, _, _)| *from != "*") {
        let mut files = Vec::new();
        rust_files(&src.join(from), &mut files);
        let used = files.iter().any(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let rel = file.strip_prefix(&src).unwrap();
            references(&text, depth(rel)).iter().any(|r| {
                let joined = r.path.join("::");
                joined == *to || joined.starts_with(&format!("{to}::"))
            })
        });
        assert!(
            used,
            "{from} -> {to} is allowed but not used: remove it from ALLOWED"
        );
    }
}

#[test]
fn no_stage_imports_a_downstream_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the flow (allow an edge in tests/layers.rs ALLOWED only with a \
         reason):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_sees_every_form_of_reference() {
    let text = "use crate::manifest::Manifest;\n\
                use crate::{input_file, render::files::{self, GenerationFile}};\n\
                // use crate::report::Changes; (a comment)\n\
                fn f(m: &crate::manifest::Manifest) {}\n\
                use super::super::activation::Options;\n\
                macro_rules! m { () => { $crate::report::x() } }\n";
    let refs: Vec<(String, usize)> = references(text, 2)
        .into_iter()
        .map(|r| (r.path.join("::"), r.line))
        .collect();
    assert_eq!(
        refs,
        vec![
            ("manifest::Manifest".to_string(), 1),
            ("input_file".to_string(), 2),
            ("render::files::self".to_string(), 2),
            ("render::files::GenerationFile".to_string(), 2),
            ("manifest::Manifest".to_string(), 4),
            ("activation::Options".to_string(), 5),
        ]
    );
    let why = |from: &str, path: &str| {
        violation(
            from,
            &path.split("::").map(String::from).collect::<Vec<_>>(),
        )
    };
    assert!(why("sops", "manifest::Manifest").is_some());
    assert!(why("sops", "activation::Options").is_some());
    assert!(why("keys", "render::files").is_some());
    assert!(why("report", "render::files::GenerationFile").is_none());
    assert!(why("install", "manifest::Manifest").is_some());
    assert!(why("sops", "sops::tree").is_none());
    assert!(why("sops", "keys::Identities").is_none());
    assert!(why("sops", "input_file").is_none());
    assert!(why("manifest", "sops::stores::Format").is_none());
    assert!(why("manifest", "sops::decrypt").is_some());
    assert!(why("keys", "report::escape::escape").is_none());
    assert!(why("keys", "report::units").is_some());
}
