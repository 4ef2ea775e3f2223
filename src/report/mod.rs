//! What changed compared with the live generation, the lines sops-nix prints about it, and the
//! units to restart or reload.

pub mod changes;
pub mod escape;
pub mod units;
pub mod user_units;

pub use changes::{compare, Changes, OwnerCheck};

use std::path::PathBuf;

use crate::hint::Hint;
use crate::keys::helper::HelperError;

/// Comparing with the live generation or asking for units failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {}: {source}", .path.display())]
    ReadLive {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run '{shown}': {source}")]
    NoSystemctl { shown: String, source: HelperError },
    #[error("cannot run '{shown}': {source}")]
    RunSystemctl {
        shown: String,
        source: std::io::Error,
    },
    #[error("error running '{shown}': {status}")]
    Systemctl {
        shown: String,
        status: std::process::ExitStatus,
    },
    #[error("cannot open {}: {source}", .path.display())]
    OpenList {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    WriteList {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ReportError {
    /// What to do about it.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            ReportError::ReadLive { .. } => Some(Hint::new(
                "the live secrets were changed by something else: check the path, or remove the \
                 secrets symlink so the next activation starts afresh",
            )),
            ReportError::NoSystemctl { source, .. } => source.hint(),
            ReportError::RunSystemctl { .. } | ReportError::Systemctl { .. } => Some(Hint::new(
                "check the units exist (`systemctl status UNIT`); the secrets were installed",
            )),
            ReportError::OpenList { .. } | ReportError::WriteList { .. } => Some(Hint::new(
                "/run/nixos must be writable by the activation (is /run full or read-only?)",
            )),
        }
    }
}
