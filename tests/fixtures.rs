//! Every row of the sops fixtures in tests/data/sops (`cases.tsv`, made by the real sops 3.11) run through
//! the binary under test: same exit status and byte-identical stdout, except for the deliberate
//! differences asserted in `expectation`; failures report one stderr line that leaks nothing.
//!
//! One `#[test]` per row (`case::<id>`); `every_row_of_cases_tsv_has_a_test` keeps the list
//! in step with the file. `SOPS_INSTALL_UNDER_TEST=sops` runs the real sops instead: then all
//! rows pass except the three deliberate differences, and the stderr shape is not checked.

// Test support: a failed step is a failed test (Cargo.toml [lints] denies these in shipped code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Outcome, Sandbox, UnderTest};

/// One row of `cases.tsv`.
struct Case {
    id: String,
    kind: String,
    format: String,
    file: String,
    identities: String,
    extract: Option<String>,
    rc: i32,
    stdout: String,
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let path = dir.join("cases.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("id\tkind\tformat\tfile\tidentities\textract\texpected_rc\tstdout"),
        "unexpected cases.tsv header: {header}"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() >= 8, "short row in cases.tsv: {line}");
            Case {
                id: f[0].to_string(),
                kind: f[1].to_string(),
                format: f[2].to_string(),
                file: f[3].to_string(),
                identities: f[4].to_string(),
                extract: (f[5] != "-").then(|| f[5].to_string()),
                rc: f[6]
                    .parse()
                    .unwrap_or_else(|_| panic!("bad exit status in row {}", f[0])),
                stdout: f[7].to_string(),
            }
        })
        .collect()
}

/// What the binary under test must do for a case.
enum Expect {
    /// Exactly this exit status and stdout.
    Same { rc: i32, stdout: Vec<u8> },
    /// Any non-zero status, no stdout, and stderr containing every one of these.
    FailNaming(Vec<String>),
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// sops' recorded behaviour, or one of the deliberate differences of sops-install.
fn expectation(dir: &Path, case: &Case, key_file: Option<&Path>, ut: &UnderTest) -> Expect {
    if !ut.is_sops {
        match case.id.as_str() {
            // The sops library (used by sops-nix) does not check `version`: the file decrypts
            // to what its unmodified original, enc/basic.yaml, decrypts to.
            "missing-version" => {
                return Expect::Same {
                    rc: 0,
                    stdout: read(&dir.join("out/yaml-basic-age1.out")),
                }
            }
            // sops panics (exit 2); a value that should be encrypted but is not a string is
            // a value decryption error.
            "non-string-value" => {
                return Expect::Same {
                    rc: 25,
                    stdout: Vec::new(),
                }
            }
            // sops ignores the whole key file silently; the error must name it and the line.
            "bad-key-file" => {
                let name = key_file.map_or_else(String::new, |p| p.display().to_string());
                return Expect::FailNaming(vec![name, "line 1".to_string()]);
            }
            _ => {}
        }
    }
    Expect::Same {
        rc: case.rc,
        stdout: read(&dir.join(&case.stdout)),
    }
}

/// How the identities of a case reach the child: environment, and the equivalent flags.
struct Keys {
    env: Option<(&'static str, PathBuf)>,
    flags: Vec<String>,
    key_file: Option<PathBuf>,
}

fn keys_for(dir: &Path, case: &Case, sandbox: &Sandbox) -> Keys {
    if let Some(list) = case.identities.strip_prefix("age:") {
        let mut text = Vec::new();
        for name in list.split('+') {
            text.extend(read(&dir.join("keys").join(name)));
        }
        let file = sandbox.write("identities.txt", &text);
        Keys {
            env: Some(("SOPS_AGE_KEY_FILE", file.clone())),
            flags: vec!["--age-key-file".into(), file.display().to_string()],
            key_file: Some(file),
        }
    } else if let Some(name) = case.identities.strip_prefix("ssh:") {
        let file = dir.join("keys").join(name);
        Keys {
            env: Some(("SOPS_AGE_SSH_PRIVATE_KEY_FILE", file.clone())),
            flags: vec!["--ssh-key".into(), file.display().to_string()],
            key_file: Some(file),
        }
    } else {
        assert_eq!(
            case.identities, "none",
            "unknown identities column in {}",
            case.id
        );
        Keys {
            env: None,
            flags: Vec::new(),
            key_file: None,
        }
    }
}

/// Runs one row and returns every problem found (empty: the row passes).
fn check_case(id: &str) -> Vec<String> {
    let dir = common::fixtures_dir();
    let cases = load_cases(&dir);
    let case = cases
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} is not a row of {}/cases.tsv", dir.display()));
    let ut = common::under_test();
    let sandbox = Sandbox::new();
    let keys = keys_for(&dir, case, &sandbox);
    let file = dir.join(&case.file);
    let mut problems = Vec::new();

