//! How Go's `json.Unmarshal` matches object members to the fields of sops's metadata
//! structures, applied to the raw metadata tree so that the metadata decoder sees what sops
//! sees: names match case-insensitively (U+017F folds to `s`, U+212A to `k`), and when a field
//! is given twice the last one wins.
//!
//! (Go also merges a repeated list into the elements of the earlier one; that is not modelled:
//! the last list replaces the earlier one. sops never writes repeated members.)

use std::collections::HashMap;

use crate::sops::tree::{Entry, Map, Value};

/// Member names of sops's metadata structures (metadata, key groups, master key entries).
const FIELDS: &[&str] = &[
    "shamir_threshold",
    "key_groups",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_kv",
    "hc_vault",
    "age",
    "lastmodified",
    "mac",
    "pgp",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
    "mac_only_encrypted",
    "version",
    "recipient",
    "enc",
    "created_at",
    "fp",
    "arn",
    "role",
    "context",
    "aws_profile",
    "resource_id",
    "key_id",
    "vault_url",
    "name",
    "vault_address",
    "engine_path",
    "key_name",
];

/// Whether `key` matches the field `field` (lower-case ASCII) under Go's case folding.
pub(crate) fn folds_to(key: &str, field: &str) -> bool {
    let mut want = field.bytes();
    for c in key.chars() {
        let folded = match c {
            '\u{17f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        };
        if want.next().map(char::from) != Some(folded) {
            return false;
        }
    }
    want.next().is_none()
}

/// Renames members that match a known field to its spelling and keeps only the last of
/// repeated members, in every object of the metadata tree.
pub(crate) fn normalize(v: &mut Value) {
    match v {
        Value::Map(m) => normalize_map(m),
        Value::List(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn normalize_map(m: &mut Map) {
    for entry in &mut m.0 {
        if let Entry::Pair(key, value) = entry {
            if let Some(field) = FIELDS.iter().find(|f| folds_to(key, f)) {
                if key != field {
                    *key = (*field).to_string();
                }
            }
            normalize(value);
        }
    }
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in m.0.iter().enumerate() {
        if let Entry::Pair(key, _) = entry {
            last.insert(key.as_str(), i);
        }
    }
    let keep: Vec<bool> =
        m.0.iter()
            .enumerate()
            .map(|(i, e)| match e {
                Entry::Pair(key, _) => last.get(key.as_str()) == Some(&i),
                Entry::Comment(_) => true,
            })
            .collect();
    let mut flags = keep.into_iter();
    m.0.retain(|_| flags.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_fold_like_go() {
        assert!(folds_to("MAC", "mac"));
        assert!(folds_to("LastModified", "lastmodified"));
        assert!(folds_to("\u{17f}ops", "sops"));
        assert!(folds_to("\u{212a}ms", "kms"));
        assert!(!folds_to("macs", "mac"));
        assert!(!folds_to("ma", "mac"));
        assert!(!folds_to("m\u{e1}c", "mac"));
    }

    #[test]
    fn the_last_repeated_field_wins_whatever_its_case() {
        let mut meta = Map::new();
        meta.push("lastmodified", Value::str("bogus"));
        meta.push("mac", Value::str("m"));
        meta.push("LastModified", Value::str("2001-01-01T00:00:00Z"));
        let mut age = Map::new();
        age.push("Recipient", Value::str("r1"));
        age.push("recipient", Value::str("r2"));
        meta.push("AGE", Value::List(vec![Value::Map(age)]));
        meta.push("other", Value::str("kept"));
        let mut v = Value::Map(meta);
        normalize(&mut v);
        let Value::Map(m) = v else { panic!("map") };
        let keys: Vec<&str> = m.pairs().map(|(k, _)| k).collect();
        assert_eq!(keys, ["mac", "lastmodified", "age", "other"]);
        assert_eq!(
            m.get("lastmodified"),
            Some(&Value::str("2001-01-01T00:00:00Z"))
        );
        let Some(Value::List(list)) = m.get("age") else {
            panic!("age")
        };
        let Some(Value::Map(entry)) = list.first() else {
            panic!("entry")
        };
        assert_eq!(entry.0.len(), 1);
        assert_eq!(entry.get("recipient"), Some(&Value::str("r2")));
    }
}
