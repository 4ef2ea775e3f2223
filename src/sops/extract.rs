//! Selecting part of a decrypted file: sops' `--extract '["a"][0]'` paths and sops-nix's
//! `a/b/c` keys, and printing the selection as sops does (strings raw, maps as a whole
//! document of the output store, anything else through the store's value printer).

use crate::hint::Hint;
use crate::secret_bytes::SecretBytes;
use crate::sops::error::SopsError;
use crate::sops::stores::{self, Format};
use crate::sops::tree::{Entry, Map, Value};
use std::collections::HashMap;

/// Positions of the top-level keys of a file's first branch, for files that many secrets are
/// taken from (a linear scan per secret would make 1000 secrets cost a million comparisons).
#[derive(Debug, Default)]
pub struct TopIndex(HashMap<String, usize>);

impl TopIndex {
    /// Indexes the first occurrence of each key, as [`Map::get`] finds it.
    pub fn new(branches: &[Map]) -> TopIndex {
        let mut index = HashMap::new();
        if let Some(first) = branches.first() {
            for (i, e) in first.0.iter().enumerate() {
                if let Entry::Pair(k, _) = e {
                    index.entry(k.clone()).or_insert(i);
                }
            }
        }
        TopIndex(index)
    }

    fn get<'a>(&self, first: &'a Map, key: &str) -> Option<&'a Value> {
        match first.0.get(*self.0.get(key)?) {
            Some(Entry::Pair(_, v)) => Some(v),
            _ => None,
        }
    }
}

/// A path selects nothing, or is not a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("invalid --extract path {path:?}: {reason}")]
    BadPath { path: String, reason: String },
    #[error("the file has no data")]
    NoData,
    #[error("the top level is a map: the first step must be a key")]
    IndexAtTop,
    /// `at` is a `kind`, so it has no `step` (`key "c"`, `element 0`).
    #[error("{at} is a {kind}, so it has no {step}")]
    NotAContainer {
        at: String,
        kind: &'static str,
        step: String,
    },
    /// The keys that do exist at that level come with it, for the hint.
    #[error("key {key} not found")]
    NotFound { key: String, existing: Vec<String> },
    #[error("{0} is a comment")]
    Comment(String),
}

/// At most this many existing keys are named in a hint.
const KEYS_IN_HINT: usize = 20;

impl ExtractError {
    /// What to do about it: for a missing key, the keys that exist at that level.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            ExtractError::NotFound { existing, .. } if existing.is_empty() => Some(Hint::new(
                "there are no keys at that level; check the secret's `key` (nested keys are \
                 written a/b/c)",
            )),
            ExtractError::NotFound { existing, .. } => {
                let mut names: Vec<String> = existing
                    .iter()
                    .take(KEYS_IN_HINT)
                    .map(|k| format!("{k:?}"))
                    .collect();
                if existing.len() > KEYS_IN_HINT {
                    names.push(format!("and {} more", existing.len() - KEYS_IN_HINT));
                }
                Some(Hint::new(format!(
                    "the keys at that level are {}; set the secret's `key` to one of them \
                     (nested keys are written a/b/c) or add the key with `sops set`",
                    names.join(", ")
                )))
            }
            ExtractError::NotAContainer { at, .. } => Some(Hint::new(format!(
                "{at} is a value itself: use `key = \"{at}\"` to install it"
            ))),
            ExtractError::BadPath { .. } => Some(Hint::new(
                "write the path as sops does, e.g. '[\"key\"][\"nested\"][0]'",
            )),
            ExtractError::NoData | ExtractError::IndexAtTop | ExtractError::Comment(_) => None,
        }
    }
}

/// The keys of a map, in file order.
fn keys_of(m: &Map) -> Vec<String> {
    m.0.iter()
        .filter_map(|e| match e {
            Entry::Pair(k, _) => Some(k.clone()),
            _ => None,
        })
        .collect()
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parses sops' `--extract` syntax: `["key"]`, `['key']` and `[0]`, repeated.
pub fn parse_extract_path(s: &str) -> Result<Vec<Step>, ExtractError> {
    let bad = |reason: String| ExtractError::BadPath {
        path: s.to_string(),
        reason,
    };
    let mut steps = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('[')
            .ok_or_else(|| bad("expected '['".into()))?;
        if let Some(q @ ('"' | '\'')) = inner.chars().next() {
            let body = &inner[1..];
            let end = body
                .find(q)
                .ok_or_else(|| bad("unterminated quote".into()))?;
            steps.push(Step::Key(body[..end].to_string()));
            rest = body[end + 1..]
                .strip_prefix(']')
                .ok_or_else(|| bad("expected ']'".into()))?;
        } else {
            let end = inner.find(']').ok_or_else(|| bad("expected ']'".into()))?;
            let index = inner[..end].trim().parse().map_err(|_| {
                bad(format!(
                    "{:?} is not a quoted key or an index",
                    &inner[..end]
                ))
            })?;
            steps.push(Step::Index(index));
            rest = &inner[end + 1..];
        }
    }
    Ok(steps)
}

