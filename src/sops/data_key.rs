//! Recovering the 32-byte data key from the key groups with the loaded identities.
//!
//! Each group yields one part (every master key in a group wraps the same bytes): with one
//! group the part is the data key, with several the parts are Shamir shares and at least
//! `shamir_threshold` of them are combined. Age entries are tried before PGP ones (no process
//! to start). When nothing opens the file, the report lists the file's recipients, every
//! identity tried and every source that failed (gpg's own reason included), so the user sees
//! which key is missing.

use std::fmt;
use std::io::Read;

use zeroize::Zeroize;

use crate::hint::Hint;
use crate::keys::{Identities, PgpAttempt, SourceProblem};
use crate::secret_bytes::SecretBytes;
use crate::sops::metadata::{KeyGroup, Metadata};
use crate::sops::shamir;

/// The data key; wiped on drop.
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn from_secret(part: &SecretBytes) -> Option<DataKey> {
        let bytes: [u8; 32] = part.as_bytes().try_into().ok()?;
        Some(DataKey(bytes))
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Why no data key could be recovered, with everything needed to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoKeyReport {
    /// Every recipient of the file, group by group.
    pub recipients: Vec<String>,
    /// Every loaded identity: (recipient, source).
    pub loaded: Vec<(String, String)>,
    /// Key sources that could not be loaded.
    pub problems: Vec<SourceProblem>,
    /// With several groups: (parts recovered, parts needed).
    pub shamir: Option<(usize, usize)>,
    /// True when the file has no age or pgp recipient at all (only kms and the like).
    pub only_unsupported_kinds: bool,
    /// Something more specific than "no key matched" (a corrupt `enc`, bad parts).
    pub detail: Option<KeyEntryError>,
}

/// A key entry opened but what it held is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyEntryError {
    #[error("the age entry for {0} is not a valid age file")]
    NotAgeFile(String),
    #[error("the age entry for {0} is corrupt")]
    Corrupt(String),
    #[error("the recovered data key is not 32 bytes long")]
    PartLength,
    #[error("the combined data key is not 32 bytes long")]
    CombinedLength,
    #[error("cannot combine the key groups' parts: {0}")]
    Combine(#[from] shamir::ShamirError),
}

impl fmt::Display for NoKeyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.only_unsupported_kinds {
            write!(f, "it is encrypted only to master keys sops-install cannot use (age and pgp are supported)")?;
        } else if let Some(detail) = &self.detail {
            write!(f, "{detail}")?;
        } else if let Some((found, needed)) = self.shamir {
            write!(
                f,
                "the loaded keys open {found} of the {needed} key groups needed"
            )?;
        } else if self.loaded.is_empty() {
            write!(f, "no key was loaded to open it")?;
        } else {
            write!(f, "no loaded key can open it")?;
        }
        write!(f, "; recipients: {}", self.recipients.join(", "))?;
        let loaded: Vec<String> = self
            .loaded
            .iter()
            .map(|(r, s)| format!("{r} (from {s})"))
            .collect();
        if loaded.is_empty() {
            write!(f, "; loaded: none")?;
        } else {
            write!(f, "; loaded: {}", loaded.join(", "))?;
        }
        for p in &self.problems {
            write!(f, "; {}: {}", p.source, p.reason)?;
        }
        Ok(())
    }
}

impl NoKeyReport {
    /// What to do: give the file this host's recipients (those of the key sources that
    /// loaded), or make a key source load; `file` is the sops file as commands name it.
    pub fn hint(&self, file: &str) -> Hint {
        self.advice(
            file,
            &format!("; `sops-install recipient --check {file}` shows which keys open it"),
        )
    }

    /// The same advice for `recipient --check` itself, which is already that diagnosis.
    pub fn fix(&self, file: &str) -> Hint {
        self.advice(file, "")
    }

    /// `diagnose` (empty, or starting with "; ") ends each piece of advice.
    fn advice(&self, file: &str, diagnose: &str) -> Hint {
        let mut host: Vec<&str> = Vec::new();
        for (r, _) in &self.loaded {
            if !host.contains(&r.as_str()) {
                host.push(r);
            }
        }
        let add = |rest: &str| {
            format!(
                "add this host's recipients ({}) to the file's creation rule in .sops.yaml{rest}, \
                 then run `sops updatekeys {file}`{diagnose}",
                host.join(", ")
            )
        };
        let advice = if self.detail.is_some() {
            format!(
                "a key entry of the file is damaged: restore the file from version control, or \
                 re-encrypt its data key with `sops updatekeys {file}` from a machine that can \
                 open it{diagnose}"
            )
        } else if host.is_empty() {
            format!(
                "no key source loaded: make sops.age.keyFile, sops.age.sshKeyPaths or \
                 sops.gnupg.sshKeyPaths (for `decrypt`: --age-key-file, SOPS_AGE_KEY_FILE) name \
                 a key this host has, then add the recipient `sops-install recipient` prints to \
                 .sops.yaml{diagnose}"
            )
        } else if self.only_unsupported_kinds {
            add(" (an age or pgp key)")
        } else if let Some((found, needed)) = self.shamir {
            add(&format!(
                " in enough key groups ({found} of {needed} open now)"
            ))
        } else {
            add("")
        };
        // A key source that failed may be the one that opens the file: say how to fix it first.
        let sources = Hint::join(self.problems.iter().filter_map(|p| p.reason.hint()));
        Hint::new(match sources {
            Some(fix) => format!("{fix}; {advice}"),
            None => advice,
        })
    }
}

