//! The flattened sops metadata of the dotenv and INI stores (spec 2.7).
//!
//! sops writes its metadata as `key__map_member__list_0...=value` lines. [`unflatten`] turns
//! those pairs back into the same `sops` tree the YAML and JSON stores return, so that one
//! metadata decoder serves every store.

use std::collections::HashMap;

use super::StoreError;
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Map, Value};

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";
/// Nesting deeper than this is refused (sops writes at most four levels).
const MAX_DEPTH: usize = 256;

/// One step of a flattened key.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Member(&'a str),
    Index(usize),
}

/// A node while the tree is rebuilt: maps keep first-seen order, lists are sparse until the end.
enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>, HashMap<String, usize>),
    List(HashMap<usize, Node>),
}

/// Splits a flattened key at `__map_` / `__list_`; the first token is the top-level member.
fn tokenize(key: &str, max_index: usize) -> Result<Vec<Token<'_>>, StoreError> {
    let mut tokens = Vec::new();
    let mut rest = key;
    let mut is_index = false;
    loop {
        let next = [(MAP_SEP, false), (LIST_SEP, true)]
            .iter()
            .filter_map(|&(sep, idx)| rest.find(sep).map(|at| (at, sep, idx)))
            .min_by_key(|&(at, _, _)| at);
        let (part, following) = match next {
            Some((at, sep, idx)) => (&rest[..at], Some((&rest[at + sep.len()..], idx))),
            None => (rest, None),
        };
        tokens.push(if is_index {
            let ok = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            match part.parse::<usize>() {
                Ok(i) if ok && i < max_index => Token::Index(i),
                _ => {
                    return Err(StoreError::new(
                        "sops metadata: a list index is not a number or leaves a gap",
                    ))
                }
            }
        } else {
            Token::Member(part)
        });
        if tokens.len() > MAX_DEPTH {
            return Err(StoreError::new("sops metadata: nesting is too deep"));
        }
        match following {
            Some((r, idx)) => {
                rest = r;
                is_index = idx;
            }
            None => return Ok(tokens),
        }
    }
}

fn conflict() -> StoreError {
    StoreError::new("sops metadata: a flattened key is used both as a value and as a map or list")
}

/// Inserts `value` at `path` below `node`, creating maps and lists on the way.
fn insert(node: &mut Node, path: &[Token<'_>], value: String) -> Result<(), StoreError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(conflict());
    };
    let fresh = || match rest.first() {
        None => Node::Leaf(String::new()),
        Some(Token::Member(_)) => Node::Map(Vec::new(), HashMap::new()),
        Some(Token::Index(_)) => Node::List(HashMap::new()),
    };
    let child: &mut Node = match (node, first) {
        (Node::Map(items, index), Token::Member(name)) => {
            let at = match index.get(*name) {
                Some(&at) => at,
                None => {
                    items.push((name.to_string(), fresh()));
                    index.insert(name.to_string(), items.len() - 1);
                    items.len() - 1
                }
            };
            match items.get_mut(at) {
                Some((_, n)) => n,
                None => return Err(conflict()),
            }
        }
        (Node::List(elems), Token::Index(i)) => elems.entry(*i).or_insert_with(fresh),
        _ => return Err(conflict()),
    };
    match (child, rest.is_empty()) {
        // A repeated key: the last value wins, as in sops's Go map.
        (Node::Leaf(old), true) => {
            *old = value;
            Ok(())
        }
        (Node::Leaf(_), false) | (_, true) => Err(conflict()),
        (child, false) => insert(child, rest, value),
    }
}

fn into_value(node: Node, top_level_name: Option<&str>) -> Result<Value, StoreError> {
    Ok(match node {
        Node::Leaf(s) => {
            let s = s.replace("\\n", "\n");
            match top_level_name {
                Some("mac_only_encrypted") => Value::Bool(s == "true"),
                Some("shamir_threshold") => Value::Int(parse_threshold(&s)?),
                _ => Value::Str(SecretBytes::from(s)),
            }
        }
        Node::Map(items, _) => {
            let mut map = Map::new();
            for (name, child) in items {
                let value = into_value(child, None)?;
                map.push(name, value);
            }
            Value::Map(map)
        }
        Node::List(mut elems) => {
            let mut list = Vec::with_capacity(elems.len());
            for i in 0..elems.len() {
                match elems.remove(&i) {
                    Some(child) => list.push(into_value(child, None)?),
                    None => return Err(StoreError::new("sops metadata: a list has a gap")),
                }
            }
            Value::List(list)
        }
    })
}

/// `shamir_threshold` as an integer; integral float strings (`2.0`) from old files are accepted.
fn parse_threshold(s: &str) -> Result<i64, StoreError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => Ok(f as i64),
        _ => Err(StoreError::new(
            "sops metadata: shamir_threshold is not an integer",
        )),
    }
}

