//! Identities that can open sops data keys, and where each came from.
//!
//! Every source (an age key file, `SOPS_AGE_KEY`, an SSH host key, an age plugin named in either
//! age source, an RSA ssh key used as a PGP key, gpg with a GnuPG home) is loaded independently:
//! a source that fails is recorded with its reason instead of hiding the others, so that when no
//! identity opens a file the error can say what was tried and why each source did not help.
//! Plugins and gpg can also fail while a file is being opened (a PIN asked for, a broken device,
//! a missing secret key); those failures are added to the data-key report.
//! Key material is read into zeroizing buffers and handed to the `age` crate's identity types,
//! which wipe their secrets on drop.

mod age_key_file;
pub mod age_plugin;
mod error;
mod gnupg;
pub mod helper;
pub mod key_cmd;
pub mod openpgp_v4;
mod pgp;
pub mod pgp_message;
pub mod recipients;
mod rsa_ssh_key;
mod source;
mod ssh_host_key;
pub mod ssh_to_pgp;
pub mod user_places;

pub use error::KeyError;
pub use gnupg::Gnupg;
pub use pgp::{Attempt as PgpAttempt, PgpKey};
pub use source::KeySource;

use std::path::Path;

use zeroize::Zeroizing;

/// One identity, with the recipient it answers to and the source it was loaded from.
pub struct LoadedIdentity {
    pub identity: Box<dyn age::Identity>,
    /// The recipient string as it appears in a sops file (`age1…`, `ssh-ed25519 AAAA…`).
    pub recipient: String,
    /// Where it came from (prints as `/etc/ssh/ssh_host_ed25519_key`, `SOPS_AGE_KEY`).
    pub source: KeySource,
    /// Served by an age plugin process rather than held in memory.
    pub via_plugin: bool,
}

/// A key source that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    pub source: KeySource,
    pub reason: KeyError,
}

/// Every identity loaded for a run, and every source that failed.
#[derive(Default)]
pub struct Identities {
    loaded: Vec<LoadedIdentity>,
    pgp: Vec<PgpKey>,
    problems: Vec<SourceProblem>,
    /// What plugins reported while unwrapping (also held by the plugin identities).
    plugin_failures: age_plugin::FailureLog,
    /// `age1…` recipients that key-file comments give for plugin identities: (recipient, source).
    plugin_recipients: Vec<(String, KeySource)>,
}

impl Identities {
    pub fn new() -> Self {
        Identities::default()
    }

