//! Pinned outputs of the real `sops decrypt` (3.11.0): every `tests/data/yaml-emit/<name>.json`
//! holds typed trees (one per document) and `<name>.out` what sops printed for them.
//!
//! Tree notation: `null`; `{"b": true}`; `{"i": 42}`; `{"f": "1e10"}` (parsed as f64);
//! `{"s": "text"}`; `{"x": "hex bytes"}` (a string that may be invalid UTF-8);
//! `{"t": "RFC 3339"}`; `{"c": " comment"}`; `{"m": [["key", value] | {"c": ..}, ..]}`;
//! `{"l": [value, ..]}`. A file is `{"docs": [map, ..]}` or `{"value": value}` (for
//! `emit_value`).

use serde_json::Value as J;

use super::{emit_file, emit_value};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Timestamp, Value};

pub(super) fn value_from_json(j: &J) -> Value {
    let J::Object(o) = j else {
        assert!(j.is_null(), "bad tree node {j}");
        return Value::Null;
    };
    let (tag, v) = o.iter().next().expect("tagged node");
    match tag.as_str() {
        "b" => Value::Bool(v.as_bool().expect("bool")),
        "i" => Value::Int(v.as_i64().expect("int")),
        "f" => Value::Float(v.as_str().expect("float text").parse().expect("float")),
        "s" => Value::str(v.as_str().expect("string")),
        "x" => Value::Str(SecretBytes::from(
            hex::decode(v.as_str().expect("hex")).expect("hex"),
        )),
        "t" => Value::Time(Timestamp::parse_rfc3339(v.as_str().expect("time")).expect("time")),
        "c" => Value::Comment(SecretBytes::from(v.as_str().expect("comment"))),
        "m" => Value::Map(map_from_json(v)),
        "l" => Value::List(
            v.as_array()
                .expect("list")
                .iter()
                .map(value_from_json)
                .collect(),
        ),
        other => panic!("unknown tag {other}"),
    }
}

pub(super) fn map_from_json(j: &J) -> Map {
    let mut m = Map::new();
    for e in j.as_array().expect("map entries") {
        match e {
            J::Array(kv) => {
                let key = kv[0].as_str().expect("key").to_string();
                m.0.push(Entry::Pair(key, value_from_json(&kv[1])));
            }
            J::Object(o) => {
                let c = o.get("c").and_then(J::as_str).expect("comment entry");
                m.0.push(Entry::Comment(SecretBytes::from(c)));
            }
            other => panic!("bad map entry {other}"),
        }
    }
    m
}

/// Emits the tree of one data file.
pub(super) fn emit_case(j: &J) -> Vec<u8> {
    let out = if let Some(docs) = j.get("docs") {
        let maps: Vec<Map> = docs
            .as_array()
            .expect("docs")
            .iter()
            .map(|d| match value_from_json(d) {
                Value::Map(m) => m,
                _ => panic!("a document must be a map"),
            })
            .collect();
        emit_file(&maps)
    } else {
        emit_value(&value_from_json(&j["value"]))
    };
    out.expect("emits").as_bytes().to_vec()
}

fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml-emit")
}

#[test]
fn every_pinned_sops_output_is_reproduced_byte_for_byte() {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(data_dir())
        .expect("data dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let tree: J = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        let want = std::fs::read(path.with_extension("out")).expect("expected output");
        let got = emit_case(&tree);
        count += 1;
        if let Some(dir) = std::env::var_os("YAML_EMIT_DUMP") {
            let name = path.with_extension("got");
            let name = name.file_name().expect("file name");
            std::fs::write(std::path::Path::new(&dir).join(name), &got).expect("dump");
        }
        if got != want {
            failures.push(format!(
                "{}:\n--- want\n{}\n--- got\n{}",
                path.display(),
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    assert!(count > 0, "no data files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
