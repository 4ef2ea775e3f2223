//! The sops-nix manifest: read (`raw`), expanded for user mode (`runtime_dir`), validated into
//! the model below with every problem reported at once (`validate`), and owners resolved
//! against the user database (`owners`).

pub mod owners;
pub mod raw;
pub mod runtime_dir;
pub mod validate;

use std::path::{Path, PathBuf};

use crate::sops::stores::Format;

/// A validated manifest. Paths are absolute, names are safe relative paths.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub secrets: Vec<Secret>,
    pub templates: Vec<Template>,
    pub secrets_mount_point: PathBuf,
    pub symlink_path: PathBuf,
    pub keep_generations: u64,
    /// RSA SSH keys to use as PGP keys.
    pub ssh_key_paths: Vec<PathBuf>,
    pub gnupg_home: Option<PathBuf>,
    pub age_key_file: Option<PathBuf>,
    pub age_ssh_key_paths: Vec<PathBuf>,
    pub use_tmpfs: bool,
    pub user_mode: bool,
    pub log_key_import: bool,
    pub log_secret_changes: bool,
    /// `keepLastGoodOnFailure`: a sops file that cannot be opened keeps its secrets' values
    /// from the live generation (see `activation::keep_last_good`).
    pub keep_last_good: bool,
    /// `credentialStore` (default `/run/credstore`): where secrets with a `credential` are
    /// linked for systemd's `LoadCredential=` (see `activation::credentials`).
    pub credential_store: PathBuf,
}

/// Who should own a file: a name (looked up) wins over a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Name(String),
    Id(u32),
}

/// What a file is installed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub owner: Principal,
    pub group: Principal,
    /// Permission bits (at most 0o777 are applied).
    pub mode: u32,
}

#[derive(Debug, Clone)]
pub struct Secret {
    /// File name relative to a generation; may contain `/`.
    pub name: String,
    /// Lookup key (`a/b` in the manifest), split at validation; no segment: the whole file.
    pub key: SecretKey,
    /// Where the user sees it; a symlink is made when it is not `<symlinkPath>/<name>`.
    pub path: PathBuf,
    pub ownership: Ownership,
    pub sops_file: PathBuf,
    pub format: Format,
    pub restart_units: Vec<String>,
    pub reload_units: Vec<String>,
    /// The placeholder text that stands for this secret in templates.
    pub placeholder: Option<String>,
    /// The systemd credential name (`<credentialStore>/<name>`) this secret is exposed as.
    pub credential: Option<String>,
}

/// A secret's `key`, split once at validation: each segment selects a key of the map the
/// previous one selected (sops-nix's `a/b/c`); no segment at all (the empty key) is the whole
/// file. It prints as the manifest wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretKey(Vec<String>);

impl SecretKey {
    /// Splits a manifest key on `/`; the empty key is the whole file.
    pub fn parse(key: &str) -> SecretKey {
        if key.is_empty() {
            return SecretKey::default();
        }
        SecretKey(key.split('/').map(str::to_string).collect())
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    pub fn is_whole_file(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    /// File name below `<generation>/rendered/`.
    pub name: String,
    /// The template text (`content`, or the contents of `file`).
    pub text: String,
    pub path: PathBuf,
    pub ownership: Ownership,
    pub restart_units: Vec<String>,
    pub reload_units: Vec<String>,
    /// The systemd credential name (`<credentialStore>/<name>`) this template is exposed as.
    pub credential: Option<String>,
}

/// A secret or template exposed as a systemd credential (`activation::credentials`).
#[derive(Debug, Clone)]
pub struct CredentialUse<'a> {
    /// The credential name.
    pub name: &'a str,
    /// `secret "x"` or `template "y"`, for messages.
    pub subject: String,
    /// The secret's or template's name.
    pub of: &'a str,
    /// A template (its rendered file), not a secret.
    pub rendered: bool,
}

/// Every credential of `secrets` and `templates`, secrets first, in manifest order.
pub fn credential_uses<'a>(
    secrets: &'a [Secret],
    templates: &'a [Template],
) -> Vec<CredentialUse<'a>> {
    let secrets = secrets.iter().filter_map(|s| {
        Some(CredentialUse {
            name: s.credential.as_deref()?,
            subject: format!("secret {:?}", s.name),
            of: &s.name,
            rendered: false,
        })
    });
    let templates = templates.iter().filter_map(|t| {
        Some(CredentialUse {
            name: t.credential.as_deref()?,
            subject: format!("template {:?}", t.name),
            of: &t.name,
            rendered: true,
        })
    });
    secrets.chain(templates).collect()
}

/// The directory below a generation that holds rendered templates.
pub const RENDERED_DIR: &str = "rendered";

/// The directory below a generation that holds the credential copies (root, 0400), when the
/// manifest has secrets or templates with a `credential`.
pub const CREDENTIALS_DIR: &str = ".credentials";

/// The credential store systemd's `LoadCredential=NAME` searches (after `/etc/credstore`).
pub const DEFAULT_CREDENTIAL_STORE: &str = "/run/credstore";

impl Manifest {
    /// Every secret and template exposed as a systemd credential.
    pub fn credential_uses(&self) -> Vec<CredentialUse<'_>> {
        credential_uses(&self.secrets, &self.templates)
    }

    /// Where a secret lives inside the live tree (`<symlinkPath>/<name>`).
    pub fn default_secret_path(&self, name: &str) -> PathBuf {
        self.symlink_path.join(name)
    }

    /// Where a template lives inside the live tree (`<symlinkPath>/rendered/<name>`).
    pub fn default_template_path(&self, name: &str) -> PathBuf {
        self.symlink_path.join(RENDERED_DIR).join(name)
    }
}

/// Lexically normalises an absolute path (`//`, `.`, trailing `/`), without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_split_on_slashes_and_empty_means_whole_file() {
        assert!(SecretKey::parse("").is_whole_file());
        assert_eq!(SecretKey::parse("").segments(), [] as [String; 0]);
        assert_eq!(SecretKey::parse("a/b").segments(), ["a", "b"]);
        assert_eq!(SecretKey::parse("a//b").segments(), ["a", "", "b"]);
        assert_eq!(SecretKey::parse("a/b").to_string(), "a/b");
    }
}
