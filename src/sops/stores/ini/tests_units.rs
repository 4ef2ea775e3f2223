//! Unit tests of the INI store and the metadata both flat stores load from the fixtures.

use super::tests_corpus::fixtures;
use super::{emit_file, load};
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::dotenv;
use crate::sops::tree::{Entry, Map, Value};

fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => format!("<{}>", other.kind_name()),
    }
}

fn as_map(v: &Value) -> &Map {
    match v {
        Value::Map(m) => m,
        _ => panic!("not a map"),
    }
}

/// Checks the metadata of a file encrypted with `--age R1` has the YAML store's shape.
fn check_single_age_metadata(md: &Value) {
    let md = as_map(md);
    let Some(Value::List(age)) = md.get("age") else {
        panic!("age is not a list")
    };
    assert_eq!(age.len(), 1);
    let key = as_map(&age[0]);
    assert!(text(key.get("recipient").unwrap()).starts_with("age1"));
    let enc = text(key.get("enc").unwrap());
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
    assert!(enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
    assert!(text(md.get("lastmodified").unwrap()).ends_with('Z'));
    assert!(text(md.get("mac").unwrap()).starts_with("ENC[AES256_GCM,data:"));
    assert_eq!(text(md.get("unencrypted_suffix").unwrap()), "_unencrypted");
    assert_eq!(text(md.get("version").unwrap()), "3.11.0");
}

fn keys(m: &Map) -> Vec<String> {
    m.0.iter()
        .map(|e| match e {
            Entry::Comment(_) => "#".to_string(),
            Entry::Pair(k, _) => k.clone(),
        })
        .collect()
}

#[test]
fn the_encrypted_dotenv_fixtures_load_with_yaml_shaped_metadata() {
    let f = dotenv::load(&std::fs::read(fixtures().join("enc/basic.env")).unwrap()).unwrap();
    check_single_age_metadata(f.metadata.as_ref().unwrap());
    let data = &f.branches[0];
    assert_eq!(
        keys(data),
        [
            "#",
            "FOO",
            "QUOTED",
            "SINGLE",
            "SPACES ",
            "EMPTY",
            "MULTI",
            "EQ",
            "export EXPORTED",
            "UNICODE",
            "TRAILING",
            "KEY_unencrypted",
            "CRLF",
            "#",
            "HASH"
        ]
    );
    assert_eq!(text(data.get("KEY_unencrypted").unwrap()), "clear");
    assert!(text(data.get("FOO").unwrap()).starts_with("ENC[AES256_GCM,"));
    let f = dotenv::load(&std::fs::read(fixtures().join("enc/empty.env")).unwrap()).unwrap();
    assert!(f.branches[0].0.is_empty());
    check_single_age_metadata(f.metadata.as_ref().unwrap());
}

#[test]
fn the_encrypted_ini_fixture_loads_sections_comments_and_metadata() {
    let f = load(&std::fs::read(fixtures().join("enc/basic.ini")).unwrap()).unwrap();
    check_single_age_metadata(f.metadata.as_ref().unwrap());
    let top = &f.branches[0];
    assert_eq!(
        keys(top),
        [
            "DEFAULT",
            "section1",
            "section.two",
            "section1",
            "empty_section"
        ]
    );
    let default = as_map(top.get("DEFAULT").unwrap());
    // The file comment is the comment of the first key, which sops stores after that key.
    assert_eq!(keys(default), ["global_key", "#", "other"]);
    let s1 = as_map(top.get("section1").unwrap());
    assert_eq!(keys(s1)[..6], ["#", "key1", "key2", "key3", "#", "key4"]);
    let Some(Entry::Comment(c)) = s1.0.first() else {
        panic!()
    };
    assert!(c.as_bytes().starts_with(b"ENC[AES256_GCM,"));
    assert_eq!(text(s1.get("key_unencrypted").unwrap()), "clear");
    assert_eq!(text(s1.get("empty").unwrap()), "");
    let two = as_map(top.get("section.two").unwrap());
    assert_eq!(keys(two), ["a", "b", "key:colon", "ünï"]);
}

fn ini(input: &str) -> String {
    let f = load(input.as_bytes()).unwrap();
    String::from_utf8(emit_file(&f.branches).unwrap().as_bytes().to_vec()).unwrap()
}

#[test]
fn ini_errors_name_the_line_and_never_the_content() {
    for (input, want) in [
        (
            "[s]\nsecret_flag\n",
            "line 2: key-value delimiter not found",
        ),
        ("a = 1\n[secret\n", "line 2: unclosed section header"),
        ("[]\n", "line 1: empty section name"),
        ("[s]\n = secret\n", "line 2: empty key name"),
        ("[s]\n\"\" = secret\n", "line 2: empty key name"),
        ("[s]\n\"secret = 1\n", "line 2: missing closing key quote"),
        (
            "[s]\nk = `secret\nmore\n",
            "line 2: missing closing quote of a quoted value",
        ),
        (
            "[s]\nk = \"\"\"secret\n",
            "line 2: missing closing quote of a quoted value",
        ),
    ] {
        assert_eq!(
            load(input.as_bytes()).unwrap_err().to_string(),
            want,
            "{input:?}"
        );
    }
}

#[test]
fn values_lose_inline_comments_and_one_pair_of_quotes() {
    assert_eq!(
        ini("[s]\na = \"x\" ; c\nb = 'y'\nc = \"x'\nd = `p;q` # gone\ne = \"\"\"m\nn\"\"\" ; c2\n"),
        "[s]\n; c\na = x\nb = y\nc = \"x'\nd = `p;q`\n; c2\ne = \"\"\"m\nn\"\"\"\n"
    );
}

fn section(name: &str, entries: Vec<Entry>) -> Entry {
    Entry::Pair(name.to_string(), Value::Map(Map(entries)))
}

fn pair(k: &str, v: Value) -> Entry {
    Entry::Pair(k.to_string(), v)
}

fn comment(c: &str) -> Entry {
    Entry::Comment(SecretBytes::from(c))
}

fn emit(branches: Vec<Vec<Entry>>) -> Result<String, String> {
    let maps: Vec<Map> = branches.into_iter().map(Map).collect();
    emit_file(&maps)
        .map(|b| String::from_utf8(b.as_bytes().to_vec()).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn converted_trees_print_as_sops_prints_yaml_converted_to_ini() {
    // sops decrypt --output-type ini on YAML (pinned by hand with sops 3.11).
    let got = emit(vec![vec![
        comment(" top comment (dropped)"),
        section(
            "sec",
            vec![
                comment(" key comment"),
                pair("a", Value::Int(1)),
                pair("b", Value::Float(1.0)),
                pair("c", Value::Bool(true)),
                pair("d", Value::Null),
                pair("f", Value::Float(-0.0)),
                pair("g", Value::Float(1e6)),
                pair("h", Value::Float(f64::INFINITY)),
                comment(" trailing comment"),
            ],
        ),
        section("sec2", vec![pair("x", Value::str("y"))]),
    ]]);
    assert_eq!(
        got.unwrap(),
        ";  key comment\n[sec]\na = 1\nb = 1.0\nc = true\nd = <nil>\nf = -0.0\ng = 1E+06\n\
         ; trailing comment\nh = +Inf\n\n[sec2]\nx = y\n"
    );
    let got = emit(vec![vec![section(
        "DEFAULT",
        vec![
            comment(" c"),
            comment(" d"),
            pair("a", Value::Int(1)),
            comment(" e"),
            comment(" f"),
            pair("b", Value::Int(2)),
        ],
    )]]);
    assert_eq!(got.unwrap(), ";  c\n; f\na = 1\nb = 2\n");
}

#[test]
fn default_is_headerless_only_as_the_very_first_section() {
    let x = || vec![pair("x", Value::str("y"))];
    assert_eq!(emit(vec![vec![section("DEFAULT", vec![])]]).unwrap(), "");
    assert_eq!(
        emit(vec![vec![section("default", x())]]).unwrap(),
        "x = y\n"
    );
    assert_eq!(
        emit(vec![vec![section("DEFAULT", vec![]), section("b", x())]]).unwrap(),
        "[b]\nx = y\n"
    );
    assert_eq!(
        emit(vec![vec![section("b", x()), section("DEFAULT", vec![])]]).unwrap(),
        "[b]\nx = y\n\n[DEFAULT]\n"
    );
    assert_eq!(
        emit(vec![vec![section("a", x())], vec![section("c", x())]]).unwrap(),
        "[a]\nx = y\n\n[c]\nx = y\n"
    );
}

#[test]
fn values_and_keys_are_quoted_as_ini_v1_quotes_them() {
    let got = emit(vec![vec![section(
        "b",
        vec![
            pair("nl", Value::str("y\n")),
            pair("sp", Value::str("  ")),
            pair("tab", Value::str("a\tb")),
            pair("ltab", Value::str("\ta")),
            pair("cr", Value::str("a\r")),
            pair("bq", Value::str("a`b")),
            pair("tq", Value::str("a\"\"\"b")),
            pair("hs", Value::str("a#b;c")),
            pair("q", Value::str("\"quoted\"")),
            pair("k\"q", Value::str("1")),
            pair("k`b", Value::str("2")),
            pair("k`\"", Value::str("3")),
            pair("a;b", Value::str("4")),
        ],
    )]]);
    assert_eq!(
        got.unwrap(),
        "[b]\nnl        = \"\"\"y\n\"\"\"\nsp        = \"  \"\ntab       = a\tb\nltab      = \"\ta\"\n\
         cr        = \"a\r\"\nbq        = \"\"\"a`b\"\"\"\ntq        = a\"\"\"b\nhs        = `a#b;c`\n\
         q         = \"quoted\"\n`k\"q`     = 1\n\"\"\"k`b\"\"\" = 2\n`k`\"`     = 3\na;b       = 4\n"
    );
}

#[test]
fn trees_ini_cannot_hold_are_errors_without_names() {
    let bad = [
        vec![pair("SECRETKEY", Value::str("SECRET"))],
        vec![section(
            "SECRET",
            vec![pair("SECRETKEY", Value::Map(Map::new()))],
        )],
        vec![section("s", vec![pair("k", Value::List(vec![]))])],
        vec![section("s", vec![pair("", Value::str("v"))])],
        vec![section("", vec![])],
        vec![section("s", vec![comment("a\n\nb")])],
        vec![section("s", vec![pair("k", Value::Null), comment("a\n")])],
    ];
    for b in bad {
        let err = emit(vec![b]).unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
    }
}

#[test]
fn duplicate_keys_keep_their_first_place_with_the_last_value() {
    assert_eq!(
        ini("[s]\n; c1\na = 1\nb = 2\n; c2\na = 3\n"),
        "[s]\n; c2\na = 3\nb = 2\n"
    );
    let got = emit(vec![vec![section(
        "s",
        vec![
            pair("a", Value::Int(1)),
            comment("c"),
            pair("b", Value::Int(2)),
            pair("a", Value::Int(3)),
        ],
    )]]);
    assert_eq!(got.unwrap(), "[s]\n; c\na = 3\nb = 2\n");
}
