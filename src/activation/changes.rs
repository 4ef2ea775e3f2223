//! What a run reports: the changes against the live generation and the lines about them.

use super::{Failure, Outcome};
use crate::install::generation::Live;
use crate::install::Layout;
use crate::manifest::Manifest;
use crate::render::files::GenerationFile;
use crate::report::{self, Changes, OwnerCheck};

/// A symlink path that points outside the mount point is left to be replaced, with a warning:
/// it is not a generation of ours, so nothing is compared with, walked or removed through it.
pub fn warn_elsewhere(layout: &Layout, live: &Live, outcome: &mut Outcome) {
    if let Live::Elsewhere(target) = live {
        outcome.notes.push(format!(
            "warning: {} points at {}, outside {}: not a generation of ours; it is replaced \
             and nothing it points at is read or removed",
            layout.symlink_path.display(),
            target.display(),
            layout.mount_point.display()
        ));
    }
}

/// Changes against the live generation, if there is one of ours (never against whatever a
/// foreign symlink or a real directory at the symlink path holds).
pub fn changes_against_live(
    m: &Manifest,
    live: &Live,
    files: &[GenerationFile],
    compare_owners: bool,
) -> Result<Changes, Failure> {
    let Live::Generation(_, dir) = live else {
        return Ok(Changes::default());
    };
    let owners = if m.user_mode {
        report::user_units::owners()
    } else if compare_owners {
        OwnerCheck::Resolved
    } else {
        OwnerCheck::Off
    };
    report::compare(dir, files, owners)
        .map_err(|e| Failure::during("cannot compare with the live secrets", &e))
}

/// The change lines, when the manifest asks for them (`logging.secretChanges`).
pub fn lines(m: &Manifest, changes: &Changes, dry: bool) -> Vec<String> {
    // User mode prints no change lines, as sops-nix's installer (its changes only restart units).
    if m.log_secret_changes && !m.user_mode {
        changes.lines(dry)
    } else {
        Vec::new()
    }
}
