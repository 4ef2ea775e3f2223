//! The whole decryption of one file: parse, metadata, data key, values, MAC.
//!
//! Nothing is returned before the MAC has been checked, and each file is parsed and
//! decrypted once: secrets and extracts are then cut from the decrypted tree.

use crate::keys::Identities;
use crate::secret_bytes::SecretBytes;
use crate::sops::data_key::{self, DataKey};
use crate::sops::enc_value::EncValue;
use crate::sops::error::SopsError;
use crate::sops::extract::{self, Step};
use crate::sops::metadata::{self, Metadata};
use crate::sops::stores::{self, Format, LoadedFile};
use crate::sops::tree::Map;
use crate::sops::walk;

/// A decrypted, MAC-checked file.
#[derive(Debug)]
pub struct DecryptedFile {
    pub format: Format,
    pub branches: Vec<Map>,
    /// Non-fatal oddities (comments that could not be decrypted).
    pub warnings: Vec<String>,
    /// Built on the first [`DecryptedFile::secret`] call, for the secrets that follow.
    top_index: std::sync::OnceLock<extract::TopIndex>,
}

/// Parses `input` as `format` and decrypts it with `identities`.
pub fn decrypt(
    input: &[u8],
    format: Format,
    identities: &Identities,
) -> Result<DecryptedFile, SopsError> {
    let (loaded, meta) = parse(input, format)?;
    let key = data_key::recover(&meta, identities).map_err(SopsError::NoKey)?;
    decrypt_with_key(loaded, format, &meta, &key)
}

/// Parses a file and decodes its metadata, without any key (what build-time checks need).
pub fn parse(input: &[u8], format: Format) -> Result<(LoadedFile, Metadata), SopsError> {
    let loaded =
        stores::load(format, input).map_err(|source| SopsError::Parse { format, source })?;
    let raw = loaded
        .metadata
        .as_ref()
        .ok_or(SopsError::NoMetadata { format })?;
    let meta = metadata::decode(raw).map_err(SopsError::Metadata)?;
    Ok((loaded, meta))
}

/// Decrypts an already parsed file with a known data key and checks its MAC.
pub fn decrypt_with_key(
    loaded: LoadedFile,
    format: Format,
    meta: &Metadata,
    key: &DataKey,
) -> Result<DecryptedFile, SopsError> {
    let mut branches = loaded.branches;
    let walked = walk::decrypt_branches(
        &mut branches,
        key.as_bytes(),
        &meta.rule,
        meta.mac_only_encrypted,
    )
    .map_err(SopsError::Value)?;
    check_mac(meta, key, &walked.mac)?;
    Ok(DecryptedFile {
        format,
        branches,
        warnings: walked.warnings,
        top_index: std::sync::OnceLock::new(),
    })
}

fn check_mac(meta: &Metadata, key: &DataKey, computed: &str) -> Result<(), SopsError> {
    if meta.mac.is_empty() {
        return Err(SopsError::MacMissing);
    }
    let aad = meta.last_modified.to_rfc3339_seconds();
    let stored = EncValue::parse(meta.mac.as_bytes())
        .and_then(|v| v.decrypt(key.as_bytes(), aad.as_bytes()))
        .map_err(|_| SopsError::MacUndecryptable)?;
    if stored.as_bytes() != computed.as_bytes() {
        return Err(SopsError::MacMismatch);
    }
    Ok(())
}

impl DecryptedFile {
    /// The whole file, as `sops decrypt --output-type format` prints it.
    pub fn emit(&self, format: Format) -> Result<SecretBytes, SopsError> {
        stores::emit_file(format, &self.branches)
            .map_err(|source| SopsError::Emit { format, source })
    }

    /// What `sops decrypt --extract PATH --output-type format` prints.
    pub fn extract(&self, steps: &[Step], format: Format) -> Result<SecretBytes, SopsError> {
        extract::extract(&self.branches, steps, format)
    }

    /// A sops-nix secret: the key's segments walk nested maps (`a/b/c`), none is the whole
    /// file; dotenv, ini and binary files are always whole.
    pub fn secret(&self, key: &[String]) -> Result<SecretBytes, SopsError> {
        match self.format {
            Format::Yaml | Format::Json => {
                let index = self
                    .top_index
                    .get_or_init(|| extract::TopIndex::new(&self.branches));
                let steps = extract::key_steps(key);
                extract::extract_indexed(&self.branches, Some(index), &steps, self.format)
            }
            Format::Dotenv | Format::Ini | Format::Binary => self.emit(self.format),
        }
    }
}

#[cfg(test)]
mod tests;
