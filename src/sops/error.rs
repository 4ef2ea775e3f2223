//! Everything that can go wrong reading one sops file, with sops' exit-status classes.

use crate::hint::Hint;
use crate::sops::data_key::NoKeyReport;
use crate::sops::extract::ExtractError;
use crate::sops::metadata::MetadataError;
use crate::sops::stores::{Format, StoreError};
use crate::sops::walk::ValueError;

/// A sops file could not be decrypted. Messages name what and where, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    /// The file cannot be read (installer; `sops decrypt` reads its input itself).
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("cannot parse it as {format}: {source}")]
    Parse { format: Format, source: StoreError },
    #[error(
        "it has no sops metadata (is it encrypted with sops, and is {format} the right format?)"
    )]
    NoMetadata { format: Format },
    #[error("invalid sops metadata: {0}")]
    Metadata(#[from] MetadataError),
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
    Extract(#[from] ExtractError),
}

impl SopsError {
    /// The exit status `sops decrypt` uses for the same class of failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            SopsError::Read(_)
            | SopsError::Parse { .. }
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

impl SopsError {
    /// What to do about it, with `FILE` in the commands to run.
    pub fn hint(&self) -> Option<Hint> {
        self.hint_for("FILE")
    }

    /// What to do about it; `file` is the sops file as commands should name it.
    pub fn hint_for(&self, file: &str) -> Option<Hint> {
        let edited = |what: &str| {
            Hint::new(format!(
                "{what}: restore the file from version control, or write the values again with \
                 `sops edit {file}` or `sops set {file}`"
            ))
        };
        match self {
            SopsError::Read(e) => Some(Hint::new(match e.kind() {
                std::io::ErrorKind::NotFound => "the sops file is not on this machine: check the \
                    secret's `sopsFile` (or sops.defaultSopsFile); a path outside the Nix store \
                    must exist before activation"
                    .to_string(),
                std::io::ErrorKind::PermissionDenied => {
                    "make the sops file readable by the user that installs the secrets".into()
                }
                _ => format!("check that {file} is a readable regular file"),
            })),
            SopsError::Parse { format, .. } => Some(Hint::new(format!(
                "check that the file is a complete sops file in the {format} store (the secret's \
                 `format` must match how it was encrypted) and was not cut short or edited by hand"
            ))),
            SopsError::NoMetadata { format } => Some(Hint::new(format!(
                "encrypt it with `sops encrypt --in-place {file}`, or set the secret's `format` \
                 to the store it was encrypted as (now {format})"
            ))),
            SopsError::Metadata(e) => e.hint(),
            SopsError::NoKey(report) => Some(report.hint(file)),
            SopsError::Value(_) => Some(edited("the value was changed without sops")),
            SopsError::MacMissing => Some(Hint::new(format!(
                "the file was written without sops; encrypt it again with `sops encrypt` (or \
                 re-create its values with `sops edit {file}`)"
            ))),
            SopsError::MacUndecryptable | SopsError::MacMismatch => {
                Some(edited("the file was edited without sops"))
            }
            SopsError::Emit { .. } => None,
            SopsError::Extract(e) => e.hint(),
        }
    }
}
