//! One sops file read and parsed, not yet decrypted: what `-check-mode=sopsfile` proves at
//! build time (without any private key), kept until the identities are loaded to decrypt it.
//!
//! The requests are plain: a path and a format, key paths as segments. Which secrets use a
//! file, and how problems name them, is the caller's business (`activation::sops_files`).

use std::path::Path;
use std::sync::OnceLock;

use crate::keys::Identities;
use crate::sops::data_key;
use crate::sops::decrypt::{self, DecryptedFile};
use crate::sops::error::SopsError;
use crate::sops::extract;
use crate::sops::metadata::Metadata;
use crate::sops::stores::{Format, LoadedFile};

/// A parsed, not yet decrypted file.
pub struct ParsedFile {
    pub format: Format,
    pub loaded: LoadedFile,
    pub metadata: Metadata,
    /// Built on the first [`ParsedFile::check_key`], for the keys that follow.
    top_index: OnceLock<extract::TopIndex>,
}

impl ParsedFile {
    /// Reads `path` (within the sops file size limit) and parses it as `format`.
    pub fn read(path: &Path, format: Format) -> Result<ParsedFile, SopsError> {
        let input = crate::input_file::read(path, crate::input_file::SOPS_FILE_MAX)
            .map_err(SopsError::Read)?;
        let (loaded, metadata) = decrypt::parse(&input, format)?;
        Ok(ParsedFile {
            format,
            loaded,
            metadata,
            top_index: OnceLock::new(),
        })
    }

    /// Whether the (encrypted) tree has the value the key `segments` select (each a map key);
    /// the error names the step that fails.
    pub fn check_key(&self, segments: &[String]) -> Result<(), extract::ExtractError> {
        let branches = &self.loaded.branches;
        let index = self
            .top_index
            .get_or_init(|| extract::TopIndex::new(branches));
        extract::lookup_indexed(branches, Some(index), &extract::key_steps(segments)).map(|_| ())
    }

    /// Opens the data key with `identities`, decrypts every value and checks the MAC.
    pub fn decrypt(self, identities: &Identities) -> Result<DecryptedFile, SopsError> {
        let key = data_key::recover(&self.metadata, identities).map_err(SopsError::NoKey)?;
        decrypt::decrypt_with_key(self.loaded, self.format, &self.metadata, &key)
    }
}
