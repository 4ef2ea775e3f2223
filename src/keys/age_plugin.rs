//! age plugin identities (`AGE-PLUGIN-<NAME>-1…`), run through the age plugin protocol by the
//! `age-plugin-<name>` binary found on PATH (what `sops.age.plugins` puts there).
//!
//! Activation is unattended: stdin is not a terminal and nobody is there to type a PIN or touch
//! a key. Every question a plugin asks through the protocol is therefore refused at once, and
//! the refusal is recorded with the plugin's name, so that a file nothing else opens fails with
//! "age-plugin-x asked for a PIN …" instead of hanging. Failures seen while unwrapping are kept
//! in a common log the data-key report reads.
//!
//! Each exchange runs under the helper deadline (`SOPS_INSTALL_HELPER_TIMEOUT`, see
//! `keys::helper`): a plugin that never answers is named after 5 s and killed at the deadline.
//! The plugin is found through the absolute `PATH` entries only (main reduces `PATH` to them)
//! and inherits no key variables. Not bounded yet: the size of what a plugin writes (age's
//! plugin support reads its protocol lines without a limit).

use std::sync::{Arc, Mutex};

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};

use super::{LoadedIdentity, SourceProblem};

/// What plugins reported while files were being opened, in order.
#[derive(Clone, Default)]
pub struct FailureLog(Arc<Mutex<Vec<SourceProblem>>>);

impl FailureLog {
    fn push(&self, source: &str, reason: String) {
        if let Ok(mut log) = self.0.lock() {
            log.push(SourceProblem {
                source: source.to_string(),
                reason,
            });
        }
    }

    /// How many entries there are now, to read only later ones with [`FailureLog::since`].
    pub fn mark(&self) -> usize {
        self.0.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// The entries recorded after `mark`, each once (a plugin tried on several entries of a
    /// file says the same thing each time).
    pub fn since(&self, mark: usize) -> Vec<SourceProblem> {
        let Ok(log) = self.0.lock() else {
            return Vec::new();
        };
        let mut out: Vec<SourceProblem> = Vec::new();
        for entry in log.get(mark..).unwrap_or_default() {
            if !out.contains(entry) {
                out.push(entry.clone());
            }
        }
        out
    }
}

/// The binary that serves plugin `name`.
pub fn binary_name(name: &str) -> String {
    format!("age-plugin-{name}")
}

/// One plugin's identities from one source, as a single age identity.
pub fn load(
    name: &str,
    identities: &[age::plugin::Identity],
    source: &str,
    log: &FailureLog,
) -> Result<LoadedIdentity, String> {
    let binary = binary_name(name);
    let callbacks = Unattended {
        binary: binary.clone(),
        source: source.to_string(),
        log: log.clone(),
    };
    let inner =
        age::plugin::IdentityPluginV1::new(name, identities, callbacks).map_err(|e| match e {
            age::plugin::ResolveError::MissingPlugin { .. } => format!(
                "{binary} is not on PATH (add its package to sops.age.plugins); its {} skipped",
                count(identities.len())
            ),
            other => one_line(&other.to_string()),
        })?;
    let upper = name.to_uppercase();
    Ok(LoadedIdentity {
        identity: Box::new(PluginIdentity {
            inner,
            binary: binary.clone(),
            source: source.to_string(),
            log: log.clone(),
        }),
        recipient: format!(
            "{} AGE-PLUGIN-{upper}-1… via {binary}",
            count(identities.len())
        ),
        source: source.to_string(),
        via_plugin: true,
    })
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 identity".to_string()
    } else {
        format!("{n} identities")
    }
}

/// Plugin and age errors are multi-line and age's translated messages wrap names in Unicode
/// isolation marks; a report line must stay one plain line.
fn one_line(text: &str) -> String {
    text.replace(['\u{2068}', '\u{2069}'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::FailureLog;

    #[test]
    fn a_mark_scopes_failures_to_one_file_and_repeats_are_kept_once() {
        let log = FailureLog::default();
        log.push("k line 1", "asked for a PIN".into());
        let mark = log.mark();
        assert!(log.since(mark).is_empty());
        log.push("k line 1", "failed".into());
        log.push("k line 1", "failed".into());
        // The same failure as before the mark, for the next file: it belongs to that file too.
        log.push("k line 1", "asked for a PIN".into());
        let later: Vec<String> = log.since(mark).into_iter().map(|p| p.reason).collect();
        assert_eq!(later, ["failed", "asked for a PIN"]);
        assert_eq!(log.since(0).len(), 2);
        assert!(log.since(99).is_empty());
    }

    #[test]
    fn messages_become_one_plain_line() {
        assert_eq!(
            super::one_line("'\u{2068}age-plugin-x\u{2069}' failed:\n  retry\n"),
            "'age-plugin-x' failed: retry"
        );
    }
}

struct PluginIdentity {
    inner: age::plugin::IdentityPluginV1<Unattended>,
    binary: String,
    source: String,
    log: FailureLog,
}

impl PluginIdentity {
    fn record(
        &self,
        result: Option<Result<FileKey, age::DecryptError>>,
    ) -> Option<Result<FileKey, age::DecryptError>> {
        if let Some(Err(e)) = &result {
            self.log.push(
                &self.source,
                format!("{} failed: {}", self.binary, one_line(&e.to_string())),
            );
        }
        result
    }
}

impl PluginIdentity {
    /// Runs one plugin exchange under the helper deadline: a warning names the plugin after
    /// 5 s, and at `SOPS_INSTALL_HELPER_TIMEOUT` it is killed and the failure says so.
    fn bounded(
        &self,
        call: impl FnOnce() -> Option<Result<FileKey, age::DecryptError>>,
    ) -> Option<Result<FileKey, age::DecryptError>> {
        let timeout = super::helper::helper_timeout();
        let watchdog = super::helper::Watchdog::start(
            self.binary.clone(),
            timeout,
            super::helper::kill_plugin_children,
        );
        let result = call();
        if watchdog.finish() {
            self.log.push(
                &self.source,
                format!(
                    "{} did not finish within {} s and was killed (SOPS_INSTALL_HELPER_TIMEOUT)",
                    self.binary,
                    timeout.as_secs()
                ),
            );
            return Some(Err(age::DecryptError::DecryptionFailed));
        }
        self.record(result)
    }
}

impl age::Identity for PluginIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.bounded(|| age::Identity::unwrap_stanza(&self.inner, stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.bounded(|| age::Identity::unwrap_stanzas(&self.inner, stanzas))
    }
}

/// Callbacks for a run nobody attends: messages go to the log, questions are refused and
/// recorded.
#[derive(Clone)]
struct Unattended {
    binary: String,
    source: String,
    log: FailureLog,
}

impl Unattended {
    fn refuse(&self, what: &str, text: &str) {
        self.log.push(
            &self.source,
            format!(
                "{} asked for {what} ({:?}), which cannot be given during an unattended run",
                self.binary,
                one_line(text)
            ),
        );
    }
}

impl age::Callbacks for Unattended {
    fn display_message(&self, message: &str) {
        tracing::info!("{}: {}", self.binary, one_line(message));
    }

    fn confirm(&self, message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        self.refuse("a confirmation", message);
        None
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.refuse("input", description);
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        self.refuse("a PIN or passphrase", description);
        None
    }
}
