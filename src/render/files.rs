//! Every file of the new generation, decided in memory: each secret cut from its decrypted
//! sops file, each template rendered with the secrets' values.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{render, Substitution};
use crate::manifest::owners::{FileIds, Owners};
use crate::manifest::{Manifest, RENDERED_DIR};
use crate::secret_bytes::SecretBytes;
use crate::sops::DecryptedFile;

/// One file of the new generation.
#[derive(Debug)]
pub struct GenerationFile {
    /// Secret or template name.
    pub name: String,
    pub rendered: bool,
    /// Path relative to the generation (`db/password`, `rendered/app.env`).
    pub rel: String,
    pub content: SecretBytes,
    pub ids: FileIds,
    pub restart: Vec<String>,
    pub reload: Vec<String>,
}

/// A secret's value and ownership kept from the live generation (`keepLastGoodOnFailure`).
#[derive(Debug)]
pub struct PreviousValue {
    pub content: SecretBytes,
    pub ids: FileIds,
}

/// Builds every secret and template; errors name the secret or template and its file.
pub fn build(
    manifest: &Manifest,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
    owners: &Owners,
) -> Result<Vec<GenerationFile>, String> {
    build_keeping(manifest, decrypted, HashMap::new(), owners)
}

/// As [`build`], but the secrets named in `kept` take that value, owner and mode instead of
/// one from a decrypted file; templates are rendered with whichever value each secret has.
pub fn build_keeping(
    manifest: &Manifest,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
    mut kept: HashMap<String, PreviousValue>,
    owners: &Owners,
) -> Result<Vec<GenerationFile>, String> {
    let mut files = Vec::with_capacity(manifest.secrets.len() + manifest.templates.len());
    for (s, ids) in manifest.secrets.iter().zip(&owners.secrets) {
        if let Some(previous) = kept.remove(&s.name) {
            files.push(GenerationFile {
                name: s.name.clone(),
                rendered: false,
                rel: s.name.clone(),
                content: previous.content,
                ids: previous.ids,
                restart: s.restart_units.clone(),
                reload: s.reload_units.clone(),
            });
            continue;
        }
        let file = decrypted.get(&s.sops_file).ok_or_else(|| {
            format!(
                "secret {:?}: {} was not decrypted",
                s.name,
                s.sops_file.display()
            )
        })?;
        let content = file.secret(&s.key).map_err(|e| {
            format!(
                "secret {} in {} is not valid: {e}",
                s.name,
                s.sops_file.display()
            )
        })?;
        files.push(GenerationFile {
            name: s.name.clone(),
            rendered: false,
            rel: s.name.clone(),
            content,
            ids: *ids,
            restart: s.restart_units.clone(),
            reload: s.reload_units.clone(),
        });
    }
    let mut rendered = Vec::with_capacity(manifest.templates.len());
    {
        let substitutions: Vec<Substitution<'_>> = manifest
            .secrets
            .iter()
            .zip(&files)
            .filter_map(|(s, f)| {
                s.placeholder.as_deref().map(|placeholder| Substitution {
                    placeholder,
                    value: &f.content,
                })
            })
            .collect();
        for (t, ids) in manifest.templates.iter().zip(&owners.templates) {
            let content = render(&t.text, &substitutions)
                .map_err(|e| format!("cannot render template {:?}: {e}", t.name))?;
            rendered.push(GenerationFile {
                name: t.name.clone(),
                rendered: true,
                rel: format!("{RENDERED_DIR}/{}", t.name),
                content,
                ids: *ids,
                restart: t.restart_units.clone(),
                reload: t.reload_units.clone(),
            });
        }
    }
    files.extend(rendered);
    Ok(files)
}
