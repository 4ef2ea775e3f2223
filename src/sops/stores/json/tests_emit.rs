//! Writer tests built as trees: the layout, escape and number examples of spec 7.2, YAML-typed
//! values, comments, `emit_value`, and what cannot be printed.

use super::{emit_file, emit_value};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Timestamp, Value};

fn map(entries: Vec<(&str, Value)>) -> Map {
    let mut m = Map::new();
    for (k, v) in entries {
        m.push(k, v);
    }
    m
}

fn file(entries: Vec<(&str, Value)>) -> String {
    let out = emit_file(&[map(entries)]).expect("prints");
    String::from_utf8(out.as_bytes().to_vec()).expect("utf-8")
}

fn one(v: Value) -> String {
    let out = emit_value(&v).expect("prints");
    String::from_utf8(out.as_bytes().to_vec()).expect("utf-8")
}

fn string_member(s: &[u8]) -> String {
    file(vec![("k", Value::Str(SecretBytes::from(s.to_vec())))])
}

#[test]
fn the_basic_example_is_printed_with_tabs() {
    let db = map(vec![
        ("user", Value::str("admin")),
        ("password", Value::str("hunter2")),
        ("port", Value::Float(5432.0)),
    ]);
    let server = |name: &str, w: f64| {
        Value::Map(map(vec![
            ("name", Value::str(name)),
            ("weight", Value::Float(w)),
        ]))
    };
    let out = file(vec![
        ("db", Value::Map(db)),
        ("api_key", Value::str("abc123")),
        ("enabled", Value::Bool(true)),
        (
            "servers",
            Value::List(vec![server("alpha", 1.5), server("beta", 2.0)]),
        ),
    ]);
    let want = String::from_utf8(crate::test_fixtures::read("out/json-basic.out")).unwrap();
    assert_eq!(out, want);
}

#[test]
fn html_characters_are_escaped_in_values_and_keys() {
    let out = file(vec![
        ("html", Value::str("<a href=\"x\">&</a>")),
        ("key <&> html", Value::str("v")),
    ]);
    assert_eq!(
        out,
        "{\n\t\"html\": \"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\",\n\t\"key \\u003c\\u0026\\u003e html\": \"v\"\n}\n"
    );
}

#[test]
fn control_characters_use_short_forms_or_lower_case_hex() {
    let out = string_member(
        "tab\there\nnewline \"q\" back\\slash \u{1} \u{8} \u{c} \u{1b} \u{7f} \u{2028} \u{2029} \r \0 \u{1f}"
            .as_bytes(),
    );
    assert_eq!(
        out,
        "{\n\t\"k\": \"tab\\there\\nnewline \\\"q\\\" back\\\\slash \\u0001 \\b \\f \\u001b \u{7f} \\u2028 \\u2029 \\r \\u0000 \\u001f\"\n}\n"
    );
}

#[test]
fn slash_and_non_ascii_are_written_raw() {
    let out = string_member("a/b h\u{e9}llo \u{2603} 😀 \u{fffd} \u{2027}".as_bytes());
    assert_eq!(
        out,
        "{\n\t\"k\": \"a/b h\u{e9}llo \u{2603} 😀 \u{fffd} \u{2027}\"\n}\n"
    );
}

#[test]
fn invalid_utf8_is_escaped_as_ufffd_once_per_bad_byte() {
    let out = string_member(
        b"a\xe2\x82b\xc0\x80c\xed\xa0\x80d\xf4\x90\x80\x80e\xf0\x9f\x98f\x80g\xe2\x80\xa8\x7f\xf0\x9f\x98\x80<",
    );
    let want = "{\n\t\"k\": \"a\\ufffd\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffdf\\ufffdg\\u2028\u{7f}😀\\u003c\"\n}\n";
    assert_eq!(out, want);
}

#[test]
fn numbers_follow_go_json_rules() {
    let cases: &[(f64, &str)] = &[
        (42.0, "42"),
        (-7.0, "-7"),
        (1.0, "1"),
        (1.5, "1.5"),
        (1e10, "10000000000"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (12345678901234567890.0, "12345678901234567000"),
        (9007199254740993.0, "9007199254740992"),
        (-0.0, "-0"),
        (1.5e300, "1.5e+300"),
        (99999999999999999999999.0, "1e+23"),
    ];
    for &(v, want) in cases {
        assert_eq!(one(Value::Float(v)), want, "{v:e}");
    }
    assert_eq!(one(Value::Int(i64::MAX)), "9223372036854775807");
    assert_eq!(one(Value::Int(i64::MIN)), "-9223372036854775808");
}

#[test]
fn nan_and_infinity_are_unsupported_values() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = emit_file(&[map(vec![("x", Value::List(vec![Value::Float(v)]))])]).unwrap_err();
        assert!(e.0.contains("unsupported value"));
        assert!(emit_value(&Value::Float(v)).is_err());
    }
}

