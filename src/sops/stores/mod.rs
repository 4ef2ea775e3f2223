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

/// A sops store (file format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
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
        match name {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

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
