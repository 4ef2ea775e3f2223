//! Identities that can open sops data keys, and where each came from.
//!
//! Every source (an age key file, `SOPS_AGE_KEY`, an SSH host key, an RSA ssh key used as a
//! PGP key, gpg with a GnuPG home) is loaded independently: a
//! source that fails is recorded with its reason instead of hiding the others, so that when no
//! identity opens a file the error can say what was tried and why each source did not help.
//! Key material is read into zeroizing buffers and handed to the `age` crate's identity types,
//! which wipe their secrets on drop.

mod age_key_file;
mod gnupg;
pub mod openpgp_v4;
mod pgp;
pub mod pgp_message;
mod rsa_ssh_key;
mod ssh_host_key;

pub use gnupg::Gnupg;
pub use pgp::{Attempt as PgpAttempt, PgpKey};

use std::path::Path;

/// One identity, with the recipient it answers to and the source it was loaded from.
pub struct LoadedIdentity {
    pub identity: Box<dyn age::Identity>,
    /// The recipient string as it appears in a sops file (`age1…`, `ssh-ed25519 AAAA…`).
    pub recipient: String,
    /// Where it came from, for messages (`/etc/ssh/ssh_host_ed25519_key`, `SOPS_AGE_KEY`).
    pub source: String,
}

/// A key source that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    pub source: String,
    pub reason: String,
}

/// Every identity loaded for a run, and every source that failed.
#[derive(Default)]
pub struct Identities {
    loaded: Vec<LoadedIdentity>,
    pgp: Vec<PgpKey>,
    problems: Vec<SourceProblem>,
}

impl Identities {
    pub fn new() -> Self {
        Identities::default()
    }