/// A sops-nix key, given as its segments (split when the manifest was validated): each walks
/// one level of nested maps; no segment is the whole file.
pub fn key_steps(segments: &[String]) -> Vec<Step> {
    segments.iter().map(|k| Step::Key(k.clone())).collect()
}

fn describe(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The value `steps` select (`None` for the whole file); errors name the failing step.
pub fn lookup<'a>(branches: &'a [Map], steps: &[Step]) -> Result<Option<&'a Value>, ExtractError> {
    lookup_indexed(branches, None, steps)
}

/// [`lookup`], finding the first key through `index` when one was built for `branches`.
pub fn lookup_indexed<'a>(
    branches: &'a [Map],
    index: Option<&TopIndex>,
    steps: &[Step],
) -> Result<Option<&'a Value>, ExtractError> {
    let Some(first) = branches.first() else {
        return Err(ExtractError::NoData);
    };
    let mut current: Option<&Value> = None;
    for (i, step) in steps.iter().enumerate() {
        let found = match (current, step) {
            (None, Step::Key(k)) => match index {
                Some(index) => index.get(first, k),
                None => first.get(k),
            },
            (Some(Value::Map(m)), Step::Key(k)) => m.get(k),
            (Some(Value::List(items)), Step::Index(n)) => items.get(*n),
            (None, Step::Index(_)) => return Err(ExtractError::IndexAtTop),
            (Some(other), _) => {
                return Err(ExtractError::NotAContainer {
                    at: describe(&steps[..i]),
                    kind: other.kind_name(),
                    step: match step {
                        Step::Key(k) => format!("key {k:?}"),
                        Step::Index(n) => format!("element {n}"),
                    },
                })
            }
        };
        let existing = || match current {
            None => keys_of(first),
            Some(Value::Map(m)) => keys_of(m),
            Some(_) => Vec::new(),
        };
        current = Some(found.ok_or_else(|| ExtractError::NotFound {
            key: describe(&steps[..=i]),
            existing: existing(),
        })?);
    }
    Ok(current)
}

/// Prints the part of `branches` that `steps` select, in `format`.
pub fn extract(branches: &[Map], steps: &[Step], format: Format) -> Result<SecretBytes, SopsError> {
    extract_indexed(branches, None, steps, format)
}

/// [`extract`] with a [`TopIndex`] of `branches`. A path that selects nothing is an
/// [`SopsError::Extract`]; a selection the store cannot print is an [`SopsError::Emit`]
/// (sops: "Error dumping file", status 4).
pub fn extract_indexed(
    branches: &[Map],
    index: Option<&TopIndex>,
    steps: &[Step],
    format: Format,
) -> Result<SecretBytes, SopsError> {
    let emit = |source| SopsError::Emit { format, source };
    match lookup_indexed(branches, index, steps).map_err(SopsError::Extract)? {
        None => stores::emit_file(format, branches).map_err(emit),
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(Value::Map(m)) => stores::emit_file(format, std::slice::from_ref(m)).map_err(emit),
        Some(Value::Comment(text)) => comment_as_sops_prints_it(text, format)
            .ok_or_else(|| SopsError::Extract(ExtractError::Comment(describe(steps)))),
        Some(v) => stores::emit_value(format, v).map_err(emit),
    }
}