    let mut args = vec![
        "decrypt".to_string(),
        "--input-type".into(),
        case.format.clone(),
        "--output-type".into(),
        case.format.clone(),
    ];
    if let Some(p) = &case.extract {
        args.extend(["--extract".to_string(), p.clone()]);
    }
    let mut cmd = sandbox.command(&ut.program);
    cmd.args(&args).arg(&file);
    if let Some((name, value)) = &keys.env {
        cmd.env(name, value);
    }
    let got = common::run(&mut cmd);
    let expect = expectation(&dir, case, keys.key_file.as_deref(), &ut);
    check(&mut problems, "as sops was run", &got, &expect, &ut);

    // Positive whole-file cases again: types inferred from the extension, and (sops-install
    // only) the identities given as flags instead of environment variables.
    if case.kind == "positive" && case.extract.is_none() {
        let mut cmd = sandbox.command(&ut.program);
        cmd.arg("decrypt").arg(&file);
        if let Some((name, value)) = &keys.env {
            cmd.env(name, value);
        }
        check(
            &mut problems,
            "types from the extension",
            &common::run(&mut cmd),
            &expect,
            &ut,
        );
        if !ut.is_sops && !keys.flags.is_empty() {
            let mut cmd = sandbox.command(&ut.program);
            cmd.args(&args).args(&keys.flags).arg(&file);
            check(
                &mut problems,
                "keys as flags",
                &common::run(&mut cmd),
                &expect,
                &ut,
            );
        }
    }
    problems
}

fn check(problems: &mut Vec<String>, how: &str, got: &Outcome, expect: &Expect, ut: &UnderTest) {
    match expect {
        Expect::Same { rc, stdout } => {
            if got.status != *rc {
                problems.push(format!(
                    "{how}: exit status {} instead of {rc}; stderr: {}",
                    got.status,
                    got.stderr_text().trim_end()
                ));
            }
            if got.stdout != *stdout {
                problems.push(format!(
                    "{how}: stdout differs at {}",
                    common::first_difference(stdout, &got.stdout)
                ));
            }
        }
        Expect::FailNaming(needles) => {
            if got.status == 0 || !got.stdout.is_empty() {
                problems.push(format!(
                    "{how}: expected a failure with no output, got exit status {} and {} bytes",
                    got.status,
                    got.stdout.len()
                ));
            }
            let err = got.stderr_text();
            for n in needles.iter().filter(|n| !err.contains(n.as_str())) {
                problems.push(format!("{how}: stderr does not mention `{n}`: {err:?}"));
            }
        }
    }
    if got.status != 0 && !ut.is_sops {
        problems.extend(common::stderr_shape_problem(&got.stderr).map(|p| format!("{how}: {p}")));
    }
    let leaked = common::leaked_secrets(&got.stderr, common::KNOWN_SECRETS);
    if !leaked.is_empty() {
        problems.push(format!("{how}: stderr contains plaintext {leaked:?}"));
    }
}

fn assert_case(id: &str) {
    let problems = check_case(id);
    assert!(
        problems.is_empty(),
        "fixture case {id} differs from sops (fixtures made by {}):\n  {}",
        common::fixtures_made_by(),
        problems.join("\n  ")
    );
}

macro_rules! fixture_cases {
    ($($name:ident => $id:literal,)*) => {
        /// One test per row of cases.tsv.
        mod case {
            $(
                #[test]
                fn $name() {
                    super::assert_case($id);
                }
            )*
        }

        const CASE_IDS: &[&str] = &[$($id),*];
    };
}

#[test]
fn every_row_of_cases_tsv_has_a_test() {
    let dir = common::fixtures_dir();
    let rows: Vec<String> = load_cases(&dir).into_iter().map(|c| c.id).collect();
    let missing: Vec<&String> = rows
        .iter()
        .filter(|r| !CASE_IDS.contains(&r.as_str()))
        .collect();
    let stale: Vec<&&str> = CASE_IDS
        .iter()
        .filter(|i| !rows.iter().any(|r| r == *i))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "tests/fixtures.rs is out of step with cases.tsv: rows without a test {missing:?}, \
         tests without a row {stale:?}"
    );
}