    /// Loads an age identity file (one `AGE-SECRET-KEY-1…` per line, `#` comments).
    pub fn add_age_key_file(&mut self, path: &Path) {
        let source = path.display().to_string();
        match age_key_file::read_file(path) {
            Ok(text) => self.add_age_keys_text(text.as_str(), &source),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads age identities given inline (the `SOPS_AGE_KEY` variable).
    pub fn add_age_keys_text(&mut self, text: &str, source: &str) {
        match age_key_file::parse(text, source) {
            Ok(parsed) => {
                self.loaded.extend(parsed.identities);
                self.problems.extend(parsed.skipped);
            }
            Err(reason) => self.problem(source.to_string(), reason),
        }
    }

    /// Loads an OpenSSH private key: natively (for `ssh-ed25519` / `ssh-rsa` recipients) and,
    /// for ed25519, also converted to the age X25519 identity that ssh-to-age derives.
    pub fn add_ssh_key(&mut self, path: &Path) {
        let source = path.display().to_string();
        match ssh_host_key::load(path) {
            Ok(found) => self.loaded.extend(found),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads only the ssh-to-age conversion of an ed25519 key (what sops-nix does with
    /// `sops.age.sshKeyPaths`).
    pub fn add_ssh_key_converted(&mut self, path: &Path) {
        let source = path.display().to_string();
        match ssh_host_key::load_converted(path) {
            Ok(found) => self.loaded.push(found),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads an RSA ssh private key as the OpenPGP key ssh-to-pgp derives from it (what
    /// sops-nix does with `sops.gnupg.sshKeyPaths`), in memory only.
    pub fn add_rsa_ssh_key_as_pgp(&mut self, path: &Path) {
        let source = path.display().to_string();
        match rsa_ssh_key::load(path) {
            Ok(key) => self.pgp.push(PgpKey::Rsa {
                key: Box::new(key),
                source,
            }),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Uses gpg (`exec`) with a GnuPG home (`None`: gpg's own default) for `pgp` entries.
    /// Nothing is checked now: gpg's own error is recorded when it fails to open a file.
    pub fn add_gnupg(&mut self, home: Option<&Path>, exec: std::ffi::OsString) {
        let source = match home {
            Some(h) => format!("GnuPG home {}", h.display()),
            None => "gpg's default GnuPG home".to_string(),
        };
        let gpg = Gnupg {
            home: home.map(Path::to_path_buf),
            exec,
        };
        self.pgp.push(PgpKey::Gnupg { gpg, source });
    }

    fn problem(&mut self, source: String, reason: String) {
        self.problems.push(SourceProblem { source, reason });
    }

    pub fn loaded(&self) -> &[LoadedIdentity] {
        &self.loaded
    }

    pub fn problems(&self) -> &[SourceProblem] {
        &self.problems
    }

    /// The PGP key sources, in load order.
    pub fn pgp(&self) -> &[PgpKey] {
        &self.pgp
    }

    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty() && self.pgp.is_empty()
    }

    /// The identities as the `age` crate wants them.
    pub fn as_age_identities(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.loaded.iter().map(|l| l.identity.as_ref())
    }
}

/// The identities a manifest asks for: `ageSshKeyPaths` (converted as sops-nix does, and
/// native), `ageKeyFile`, `sshKeyPaths` (RSA keys as PGP keys), gpg (`SOPS_GPG_EXEC`) with
/// `gnupgHome` or its default home, plus `SOPS_AGE_KEY` and `SOPS_AGE_SSH_PRIVATE_KEY_FILE` from the
/// environment (and `SOPS_AGE_KEY_FILE` when the manifest names no age source, since sops-nix
/// overrides it only then). Nothing is written to disk.
pub fn for_manifest(manifest: &crate::manifest::Manifest, env: &EnvKeys) -> Identities {
    let mut ids = Identities::new();
    for path in &manifest.age_ssh_key_paths {
        ids.add_ssh_key(path);
    }
    if let Some(f) = &manifest.age_key_file {
        ids.add_age_key_file(f);
    }
    let manifest_has_age =
        manifest.age_key_file.is_some() || !manifest.age_ssh_key_paths.is_empty();
    if let (Some(f), false) = (&env.age_key_file, manifest_has_age) {
        ids.add_age_key_file(f);
    }
    if let Some(text) = &env.age_key {
        ids.add_age_keys_text(text, "SOPS_AGE_KEY");
    }
    if let Some(f) = &env.ssh_private_key_file {
        ids.add_ssh_key(f);
    }
    for path in &manifest.ssh_key_paths {
        ids.add_rsa_ssh_key_as_pgp(path);
    }
    // As in sops-nix, whose sops library always falls back to the gpg program: with the
    // manifest's home, else gpg's default (this is how qubes split-gpg's SOPS_GPG_EXEC works).
    ids.add_gnupg(manifest.gnupg_home.as_deref(), env.gpg_exec());
    ids
}

/// Key sources named by sops' environment variables.
#[derive(Debug, Default, Clone)]
pub struct EnvKeys {
    pub age_key_file: Option<std::path::PathBuf>,
    pub age_key: Option<String>,
    pub ssh_private_key_file: Option<std::path::PathBuf>,
    /// `SOPS_GPG_EXEC`: the gpg program.
    pub gpg_exec: Option<std::ffi::OsString>,
}

impl EnvKeys {
    /// Reads `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, `SOPS_AGE_SSH_PRIVATE_KEY_FILE` and
    /// `SOPS_GPG_EXEC`.
    pub fn from_process() -> EnvKeys {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        EnvKeys {
            age_key_file: non_empty("SOPS_AGE_KEY_FILE").map(Into::into),
            age_key: non_empty("SOPS_AGE_KEY").and_then(|v| v.into_string().ok()),
            ssh_private_key_file: non_empty("SOPS_AGE_SSH_PRIVATE_KEY_FILE").map(Into::into),
            gpg_exec: non_empty("SOPS_GPG_EXEC"),
        }
    }

    /// The gpg program: `SOPS_GPG_EXEC`, else `gpg` from `PATH`, as sops does.
    pub fn gpg_exec(&self) -> std::ffi::OsString {
        self.gpg_exec.clone().unwrap_or_else(|| "gpg".into())
    }
}
