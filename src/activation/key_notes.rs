//! The stderr notes about key sources: imported keys (with `keyImport` logging) and every
//! source that could not be used.

use crate::keys::{self, KeySource};
use crate::manifest::Manifest;

/// Imported ssh keys (with `keyImport` logging) and, always, every key source that could not
/// be used, so a missing plugin or key is visible before a file needs it.
pub fn key_notes(m: &Manifest, ids: &keys::Identities) -> Vec<String> {
    let problems = ids
        .problems()
        .iter()
        .map(|p| format!("warning: key source {} not used: {}", p.source, p.reason));
    if !m.log_key_import {
        return problems.collect();
    }
    let pgp = ids.pgp().iter().filter_map(|k| {
        let fp = k.fingerprint()?;
        Some(format!(
            "Imported {} as GPG key with fingerprint {}",
            k.source(),
            hex::encode(fp)
        ))
    });
    // The ssh-to-age conversions of `ageSshKeyPaths`, as sops-nix reports importing them.
    let age = ids.loaded().iter().filter_map(|l| match &l.source {
        KeySource::SshKeyAsAge(path) if m.age_ssh_key_paths.contains(path) => Some(format!(
            "Imported {} as age key with fingerprint {}",
            path.display(),
            l.recipient
        )),
        _ => None,
    });
    pgp.chain(age).chain(problems).collect()
}
