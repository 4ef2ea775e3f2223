//! The manifest's sops files, each read, parsed and decrypted exactly once.
//!
//! `parse_all` reads every distinct file and decodes its metadata (what `-check-mode=sopsfile`
//! proves at build time, without any private key); `check_keys` proves every secret's key
//! exists in the encrypted tree; `decrypt_all` opens each file with the loaded identities,
//! however many secrets come from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::keys::Identities;
use crate::manifest::validate::{Problem, Problems};
use crate::manifest::Manifest;
use crate::sops::data_key;
use crate::sops::decrypt::{self, DecryptedFile};
use crate::sops::error::SopsError;
use crate::sops::extract::{self, parse_secret_key};
use crate::sops::metadata::Metadata;
use crate::sops::stores::{Format, LoadedFile};

/// A parsed, not yet decrypted file.
pub struct ParsedFile {
    pub format: Format,
    pub loaded: LoadedFile,
    pub metadata: Metadata,
}

/// Every distinct sops file of a manifest, parsed.
pub struct ParsedFiles {
    files: Vec<(PathBuf, ParsedFile)>,
}

/// A file that could not be decrypted.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    /// The secrets that come from it, as [`users`] prints them.
    pub secrets: String,
    pub error: SopsError,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failed to decrypt '{}' ({}): {}",
            self.path.display(),
            self.secrets,
            self.error
        )
    }
}

/// The secrets a sops file is used by, for messages: `secret "a"` or `secrets "a", "b"`.
pub fn users(manifest: &Manifest, path: &Path) -> String {
    let names: Vec<String> = manifest
        .secrets
        .iter()
        .filter(|s| s.sops_file == path)
        .map(|s| format!("{:?}", s.name))
        .collect();
    let noun = if names.len() == 1 {
        "secret"
    } else {
        "secrets"
    };
    format!("{noun} {}", names.join(", "))
}

/// Reads and parses every distinct sops file once; reports every unreadable or malformed file.
pub fn parse_all(manifest: &Manifest) -> Result<ParsedFiles, Problems> {
    let mut files: Vec<(PathBuf, ParsedFile)> = Vec::new();
    let mut problems = Vec::new();
    for s in &manifest.secrets {
        if files.iter().any(|(p, _)| p == &s.sops_file)
            || problems
                .iter()
                .any(|p: &Problem| p.subject == subject(&s.sops_file))
        {
            continue;
        }
        match parse_one(&s.sops_file, s.format) {
            Ok(parsed) => files.push((s.sops_file.clone(), parsed)),
            Err(e) => problems.push(
                Problem::new(
                    subject(&s.sops_file),
                    "sopsFile",
                    format!("{e} (used by {})", users(manifest, &s.sops_file)),
                )
                .with_hint(e.hint_for(&s.sops_file.display().to_string())),
            ),
        }
    }
    if problems.is_empty() {
        Ok(ParsedFiles { files })
    } else {
        Err(Problems(problems))
    }
}

fn subject(path: &Path) -> String {
    format!("sops file {}", path.display())
}

fn parse_one(path: &Path, format: Format) -> Result<ParsedFile, SopsError> {
    let input =
        crate::input_file::read(path, crate::input_file::SOPS_FILE_MAX).map_err(SopsError::Read)?;
    let (loaded, metadata) = decrypt::parse(&input, format)?;
    Ok(ParsedFile {
        format,
        loaded,
        metadata,
    })
}

impl ParsedFiles {
    /// Every yaml/json secret's key must exist in its (encrypted) file.
    pub fn check_keys(&self, manifest: &Manifest) -> Result<(), Problems> {
        let mut problems = Vec::new();
        let indexes: Vec<extract::TopIndex> = self
            .files
            .iter()
            .map(|(_, parsed)| extract::TopIndex::new(&parsed.loaded.branches))
            .collect();
        for s in &manifest.secrets {
            if !matches!(s.format, Format::Yaml | Format::Json) || s.key.is_empty() {
                continue;
            }
            let Some(n) = self.files.iter().position(|(p, _)| p == &s.sops_file) else {
                continue;
            };
            let (branches, index) = (&self.files[n].1.loaded.branches, &indexes[n]);
            let steps = parse_secret_key(&s.key);
            if let Err(e) = extract::lookup_indexed(branches, Some(index), &steps) {
                problems.push(
                    Problem::new(
                        format!("secret {:?}", s.name),
                        "key",
                        format!("in {}: {e}", s.sops_file.display()),
                    )
                    .with_hint(e.hint()),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(problems))
        }
    }

    /// Decrypts every file once; the first failure stops the run and names the secrets of the
    /// `manifest` that use the file.
    pub fn decrypt_all(
        self,
        manifest: &Manifest,
        identities: &Identities,
    ) -> Result<HashMap<PathBuf, DecryptedFile>, FileError> {
        let mut out = HashMap::new();
        for (path, parsed) in self.files {
            let fail = |error| FileError {
                secrets: users(manifest, &path),
                path: path.clone(),
                error,
            };
            let key = data_key::recover(&parsed.metadata, identities)
                .map_err(|r| fail(SopsError::NoKey(r)))?;
            let file =
                decrypt::decrypt_with_key(parsed.loaded, parsed.format, &parsed.metadata, &key)
                    .map_err(fail)?;
            out.insert(path, file);
        }
        Ok(out)
    }
}