/// A comment in a list selected on its own: sops 3.13 marshals its `Comment{Value, Inline}`
/// struct, which yaml.v3 writes as `value: …` / `inline: …` and encoding/json as
/// `{"Value": …, "Inline": …}`. Other stores refuse it.
fn comment_as_sops_prints_it(text: &SecretBytes, format: Format) -> Option<SecretBytes> {
    let inline = crate::sops::tree::inline_comment(text.as_bytes()).is_some();
    let fields = |value: &str, inline_name: &str| {
        let mut m = Map::new();
        let body = crate::sops::tree::comment_text(text.as_bytes());
        m.push(value, Value::Str(SecretBytes::copy_from(body)));
        m.push(inline_name, Value::Bool(inline));
        m
    };
    match format {
        Format::Yaml => stores::emit_file(format, &[fields("value", "inline")]).ok(),
        Format::Json => stores::emit_value(format, &Value::Map(fields("Value", "Inline"))).ok(),
        Format::Dotenv | Format::Ini | Format::Binary => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_paths_parse_keys_and_indices() {
        assert_eq!(
            parse_extract_path(r#"["a"][0]['b c']"#).unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("b c".into())
            ]
        );
        assert!(parse_extract_path("a").is_err());
        assert!(parse_extract_path(r#"["a""#).is_err());
        assert!(parse_extract_path("[x]").is_err());
    }

    fn key(s: &str) -> Vec<Step> {
        key_steps(&s.split('/').map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn secret_key_segments_are_map_keys_and_none_means_whole_file() {
        assert_eq!(key_steps(&[]), vec![]);
        assert_eq!(
            key("a/b"),
            vec![Step::Key("a".into()), Step::Key("b".into())]
        );
    }

    #[test]
    fn a_comment_in_a_list_prints_as_the_struct_sops_marshals() {
        let mut top = Map::new();
        top.push(
            "a",
            Value::List(vec![
                Value::Comment(SecretBytes::from(" hello: there".as_bytes().to_vec())),
                Value::str("x"),
            ]),
        );
        let branches = vec![top];
        let path = parse_extract_path(r#"["a"][0]"#).unwrap();
        // Bytes printed by sops 3.13.2 for the same file (3.11 had no `inline` field).
        let yaml = extract(&branches, &path, Format::Yaml).unwrap();
        assert_eq!(yaml.as_bytes(), b"value: ' hello: there'\ninline: false\n");
        let json = extract(&branches, &path, Format::Json).unwrap();
        assert_eq!(
            json.as_bytes(),
            b"{\n\t\"Value\": \" hello: there\",\n\t\"Inline\": false\n}"
        );
        // An inline comment (`- x # d` kept clear) says so.
        let mut top = Map::new();
        let marked = [&[crate::sops::tree::INLINE_MARK][..], b" d"].concat();
        top.push(
            "a",
            Value::List(vec![
                Value::Comment(SecretBytes::from(marked)),
                Value::str("x"),
            ]),
        );
        let yaml = extract(&[top], &path, Format::Yaml).unwrap();
        assert_eq!(yaml.as_bytes(), b"value: ' d'\ninline: true\n");
        let err = extract(&branches, &path, Format::Dotenv)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "a[0] is a comment");
    }

    #[test]
    fn a_string_is_printed_raw_and_a_missing_key_is_named() {
        let mut inner = Map::new();
        inner.push("b", Value::str("secret"));
        let mut top = Map::new();
        top.push("a", Value::Map(inner));
        let branches = vec![top];
        let out = extract(&branches, &key("a/b"), Format::Yaml).unwrap();
        assert_eq!(out.as_bytes(), b"secret");
        let err = extract(&branches, &key("a/c"), Format::Yaml)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "key a/c not found");
        let err = extract(&branches, &key("a/b/c"), Format::Yaml)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "a/b is a string, so it has no key \"c\"");
        // sops answers an index into a map with its internal key/value item; we refuse it.
        let path = parse_extract_path(r#"["a"][0]"#).unwrap();
        let err = extract(&branches, &path, Format::Yaml)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "a is a map, so it has no element 0");
    }

    #[test]
    fn a_selection_the_store_cannot_print_is_a_dump_error_with_sops_status_4() {
        // `--extract '["section"]'` of an INI file: sops cannot dump a bare section (exit 4).
        let mut section = Map::new();
        section.push("k", Value::Str(SecretBytes::copy_from(b"v")));
        let mut top = Map::new();
        top.push("sec", Value::Map(section));
        let err = extract(&[top], &[Step::Key("sec".into())], Format::Ini).unwrap_err();
        assert!(matches!(err, SopsError::Emit { .. }), "{err:?}");
        assert_eq!(err.exit_code(), 4);
    }
}
