//! The binary store: a JSON document whose `data` member holds the whole file.
//!
//! Reading is the json store's reading: sops loads the whole JSON tree (members other than
//! `data` are decrypted and covered by the MAC too), so this returns that tree unchanged.
//! Printing writes the decrypted `data` string byte for byte (NUL bytes, invalid UTF-8, no
//! newline added), with sops's errors when the tree has no usable `data`.

use super::{json, LoadedFile, StoreError};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Map, Value};

/// Reads an encrypted binary file (a JSON sops file).
pub fn load(input: &[u8]) -> Result<LoadedFile, StoreError> {
    json::load(input)
}

/// The decrypted file: the string value of the first top-level `data` member.
pub fn emit_file(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    let [branch] = branches else {
        return Err(StoreError::new(
            "binary: there must be exactly one tree branch",
        ));
    };
    match branch.get("data") {
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(_) => Err(StoreError::new(
            "binary: 'data' key in tree does not have a string value",
        )),
        None => Err(StoreError::new("binary: no binary data found in tree")),
    }
}

/// `--extract` of a value that is not a string or a map: sops refuses it for binary output.
pub fn emit_value(_value: &Value) -> Result<SecretBytes, StoreError> {
    Err(StoreError::new(
        "binary: binary files are not structured and extracting a single value is not possible",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(entries: &[(&str, Value)]) -> Map {
        let mut m = Map::new();
        for (k, v) in entries {
            m.push(*k, v.clone());
        }
        m
    }

    #[test]
    fn data_is_printed_byte_for_byte() {
        let raw = b"binary\0\x01\xff\xfe data\nline2".to_vec();
        let b = branch(&[("data", Value::Str(SecretBytes::from(raw.clone())))]);
        assert_eq!(emit_file(&[b]).expect("prints").as_bytes(), &raw[..]);
    }

    #[test]
    fn empty_data_prints_nothing() {
        let b = branch(&[("data", Value::str(""))]);
        assert!(emit_file(&[b]).expect("prints").is_empty());
    }

    #[test]
    fn the_first_data_member_wins_and_others_are_ignored() {
        let b = branch(&[
            ("other", Value::Float(1.0)),
            ("data", Value::str("a")),
            ("data", Value::str("b")),
        ]);
        assert_eq!(emit_file(&[b]).expect("prints").as_bytes(), b"a");
    }

    #[test]
    fn missing_or_non_string_data_and_several_branches_are_errors() {
        let none = branch(&[("x", Value::str("a"))]);
        assert!(emit_file(&[none]).unwrap_err().0.contains("no binary data"));
        for v in [
            Value::Float(5.0),
            Value::Int(5),
            Value::Bool(true),
            Value::Null,
            Value::List(vec![]),
            Value::Map(Map::new()),
        ] {
            let b = branch(&[("data", v)]);
            assert!(emit_file(&[b]).unwrap_err().0.contains("string value"));
        }
        let one = branch(&[("data", Value::str("a"))]);
        let err = emit_file(&[one.clone(), one]).unwrap_err();
        assert!(err.0.contains("exactly one"));
        assert!(emit_file(&[]).is_err());
    }

    #[test]
    fn extracting_a_single_value_is_refused() {
        assert!(emit_value(&Value::Float(1.0)).is_err());
    }

    #[test]
    fn loading_keeps_the_whole_json_tree_and_takes_out_the_metadata() {
        let input = br#"{"data": "ENC[x]", "extra": 1, "sops": {"version": "3.11.0"}}"#;
        let loaded = load(input).expect("loads");
        assert_eq!(loaded.branches.len(), 1);
        let keys: Vec<&str> = loaded.branches[0].pairs().map(|(k, _)| k).collect();
        assert_eq!(keys, ["data", "extra"]);
        assert!(loaded.metadata.is_some());
    }
}
