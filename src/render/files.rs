//! Every file of the new generation, decided in memory: each secret cut from its decrypted
//! sops file, each template rendered with the secrets' values.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{render, RenderError, Substitution};
use crate::manifest::owners::{FileIds, Owned, Owners};
use crate::manifest::{Secret, Template, RENDERED_DIR};
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

/// Builds every secret and template, each with its resolved owner, group and mode; errors
/// name the secret or template and its file.
pub fn build(
    owners: &Owners<'_>,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
) -> Result<Vec<GenerationFile>, RenderError> {
    build_keeping(owners, decrypted, HashMap::new())
}

/// As [`build`], but the secrets named in `kept` take that value, owner and mode instead of
/// one from a decrypted file; templates are rendered with whichever value each secret has.
pub fn build_keeping(
    owners: &Owners<'_>,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
    mut kept: HashMap<String, PreviousValue>,
) -> Result<Vec<GenerationFile>, RenderError> {
    let secrets = owners
        .secrets
        .iter()
        .map(|owned| {
            let file = match kept.remove(&owned.item.name) {
                Some(previous) => kept_file(owned.item, previous),
                None => secret_file(owned, decrypted)?,
            };
            Ok((owned.item, file))
        })
        .collect::<Result<Vec<(&Secret, GenerationFile)>, RenderError>>()?;
    let substitutions: Vec<Substitution<'_>> = secrets
        .iter()
        .filter_map(|(s, f)| {
            s.placeholder.as_deref().map(|placeholder| Substitution {
                placeholder,
                value: &f.content,
            })
        })
        .collect();
    let templates = owners
        .templates
        .iter()
        .map(|owned| template_file(owned, &substitutions))
        .collect::<Result<Vec<GenerationFile>, RenderError>>()?;
    Ok(secrets
        .into_iter()
        .map(|(_, f)| f)
        .chain(templates)
        .collect())
}

/// One secret, cut from its decrypted sops file.
fn secret_file(
    &Owned { item: s, ids }: &Owned<'_, Secret>,
    decrypted: &HashMap<PathBuf, DecryptedFile>,
) -> Result<GenerationFile, RenderError> {
    let file = decrypted
        .get(&s.sops_file)
        .ok_or_else(|| RenderError::NotDecrypted {
            name: s.name.clone(),
            file: s.sops_file.display().to_string(),
        })?;
    let content = file
        .secret(s.key.segments())
        .map_err(|source| RenderError::Secret {
            name: s.name.clone(),
            file: s.sops_file.display().to_string(),
            source,
        })?;
    Ok(GenerationFile {
        name: s.name.clone(),
        rendered: false,
        rel: s.name.clone(),
        content,
        ids,
        restart: s.restart_units.clone(),
        reload: s.reload_units.clone(),
    })
}

/// One secret with the value, owner and mode it keeps from the live generation.
fn kept_file(s: &Secret, previous: PreviousValue) -> GenerationFile {
    GenerationFile {
        name: s.name.clone(),
        rendered: false,
        rel: s.name.clone(),
        content: previous.content,
        ids: previous.ids,
        restart: s.restart_units.clone(),
        reload: s.reload_units.clone(),
    }
}

/// One template, rendered with the secrets' values.
fn template_file(
    &Owned { item: t, ids }: &Owned<'_, Template>,
    substitutions: &[Substitution<'_>],
) -> Result<GenerationFile, RenderError> {
    let content = render(&t.text, substitutions).map_err(|e| RenderError::Template {
        name: t.name.clone(),
        source: Box::new(e),
    })?;
    Ok(GenerationFile {
        name: t.name.clone(),
        rendered: true,
        rel: format!("{RENDERED_DIR}/{}", t.name),
        content,
        ids,
        restart: t.restart_units.clone(),
        reload: t.reload_units.clone(),
    })
}
