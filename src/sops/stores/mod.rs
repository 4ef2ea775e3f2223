//! The five sops stores: each turns file bytes into branches plus the raw `sops` metadata
//! tree, and turns a decrypted tree back into exactly the bytes `sops decrypt` prints.
//!
//! Stores know nothing of encryption: values come out as they are written (`ENC[...]`
//! strings included) and go back in as plaintext.

pub mod binary;
pub mod dotenv;
pub mod flatten;
pub mod ini;
pub mod json;
pub mod yaml;

use std::fmt;

use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Map, Value};

/// A sops store (file format). Adding one means a variant, its entry in [`Format::ALL`] and its
/// arms in the matches below (the compiler points at each); the CLI (`--input-type`,
/// `--output-type`), the manifest's `format` and the messages listing formats follow `ALL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// Every store, in the order help texts and messages list them.
    pub const ALL: [Format; 5] = [
        Format::Yaml,
        Format::Json,
        Format::Dotenv,
        Format::Ini,
        Format::Binary,
    ];

    /// The store sops picks for a file name: by extension, binary when none matches.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// Parses a format name as sops and the sops-nix manifest spell it.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The names of all stores for a message: `yaml, json, dotenv, ini or binary`.
    pub fn names() -> String {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The name sops and the sops-nix manifest use for the store.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// `--input-type` / `--output-type` take the store names of [`Format::ALL`].
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A file as a store reads it: the data branches and the `sops` metadata, still raw.
#[derive(Debug)]
pub struct LoadedFile {
    pub branches: Vec<Map>,
    /// The `sops` metadata as a tree (`None` when the file has none).
    pub metadata: Option<Value>,
}

/// A store could not parse its input or cannot print a tree.
///
/// The message names a position and what is wrong, never the content of a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl StoreError {
    pub fn new(msg: impl Into<String>) -> Self {
        StoreError(msg.into())
    }

    /// An error at a 1-based line of the input.
    pub fn at_line(line: usize, msg: impl fmt::Display) -> Self {
        StoreError(format!("line {line}: {msg}"))
    }
}

/// Reads an encrypted file in `format`.
pub fn load(format: Format, input: &[u8]) -> Result<LoadedFile, StoreError> {
    match format {
        Format::Yaml => yaml::load(input),
        Format::Json => json::load(input),
        Format::Dotenv => dotenv::load(input),
        Format::Ini => ini::load(input),
        Format::Binary => binary::load(input),
    }
}

/// Prints decrypted branches as `sops decrypt --output-type format` does.
pub fn emit_file(format: Format, branches: &[Map]) -> Result<SecretBytes, StoreError> {
    match format {
        Format::Yaml => yaml::emit_file(branches),
        Format::Json => json::emit_file(branches),
        Format::Dotenv => dotenv::emit_file(branches),
        Format::Ini => ini::emit_file(branches),
        Format::Binary => binary::emit_file(branches),
    }
}

/// Prints one non-string value selected with `--extract` (maps go through [`emit_file`]).
pub fn emit_value(format: Format, value: &Value) -> Result<SecretBytes, StoreError> {
    match format {
        Format::Yaml => yaml::emit_value(value),
        Format::Json => json::emit_value(value),
        Format::Binary => binary::emit_value(value),
        Format::Dotenv | Format::Ini => Err(StoreError::new(format!(
            "the {format} store can only print strings and whole files"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn every_store_is_named_once_and_read_back_by_its_name() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(
                Format::ALL.iter().filter(|g| g.name() == f.name()).count(),
                1
            );
        }
        assert_eq!(Format::from_name("toml"), None);
        assert_eq!(Format::names(), "yaml, json, dotenv, ini or binary");
    }

    #[test]
    fn the_cli_takes_exactly_the_store_names() {
        use clap::ValueEnum;
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(names, ["yaml", "json", "dotenv", "ini", "binary"]);
        assert_eq!(Format::from_str("ini", false), Ok(Format::Ini));
        assert!(Format::from_str("toml", false).is_err());
    }
}