/// Opens the data key with whatever identities fit.
pub fn recover(meta: &Metadata, identities: &Identities) -> Result<DataKey, Box<NoKeyReport>> {
    let mark = identities.plugin_failure_mark();
    let mut parts = Vec::new();
    let mut detail = None;
    let mut problems = identities.problems().to_vec();
    for group in &meta.key_groups {
        match open_group(group, identities, &mut problems) {
            Ok(Some(part)) => parts.push(part),
            Ok(None) => {}
            Err(e) => detail = Some(e),
        }
    }
    let has_pgp = meta.key_groups.iter().any(|g| !g.pgp.is_empty());
    let report = |shamir, detail| {
        Box::new(NoKeyReport {
            recipients: meta
                .key_groups
                .iter()
                .flat_map(KeyGroup::recipients)
                .collect(),
            loaded: described(identities, has_pgp),
            problems: problems
                .iter()
                .cloned()
                .chain(identities.plugin_failures_since(mark))
                .collect(),
            shamir,
            only_unsupported_kinds: meta
                .key_groups
                .iter()
                .all(|g| g.age.is_empty() && g.pgp.is_empty()),
            detail,
        })
    };
    if meta.key_groups.len() == 1 {
        return match parts.first() {
            Some(part) => DataKey::from_secret(part)
                .ok_or_else(|| report(None, Some(KeyEntryError::PartLength))),
            None => Err(report(None, detail)),
        };
    }
    let needed = meta.shamir_threshold.max(2);
    if parts.len() < needed {
        return Err(report(Some((parts.len(), needed)), None));
    }
    let secret = shamir::combine(&parts).map_err(|e| report(None, Some(e.into())))?;
    DataKey::from_secret(&secret).ok_or_else(|| report(None, Some(KeyEntryError::CombinedLength)))
}

/// The group's part, `None` if no identity fits, an error if an entry is corrupt. PGP sources
/// that fail add their reason to `problems`.
fn open_group(
    group: &KeyGroup,
    identities: &Identities,
    problems: &mut Vec<SourceProblem>,
) -> Result<Option<SecretBytes>, KeyEntryError> {
    let mut corrupt = None;
    let rounds = identities.age_identity_rounds();
    let attempts = rounds
        .iter()
        .filter(|round| !round.is_empty())
        .flat_map(|round| group.age.iter().map(move |key| (round, key)));
    for (round, key) in attempts {
        let armored = age::armor::ArmoredReader::new(key.enc.as_bytes());
        let decryptor = match age::Decryptor::new(armored) {
            Ok(d) => d,
            Err(_) => {
                corrupt = Some(KeyEntryError::NotAgeFile(key.recipient.clone()));
                continue;
            }
        };
        let Ok(mut reader) = decryptor.decrypt(round.iter().copied()) else {
            continue;
        };
        let mut part = SecretBytes::with_capacity(64);
        let mut chunk = [0u8; 64];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => part.extend_from_slice(&chunk[..n]),
                Err(_) => {
                    chunk.zeroize();
                    return Err(KeyEntryError::Corrupt(key.recipient.clone()));
                }
            }
        }
        chunk.zeroize();
        return Ok(Some(part));
    }
    if let Some(part) = open_pgp(group, identities, problems) {
        return Ok(Some(part));
    }
    match corrupt {
        Some(e)
            if identities
                .loaded()
                .iter()
                .any(|l| group.age.iter().any(|k| k.recipient == l.recipient)) =>
        {
            Err(e)
        }
        _ => Ok(None),
    }
}

/// The identities tried, as (recipient, source): PGP sources only for files with `pgp` entries.
fn described(identities: &Identities, has_pgp: bool) -> Vec<(String, String)> {
    let age = identities
        .loaded()
        .iter()
        .map(|l| (l.recipient.clone(), l.source.to_string()));
    let pgp = identities
        .pgp()
        .iter()
        .filter(|_| has_pgp)
        .map(|k| (k.recipient(), k.source().to_string()));
    age.chain(pgp).collect()
}

/// Tries every PGP source on every `pgp` entry of the group.
fn open_pgp(
    group: &KeyGroup,
    identities: &Identities,
    problems: &mut Vec<SourceProblem>,
) -> Option<SecretBytes> {
    for entry in &group.pgp {
        for key in identities.pgp() {
            match key.open(&entry.enc) {
                PgpAttempt::Opened(part) => return Some(part),
                PgpAttempt::NotForThisKey => {}
                PgpAttempt::Failed(reason) => {
                    let p = SourceProblem {
                        source: key.source(),
                        reason,
                    };
                    if !problems.contains(&p) {
                        problems.push(p);
                    }
                }
            }
        }
    }
    None
}
