//! Every place a run creates or owns, and the collisions between them.
//!
//! A run writes each secret's and template's default path (`<symlinkPath>/<name>`,
//! `<symlinkPath>/rendered/<name>`), links at their custom paths, the symlink path itself, the
//! mount point with everything inside it (generations, the link record and its temporary file)
//! and the lock file beside the mount point. Two of these at the same place, or one inside
//! another, would make one party overwrite, shadow or lock out the other: each such collision is
//! one problem naming both parties. Default paths among themselves are already kept apart by
//! the name rules, and a custom path may live below the symlink path (sops-nix allows that).
//! Lookups go through a sorted map, so long lists stay cheap (no comparison of every pair).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::Collector;
use crate::manifest::{Secret, Template, RENDERED_DIR};

/// The link record's name inside the mount point (see `install::links`).
const LINK_RECORD: &str = "custom-links.json";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Where a secret or template lives in the live tree.
    Default,
    /// A custom `path` (a link to the default place).
    Custom,
    /// `symlinkPath`.
    SymlinkPath,
    /// The mount point, or a file the installer keeps in or beside it.
    Installer,
}

struct Place {
    path: PathBuf,
    kind: Kind,
    /// `secret "a"`, `template "t"` or `manifest`.
    subject: String,
    /// How the place is named in a message to the other party.
    described: String,
}

/// The lock file `install::lock` takes for this mount point.
pub fn lock_file(mount_point: &Path) -> PathBuf {
    let parent = mount_point.parent().unwrap_or(Path::new("/"));
    let name = mount_point
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent.join(format!(".{name}.lock"))
}

/// Adds a problem for every collision between the places this manifest's run would use.
pub fn check(
    c: &mut Collector,
    secrets: &[Secret],
    templates: &[Template],
    mount_point: &Path,
    symlink_path: &Path,
    credential_store: Option<&Path>,
) {
    let mut places = vec![
        installer(mount_point.to_path_buf(), "the secrets mount point"),
        installer(mount_point.join(LINK_RECORD), "the installer's link record"),
        installer(
            mount_point.join(format!(".{LINK_RECORD}.new")),
            "the installer's temporary link record",
        ),
        installer(lock_file(mount_point), "the installer's lock file"),
        Place {
            path: symlink_path.to_path_buf(),
            kind: Kind::SymlinkPath,
            subject: "manifest".into(),
            described: "the symlink path".into(),
        },
    ];
    for s in secrets {
        party(
            &mut places,
            format!("secret {:?}", s.name),
            symlink_path.join(&s.name),
            &s.path,
        );
    }
    // A credential is a link `<credentialStore>/<name>` like a custom path (activation::credentials).
    // A name used twice is reported once, by the credential rules.
    let mut credentials = HashSet::new();
    // A store at or below the symlink path would be the live generation: its links would be
    // made inside a generation, over a secret of the same name.
    if let Some(store) = credential_store.filter(|st| st.starts_with(symlink_path)) {
        if !super::super::credential_uses(secrets, templates).is_empty() {
            c.add(
                "manifest",
                "credentialStore",
                format!(
                    "{} is at or below the symlink path {}: its links would be made inside a \
                     secrets generation",
                    store.display(),
                    symlink_path.display()
                ),
            );
        }
    }
    if let Some(store) = credential_store {
        for u in super::super::credential_uses(secrets, templates) {
            if !credentials.insert(u.name) {
                continue;
            }
            places.push(Place {
                path: store.join(u.name),
                kind: Kind::Custom,
                described: format!("the credential link of {}", u.subject),
                subject: u.subject,
            });
        }
    }
    for t in templates {
        party(
            &mut places,
            format!("template {:?}", t.name),
            symlink_path.join(RENDERED_DIR).join(&t.name),
            &t.path,
        );
    }

    for p in &places {
        if p.kind == Kind::Default {
            if let Some(why) = super::path_limits(&p.path.to_string_lossy()) {
                c.add(&p.subject, "name", format!("its default path {why}"));
            }
        }
    }

    let mut at: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, p) in places.iter().enumerate() {
        at.entry(p.path.as_path()).or_default().push(i);
    }
    let mut blamed = HashSet::new();
    for (i, p) in places.iter().enumerate() {
        // The same place first, then the nearest enclosing one.
        for (depth, ancestor) in p.path.ancestors().enumerate() {
            let Some(others) = at.get(ancestor) else {
                continue;
            };
            for &j in others {
                if depth == 0 && j <= i {
                    continue;
                }
                if let Some(problem) = collision(&places[i], &places[j], depth == 0) {
                    let (who, what) = problem;
                    if blamed.insert(who.subject.clone() + &who.path.to_string_lossy()) {
                        c.add(&who.subject, field(who), what);
                    }
                }
            }
        }
    }
}

fn installer(path: PathBuf, described: &str) -> Place {
    Place {
        path,
        kind: Kind::Installer,
        subject: "manifest".into(),
        described: described.into(),
    }
}

fn party(places: &mut Vec<Place>, subject: String, default: PathBuf, path: &Path) {
    if path != default {
        places.push(Place {
            path: path.to_path_buf(),
            kind: Kind::Custom,
            subject: subject.clone(),
            described: format!("the path of {subject}"),
        });
    }
    places.push(Place {
        path: default,
        kind: Kind::Default,
        described: format!("the default path of {subject}"),
        subject,
    });
}

fn field(p: &Place) -> &'static str {
    match p.kind {
        Kind::SymlinkPath => "symlinkPath",
        Kind::Installer => "secretsMountPoint",
        Kind::Default => "name",
        Kind::Custom => "path",
    }
}

/// `inner` is at or below `outer`. Returns who is to blame and the message, or `None` when the
/// two may share the place.
fn collision<'a>(inner: &'a Place, outer: &'a Place, same: bool) -> Option<(&'a Place, String)> {
    use Kind::{Custom, Default, Installer, SymlinkPath};
    let allowed = match (inner.kind, outer.kind) {
        // Kept apart by the name rules.
        (Default, Default) => true,
        // Reported by the older, more specific rules (the symlink path itself; the symlink path
        // versus the mount point), or the installer's own layout.
        (Custom, SymlinkPath) => true,
        (SymlinkPath, Custom) => same,
        (Installer, Installer) | (Installer, SymlinkPath) | (SymlinkPath, Installer) => {
            inner.described.contains("mount point") || outer.described.contains("mount point")
        }
        // Everything of a run lives below the symlink path; custom links may too (above).
        (Default, SymlinkPath) => true,
        (Custom, Default) | (Default, Custom) if same => inner.subject == outer.subject,
        _ => false,
    };
    if allowed {
        return None;
    }
    // Blame a custom path before anything else, then the symlink path.
    let rank = |p: &Place| match p.kind {
        Custom => 0,
        SymlinkPath => 1,
        Default => 2,
        Installer => 3,
    };
    // Between equals, the later party (`outer` when both are at one place) is the one to blame.
    let inner_first = rank(inner) < rank(outer) || (rank(inner) == rank(outer) && !same);
    let (who, other, who_inside) = if inner_first {
        (inner, outer, true)
    } else {
        (outer, inner, false)
    };
    let relation = if same {
        "is also"
    } else if who_inside {
        "lies inside"
    } else {
        "contains"
    };
    Some((
        who,
        format!(
            "{} {relation} {} ({})",
            who.path.display(),
            other.described,
            other.path.display()
        ),
    ))
}
