//! Every YAML fixture parses to the tree the reference decryptor saw (`ref/<case>.json`
//! "tree"), comments included; negative fixtures parse or fail as sops does.

use super::load;
use crate::sops::tree::{Entry, Map, Value};
use serde_json::Value as J;
use std::path::PathBuf;

pub(super) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/sops")
}

pub(super) fn read(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The tree as the reference tool prints it: map comments as keys with null values, list
/// comments as strings, timestamps as RFC 3339, special floats as marker strings.
pub(super) fn to_json(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) if f.is_nan() => J::from("__NaN"),
        Value::Float(f) if f.is_infinite() => J::from(if *f > 0.0 { "__Inf" } else { "__-Inf" }),
        Value::Float(f) => J::from(*f),
        Value::Str(s) | Value::Comment(s) => J::from(text(s.as_bytes())),
        Value::Time(t) => J::from(t.to_rfc3339_nano()),
        Value::Map(m) => map_json(m),
        Value::List(l) => J::Array(l.iter().map(to_json).collect()),
    }
}

pub(super) fn map_json(m: &Map) -> J {
    let mut o = serde_json::Map::new();
    for e in &m.0 {
        match e {
            Entry::Pair(k, v) => o.insert(k.clone(), to_json(v)),
            Entry::Comment(c) => o.insert(text(c.as_bytes()), J::Null),
        };
    }
    J::Object(o)
}

fn ref_tree(case: &str) -> String {
    let raw = text(&read(&format!("ref/{case}.json")))
        .replace(": NaN", ": \"__NaN\"")
        .replace(": -Infinity", ": \"__-Inf\"")
        .replace(": Infinity", ": \"__Inf\"");
    let j: J = serde_json::from_str(&raw).expect("ref json");
    serde_json::to_string(&j["tree"]).expect("json")
}

fn plain_tree(file: &str) -> String {
    let loaded = load(&read(&format!("plain/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"));
    let docs: Vec<J> = loaded.branches.iter().map(map_json).collect();
    serde_json::to_string(&J::Array(docs)).expect("json")
}

#[test]
fn plaintext_fixtures_parse_to_the_reference_trees() {
    for (file, case) in [
        ("basic.yaml", "yaml-basic-age1"),
        ("types.yaml", "yaml-types"),
        ("strings.yaml", "yaml-strings"),
        ("structure.yaml", "yaml-structure"),
        ("comments.yaml", "yaml-comments"),
        ("multidoc.yaml", "yaml-multidoc"),
        ("anchors.yaml", "yaml-anchors"),
        ("empty-map.yaml", "yaml-empty-map"),
        ("rules.yaml", "yaml-rules-encrypted-regex"),
        ("k8s-secret.yaml", "yaml-mac-only"),
        ("comment-rules.yaml", "yaml-comment-rules"),
        ("uncomment-rules.yaml", "yaml-uncomment-rules"),
        ("shamir.yaml", "yaml-shamir-12"),
        ("groups.yaml", "yaml-groups-13"),
        ("ssh.yaml", "yaml-ssh-native"),
    ] {
        assert_eq!(plain_tree(file), ref_tree(case), "{file}");
    }
}
