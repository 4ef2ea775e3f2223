//! The symlinks a run keeps: one for each secret or template whose `path` is not its place in
//! the live tree.

use crate::install::links;
use crate::manifest::owners::Owners;
use crate::manifest::{self, Manifest};

/// A link for every secret and template with a custom path, owned like its file.
pub fn custom_links(m: &Manifest, owners: &Owners) -> Vec<links::Link> {
    let secrets = m.secrets.iter().zip(&owners.secrets).map(|(s, ids)| {
        let what = format!("secret {:?}", s.name);
        (what, &s.path, m.default_secret_path(&s.name), ids)
    });
    let templates = m.templates.iter().zip(&owners.templates).map(|(t, ids)| {
        let what = format!("template {:?}", t.name);
        (what, &t.path, m.default_template_path(&t.name), ids)
    });
    secrets
        .chain(templates)
        .filter(|(_, path, default, _)| manifest::normalize(path) != *default)
        .map(|(what, path, target, ids)| links::Link {
            owner_of: what,
            path: path.clone(),
            target,
            uid: ids.uid,
            gid: ids.gid,
        })
        .collect()
}
