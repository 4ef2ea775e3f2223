//! Every file of the new generation, decided in memory: each secret cut from its decrypted
//! sops file, each template rendered with the secrets' values.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{render, RenderError, Substitution};
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

/// Builds every secret and template; errors name the secret or template and its file.
pub fn build(
    manifest: &Manifest,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
    owners: &Owners,
) -> Result<Vec<GenerationFile>, RenderError> {
    let mut files = Vec::with_capacity(manifest.secrets.len() + manifest.templates.len());
    for (s, ids) in manifest.secrets.iter().zip(&owners.secrets) {
        let file = decrypted
            .get(&s.sops_file)
            .ok_or_else(|| RenderError::NotDecrypted {
                name: s.name.clone(),
                file: s.sops_file.display().to_string(),
            })?;
        let content = file.secret(&s.key).map_err(|source| RenderError::Secret {
            name: s.name.clone(),
            file: s.sops_file.display().to_string(),
            source,
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
            let content = render(&t.text, &substitutions).map_err(|e| RenderError::Template {
                name: t.name.clone(),
                source: Box::new(e),
            })?;
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