#[test]
fn scalars_and_empty_containers() {
    let out = file(vec![
        ("t", Value::Bool(true)),
        ("f", Value::Bool(false)),
        ("nul", Value::Null),
        ("empty", Value::str("")),
        ("empty_obj", Value::Map(Map::new())),
        ("empty_arr", Value::List(vec![])),
        ("dup", Value::Float(1.0)),
        ("dup", Value::Float(2.0)),
        ("", Value::str("empty key")),
    ]);
    assert_eq!(
        out,
        "{\n\t\"t\": true,\n\t\"f\": false,\n\t\"nul\": null,\n\t\"empty\": \"\",\n\t\"empty_obj\": {},\n\t\"empty_arr\": [],\n\t\"dup\": 1,\n\t\"dup\": 2,\n\t\"\": \"empty key\"\n}\n"
    );
}

#[test]
fn an_empty_document_is_an_empty_object() {
    assert_eq!(file(vec![]), "{}\n");
}

#[test]
fn times_are_rfc3339_strings() {
    let t = |s: &str| Value::Time(Timestamp::parse_rfc3339(s).expect("time"));
    let out = file(vec![
        ("a", t("2024-01-02T00:00:00Z")),
        ("b", t("2001-12-14T21:59:43.1-05:00")),
    ]);
    assert_eq!(
        out,
        "{\n\t\"a\": \"2024-01-02T00:00:00Z\",\n\t\"b\": \"2001-12-14T21:59:43.1-05:00\"\n}\n"
    );
    assert_eq!(one(t("2024-01-02T00:00:00Z")), "\"2024-01-02T00:00:00Z\"");
}

#[test]
fn comments_are_dropped_everywhere() {
    let c = || SecretBytes::from(" note");
    let mut inner = map(vec![("x", Value::Int(1))]);
    inner.0.insert(0, Entry::Comment(c()));
    inner.0.push(Entry::Comment(c()));
    let mut top = Map::new();
    top.0.push(Entry::Comment(c()));
    top.push("a", Value::Map(inner));
    top.push(
        "l",
        Value::List(vec![
            Value::Comment(c()),
            Value::Int(1),
            Value::Comment(c()),
            Value::Int(2),
            Value::Comment(c()),
        ]),
    );
    top.push("only", Value::List(vec![Value::Comment(c())]));
    let mut comment_map = Map::new();
    comment_map.0.push(Entry::Comment(c()));
    top.push("cm", Value::Map(comment_map));
    top.0.push(Entry::Comment(c()));
    let out = emit_file(&[top]).expect("prints");
    assert_eq!(
        out.as_bytes(),
        b"{\n\t\"a\": {\n\t\t\"x\": 1\n\t},\n\t\"l\": [\n\t\t1,\n\t\t2\n\t],\n\t\"only\": [],\n\t\"cm\": {}\n}\n"
    );
    let mut only_comments = Map::new();
    only_comments.0.push(Entry::Comment(c()));
    assert_eq!(
        emit_file(&[only_comments]).expect("prints").as_bytes(),
        b"{}\n"
    );
}

#[test]
fn only_the_first_branch_is_printed() {
    let a = map(vec![("a", Value::Int(1)), ("b", Value::str("text"))]);
    let b = map(vec![("c", Value::Int(2))]);
    let out = emit_file(&[a, b]).expect("prints");
    assert_eq!(out.as_bytes(), b"{\n\t\"a\": 1,\n\t\"b\": \"text\"\n}\n");
    assert!(emit_file(&[]).is_err());
}

#[test]
fn extracted_values_have_no_final_newline() {
    assert_eq!(one(Value::Float(42.0)), "42");
    assert_eq!(one(Value::Float(1.5)), "1.5");
    assert_eq!(one(Value::Bool(true)), "true");
    assert_eq!(one(Value::Null), "null");
    assert_eq!(one(Value::Float(1e21)), "1e+21");
    assert_eq!(one(Value::List(vec![])), "[]");
    let l = Value::List(vec![
        Value::Float(1.0),
        Value::Float(2.0),
        Value::Map(map(vec![
            ("a", Value::List(vec![])),
            ("b", Value::Map(Map::new())),
        ])),
    ]);
    assert_eq!(
        one(l),
        "[\n\t1,\n\t2,\n\t{\n\t\t\"a\": [],\n\t\t\"b\": {}\n\t}\n]"
    );
    assert_eq!(
        one(Value::List(vec![
            Value::Int(1),
            Value::Comment(SecretBytes::from("c")),
            Value::Int(2)
        ])),
        "[\n\t1,\n\t2\n]"
    );
    assert!(emit_value(&Value::Comment(SecretBytes::from("c"))).is_err());
}

#[test]
fn a_comment_as_a_member_value_is_an_error_not_broken_json() {
    let m = map(vec![("k", Value::Comment(SecretBytes::from("c")))]);
    assert!(emit_file(&[m]).is_err());
}

#[test]
fn absurdly_deep_trees_are_refused_without_overflowing_the_stack() {
    let mut v = Value::Null;
    for _ in 0..5000 {
        v = Value::List(vec![v]);
    }
    assert!(emit_value(&v).is_err());
    assert!(emit_file(&[map(vec![("k", v)])]).is_err());
}
