//! Hand-edited sops files (issue 19): real files encrypted by sops 3.11 and age, edited as
//! people leave them (re-indented, CRLF, BOM, trailing blanks, comments in every position,
//! tabs, flow style, appended documents, duplicates, directives, moved lines, metadata edits,
//! tampering), then decrypted by sops 3.13.2 (the reference), sops 3.11 and `sops-install
//! decrypt`; stdout bytes and exit status must agree with 3.13.2.
//!
//! Accepted, one by one (README, "sops versions and hand-edited files"): where sops panics
//! (exit 2) any failure with one line and no output is right; a file without `version` in its
//! metadata is read (README's deliberate exception) where sops says "Version string empty"; 3.13.2's MAC regression on an
//! encrypted comment in a sequence (getsops/sops#2243: 3.13.2 fails, 3.11 and the upstream fix
//! decrypt) is compared with 3.11.
//!
//! Knobs: `SOPS_MUTATION_SEED` (default 0x19), `SOPS_MUTATION_CASES` (default 240). A
//! difference prints the seed, the case and the mutated file.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use common::{Outcome, Sandbox};
use std::path::Path;
use std::process::Command;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const YAML: &str = "# head\nname: web\nport: 8080\nenabled: true\nratio: 1.5\ndb:\n    user: admin\n    password: hunter2\n    hosts:\n        - a.example\n        - b.example\nlist:\n    - x\n    - k: v\n      n: 2\nempty_map: {}\nempty_list: []\nmulti: |\n    line one\n    line two\n";
const JSON: &str = "{\"name\": \"web\", \"port\": 8080, \"nested\": {\"a\": [1, \"two\", null]}, \"big\": 9007199254740993}\n";
const DOTENV: &str = "NAME=web\nPASSWORD=hunter2\n# c\nEMPTY=\n";
const INI: &str = "[main]\nname = web\npassword = hunter2\n[other]\nx = 1\n";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            }
            .unwrap_or_else(|_| panic!("{name} must be a number (decimal, or hex with 0x)"))
        })
        .unwrap_or(default)
}

