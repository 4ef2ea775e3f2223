//! Owner and group resolution against the user database (`nix::unistd::{User, Group}`).
//!
//! A name wins over a number; numbers are used as they are, even without a matching user.
//! With `-ignore-passwd` (and in dry runs) everything is root. In user mode nothing is
//! chowned, so nothing is looked up. All unknown names are reported together.

use nix::unistd::{Group, User};

use super::validate::{Problem, Problems};
use super::{Manifest, Ownership, Principal, Secret, Template};
use crate::hint::Hint;

/// Numeric ownership and mode of one installed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIds {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// A secret or template with its resolved numeric owner, group and mode: what render and
/// install carry downstream together, so nothing pairs them up again by position.
#[derive(Debug, Clone, Copy)]
pub struct Owned<'m, T> {
    pub item: &'m T,
    pub ids: FileIds,
}

/// Every secret and template with its resolved ownership, in manifest order, plus the group
/// that owns the secrets directories.
#[derive(Debug, Clone)]
pub struct Owners<'m> {
    pub secrets: Vec<Owned<'m, Secret>>,
    pub templates: Vec<Owned<'m, Template>>,
    pub keys_gid: u32,
}

/// How owners are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Consult the user database.
    Passwd,
    /// Everything becomes root (`-ignore-passwd`, dry runs).
    AllRoot,
}

pub fn resolve(manifest: &Manifest, lookup: Lookup) -> Result<Owners<'_>, Problems> {
    let mut problems = Vec::new();
    let mut one = |subject: String, o: &Ownership| -> FileIds {
        if lookup == Lookup::AllRoot {
            return FileIds {
                uid: 0,
                gid: 0,
                mode: o.mode,
            };
        }
        let uid = match &o.owner {
            Principal::Id(id) => *id,
            Principal::Name(n) => match User::from_name(n) {
                Ok(Some(u)) => u.uid.as_raw(),
                Ok(None) => {
                    problems.push(
                        Problem::new(subject.clone(), "owner", format!("no user named {n:?}"))
                            .with_hint(Some(unknown("user", n, "users.users", "uid"))),
                    );
                    0
                }
                Err(e) => {
                    problems.push(
                        Problem::new(
                            subject.clone(),
                            "owner",
                            format!("cannot look up user {n:?}: {e}"),
                        )
                        .with_hint(Some(lookup_failed())),
                    );
                    0
                }
            },
        };
        let gid = match &o.group {
            Principal::Id(id) => *id,
            Principal::Name(n) => match Group::from_name(n) {
                Ok(Some(g)) => g.gid.as_raw(),
                Ok(None) => {
                    problems.push(
                        Problem::new(subject.clone(), "group", format!("no group named {n:?}"))
                            .with_hint(Some(unknown("group", n, "users.groups", "gid"))),
                    );
                    0
                }
                Err(e) => {
                    problems.push(
                        Problem::new(
                            subject.clone(),
                            "group",
                            format!("cannot look up group {n:?}: {e}"),
                        )
                        .with_hint(Some(lookup_failed())),
                    );
                    0
                }
            },
        };
        // (uid_t)-1 is chown's "leave unchanged": a user or group database entry with that id
        // would leave the file root's without a word.
        for (field, id) in [("owner", uid), ("group", gid)] {
            if id == u32::MAX {
                problems.push(
                    Problem::new(
                        subject.clone(),
                        field,
                        "resolves to id 4294967295, chown's \"leave unchanged\", which cannot own a file",
                    )
                    .with_hint(Some(Hint::new(
                        "give that user or group another id, or set uid/gid to a real id",
                    ))),
                );
            }
        }
        FileIds {
            uid,
            gid,
            mode: o.mode,
        }
    };
    let secrets = manifest
        .secrets
        .iter()
        .map(|s| Owned {
            item: s,
            ids: one(format!("secret {:?}", s.name), &s.ownership),
        })
        .collect();
    let templates = manifest
        .templates
        .iter()
        .map(|t| Owned {
            item: t,
            ids: one(format!("template {:?}", t.name), &t.ownership),
        })
        .collect();
    let keys_gid = if lookup == Lookup::AllRoot {
        0
    } else {
        match keys_group() {
            Ok(gid) => gid,
            Err(e) => {
                problems.push(
                    Problem::new("manifest", "keys group", e.to_string()).with_hint(Some(
                        Hint::new("declare a \"keys\" group (users.groups.keys on NixOS)"),
                    )),
                );
                0
            }
        }
    };
    if problems.is_empty() {
        Ok(Owners {
            secrets,
            templates,
            keys_gid,
        })
    } else {
        Err(Problems(problems))
    }
}

/// Neither group that may own the secrets directories exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("there is neither a \"keys\" nor a \"nogroup\" group")]
pub struct NoKeysGroup;

/// The group that may traverse the secrets directories: `keys`, else `nogroup`.
fn keys_group() -> Result<u32, NoKeysGroup> {
    for name in ["keys", "nogroup"] {
        if let Ok(Some(g)) = Group::from_name(name) {
            return Ok(g.gid.as_raw());
        }
    }
    Err(NoKeysGroup)
}

/// Advice for an owner or group name the user database does not know.
fn unknown(kind: &str, name: &str, option: &str, id: &str) -> Hint {
    Hint::new(format!(
        "declare the {kind} ({option}.{name} on NixOS) so it exists when secrets are installed, \
         or set `{id}` instead of a name"
    ))
}

fn lookup_failed() -> Hint {
    Hint::new("check the user database (/etc/passwd, /etc/group, nsswitch.conf) is readable")
}
