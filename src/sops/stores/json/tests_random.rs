//! Generated inputs: random JSON-like garbage never panics the reader, and random valid
//! documents print and re-read to the same tree (printing is a fixed point).

use super::{emit_file, load, parse::parse_document};
use crate::sops::tree::{Entry, Map, Value};

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn random_json_like_inputs_never_panic() {
    const PIECES: &[&str] = &[
        "{", "}", "[", "]", ",", ":", "\"a\"", "\"sops\"", "\"\\u", "d800", "\\n", "\"", "1", "-",
        "0", ".5", "e+9", "1e400", "true", "nul", "null", " ", "\n", "\u{e9}", "\u{2028}", "<&>",
        "\\", "\"k\":", "{\"k\":", "\u{7f}",
    ];
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let mut doc = Vec::new();
        if rng.next() % 2 == 0 {
            doc.extend_from_slice(b"{\"k\":");
        }
        for _ in 0..rng.next() % 16 {
            doc.extend_from_slice(PIECES[rng.next() % PIECES.len()].as_bytes());
        }
        if rng.next() % 4 == 0 {
            doc.push(0xff);
        }
        let _ = load(&doc);
    }
}

/// Appends a random valid JSON value.
fn random_value(rng: &mut Lcg, depth: usize, out: &mut Vec<u8>) {
    const STRINGS: &[&[u8]] = &[
        b"\"\"",
        b"\"a\\u00e9\\ud83d\\ude00\"",
        b"\"\\ud800\"",
        b"\"<&>\\n\\t\\\\\"",
        b"\"\xff\xe2\x82\"",
        b"\"\xe2\x80\xa8\x7f\"",
        b"\"\\u0000\\u001f\\/\"",
    ];
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "1e21",
        "1e-7",
        "0.000001",
        "123456789012345678901",
        "5e-324",
        "1.7976931348623157e308",
        "-2.5",
        "1e-400",
        "0.1",
    ];
    match rng.next() % if depth > 4 { 4 } else { 6 } {
        0 => out.extend_from_slice(STRINGS[rng.next() % STRINGS.len()]),
        1 => out.extend_from_slice(NUMBERS[rng.next() % NUMBERS.len()].as_bytes()),
        2 => out.extend_from_slice(b"true"),
        3 => out.extend_from_slice(b"null"),
        4 => {
            out.push(b'[');
            for i in 0..rng.next() % 4 {
                if i > 0 {
                    out.extend_from_slice(b" ,\n");
                }
                random_value(rng, depth + 1, out);
            }
            out.push(b']');
        }
        _ => random_object(rng, depth + 1, out),
    }
}

fn random_object(rng: &mut Lcg, depth: usize, out: &mut Vec<u8>) {
    out.push(b'{');
    for i in 0..rng.next() % 4 {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(if rng.next() % 3 == 0 {
            b"\"dup\""
        } else {
            b"\"k\\u003c\""
        });
        out.extend_from_slice(b"\t:\r");
        random_value(rng, depth, out);
    }
    out.push(b'}');
}

#[test]
fn random_valid_documents_print_and_reparse_to_the_same_tree() {
    let mut rng = Lcg(11);
    for _ in 0..2_000 {
        let mut doc = Vec::new();
        random_object(&mut rng, 1, &mut doc);
        let tree = parse_document(&doc).expect("valid by construction");
        let printed = emit_file(std::slice::from_ref(&tree)).expect("prints");
        let again = parse_document(printed.as_bytes()).expect("reparses");
        assert_eq!(
            Value::Map(again.clone()),
            integral_floats_as_ints(Value::Map(tree.clone()))
        );
        let reprinted = emit_file(&[again]).expect("prints");
        assert_eq!(reprinted.as_bytes(), printed.as_bytes());
    }
}

/// A float printed without a fraction or exponent reads back as an int (sops 3.13.2).
fn integral_floats_as_ints(v: Value) -> Value {
    match v {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e18 => Value::Int(f as i64),
        Value::Map(m) => Value::Map(Map(m
            .0
            .into_iter()
            .map(|e| match e {
                Entry::Pair(k, v) => Entry::Pair(k, integral_floats_as_ints(v)),
                other => other,
            })
            .collect())),
        Value::List(l) => Value::List(l.into_iter().map(integral_floats_as_ints).collect()),
        other => other,
    }
}