/// One edit of the encrypted text; `None` when it does not apply.
fn mutate(rng: &mut Rng, text: &str, yaml: bool) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let at = rng.below(lines.len() + 1);
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let insert = |line: String| {
        let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        v.insert(at.min(v.len()), line);
        v.join("\n") + "\n"
    };
    let kinds = if yaml { 22 } else { 9 };
    match rng.below(kinds) {
        0 => ("crlf".into(), text.replace('\n', "\r\n")),
        1 => ("bom".into(), format!("\u{feff}{text}")),
        2 => ("trailing blanks".into(), format!("{text}\n\n  \n")),
        3 => (format!("tamper at {at}"), {
            let mut b = text.as_bytes().to_vec();
            if let Some(p) = text
                .match_indices("data:")
                .nth(rng.below(8))
                .map(|(p, _)| p + 6)
            {
                b[p] = if b[p] == b'A' { b'B' } else { b'A' };
            }
            String::from_utf8_lossy(&b).into_owned()
        }),
        4 => (format!("duplicate line {at}"), {
            let l = lines.get(at.min(lines.len() - 1)).copied().unwrap_or("");
            insert(l.to_string())
        }),
        5 => (format!("swap lines {at}"), {
            let mut v: Vec<&str> = lines.clone();
            let a = at.min(v.len() - 2);
            v.swap(a, a + 1);
            v.join("\n") + "\n"
        }),
        6 => (
            "type bytes".into(),
            text.replacen("type:str]", "type:bytes]", 1),
        ),
        7 => ("no final newline".into(), text.trim_end().to_string()),
        8 => (
            "lastmodified edited".into(),
            text.replacen("2026-", "2025-", 1),
        ),
        9 => {
            let ind = lines.get(at).map(|l| indent(l)).unwrap_or(0);
            (
                format!("comment line {at} col {ind}"),
                insert(format!("{}# hand {at}", " ".repeat(ind))),
            )
        }
        10 => (format!("comment col 0 line {at}"), insert("# hand".into())),
        11 => {
            let i = at.min(lines.len() - 1);
            let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            v[i].push_str(" # inline");
            (format!("inline comment line {i}"), v.join("\n") + "\n")
        }
        12 => (format!("tab comment line {at}"), insert("\t# tab".into())),
        13 => (format!("tab after indent line {at}"), {
            let ind = lines.get(at).map(|l| indent(l)).unwrap_or(0);
            insert(format!("{}\t# tab", " ".repeat(ind + rng.below(2))))
        }),
        14 => (
            "appended comment document".into(),
            format!("{text}---\n# c\n"),
        ),
        15 => (
            "appended document".into(),
            format!("{text}---\nother: value\n"),
        ),
        16 => ("%YAML 1.1".into(), format!("%YAML 1.1\n---\n{text}")),
        17 => ("%YAML 1.2".into(), format!("%YAML 1.2\n---\n{text}")),
        18 => ("re-indent 2".into(), {
            lines
                .iter()
                .map(|l| {
                    let n = indent(l);
                    format!("{}{}", " ".repeat(n / 2), &l[n..])
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }),
        19 => (
            "flow comments".into(),
            text.replacen("empty_map: {}", "empty_map: {} # c1", 1)
                .replacen("empty_list: []", "empty_list: [] # c2", 1),
        ),
        20 => (
            "second version".into(),
            text.replacen("    version: ", "    version: 3.11.0\n    version: ", 1),
        ),
        _ => ("explicit document end".into(), format!("---\n{text}...\n")),
    }
}

fn decrypt(sb: &Sandbox, program: &Path, file: &Path, key: &Path) -> Outcome {
    let mut cmd: Command = sb.command(program);
    cmd.arg("decrypt").arg(file).env("SOPS_AGE_KEY_FILE", key);
    common::run(&mut cmd)
}

fn panicked(o: &Outcome) -> bool {
    o.status == 2 && String::from_utf8_lossy(&o.stderr).contains("panic:")
}

#[test]
fn hand_edited_files_decrypt_as_sops_3_13_decrypts_them() {
    common::require_tools(&["sops", "age-keygen"]);
    let s311 = common::real_sops();
    let s313 = common::sops_versions::sops_3_13();
    let ours = common::under_test().program;
    let seed = env_number("SOPS_MUTATION_SEED", 0x19);
    let cases = env_number("SOPS_MUTATION_CASES", 240) as usize;
    let sb = Sandbox::new();
    let key = sb.path("age.txt");
    let out = common::run(Command::new("age-keygen").arg("-o").arg(&key));
    assert_eq!(out.status, 0, "age-keygen: {}", out.stderr_text());
    let out = common::run(Command::new("age-keygen").arg("-y").arg(&key));
    let recipient = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut bases = Vec::new();
    for (name, plain, rule) in [
        ("a.yaml", YAML, ""),
        ("b.yaml", YAML, "unencrypted_suffix: _plain"),
        (
            "c.yaml",
            YAML,
            "encrypted_regex: '^(password|user)$'\n    mac_only_encrypted: true",
        ),
        ("d.json", JSON, "encrypted_regex: '^name$'"),
        ("e.env", DOTENV, ""),
        ("f.ini", INI, ""),
    ] {
        let p = sb.write(&format!("plain-{name}"), plain.as_bytes());
        let config = sb.write(
            &format!("sops-{name}.yaml"),
            format!("creation_rules:\n  - age: {recipient}\n    {rule}\n").as_bytes(),
        );
        let mut cmd = sb.command(&s311);
        cmd.arg("--config").arg(&config).arg("encrypt").arg(&p);
        let enc = common::run(&mut cmd);
        assert_eq!(enc.status, 0, "sops encrypt {name}: {}", enc.stderr_text());
        bases.push((name, String::from_utf8(enc.stdout).expect("UTF-8")));
    }
    let mut rng = Rng(seed);
    let (mut compared, mut accepted) = (0, 0);
    let mut diffs = Vec::new();
    for case in 0..cases {
        let (name, base) = &bases[rng.below(bases.len())];
        let yaml = name.ends_with(".yaml");
        let (what, text) = mutate(&mut rng, base, yaml);
        let file = sb.write(&format!("case-{case}-{name}"), text.as_bytes());
        let reference = decrypt(&sb, &s313, &file, &key);
        let old = decrypt(&sb, &s311, &file, &key);
        let got = decrypt(&sb, &ours, &file, &key);
        compared += 1;
        let same = |a: &Outcome, b: &Outcome| a.status == b.status && a.stdout == b.stdout;
        if same(&reference, &got) {
            continue;
        }
        if panicked(&reference) && got.status != 0 && got.stdout.is_empty() {
            accepted += 1;
            continue;
        }
        // README, deliberate: a file whose metadata has no `version` (a line moved out of the
        // metadata) is read anyway; sops refuses it. Whatever we then answer is ours.
        if reference.status == 1
            && String::from_utf8_lossy(&reference.stderr).contains("Version string empty")
        {
            accepted += 1;
            continue;
        }
        // getsops/sops#2243: 3.13.2 computes a wrong MAC when a sequence holds a comment.
        if reference.status == 51
            && old.status == 0
            && same(&old, &got)
            && common::has_encrypted_comment(text.as_bytes())
        {
            accepted += 1;
            continue;
        }
        diffs.push(format!(
            "seed {seed:#x} case {case} ({name}, {what}): sops 3.13.2 exit {} / ours {}: {}\n--- mutated file ---\n{text}---",
            reference.status,
            got.status,
            common::first_difference(&reference.stdout, &got.stdout)
        ));
    }
    eprintln!(
        "mutation: seed {seed:#x}, {compared} cases compared with sops 3.13.2 ({accepted} accepted exceptions), {} differences",
        diffs.len()
    );
    for d in &diffs {
        eprintln!("DIFF {d}");
    }
    if !diffs.is_empty() {
        eprintln!("mutation: files kept in {}", sb.keep().display());
    }
    assert!(
        diffs.is_empty(),
        "{} of {compared} hand-edited files decrypt differently from sops 3.13.2",
        diffs.len()
    );
}
