//! The manifest's sops files for one run, each read, parsed and decrypted exactly once.
//!
//! `parse_all` reads every distinct file and decodes its metadata (what `-check-mode=sopsfile`
//! proves at build time, without any private key); `check_keys` proves every secret's key
//! exists in the encrypted tree; `decrypt_all` opens each file with the loaded identities,
//! however many secrets come from it. This is the manifest-facing side: which secrets use a
//! file and how a problem names them. The sops layer ([`ParsedFile`]) only sees paths,
//! formats and key segments.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::keys::Identities;
use crate::manifest::validate::{Problem, Problems};
use crate::manifest::Manifest;
use crate::sops::decrypt::DecryptedFile;
use crate::sops::error::SopsError;
use crate::sops::parsed::ParsedFile;
use crate::sops::stores::Format;

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

impl crate::hint::Advised for FileError {
    /// The sops error's advice, with this file in the commands to run.
    fn hint(&self) -> Option<crate::hint::Hint> {
        self.error.hint_for(&self.path.display().to_string())
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
        match ParsedFile::read(&s.sops_file, s.format) {
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

impl ParsedFiles {
    /// Every yaml/json secret's key must exist in its (encrypted) file.
    pub fn check_keys(&self, manifest: &Manifest) -> Result<(), Problems> {
        let mut problems = Vec::new();
        for s in &manifest.secrets {
            if !matches!(s.format, Format::Yaml | Format::Json) || s.key.is_whole_file() {
                continue;
            }
            let Some((_, parsed)) = self.files.iter().find(|(p, _)| p == &s.sops_file) else {
                continue;
            };
            if let Err(e) = parsed.check_key(s.key.segments()) {
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
            let file = parsed.decrypt(identities).map_err(|error| FileError {
                secrets: users(manifest, &path),
                path: path.clone(),
                error,
            })?;
            out.insert(path, file);
        }
        Ok(out)
    }
}