/// Rebuilds the `sops` metadata tree from flattened `(key, value)` pairs (keys without the
/// dotenv `sops_` prefix). Maps keep first-seen order, list gaps are an error, every `\n` pair
/// becomes a newline, `mac_only_encrypted` becomes a boolean and `shamir_threshold` an integer.
pub fn unflatten(pairs: Vec<(String, String)>) -> Result<Value, StoreError> {
    let max_index = pairs.len();
    let mut root = Node::Map(Vec::new(), HashMap::new());
    let mut seen = std::collections::HashSet::new();
    for (key, value) in pairs {
        // sops 3.13.2 refuses a repeated metadata key ("Duplicate value"); 3.11 kept the last.
        // (INI files reach here without repeats: the INI reader keeps a key's last value.)
        if !seen.insert(key.clone()) {
            return Err(StoreError::new(format!(
                "sops metadata: the key {key:?} is given twice"
            )));
        }
        let tokens = tokenize(&key, max_index)?;
        insert(&mut root, &tokens, value)?;
    }
    let Node::Map(items, _) = root else {
        return Err(conflict());
    };
    let mut map = Map::new();
    for (name, child) in items {
        let value = into_value(child, Some(&name))?;
        map.push(name, value);
    }
    Ok(Value::Map(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn s(v: &Value) -> &str {
        match v {
            Value::Str(s) => s.as_str().unwrap_or("<bytes>"),
            _ => "<not a string>",
        }
    }

    fn map(v: &Value) -> &Map {
        match v {
            Value::Map(m) => m,
            _ => panic!("not a map"),
        }
    }

    fn list(v: &Value) -> &[Value] {
        match v {
            Value::List(l) => l,
            _ => panic!("not a list"),
        }
    }

    #[test]
    fn key_groups_and_age_lists_come_back_as_lists_of_maps() {
        let v = unflatten(pairs(&[
            ("key_groups__list_1__map_age__list_0__map_recipient", "r2"),
            ("key_groups__list_0__map_age__list_0__map_enc", "e1\\nx"),
            ("key_groups__list_0__map_age__list_0__map_recipient", "r1"),
            ("key_groups__list_1__map_age__list_0__map_enc", "e2"),
            ("shamir_threshold", "2"),
            ("mac_only_encrypted", "true"),
            ("lastmodified", "2026-11-22T11:29:29Z"),
        ]))
        .unwrap();
        let top = map(&v);
        let groups = list(top.get("key_groups").unwrap());
        assert_eq!(groups.len(), 2);
        let age0 = list(map(&groups[0]).get("age").unwrap());
        assert_eq!(s(map(&age0[0]).get("enc").unwrap()), "e1\nx");
        assert_eq!(s(map(&age0[0]).get("recipient").unwrap()), "r1");
        let age1 = list(map(&groups[1]).get("age").unwrap());
        assert_eq!(s(map(&age1[0]).get("recipient").unwrap()), "r2");
        assert_eq!(top.get("shamir_threshold"), Some(&Value::Int(2)));
        assert_eq!(top.get("mac_only_encrypted"), Some(&Value::Bool(true)));
        let names: Vec<&str> = top.pairs().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "key_groups",
                "shamir_threshold",
                "mac_only_encrypted",
                "lastmodified"
            ]
        );
    }

    #[test]
    fn special_fields_are_typed_and_everything_else_stays_a_string() {
        let v = unflatten(pairs(&[
            ("mac_only_encrypted", "True"),
            ("shamir_threshold", "2.0"),
            ("version", "3.11.0"),
            ("nested__map_mac_only_encrypted", "true"),
        ]))
        .unwrap();
        let top = map(&v);
        assert_eq!(top.get("mac_only_encrypted"), Some(&Value::Bool(false)));
        assert_eq!(top.get("shamir_threshold"), Some(&Value::Int(2)));
        assert_eq!(s(top.get("version").unwrap()), "3.11.0");
        let nested = map(top.get("nested").unwrap());
        assert_eq!(s(nested.get("mac_only_encrypted").unwrap()), "true");
    }

    #[test]
    fn backslash_n_pairs_are_replaced_left_to_right() {
        let v = unflatten(pairs(&[("a", "x\\\\ny\\n")])).unwrap();
        assert_eq!(s(map(&v).get("a").unwrap()), "x\\\ny\n");
    }

    #[test]
    fn bad_thresholds_gaps_and_conflicts_are_errors() {
        for bad in [
            &[("shamir_threshold", "two")][..],
            &[("shamir_threshold", "2.5")],
            &[("shamir_threshold", "")],
            &[("shamir_threshold", "inf")],
            &[("age__list_1__map_enc", "x"), ("age__list_2__map_enc", "y")],
            &[("age__list_x", "x")],
            &[("age__list_", "x")],
            &[("age__list_-1", "x")],
            &[("age__list_99999999999999999999999", "x")],
            &[("age", "x"), ("age__list_0", "y")],
            &[("age__list_0", "y"), ("age", "x")],
            &[("age__list_0", "y"), ("age__map_x", "x")],
            &[("age__map_x", "y"), ("age__map_x__map_y", "x")],
        ] {
            assert!(unflatten(pairs(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repeated_keys_are_an_error_as_in_sops_3_13_and_lists_of_lists_work() {
        assert!(unflatten(pairs(&[("a", "1"), ("a", "2")])).is_err());
        assert!(unflatten(pairs(&[
            ("l__list_0__map_r", "1"),
            ("l__list_0__map_r", "1")
        ]))
        .is_err());
        let v = unflatten(pairs(&[
            ("a", "2"),
            ("l__list_0__list_1", "y"),
            ("l__list_0__list_0", "x"),
        ]))
        .unwrap();
        let top = map(&v);
        assert_eq!(s(top.get("a").unwrap()), "2");
        let inner = list(&list(top.get("l").unwrap())[0]);
        assert_eq!((s(&inner[0]), s(&inner[1])), ("x", "y"));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let key = format!("a{}", "__map_x".repeat(100_000));
        assert!(unflatten(pairs(&[(&key, "v")])).is_err());
        let key = format!("a{}", "__list_0".repeat(100_000));
        assert!(unflatten(pairs(&[(&key, "v")])).is_err());
        let key = format!("a{}", "__map_x".repeat(200));
        assert!(unflatten(pairs(&[(&key, "v")])).is_ok());
    }

    #[test]
    fn no_pairs_give_an_empty_map() {
        assert_eq!(unflatten(Vec::new()).unwrap(), Value::Map(Map::new()));
    }
}