fixture_cases! {
    yaml_basic_age1 => "yaml-basic-age1",
    yaml_basic_age2 => "yaml-basic-age2",
    yaml_basic_wrong_age1 => "yaml-basic-wrong+age1",
    yaml_types => "yaml-types",
    yaml_strings => "yaml-strings",
    yaml_structure => "yaml-structure",
    yaml_comments => "yaml-comments",
    yaml_multidoc => "yaml-multidoc",
    yaml_anchors => "yaml-anchors",
    yaml_clear_values => "yaml-clear-values",
    yaml_empty_map => "yaml-empty-map",
    yaml_rules_encrypted_suffix => "yaml-rules-encrypted-suffix",
    yaml_rules_unencrypted_suffix => "yaml-rules-unencrypted-suffix",
    yaml_rules_encrypted_regex => "yaml-rules-encrypted-regex",
    yaml_rules_unencrypted_regex => "yaml-rules-unencrypted-regex",
    yaml_mac_only => "yaml-mac-only",
    yaml_comment_rules => "yaml-comment-rules",
    yaml_uncomment_rules => "yaml-uncomment-rules",
    yaml_shamir_12 => "yaml-shamir-12",
    yaml_shamir_23 => "yaml-shamir-23",
    yaml_shamir_123 => "yaml-shamir-123",
    yaml_groups_13 => "yaml-groups-13",
    yaml_groups_23 => "yaml-groups-23",
    yaml_ssh_native => "yaml-ssh-native",
    yaml_ssh_converted => "yaml-ssh-converted",
    yaml_extract_string => "yaml-extract-string",
    yaml_extract_int => "yaml-extract-int",
    yaml_extract_map => "yaml-extract-map",
    yaml_extract_list_item => "yaml-extract-list-item",
    json_basic => "json-basic",
    json_values => "json-values",
    json_shamir_13 => "json-shamir-13",
    json_extract_string => "json-extract-string",
    json_extract_map => "json-extract-map",
    dotenv_basic => "dotenv-basic",
    dotenv_empty => "dotenv-empty",
    ini_basic => "ini-basic",
    binary_blob => "binary-blob",
    binary_text => "binary-text",
    binary_empty => "binary-empty",
    yaml_pgp_age => "yaml-pgp+age",
    wrong_key => "wrong-key",
    bad_key_file => "bad-key-file",
    shamir_one_part => "shamir-one-part",
    groups_same_group => "groups-same-group",
    ssh_converted_vs_native => "ssh-converted-vs-native",
    tampered_value => "tampered-value",
    swapped_values => "swapped-values",
    tampered_mac => "tampered-mac",
    missing_mac => "missing-mac",
    lastmodified_changed => "lastmodified-changed",
    lastmodified_equivalent => "lastmodified-equivalent",
    modified_cleartext => "modified-cleartext",
    retyped_cleartext => "retyped-cleartext",
    mac_only_modified_cleartext => "mac-only-modified-cleartext",
    missing_version => "missing-version",
    retyped_ciphertext => "retyped-ciphertext",
    unknown_type => "unknown-type",
    two_rules => "two-rules",
    plaintext_value => "plaintext-value",
    non_string_value => "non-string-value",
    moved_comment => "moved-comment",
    no_metadata => "no-metadata",
    empty_file => "empty-file",
    ecr_list_bug => "ecr-list-bug",
}
