//! The symlinks a run keeps: one for each secret or template whose `path` is not its place in
//! the live tree.

use crate::install::links;
use crate::manifest::owners::Owners;
use crate::manifest::{self, Manifest};

/// A link for every secret and template with a custom path, owned like its file.
pub fn custom_links(m: &Manifest, owners: &Owners) -> Vec<links::Link> {
    let secrets = owners.secrets.iter().map(|s| {
        let what = format!("secret {:?}", s.item.name);
        (
            what,
            &s.item.path,
            m.default_secret_path(&s.item.name),
            s.ids,
        )
    });
    let templates = owners.templates.iter().map(|t| {
        let what = format!("template {:?}", t.item.name);
        (
            what,
            &t.item.path,
            m.default_template_path(&t.item.name),
            t.ids,
        )
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
