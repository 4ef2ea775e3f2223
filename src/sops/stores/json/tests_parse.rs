//! Reader tests: structure, numbers, string decoding as Go does it, metadata split, errors.

use super::{emit_file, load, parse::parse_document, MAX_DEPTH};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Value};

fn parse(s: &str) -> Map {
    parse_document(s.as_bytes()).expect("parses")
}

fn only_value(s: &str) -> Value {
    let m = parse(&format!("{{\"k\": {s}}}"));
    m.get("k").cloned().expect("member k")
}

fn string_of(raw_json: &[u8]) -> Vec<u8> {
    let mut doc = b"{\"k\": ".to_vec();
    doc.extend_from_slice(raw_json);
    doc.push(b'}');
    match parse_document(&doc).expect("parses").get("k") {
        Some(Value::Str(s)) => s.as_bytes().to_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

fn err(input: &[u8]) -> String {
    match parse_document(input) {
        Ok(_) => panic!("parsed"),
        Err(e) => e.0,
    }
}

#[test]
fn order_and_duplicate_keys_are_kept() {
    let m = parse(r#"{"b": 1, "a": 2, "b": 3, "": 4}"#);
    let keys: Vec<&str> = m.pairs().map(|(k, _)| k).collect();
    assert_eq!(keys, ["b", "a", "b", ""]);
    assert_eq!(m.get("b"), Some(&Value::Int(1)));
}

#[test]
fn integers_that_fit_an_int64_are_exact_and_every_other_number_is_a_float() {
    // sops 3.13.2 (3.11 and 3.12 read every number as a float64).
    assert_eq!(only_value("42"), Value::Int(42));
    assert_eq!(only_value("-7"), Value::Int(-7));
    assert_eq!(only_value("-0"), Value::Int(0));
    assert_eq!(only_value("9223372036854775807"), Value::Int(i64::MAX));
    assert_eq!(only_value("-9223372036854775808"), Value::Int(i64::MIN));
    assert_eq!(
        only_value("9223372036854775808"),
        Value::Float(9223372036854775808.0)
    );
    assert_eq!(only_value("1.0"), Value::Float(1.0));
    assert_eq!(only_value("1E2"), Value::Float(100.0));
    assert_eq!(only_value("1e21"), Value::Float(1e21));
    assert_eq!(
        only_value("12345678901234567890"),
        Value::Float(1.2345678901234567e19)
    );
    assert_eq!(only_value("9007199254740993"), Value::Int(9007199254740993));
    assert_eq!(
        only_value("9007199254740993.0"),
        Value::Float(9007199254740992.0)
    );
    let Value::Float(z) = only_value("-0.0") else {
        panic!("float")
    };
    assert!(z == 0.0 && z.is_sign_negative());
}

#[test]
fn literals_and_containers_nest() {
    let v = only_value(r#"[true, false, null, {}, [], {"a": [1, "two"]}]"#);
    let Value::List(items) = v else {
        panic!("list")
    };
    assert_eq!(items.len(), 6);
    assert_eq!(items[0], Value::Bool(true));
    assert_eq!(items[2], Value::Null);
    assert_eq!(items[3], Value::Map(Map::new()));
    assert_eq!(items[4], Value::List(vec![]));
}

#[test]
fn all_escapes_decode() {
    assert_eq!(
        string_of(br#""\"\\\/\b\f\n\r\t\u0041\u00e9\u2603\u0000""#),
        "\"\\/\u{8}\u{c}\n\r\tA\u{e9}\u{2603}\0".as_bytes()
    );
    assert_eq!(string_of(br#""\ud83d\ude00""#), "😀".as_bytes());
    assert_eq!(string_of(br#""\uD83D\uDE00""#), "😀".as_bytes());
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    assert_eq!(string_of(br#""\ud800x""#), "\u{fffd}x".as_bytes());
    assert_eq!(string_of(br#""\udc00""#), "\u{fffd}".as_bytes());
    assert_eq!(string_of(br#""\ud800\u0041""#), "\u{fffd}A".as_bytes());
    assert_eq!(
        string_of(br#""\ud800\ud800\udc00""#),
        "\u{fffd}𐀀".as_bytes()
    );
    assert_eq!(
        string_of(br#""\udc00\ud800""#),
        "\u{fffd}\u{fffd}".as_bytes()
    );
    assert_eq!(string_of(br#""\ud800\n""#), "\u{fffd}\n".as_bytes());
}

#[test]
fn invalid_utf8_becomes_one_replacement_character_per_byte() {
    assert_eq!(
        string_of(b"\"a\xe2\x82b\xc0\x80\xff\xed\xa0\x80\""),
        "a\u{fffd}\u{fffd}b\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}".as_bytes()
    );
    let m = parse_document(b"{\"k\xff\": 1}").expect("parses");
    assert_eq!(m.pairs().next().map(|(k, _)| k), Some("k\u{fffd}"));
}

#[test]
fn raw_non_ascii_and_del_are_kept() {
    assert_eq!(
        string_of("\"h\u{e9} 😀 \u{7f}\"".as_bytes()),
        "h\u{e9} 😀 \u{7f}".as_bytes()
    );
}

#[test]
fn whitespace_around_the_document_is_allowed() {
    assert_eq!(parse(" \t\r\n{}\n\n \r\n\t").0.len(), 0);
}

#[test]
fn empty_input_is_an_unexpected_end() {
    for input in [&b""[..], b"   ", b"\n\n"] {
        assert!(err(input).contains("unexpected end of JSON input"));
    }
}

#[test]
fn trailing_garbage_is_an_error_with_its_position() {
    let e = err(b"{}\n x");
    assert!(e.contains("line 2, column 2"), "{e}");
    assert!(e.contains("after top-level value"));
    assert!(err(b"{} {}").contains("after top-level value"));
}

#[test]
fn the_top_level_must_be_an_object() {
    for input in ["[]", "5", "\"s\"", "null", "true"] {
        assert!(err(input.as_bytes()).contains("top level must be an object"));
    }
}

#[test]
fn syntax_errors_are_reported_not_panicked() {
    let cases: &[&[u8]] = &[
        b"{\"a\" 1}",
        b"{\"a\": 1,}",
        b"{\"a\": [1,]}",
        b"{\"a\": 01}",
        b"{\"a\": -}",
        b"{\"a\": 1.}",
        b"{\"a\": .5}",
        b"{\"a\": +1}",
        b"{\"a\": 1e}",
        b"{\"a\": tru}",
        b"{\"a\": nul}",
        b"{\"a\": True}",
        b"{\"a\": NaN}",
        b"{\"a\": Infinity}",
        b"{\"a\": \"\\x\"}",
        b"{\"a\": \"\\u12g4\"}",
        b"{\"a\": \"\\ud800\\u12g4\"}",
        b"{\"a\": \"tab\there\"}",
        b"{\"a\": \"nl\nhere\"}",
        b"{a: 1}",
        b"{'a': 1}",
        b"{\"a\": 1 \"b\": 2}",
        b"{\"a\": 1}}",
        b"\xef\xbb\xbf{}",
        b"{\"a\": 1e400}",
        b"{\"a\": -1e400}",
        b"{\"a\": [1 2]}",
        b"{\"a\":\x0c1}",
    ];
    for &c in cases {
        assert!(parse_document(c).is_err(), "{}", String::from_utf8_lossy(c));
    }
}

#[test]
fn error_messages_never_show_content() {
    let e = err(b"{\"secret\": \"hunter2\\q\"}");
    assert!(
        !e.contains("hunter2") && !e.contains("secret") && !e.contains('q'),
        "{e}"
    );
    let e = err(b"{\"k\": 1e999}");
    assert!(!e.contains("999"), "{e}");
}

#[test]
fn nesting_deeper_than_the_cap_is_an_error_not_a_stack_overflow() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(parse_document(format!("{{\"k\": {ok}}}").as_bytes()).is_ok());
    let deep = format!(
        "{{\"k\": {}{}}}",
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert!(err(deep.as_bytes()).contains("nested deeper"));
    let huge = format!("{{\"k\": {}", "{\"a\":[".repeat(100_000));
    assert!(err(huge.as_bytes()).contains("nested deeper"));
}

#[test]
fn the_sops_member_becomes_the_metadata() {
    let f = load(br#"{"a": "x", "sops": {"version": "3.11.0"}, "b": 1}"#).expect("loads");
    let keys: Vec<&str> = f.branches[0].pairs().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b"]);
    let Some(Value::Map(meta)) = f.metadata else {
        panic!("metadata map")
    };
    assert_eq!(meta.get("version"), Some(&Value::str("3.11.0")));
}

#[test]
fn missing_or_null_sops_member_means_no_metadata() {
    let f = load(br#"{"a": "x"}"#).expect("loads");
    assert!(f.metadata.is_none());
    let f = load(br#"{"a": "x", "sops": null}"#).expect("loads");
    assert!(f.metadata.is_none());
    assert_eq!(f.branches[0].0.len(), 1);
}

#[test]
fn the_metadata_name_is_matched_case_insensitively_but_only_sops_is_removed() {
    let f = load(br#"{"a": "x", "SOPS": {"version": "3.11.0"}}"#).expect("loads");
    assert!(matches!(f.metadata, Some(Value::Map(_))));
    let keys: Vec<&str> = f.branches[0].pairs().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "SOPS"]);
    let f = load("{\"\u{17f}ops\": {}}".as_bytes()).expect("loads");
    assert!(f.metadata.is_some());
    assert!(load(br#"{"sopsx": {}, "sop": {}}"#)
        .expect("loads")
        .metadata
        .is_none());
}

#[test]
fn two_sops_members_are_an_error() {
    assert!(load(br#"{"sops": {}, "sops": {}}"#).is_err());
    assert!(load(br#"{"sops": null, "Sops": {}}"#).is_err());
}

#[test]
fn a_non_object_sops_member_is_handed_on_as_it_is() {
    let f = load(br#"{"sops": 5}"#).expect("loads");
    assert_eq!(f.metadata, Some(Value::Int(5)));
}

#[test]
fn a_parsed_document_prints_back_in_sops_layout() {
    let m = parse(r#"{"a":{"b":[1,"x",{}]},"c":[]}"#);
    let out = emit_file(&[m]).expect("prints");
    assert_eq!(
        out.as_bytes(),
        b"{\n\t\"a\": {\n\t\t\"b\": [\n\t\t\t1,\n\t\t\t\"x\",\n\t\t\t{}\n\t\t]\n\t},\n\t\"c\": []\n}\n"
    );
}

#[test]
fn strings_live_in_secret_bytes() {
    let m = parse(r#"{"k": "v"}"#);
    assert!(
        matches!(m.0.first(), Some(Entry::Pair(_, Value::Str(s))) if *s == SecretBytes::from("v"))
    );
}

#[test]
fn repeated_or_differently_cased_metadata_fields_are_read_as_go_reads_them() {
    let f =
        load(br#"{"a": "x", "sops": {"lastmodified": "bogus", "LastModified": "t", "MAC": "m"}}"#)
            .expect("loads");
    let Some(Value::Map(meta)) = f.metadata else {
        panic!("metadata map")
    };
    assert_eq!(meta.get("lastmodified"), Some(&Value::str("t")));
    assert_eq!(meta.get("mac"), Some(&Value::str("m")));
    assert_eq!(meta.0.len(), 2);
}
