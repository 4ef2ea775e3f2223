//! systemd credentials: secrets and templates with a `credential` name are exposed as
//! `<credentialStore>/<name>` (default `/run/credstore`, a directory `LoadCredential=NAME`
//! searches), so a unit, `DynamicUser=` ones included, can take them with `LoadCredential=`.
//!
//! Each such secret (or rendered template) gets a copy in its generation,
//! `<generation>/.credentials/<name>`, owned by root with mode 0400 (written like every other
//! file of the generation), and the store holds
//! a symlink `<name>` -> `<symlinkPath>/.credentials/<name>`, made and recorded like a custom
//! path (`install::links`). systemd (as root) reads the credential through that symlink, so
//! the value changes exactly when the generation is swapped, and it never leaves the RAM
//! filesystem; the store directory holds only links. A missing store directory is created
//! root-owned with mode 0700, as systemd's tmpfiles makes it. An existing one must be a
//! directory owned by root that no one else can write to ([`check_store`], before the swap):
//! whoever can write there could swap a link for a file of their own, and services would
//! take it as their credential.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use crate::install::{self, links, write, InstallError, Layout};
use crate::manifest::owners::FileIds;
use crate::manifest::{Manifest, CREDENTIALS_DIR};
use crate::render::files::GenerationFile;
use crate::secret_bytes::SecretBytes;

/// Mode of a credential's copy in the generation (root-owned).
pub const MODE: u32 = 0o400;

/// The links `<store>/<name>` -> `<symlinkPath>/.credentials/<name>`, owned by root.
pub fn links(manifest: &Manifest) -> Vec<links::Link> {
    manifest
        .credential_uses()
        .into_iter()
        .map(|u| links::Link {
            owner_of: format!("{} (credential {:?})", u.subject, u.name),
            path: manifest.credential_store.join(u.name),
            target: manifest.symlink_path.join(CREDENTIALS_DIR).join(u.name),
            uid: 0,
            gid: 0,
        })
        .collect()
}

/// A credential store that cannot be trusted (or examined): the message names it and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

impl StoreError {
    /// What to do: give the store the owner and mode systemd expects of it.
    pub fn hint(&self) -> Option<crate::hint::Hint> {
        Some(crate::hint::Hint::new(
            "make it root's with mode 0700, as systemd's tmpfiles does",
        ))
    }
}

/// Before anything changes: an existing store (followed through the root-owned symlinks
/// [`links::check`] allows) must be a directory of root's that only root can write to, and
/// so must every directory on its way (or have the sticky bit, as `/tmp`).
pub fn check_store(manifest: &Manifest) -> Result<(), StoreError> {
    if manifest.credential_uses().is_empty() {
        return Ok(());
    }
    let store = &manifest.credential_store;
    let meta = match std::fs::metadata(store) {
        Ok(m) => Some(m),
        // A dangling symlink: its target would be made by the link walk, 0755, not as a store.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && store.is_symlink() => {
            return Err(StoreError(format!(
                "refusing the credential store {}: it is a symlink to nothing",
                store.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(StoreError(format!(
                "credential store {}: {e}",
                store.display()
            )))
        }
    };
    let why = meta.and_then(|m| store_itself(&m));
    match why.or_else(|| open_way(store)) {
        Some(why) => Err(StoreError(format!(
            "refusing the credential store {}: {why}",
            store.display()
        ))),
        None => Ok(()),
    }
}

/// Why an existing store is not one only root controls.
fn store_itself(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if !meta.is_dir() {
        Some("it is not a directory".to_string())
    } else if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        Some(format!(
            "it is owned by uid {} with mode {:04o}; only a directory of root's that no one \
             else can write to is used (others could replace a credential)",
            meta.uid(),
            meta.mode() & 0o7777
        ))
    } else {
        None
    }
}

/// A directory on the way to the store (symlinks followed) that someone else could change:
/// not root's, or writable by group or others without the sticky bit. Its owner could move
/// the store away and put their own in its place.
fn open_way(store: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // The nearest directory that exists: a missing store (and its missing parents) will be
    // made there.
    let real = store
        .ancestors()
        .skip(1)
        .find_map(|a| std::fs::canonicalize(a).ok())?;
    let mut here = std::path::PathBuf::new();
    for part in real.components() {
        here.push(part);
        let m = std::fs::metadata(&here).ok()?;
        if m.uid() != 0 || (m.mode() & 0o022 != 0 && m.mode() & 0o1000 == 0) {
            return Some(format!(
                "the directory {} on its way (uid {}, mode {:04o}) lets someone else replace it",
                here.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    None
}

/// Writes the credential copies of `files` (the generation's secrets and rendered templates)
/// into the staged
/// generation `dir`, and makes the store directory if it is missing.
pub fn write(
    manifest: &Manifest,
    files: &[GenerationFile],
    dir: &Path,
    layout: &Layout,
) -> Result<(), InstallError> {
    let copies: Vec<GenerationFile> = manifest
        .credential_uses()
        .into_iter()
        .filter_map(|u| {
            let name = u.name;
            let file = files
                .iter()
                .find(|f| f.rendered == u.rendered && f.name == u.of)?;
            Some(GenerationFile {
                name: format!("credential {name}"),
                rendered: false,
                rel: format!("{CREDENTIALS_DIR}/{name}"),
                content: SecretBytes::copy_from(file.content.as_bytes()),
                ids: FileIds {
                    uid: 0,
                    gid: 0,
                    mode: MODE,
                },
                restart: Vec::new(),
                reload: Vec::new(),
            })
        })
        .collect();
    if copies.is_empty() {
        return Ok(());
    }
    write::write_all(dir, &copies, layout)?;
    ensure_store(&manifest.credential_store)
}

/// Creates the store directory (root, 0700) when it does not exist; an existing one is left
/// as it is (the links are made through it with the checks of `install::links`).
fn ensure_store(store: &Path) -> Result<(), InstallError> {
    if std::fs::symlink_metadata(store).is_ok() {
        return Ok(());
    }
    if let Some(parent) = store.parent() {
        install::create_dirs(parent).map_err(|e| InstallError::io("cannot create", parent, e))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(store) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(InstallError::io("cannot create", store, e)),
    }
}
