//! Everything that can go wrong reading one sops file, with sops' exit-status classes.

use crate::sops::data_key::NoKeyReport;
use crate::sops::stores::{Format, StoreError};
use crate::sops::walk::ValueError;

/// A sops file could not be decrypted. Messages name what and where, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    #[error("cannot parse it as {format}: {source}")]
    Parse { format: Format, source: StoreError },
    #[error(
        "it has no sops metadata (is it encrypted with sops, and is {format} the right format?)"
    )]
    NoMetadata { format: Format },
    #[error("invalid sops metadata: {0}")]
    Metadata(String),
    #[error("{0}")]
    NoKey(Box<NoKeyReport>),
    #[error("value {}: {}", .0.path, .0.reason)]
    Value(ValueError),
    #[error("the file has no MAC, so its integrity cannot be checked")]
    MacMissing,
    #[error(
        "cannot decrypt the MAC (the MAC or lastmodified was changed, or the MAC is malformed)"
    )]
    MacUndecryptable,
    #[error("MAC mismatch: the values were changed after sops encrypted them")]
    MacMismatch,
    #[error("cannot print it as {format}: {source}")]
    Emit { format: Format, source: StoreError },
    #[error("{0}")]
    Extract(String),
}

impl SopsError {
    /// The exit status `sops decrypt` uses for the same class of failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            SopsError::Parse { .. }
            | SopsError::NoMetadata { .. }
            | SopsError::Metadata(_)
            | SopsError::Extract(_) => 1,
            SopsError::NoKey(_) => 128,
            SopsError::Value(_) => 25,
            SopsError::MacMissing | SopsError::MacUndecryptable | SopsError::MacMismatch => 51,
            SopsError::Emit { .. } => 4,
        }
    }
}