    /// Loads an age identity file (one `AGE-SECRET-KEY-1…` per line, `#` comments).
    pub fn add_age_key_file(&mut self, path: &Path) {
        let source = KeySource::AgeKeyFile(path.to_path_buf());
        match age_key_file::read_file(path) {
            Ok(text) => self.add_age_keys(text.as_str(), source),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads age identities given inline (the `SOPS_AGE_KEY` variable), named by `label`.
    pub fn add_age_keys_text(&mut self, text: &str, label: &str) {
        self.add_age_keys(text, KeySource::AgeKeyText(label.to_string()));
    }

    fn add_age_keys(&mut self, text: &str, source: KeySource) {
        match age_key_file::parse(text, &source) {
            Ok(parsed) => {
                self.loaded.extend(parsed.identities);
                self.problems.extend(parsed.skipped);
                self.add_plugins(&parsed.plugins, &source);
                self.plugin_recipients.extend(
                    parsed
                        .plugin_recipients
                        .into_iter()
                        .map(|r| (r, source.clone())),
                );
            }
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads an OpenSSH private key: natively (for `ssh-ed25519` / `ssh-rsa` recipients) and,
    /// for ed25519, also converted to the age X25519 identity that ssh-to-age derives.
    pub fn add_ssh_key(&mut self, path: &Path) {
        let source = KeySource::SshKey(path.to_path_buf());
        match ssh_host_key::load(path) {
            Ok(found) => self.loaded.extend(found),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads an OpenSSH private key given as text (`SOPS_AGE_SSH_PRIVATE_KEY_CMD`'s output),
    /// natively only, as sops does with it; named by `label`.
    pub fn add_ssh_key_text(&mut self, text: &str, label: &str) {
        let source = KeySource::AgeKeyText(label.to_string());
        match ssh_host_key::load_native_text(text.as_bytes(), source.clone()) {
            Ok(found) => self.loaded.push(found),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// Loads only the ssh-to-age conversion of an ed25519 key (what sops-nix does with
    /// `sops.age.sshKeyPaths`).
    pub fn add_ssh_key_converted(&mut self, path: &Path) {
        let source = KeySource::SshKey(path.to_path_buf());
        match ssh_host_key::load_converted(path) {
            Ok(found) => self.loaded.push(found),
            Err(reason) => self.problem(source, reason),
        }
    }

    /// One identity per plugin named in the source (the plugin gets all of its identities at
    /// once); a plugin whose binary is missing is a problem of that source, naming the lines.
    fn add_plugins(&mut self, plugins: &[(age::plugin::Identity, usize)], source: &KeySource) {
        let mut names: Vec<&str> = plugins.iter().map(|(p, _)| p.plugin()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let (ids, lines): (Vec<age::plugin::Identity>, Vec<usize>) = plugins
                .iter()
                .filter(|(p, _)| p.plugin() == name)
                .map(|(p, n)| (p.clone(), *n))
                .unzip();
            let label = KeySource::Plugin {
                within: Box::new(source.clone()),
                lines,
            };
            match age_plugin::load(name, &ids, &label, &self.plugin_failures) {
                Ok(found) => self.loaded.push(found),
                Err(reason) => self.problem(label, reason),
            }
        }
    }

    /// A mark in the log of plugin failures; see [`Identities::plugin_failures_since`].
    pub fn plugin_failure_mark(&self) -> usize {
        self.plugin_failures.mark()
    }

    /// What plugins reported since `mark` while files were being opened.
    pub fn plugin_failures_since(&self, mark: usize) -> Vec<SourceProblem> {
        self.plugin_failures.since(mark)
    }

    /// `age1…` recipients that key-file comments name for plugin identities, with the source.
    pub fn plugin_recipients(&self) -> &[(String, KeySource)] {
        &self.plugin_recipients
    }

    /// Loads an RSA ssh private key as the OpenPGP key ssh-to-pgp derives from it (what
    /// sops-nix does with `sops.gnupg.sshKeyPaths`), in memory only.
    pub fn add_rsa_ssh_key_as_pgp(&mut self, path: &Path) {
        match rsa_ssh_key::load(path) {
            Ok(key) => self.pgp.push(PgpKey::Rsa {
                key: Box::new(key),
                path: path.to_path_buf(),
            }),
            Err(reason) => self.problem(KeySource::SshKeyAsPgp(path.to_path_buf()), reason),
        }
    }

    /// Loads an RSA ssh key given for PGP (`sshKeyPaths`) also as the age `ssh-rsa` identity,
    /// so files sops encrypted to the key's `ssh-rsa` line open too, with no manifest change.
    /// Only an RSA key that age reads is added; any problem with the key is the PGP load's
    /// to report, so none is recorded here. A key already loaded for age is not loaded twice.
    pub fn add_rsa_ssh_key_as_age(&mut self, path: &Path) {
        let source = KeySource::SshKey(path.to_path_buf());
        if self.loaded.iter().any(|l| l.source == source) {
            return;
        }
        if let Ok(found) = ssh_host_key::load_native(path) {
            if found.recipient.starts_with("ssh-rsa ") {
                self.loaded.push(found);
            }
        }
    }

    /// Uses gpg (`exec`) with a GnuPG home (`None`: gpg's own default) for `pgp` entries.
    /// Nothing is checked now: gpg's own error is recorded when it fails to open a file.
    pub fn add_gnupg(&mut self, home: Option<&Path>, exec: std::ffi::OsString) {
        let gpg = Gnupg {
            home: home.map(Path::to_path_buf),
            exec,
        };
        self.pgp.push(PgpKey::Gnupg { gpg });
    }

    /// Records a source of age identities given as text (a key command, for example) that
    /// could not be used.
    pub fn record_problem(&mut self, label: &str, reason: KeyError) {
        self.problem(KeySource::AgeKeyText(label.to_string()), reason);
    }

    fn problem(&mut self, source: KeySource, reason: KeyError) {
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

    /// The identities in two rounds: keys held in memory, then plugins. A plugin starts a
    /// process and may wait for a device, so it is asked only when no key in memory opens any
    /// entry of the group (whatever the order of the file's entries).
    pub fn age_identity_rounds(&self) -> [Vec<&dyn age::Identity>; 2] {
        let mut rounds: [Vec<&dyn age::Identity>; 2] = [Vec::new(), Vec::new()];
        for l in &self.loaded {
            rounds[usize::from(l.via_plugin)].push(l.identity.as_ref());
        }
        rounds
    }
}

/// The key sources a manifest names (also given to `initrd-secret` as flags, so that the
/// initrd's secrets are opened with the same keys as activation's).
#[derive(Debug, Default, Clone, Copy)]
pub struct KeySources<'a> {
    pub age_ssh_key_paths: &'a [std::path::PathBuf],
    pub age_key_file: Option<&'a Path>,
    pub ssh_key_paths: &'a [std::path::PathBuf],
    pub gnupg_home: Option<&'a Path>,
}

/// The identities a manifest asks for; see [`for_sources`].
pub fn for_manifest(manifest: &crate::manifest::Manifest, env: &EnvKeys) -> Identities {
    for_sources(
        &KeySources {
            age_ssh_key_paths: &manifest.age_ssh_key_paths,
            age_key_file: manifest.age_key_file.as_deref(),
            ssh_key_paths: &manifest.ssh_key_paths,
            gnupg_home: manifest.gnupg_home.as_deref(),
        },
        env,
    )
}

/// The identities of a manifest's key sources: `ageSshKeyPaths` (converted as sops-nix does, and
/// native), `ageKeyFile`, `sshKeyPaths` (RSA keys as PGP keys, and as age `ssh-rsa` keys), gpg (`SOPS_GPG_EXEC`) with
/// `gnupgHome` or its default home, plus `SOPS_AGE_KEY` and `SOPS_AGE_SSH_PRIVATE_KEY_FILE` from the
/// environment (and `SOPS_AGE_KEY_FILE` when the manifest names no age source, since sops-nix
/// overrides it only then), and the key credentials in `$CREDENTIALS_DIRECTORY`
/// ([`AGE_KEY_CREDENTIAL`], [`SSH_KEY_CREDENTIAL`]). Nothing is written to disk.
pub fn for_sources(manifest: &KeySources<'_>, env: &EnvKeys) -> Identities {
    let mut ids = Identities::new();
    for path in manifest.age_ssh_key_paths {
        ids.add_ssh_key(path);
    }
    if let Some(f) = manifest.age_key_file {
        ids.add_age_key_file(f);
    }
    let manifest_has_age =
        manifest.age_key_file.is_some() || !manifest.age_ssh_key_paths.is_empty();
    if let (Some(f), false) = (&env.age_key_file, manifest_has_age) {
        ids.add_age_key_file(f);
    }
    if let Some(text) = &env.age_key {
        ids.add_age_keys_text(text.as_str(), "SOPS_AGE_KEY");
    }
    if let Some(f) = &env.ssh_private_key_file {
        ids.add_ssh_key(f);
    }
    for path in manifest.ssh_key_paths {
        ids.add_rsa_ssh_key_as_pgp(path);
        ids.add_rsa_ssh_key_as_age(path);
    }
    if let Some(dir) = &env.credentials_dir {
        add_credential_keys(&mut ids, dir);
    }
    // As in sops-nix, whose sops library always falls back to the gpg program: with the
    // manifest's home, else gpg's default (this is how qubes split-gpg's SOPS_GPG_EXEC works).
    ids.add_gnupg(manifest.gnupg_home, env.gpg_exec());
    ids
}

/// The systemd credential holding an age identity file (`$CREDENTIALS_DIRECTORY/<this>`).
pub const AGE_KEY_CREDENTIAL: &str = "sops-install.age-key";
/// The systemd credential holding an OpenSSH private key (used as `ageSshKeyPaths` are).
pub const SSH_KEY_CREDENTIAL: &str = "sops-install.ssh-key";

/// Key material passed to the installer's unit as systemd credentials (sops-nix #763): the
/// ones of [`AGE_KEY_CREDENTIAL`] and [`SSH_KEY_CREDENTIAL`] that exist are key sources, read
/// like every key file (regular files only, bounded); a missing one is simply not there.
fn add_credential_keys(ids: &mut Identities, dir: &Path) {
    let age = dir.join(AGE_KEY_CREDENTIAL);
    if std::fs::symlink_metadata(&age).is_ok() {
        ids.add_age_key_file(&age);
    }
    let ssh = dir.join(SSH_KEY_CREDENTIAL);
    if std::fs::symlink_metadata(&ssh).is_ok() {
        ids.add_ssh_key(&ssh);
    }
}

/// Key sources named by sops' environment variables. The inline `SOPS_AGE_KEY` text is key
/// material: it is wiped on drop and `Debug` never shows it.
#[derive(Default, Clone)]
pub struct EnvKeys {
    pub age_key_file: Option<std::path::PathBuf>,
    pub age_key: Option<Zeroizing<String>>,
    pub ssh_private_key_file: Option<std::path::PathBuf>,
    /// `SOPS_AGE_KEY_CMD`: a command printing age identities (used by `decrypt`).
    pub age_key_cmd: Option<String>,
    /// `SOPS_AGE_SSH_PRIVATE_KEY_CMD` (sops 3.13): a command printing one OpenSSH private key
    /// (used by `decrypt`).
    pub age_ssh_key_cmd: Option<String>,
    /// `SOPS_GPG_EXEC`: the gpg program.
    pub gpg_exec: Option<std::ffi::OsString>,
    /// `CREDENTIALS_DIRECTORY` (set by systemd for a unit with credentials): where the key
    /// credentials are looked for.
    pub credentials_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for EnvKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvKeys")
            .field("age_key_file", &self.age_key_file)
            .field("age_key", &self.age_key.as_ref().map(|_| "<redacted>"))
            .field("ssh_private_key_file", &self.ssh_private_key_file)
            .field("credentials_dir", &self.credentials_dir)
            .field("age_key_cmd", &self.age_key_cmd)
            .field("age_ssh_key_cmd", &self.age_ssh_key_cmd)
            .finish()
    }
}

impl EnvKeys {
    /// Reads `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, `SOPS_AGE_SSH_PRIVATE_KEY_FILE`,
    /// `SOPS_AGE_KEY_CMD`, `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, `SOPS_GPG_EXEC` and
    /// `CREDENTIALS_DIRECTORY`.
    pub fn from_process() -> EnvKeys {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        EnvKeys {
            age_key_file: non_empty("SOPS_AGE_KEY_FILE").map(Into::into),
            age_key: non_empty("SOPS_AGE_KEY")
                .and_then(|v| v.into_string().ok())
                .map(Zeroizing::new),
            ssh_private_key_file: non_empty("SOPS_AGE_SSH_PRIVATE_KEY_FILE").map(Into::into),
            age_key_cmd: non_empty(key_cmd::VARIABLE).and_then(|v| v.into_string().ok()),
            age_ssh_key_cmd: non_empty(key_cmd::SSH_VARIABLE).and_then(|v| v.into_string().ok()),
            gpg_exec: non_empty("SOPS_GPG_EXEC"),
            credentials_dir: non_empty("CREDENTIALS_DIRECTORY").map(Into::into),
        }
    }

    /// The gpg program: `SOPS_GPG_EXEC`, else `gpg` from `PATH`, as sops does.
    pub fn gpg_exec(&self) -> std::ffi::OsString {
        self.gpg_exec.clone().unwrap_or_else(|| "gpg".into())
    }
}
