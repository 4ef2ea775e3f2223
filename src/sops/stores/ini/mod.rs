//! The INI store (spec 2.6, 7.4): sections of `key = value` pairs as gopkg.in/ini.v1 reads
//! and writes them for sops; the `[sops]` section carries the flattened metadata (spec 2.7).
//!
//! `parse` reads the ini.v1 dialect, `emit` prints the ini.v1 pretty format, `text` holds the
//! byte helpers and scalar rendering the dotenv store shares.

mod emit;
mod parse;
pub(super) mod text;

#[cfg(test)]
mod tests_corpus;
#[cfg(test)]
mod tests_end_to_end;
#[cfg(test)]
mod tests_units;

use super::flatten::unflatten;
use super::{LoadedFile, StoreError};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Entry, Map, Value};

const METADATA_SECTION: &str = "sops";

/// Reads an INI file: one branch mapping each section name to its keys; the first `[sops]`
/// section is the metadata (every `[sops]` section is left out of the branch).
pub fn load(input: &[u8]) -> Result<LoadedFile, StoreError> {
    let sections = parse::parse(input)?;
    let mut branch = Map::new();
    let mut metadata = None;
    for section in sections {
        if section.name == METADATA_SECTION {
            if metadata.is_none() {
                let mut pairs = Vec::with_capacity(section.keys.len());
                for key in section.keys {
                    let Some(value) = key.value.as_str() else {
                        return Err(StoreError::new("a [sops] value is not valid UTF-8"));
                    };
                    pairs.push((key.name, value.to_string()));
                }
                metadata = Some(unflatten(pairs)?);
            }
            continue;
        }
        let mut items = Map::new();
        if let Some(c) = section.comment {
            items.0.push(Entry::Comment(c));
        }
        for key in section.keys {
            items.push(key.name, Value::Str(key.value));
            if let Some(c) = key.comment {
                items.0.push(Entry::Comment(c));
            }
        }
        branch.push(section.name, Value::Map(items));
    }
    Ok(LoadedFile {
        branches: vec![branch],
        metadata,
    })
}

/// Prints decrypted branches as `sops decrypt --output-type ini` does.
pub fn emit_file(branches: &[Map]) -> Result<SecretBytes, StoreError> {
    emit::emit(branches)
}
