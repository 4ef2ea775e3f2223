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
            ReportError::RunSystemctl { shown, .. } | ReportError::Systemctl { shown, .. } => {
                Some(unit_hint(shown))
            }
            ReportError::OpenList { .. } | ReportError::WriteList { .. } => Some(Hint::new(
                "/run/nixos must be writable by the activation (is /run full or read-only?)",
            )),
        }
    }
}

/// How to look at what a failed unit call named, with the tool that made the call: launchd
/// agents (home-manager on macOS) with `launchctl print gui/<uid>/<label>`, user units with
/// `systemctl --user status`, system units with `systemctl status`.
fn unit_hint(shown: &str) -> Hint {
    let mut words = shown.split(' ');
    let text = match words.next() {
        Some("launchctl") => {
            // The call's last word is its target; labels are checked to be plain words.
            let target = shown
                .rsplit(' ')
                .next()
                .filter(|t| {
                    t.starts_with("gui/")
                        && t.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
                })
                .unwrap_or("gui/<uid>/<label>");
            format!("check the agent is loaded (`launchctl print {target}`)")
        }
        _ if words.any(|w| w == "--user") => {
            "check the units exist (`systemctl --user status UNIT`)".to_string()
        }
        _ => "check the units exist (`systemctl status UNIT`)".to_string(),
    };
    Hint::new(format!("{text}; the secrets were installed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(shown: &str) -> String {
        let status = std::process::Command::new("false")
            .status()
            .expect("run false");
        let e = ReportError::Systemctl {
            shown: shown.to_string(),
            status,
        };
        e.hint().map(|h| h.as_str().to_string()).unwrap_or_default()
    }

    #[test]
    fn a_failed_unit_call_hints_at_the_tool_that_made_it() {
        assert_eq!(
            failed("launchctl kickstart -k gui/501/org.nix-community.home.app"),
            "check the agent is loaded (`launchctl print gui/501/org.nix-community.home.app`); \
             the secrets were installed"
        );
        assert_eq!(
            failed("launchctl kill SIGHUP gui/501/org.x"),
            "check the agent is loaded (`launchctl print gui/501/org.x`); the secrets were installed"
        );
        let user = failed("systemctl --user --no-block try-restart -- a.service");
        assert!(user.contains("`systemctl --user status UNIT`"), "{user}");
        assert!(!user.contains("launchctl"), "{user}");
        let system = failed("systemctl --no-block try-restart a.service");
        assert!(system.contains("`systemctl status UNIT`"), "{system}");
        let run = ReportError::RunSystemctl {
            shown: "launchctl kickstart -k gui/501/org.x".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let hint = run
            .hint()
            .map(|h| h.as_str().to_string())
            .unwrap_or_default();
        assert!(
            hint.contains("launchctl print gui/501/org.x") && !hint.contains("systemctl"),
            "{hint}"
        );
    }
}
