//! Unit tests of the YAML parser: typing, scalar styles, structure, comments, documents and
//! metadata, and the errors it must report.

use super::load;
use super::tests_fixtures::{map_json, read};
use crate::sops::tree::{Map, Timestamp, Value};

fn doc(src: &str) -> Map {
    let mut l = load(src.as_bytes()).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(l.branches.len(), 1, "{src:?}");
    l.branches.remove(0)
}

fn json(src: &str) -> String {
    serde_json::to_string(&map_json(&doc(src))).expect("json")
}

fn value(src: &str) -> Value {
    doc(src)
        .get("k")
        .cloned()
        .unwrap_or_else(|| panic!("{src:?}"))
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn err(src: &[u8]) -> String {
    match load(src) {
        Ok(_) => panic!("{:?} parsed", String::from_utf8_lossy(src)),
        Err(e) => e.0,
    }
}

#[test]
fn scalars_are_typed_like_yaml_v3() {
    let cases: &[(&str, Value)] = &[
        ("42", Value::Int(42)),
        ("-7", Value::Int(-7)),
        ("+5", Value::Int(5)),
        ("0x1F", Value::Int(31)),
        ("0o17", Value::Int(15)),
        ("017", Value::Int(15)),
        ("1_000", Value::Int(1000)),
        ("0b1010", Value::Int(10)),
        ("-0b101", Value::Int(-5)),
        ("9223372036854775807", Value::Int(i64::MAX)),
        ("-9223372036854775808", Value::Int(i64::MIN)),
        ("08", Value::Float(8.0)),
        ("1.0", Value::Float(1.0)),
        ("1e10", Value::Float(1e10)),
        ("1E3", Value::Float(1000.0)),
        (".5", Value::Float(0.5)),
        ("1.", Value::Float(1.0)),
        ("99999999999999999999999", Value::Float(1e23)),
        ("-0.0", Value::Float(-0.0)),
        (".inf", Value::Float(f64::INFINITY)),
        ("-.Inf", Value::Float(f64::NEG_INFINITY)),
        ("true", Value::Bool(true)),
        ("True", Value::Bool(true)),
        ("FALSE", Value::Bool(false)),
        ("null", Value::Null),
        ("~", Value::Null),
        ("", Value::Null),
        ("yes", s("yes")),
        ("on", s("on")),
        ("y", s("y")),
        ("inf", s("inf")),
        ("NaN", s("NaN")),
        ("1e400", s("1e400")),
        ("0x", s("0x")),
        ("0xFFFFFFFFFFFFFFFFFF", s("0xFFFFFFFFFFFFFFFFFF")),
        ("12:30", s("12:30")),
        ("1.2.3", s("1.2.3")),
        ("<<", s("<<")),
        ("2001-12-14 21:59:43.10 -5", s("2001-12-14 21:59:43.10 -5")),
        ("2024-01-02T10:00:00", s("2024-01-02T10:00:00")),
        ("2024-02-30", s("2024-02-30")),
    ];
    for (text, want) in cases {
        let got = value(&format!("k: {text}\n"));
        match (&got, want) {
            (Value::Float(a), Value::Float(b)) => {
                assert!(
                    a == b && a.is_sign_negative() == b.is_sign_negative(),
                    "{text}"
                )
            }
            _ => assert_eq!(&got, want, "{text}"),
        }
    }
    assert!(matches!(value("k: .nan"), Value::Float(f) if f.is_nan()));
}

#[test]
fn integers_beyond_int64_that_fit_uint64_are_an_error() {
    assert!(err(b"k: 9223372036854775808\n").contains("line 1"));
    assert!(load(b"k: -9223372036854775809\n").is_ok());
    assert!(load(b"k: +9223372036854775808\n").is_ok());
}

#[test]
fn timestamps_follow_the_yaml_v3_forms() {
    let ts = |src: &str| match value(&format!("k: {src}")) {
        Value::Time(t) => t.to_rfc3339_nano(),
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(ts("2024-1-2"), "2024-01-02T00:00:00Z");
    assert_eq!(
        ts("2001-12-14t21:59:43.10-05:00"),
        "2001-12-14T21:59:43.1-05:00"
    );
    assert_eq!(ts("2001-12-14 21:59:43.10"), "2001-12-14T21:59:43.1Z");
    assert_eq!(
        ts("2001-12-14T21:59:43.123456789+02:00"),
        "2001-12-14T21:59:43.123456789+02:00"
    );
    assert_eq!(ts("2026-11-22T11:16:41+00:00"), "2026-11-22T11:16:41Z");
    assert_eq!(value("k: \"2024-01-02\""), s("2024-01-02"));
    assert!(matches!(
        value("k: !!timestamp \"2024-01-02\""),
        Value::Time(_)
    ));
}

#[test]
fn the_types_fixture_matches_the_spec_table() {
    let l = load(&read("plain/types.yaml")).expect("types");
    let m = &l.branches[0];
    let render = |k: &str| {
        m.get(k)
            .and_then(Value::render_scalar)
            .map(|b| b.as_bytes().to_vec())
    };
    assert_eq!(render("int_hex").as_deref(), Some(&b"31"[..]));
    assert_eq!(
        render("float_beyond_int").as_deref(),
        Some(&b"100000000000000000000000"[..])
    );
    assert_eq!(render("bool_True").as_deref(), Some(&b"True"[..]));
    assert_eq!(m.get("str_yes"), Some(&s("yes")));
    assert_eq!(m.get("null_empty"), Some(&Value::Null));
    assert_eq!(
        m.get("date_short"),
        Timestamp::parse_rfc3339("2024-01-02T00:00:00Z")
            .map(Value::Time)
            .as_ref()
    );
    assert_eq!(
        m.get("not_a_timestamp"),
        Some(&s("2001-12-14 21:59:43.10 -5"))
    );
}

#[test]
fn clear_values_keep_their_types() {
    let l = load(&read("plain/clear-values.yaml")).expect("clear values");
    let m = &l.branches[0];
    assert_eq!(m.get("port_unencrypted"), Some(&Value::Int(8080)));
    assert_eq!(m.get("ratio_unencrypted"), Some(&Value::Float(1.0)));
    assert_eq!(m.get("flag_unencrypted"), Some(&Value::Bool(true)));
    assert_eq!(m.get("nothing_unencrypted"), Some(&Value::Null));
    assert!(matches!(m.get("when_unencrypted"), Some(Value::Time(_))));
    assert_eq!(m.get("hex_unencrypted"), Some(&Value::Int(31)));
    assert_eq!(m.get("text_unencrypted"), Some(&s("true")));
    assert_eq!(
        json("k: {inner: clear too, list: [1, two]}"),
        r#"{"k":{"inner":"clear too","list":[1,"two"]}}"#
    );
}

#[test]
fn quoted_scalars_decode_every_escape_and_fold_lines() {
    let cases: &[(&str, &str)] = &[
        (
            r#""a\tb\x01\u00e9\U0001F600\N\L\P\_\0\e\/\ \"\\""#,
            "a\tb\u{1}é😀\u{85}\u{2028}\u{2029}\u{a0}\0\u{1b}/ \"\\",
        ),
        ("'it''s'", "it's"),
        ("\"a\n  b\n\n  c\"", "a b\nc"),
        ("'a  \n   b'", "a b"),
        ("\"a\\\n   b\"", "ab"),
        ("\"a \\\n  b\"", "a b"),
        ("\"\\t\n x\"", "\t x"),
        ("'a\u{2028}    b'", "a\u{2028}b"),
        ("\"a\u{85}  b\"", "a b"),
    ];
    for (src, want) in cases {
        assert_eq!(value(&format!("k: {src}\n")), s(want), "{src}");
    }
}

#[test]
fn plain_scalars_fold_over_lines() {
    assert_eq!(value("k: a\n  b\n\n  c\nn: 1\n"), s("a b\nc"));
    assert_eq!(
        value("- x\n".replace("- x\n", "k:\n  one\n  two\n").as_str()),
        s("one two")
    );
    assert_eq!(value("k: a#b c:d # comment\n"), s("a#b c:d"));
}

#[test]
fn block_scalars_honour_chomping_and_indentation() {
    let cases: &[(&str, &str)] = &[
        ("k: |\n  a\n  b\n", "a\nb\n"),
        ("k: |-\n  a\n  b\n", "a\nb"),
        ("k: |+\n  a\n\n", "a\n\n"),
        ("k: |2\n    a\n  b\n", "  a\nb\n"),
        ("k: |4-\n      x\n    y\n", "  x\ny"),
        (
            "k: >\n  folded\n  text\n\n  para\n    more\n  end\n",
            "folded text\npara\n  more\nend\n",
        ),
        ("k: >-\n  a\n  b\n", "a b"),
        ("k: |\n\n  a\n", "\na\n"),
        ("k: |\nn: 1\n", ""),
        ("k: |+\n\nn: 1\n", "\n"),
        ("k: | # c\n  x\n", "x\n"),
    ];
    for (src, want) in cases {
        assert_eq!(value(src), s(want), "{src:?}");
    }
}

#[test]
fn the_strings_fixture_decodes_exactly() {
    let l = load(&read("plain/strings.yaml")).expect("strings");
    let m = &l.branches[0];
    for (k, want) in [
        ("colon_space", "a: b"),
        ("backslash", "a\\b"),
        ("crlf", "a\r\nb"),
        ("nel", "a\u{85}b"),
        ("bom_first", "\u{feff}x"),
        ("emoji", "😀"),
        ("multi_keep", "line1\n\n"),
        ("folded", "folded text continues\n"),
        ("", "empty key"),
        ("123", "numeric-looking key"),
    ] {
        assert_eq!(m.get(k), Some(&s(want)), "{k}");
    }
    assert!(m.pairs().any(|(k, _)| k.len() == 129));
}

#[test]
fn structure_covers_compact_and_flow_forms() {
    assert_eq!(json("k:\n- a\n- b\nn: 1\n"), r#"{"k":["a","b"],"n":1}"#);
    assert_eq!(
        json("k:\n    - - a\n      - b\n    - - c\n"),
        r#"{"k":[["a","b"],["c"]]}"#
    );
    assert_eq!(
        json("k:\n  - x: 1\n    y: [2, {z: 3}]\n"),
        r#"{"k":[{"x":1,"y":[2,{"z":3}]}]}"#
    );
    assert_eq!(
        json("k: {a: 1,\n  b: [2,\n   3], c}\n"),
        r#"{"k":{"a":1,"b":[2,3],"c":null}}"#
    );
    assert_eq!(json("k: [a: 1, \"b\":2]\n"), r#"{"k":[{"a":1},{"b":2}]}"#);
    assert_eq!(json("{a: 1}\n"), r#"{"a":1}"#);
    assert_eq!(
        json("? |-\n  long\n  key\n: v\n? k2\n"),
        r#"{"long\nkey":"v","k2":null}"#
    );
    assert_eq!(
        json("\"quoted key\": 1\n'it''s': 2\n"),
        r#"{"quoted key":1,"it's":2}"#
    );
    assert_eq!(
        json("k: !mytag 123\nb: !!binary aGVsbG8=\n"),
        r#"{"k":"123","b":"hello"}"#
    );
    assert_eq!(
        json("k: !!str 123\nf: !!float 1\n"),
        r#"{"k":"123","f":1.0}"#
    );
    assert_eq!(json("k: a\r\nb: c\r\n"), r#"{"k":"a","b":"c"}"#);
    // A repeated key is kept in a later document (the first one refuses it, as sops 3.13).
    let l = load(b"a: 1\n---\nm:\n  dup: 1\n  dup: 2\n").expect("second document");
    let Some(Value::Map(m)) = l.branches[1].get("m").cloned() else {
        panic!("map")
    };
    assert_eq!(m.0.len(), 2);
}

#[test]
fn anchors_expand_and_merge_keys_stay_ordinary_keys() {
    assert_eq!(
        json("b: &b\n  x: 1\nd:\n  <<: *b\n  z: 3\ne:\n  !!merge <<: *b\ns: &s hi\nt: *s\n"),
        r#"{"b":{"x":1},"d":{"<<":{"x":1},"z":3},"e":{"<<":{"x":1}},"s":"hi","t":"hi"}"#
    );
    assert!(err(b"a: *nope\n").contains("line 1"));
}

#[test]
fn alias_bombs_are_stopped() {
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let p = i - 1;
        src.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(err(src.as_bytes()).contains("size limit"));
}

#[test]
fn keys_must_be_strings() {
    for src in [
        "1: a\n",
        "true: a\n",
        "~: a\n",
        "1.5: a\n",
        "2024-01-01: a\n",
        "[a]: b\n",
        "{a: 1}: b\n",
        ": a\n",
    ] {
        let e = err(src.as_bytes());
        assert!(e.starts_with("line 1"), "{src:?}: {e}");
    }
    assert_eq!(
        json("\"1\": a\n!!str 2: b\n<<: c\n"),
        r#"{"1":"a","2":"b","<<":"c"}"#
    );
}

#[test]
fn malformed_input_is_an_error() {
    for src in [
        &b"k: \xff\n"[..],
        b"a:\n\tb: 1\n",
        b"k: \"abc\n",
        b"k: 'abc\n",
        b"- a\n- b\n",
        b"just text\n",
        b"k: [a, b\n",
        b"k: {a: 1\n",
        b"a: 1\n  b: 2\n",
        b"a: b: c\n",
        b"k: \"\\q\"\n",
        b"a:\n  - x\n  y: 1\n",
        b"k: \"a\" junk\n",
        b"k: |x\n",
    ] {
        let e = err(src);
        assert!(
            e.starts_with("line "),
            "{:?}: {e}",
            String::from_utf8_lossy(src)
        );
    }
}

#[test]
fn nesting_deeper_than_the_cap_is_an_error() {
    let deep_flow = format!("k: {}{}\n", "[".repeat(300), "]".repeat(300));
    assert!(err(deep_flow.as_bytes()).contains("nesting"));
    let mut deep_block = String::new();
    for i in 0..300 {
        deep_block.push_str(&" ".repeat(i));
        deep_block.push_str("k:\n");
    }
    assert!(err(deep_block.as_bytes()).contains("nesting"));
    let mut ok = String::new();
    for i in 0..150 {
        ok.push_str(&" ".repeat(i));
        ok.push_str("k:\n");
    }
    assert!(load(ok.as_bytes()).is_ok());
}

#[test]
fn ten_thousand_values_parse_in_linear_time() {
    let mut src = String::new();
    for i in 0..10_000 {
        src.push_str(&format!("key{i}:\n    nested: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str] # c\n    list:\n        - {i}\n"));
    }
    let start = std::time::Instant::now();
    let l = load(src.as_bytes()).expect("big");
    assert_eq!(l.branches[0].pairs().count(), 10_000);
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}
