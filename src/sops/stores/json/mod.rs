//! The json store: sops files as Go's `encoding/json` reads and writes them (sops 3.11).
//!
//! Reading: the whole input must be one JSON value whose top level is an object; order and
//! duplicate keys are kept, every number becomes a [`Value::Float`], strings are decoded with
//! Go's replacement of lone surrogates and invalid UTF-8 by U+FFFD. The top-level member
//! `sops` is taken out as the raw metadata tree.
//!
//! Writing: Go's compact encoding re-indented with one tab per level (`emit_file` adds a final
//! newline, `emit_value` does not), HTML-safe string escaping, Go's float spelling.
//!
//! Submodules: `parse` (the reader), `emit` (the writer), `number` (number grammar and float
//! spelling), `utf8` (Go's one-byte-at-a-time UTF-8 decoding), `go_fields` (Go's matching of
//! metadata member names).

mod emit;
mod go_fields;
mod number;
mod parse;
mod utf8;

#[cfg(test)]
mod tests_emit;
#[cfg(test)]
mod tests_fixtures;
#[cfg(test)]
mod tests_parse;
#[cfg(test)]
mod tests_random;

use super::{LoadedFile, StoreError};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Value};

/// Deepest nesting of objects and arrays accepted when reading (Go allows 10000; sops files
/// never come close, and the cap keeps recursion bounded).
pub(crate) const MAX_DEPTH: usize = 256;

/// Reads a JSON sops file: the data tree (one branch) and the `sops` member.
pub fn load(input: &[u8]) -> Result<LoadedFile, StoreError> {
    let top = parse::parse_document(input)?;
    let (branch, metadata) = split_metadata(top)?;
    Ok(LoadedFile {
        branches: vec![branch],
        metadata,
    })
}

/// Prints the first branch as `sops decrypt --output-type json` does (sops prints only the
/// first document of a multi-document YAML file as JSON).
pub fn emit_file(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    let first = branches
        .first()
        .ok_or_else(|| StoreError::new("json: there is no document to print"))?;
    let mut out = emit::Emitter::new();
    out.map(first, 0)?;
    out.newline();
    Ok(out.finish())
}

/// Prints one value selected with `--extract`, re-indented, without a final newline
/// (`42`, `true`, `null`, `[\n\t1,\n\t2\n]`). An extracted map is printed with [`emit_file`]
/// instead, which adds the final newline as sops does.
pub fn emit_value(value: &Value) -> Result<SecretBytes, StoreError> {
    if let Value::Comment(_) = value {
        return Err(StoreError::new(
            "json: a comment cannot be printed as a value",
        ));
    }
    let mut out = emit::Emitter::new();
    out.value(value, 0)?;
    Ok(out.finish())
}

/// Takes the metadata out of the top-level object.
///
/// sops reads the metadata with `json.Unmarshal` (case-insensitive member names) and removes
/// only the member spelled exactly `sops` from the data tree. Files with two such members make
/// sops panic or merge them; they are an error here. A `null` member means no metadata. The
/// metadata tree is normalised as `json.Unmarshal` reads it (see `go_fields`).
fn split_metadata(mut top: Map) -> Result<(Map, Option<Value>), StoreError> {
    let mut found: Option<usize> = None;
    for (i, entry) in top.0.iter().enumerate() {
        if let Entry::Pair(k, _) = entry {
            if go_fields::folds_to(k, "sops") {
                if found.is_some() {
                    return Err(StoreError::new(
                        "json: the top-level object has more than one sops member",
                    ));
                }
                found = Some(i);
            }
        }
    }
    let Some(i) = found else {
        return Ok((top, None));
    };
    let metadata = match top.0.get(i) {
        Some(Entry::Pair(k, _)) if k == "sops" => match top.0.remove(i) {
            Entry::Pair(_, v) => v,
            Entry::Comment(_) => Value::Null,
        },
        Some(Entry::Pair(_, v)) => v.clone(),
        _ => Value::Null,
    };
    match metadata {
        Value::Null => Ok((top, None)),
        mut m => {
            go_fields::normalize(&mut m);
            Ok((top, Some(m)))
        }
    }
}
