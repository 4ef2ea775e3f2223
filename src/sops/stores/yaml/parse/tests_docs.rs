//! Parser tests on documents, metadata and comment placement.

use super::load;
use super::tests_fixtures::{map_json, read};
use crate::sops::tree::{Entry, Map, Value};

fn json(src: &str) -> String {
    let l = load(src.as_bytes()).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    serde_json::to_string(&map_json(&l.branches[0])).expect("json")
}

fn s(v: &str) -> Value {
    Value::str(v)
}

#[test]
fn documents_become_branches_and_only_the_first_sops_key_is_metadata() {
    let l = load(b"%YAML 1.1\n---\na: 1\nsops: {version: first}\n---\n---\nb: 2\nsops: {version: other}\n...\n").expect("multi");
    assert_eq!(l.branches.len(), 3);
    assert_eq!(l.branches[1], Map::new());
    assert!(l.branches.iter().all(|b| b.get("sops").is_none()));
    let meta = match l.metadata {
        Some(Value::Map(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(meta.get("version"), Some(&s("first")));
    let none = load(b"a: 1\n---\nsops: {version: x}\n").expect("late sops");
    assert!(none.metadata.is_none());
    let empty = load(b"").expect("empty");
    assert!(empty.branches.is_empty() && empty.metadata.is_none());
    assert!(load(b"# only a comment\n")
        .expect("comment")
        .metadata
        .is_none());
}

#[test]
fn metadata_comments_are_dropped() {
    let l = load(b"a: 1\nsops:\n    # c\n    age:\n        # d\n        - x\n    version: 1\n")
        .expect("meta");
    assert_eq!(
        l.metadata,
        Some(Value::Map(Map(vec![
            Entry::Pair("age".into(), Value::List(vec![s("x")])),
            Entry::Pair("version".into(), Value::Int(1)),
        ])))
    );
}

#[test]
fn comments_land_where_yaml_v3_and_sops_put_them() {
    assert_eq!(
        json("# a\nk: v # b\nm:\n    # c\n    x: 1\n    # d\n# e\nl:\n    # f\n    - 1 # g\n    - y: 2 # h\n      # i\n    # j\n    - z\n"),
        // sops 3.13.2: a comment after a scalar on its line is inline (marked "\n").
        r#"{" a":null,"\n b":null,"k":"v","m":{" c":null,"x":1," d":null}," e":null,"l":[" f","\n g",1,{"\n h":null,"y":2," i":null}," j","z"]}"#
    );
    assert_eq!(
        json("l:\n  - a: 1\n  # after\nn: 1\n"),
        r#"{"l":[{"a":1," after":null}],"n":1}"#
    );
    assert_eq!(
        json("k:\n  # before\n  value\n"),
        r#"{" before":null,"k":"value"}"#
    );
    assert_eq!(json("#ENC[x]\nk: v\n"), r#"{"ENC[x]":null,"k":"v"}"#);
}

#[test]
fn a_comment_moved_to_column_zero_lands_in_the_top_level_map() {
    let l = load(&read("negative/moved-comment.yaml")).expect("moved");
    let top = &l.branches[0];
    let pos = |key: &str| {
        top.0
            .iter()
            .position(|e| matches!(e, Entry::Pair(k, _) if k == key))
    };
    let (list, next) = (
        pos("list").expect("list"),
        pos("scalar_list").expect("scalar_list"),
    );
    assert_eq!(next, list + 2);
    assert!(matches!(top.0[list + 1], Entry::Comment(_)));
    match top.get("list") {
        Some(Value::List(items)) => match items.last() {
            Some(Value::Map(m)) => assert!(m.0.iter().all(|e| matches!(e, Entry::Pair(..)))),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_comment_on_a_dash_line_leads_the_sequence_below_it() {
    // The layouts sops writes for a list whose first item is a comment and then a map; sops
    // reads the comment back as the first item of the inner list (interop seed 4242).
    assert_eq!(
        json("a:\n    - # c\n      - user: x\n        n: 1\n    - 2\n"),
        r#"{"a":[[" c",{"user":"x","n":1}],2]}"#
    );
    assert_eq!(
        json("a:\n    - # c\n      # d\n      - user: x\n    - 2\n"),
        r#"{"a":[[" c"," d",{"user":"x"}],2]}"#
    );
    assert_eq!(
        json("a:\n    - - # c\n        - user: x\n    - 2\n"),
        r#"{"a":[[[" c",{"user":"x"}]],2]}"#
    );
    // After a scalar on the dash line, the comment is that element's inline comment (3.13.2).
    assert_eq!(
        json("a:\n    - - 5 # c\n    - 2\n"),
        r#"{"a":[["\n c",5],2]}"#
    );
}

#[test]
fn a_comment_after_an_explicit_colon_stays_before_its_entry() {
    // What sops writes for keys over 128 characters: the comment on the `:` line belongs to
    // that entry's map even when the map started on the outer `:` line (interop seed 1003).
    assert_eq!(
        json("? a\n:   ? b\n    :   # c\n        - 1\n    d: 2\n"),
        r#"{"a":{" c":null,"b":[1],"d":2}}"#
    );
    assert_eq!(
        json("? a\n:   # c\n    ? b\n    :   x: 1\n"),
        r#"{" c":null,"a":{"b":{"x":1}}}"#
    );
}

#[test]
fn directives_are_checked_as_yaml_v3_checks_them() {
    // sops (3.11 to 3.13.2): only %YAML 1.1, once per document; %TAG passes; others refused.
    for ok in [
        "%YAML 1.1\n---\na: 1\n",
        "%YAML   01.1   # c\n---\na: 1\n",
        "%TAG ! !foo\n---\na: 1\n",
        "%YAML 1.1\n\n%TAG !e! tag:x:\n---\na: 1\n",
        "%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n---\nb: 1\n",
    ] {
        assert!(load(ok.as_bytes()).is_ok(), "{ok:?}");
    }
    for (bad, why) in [
        ("%YAML 1.2\n---\na: 1\n", "incompatible"),
        ("%YAML 1.0\n---\na: 1\n", "incompatible"),
        ("%YAML 2.0\n---\na: 1\n", "incompatible"),
        ("%YAML 1.12\n---\na: 1\n", "incompatible"),
        ("%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "duplicate"),
        ("%YAML 1.1 x\n---\na: 1\n", "comment or line break"),
        ("%FOO bar\n---\na: 1\n", "unknown directive"),
        ("a: 1\n...\n%YAML 1.2\n---\nb: 1\n", "incompatible"),
    ] {
        let e = load(bad.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(why), "{bad:?}: {e:?}");
    }
}

#[test]
fn a_key_repeated_at_the_top_of_the_first_document_or_in_the_metadata_is_an_error() {
    // sops decodes the first document into a struct with yaml.v3, which refuses repeats.
    for bad in [
        "a: 1\na: 2\n",
        "a: 1\n\"a\": 2\n",
        "a: 1\nsops: {version: x}\nsops: {version: y}\n",
        "a: 1\nsops:\n    version: x\n    version: x\n",
        "a: 1\nsops:\n    age:\n        - recipient: r\n          recipient: r\n",
    ] {
        let e = load(bad.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("already defined"), "{bad:?}: {e:?}");
    }
    // Below the top, and in later documents, sops keeps both (the tree is read as nodes).
    for ok in ["a:\n  b: 1\n  b: 2\n", "a: 1\n---\nb: 1\nb: 2\n"] {
        assert!(load(ok.as_bytes()).is_ok(), "{ok:?}");
    }
}

#[test]
fn a_tab_in_the_indentation_of_a_line_is_an_error_as_in_yaml_v3() {
    // yaml.v3 lets a tab stand only in the blank lines a plain scalar scans past, from the
    // column after its collection's indentation; anywhere else at a line start it refuses it.
    for bad in [
        "a: x\n\t# c\nb: y\n",
        "a: x\n\t\nb: y\n",
        "a: {}\n\t# c\nb: y\n",
        "a: {}\n    \t# c\nb: y\n",
        "a: \"x\"\n\t\nb: 1\n",
        "l:\n    - x\n    \t# c\n",
        "l:\n    - x\n  \t# c\n",
        "a: x\n# c\n\t# d\n",
        "\t# at the start\na: x\n",
    ] {
        let e = load(bad.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("tab character"), "{bad:?}: {e:?}");
    }
    for ok in [
        "a: x\t# c\n",
        "a: {}\t# c\n",
        "a: x\n  \t# c\nb: y\n",
        "a: x\n \t\nb: 1\n",
        "l:\n  - x\n   \t# c\n",
        "l:\n    - x\n     \t# c\n",
        "a: x # c\t\n",
    ] {
        assert!(load(ok.as_bytes()).is_ok(), "{ok:?}");
    }
}

/// Loads a plain YAML file and prints it back as sops prints a decrypted one.
fn reprint(src: &str) -> String {
    let l = load(src.as_bytes()).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let out = crate::sops::stores::emit_file(crate::sops::stores::Format::Yaml, &l.branches)
        .expect("prints");
    String::from_utf8(out.as_bytes().to_vec()).expect("UTF-8")
}

#[test]
fn a_comment_after_a_flow_collection_value_goes_into_it_as_sops_prints_it() {
    // Outputs of sops 3.11, 3.12.2 and 3.13.2 (they agree here).
    assert_eq!(reprint("m: {} # c1\nk: x\n"), "m: {\n    # c1\n}\nk: x\n");
    assert_eq!(reprint("l: [] # c2\nk: x\n"), "l: []\n# c2\nk: x\n");
    assert_eq!(
        reprint("f: [x, y] # c3\nk: z\n"),
        "f:\n    # c3\n    - x\n    - \"y\"\nk: z\n"
    );
    assert_eq!(reprint("g: {p: q} # c4\n"), "g:\n    # c4\n    p: q\n");
}

#[test]
fn comments_right_below_a_last_document_marker_belong_to_the_document_before() {
    // sops 3.13.2: the first comment block right below `---` (then nothing but comments) is
    // printed before the `---`; a block after a blank line stays in the new document.
    assert_eq!(
        reprint("a: x\n---\n# c\n# d\n"),
        "a: x\n# c\n# d\n---\n{}\n"
    );
    assert_eq!(
        reprint("a: x\n---\n# c\n\n# d\n"),
        "a: x\n# c\n---\n# d\n{}\n"
    );
    assert_eq!(reprint("a: x\n---\n\n# c\n"), "a: x\n---\n# c\n{}\n");
    assert_eq!(reprint("a: x\n---\n# c\n...\n"), "a: x\n---\n# c\n{}\n");
}

#[test]
fn the_comments_fixture_prints_as_sops_3_13_2_prints_it() {
    // tests/data/yaml-3.13/comments.out: `sops-3.13.2 decrypt` of the shared plain/comments.yaml
    // encrypted with `--encrypted-regex '^nomatch$'` (comments stay clear, as here).
    let plain = super::tests_fixtures::read("plain/comments.yaml");
    let want = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml-3.13/comments.out"),
    )
    .expect("comments.out");
    assert_eq!(
        reprint(std::str::from_utf8(&plain).expect("UTF-8")),
        String::from_utf8(want).expect("UTF-8")
    );
}

#[test]
fn a_comment_after_a_scalar_on_its_line_stays_inline_as_in_sops_3_13() {
    // Outputs of sops 3.13.2 (3.11 and 3.12.2 print the comment on its own line before).
    assert_eq!(reprint("k: v # c\nx: 1\n"), "k: v # c\nx: 1\n");
    assert_eq!(
        reprint("l:\n    - a # c\n    - b\n"),
        "l:\n    - a # c\n    - b\n"
    );
    assert_eq!(reprint("l:\n    - k: v # c\n"), "l:\n    - k: v # c\n");
    assert_eq!(
        reprint("a:\n    - - 5 # c\n    - 2\n"),
        "a:\n    - - 5 # c\n    - 2\n"
    );
}
