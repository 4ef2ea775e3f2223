//! age plugin identities (`AGE-PLUGIN-<NAME>-1…`), run through the age plugin protocol by the
//! `age-plugin-<name>` binary found on PATH (what `sops.age.plugins` puts there), with our own
//! bounded client of the protocol ([`client`]).
//!
//! Activation is unattended: stdin is not a terminal and nobody is there to type a PIN or touch
//! a key. Every question a plugin asks through the protocol is therefore refused at once, and
//! the refusal is recorded with the plugin's name, so that a file nothing else opens fails with
//! "age-plugin-x asked for a PIN …" instead of hanging. Failures seen while unwrapping are kept
//! in a common log the data-key report reads.
//!
//! Each exchange runs under the helper deadline (`SOPS_INSTALL_HELPER_TIMEOUT`, see
//! `keys::helper`): a plugin that never answers is named after 5 s and its process group is
//! killed at the deadline; what it writes is capped ([`client::TOTAL_MAX`] and smaller limits).
//! The plugin is found through the absolute `PATH` entries only and gets the small helper
//! environment (no key variables).

pub mod client;

use std::sync::{Arc, Mutex};

use std::path::PathBuf;

use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use super::{KeyError, KeySource, LoadedIdentity, SourceProblem};

/// What plugins reported while files were being opened, in order.
#[derive(Clone, Default)]
pub struct FailureLog(Arc<Mutex<Vec<SourceProblem>>>);

impl FailureLog {
    fn push(&self, source: &KeySource, reason: String) {
        if let Ok(mut log) = self.0.lock() {
            log.push(SourceProblem {
                source: source.clone(),
                reason: KeyError::Plugin(reason),
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
    source: &KeySource,
    log: &FailureLog,
) -> Result<LoadedIdentity, KeyError> {
    let binary = binary_name(name);
    let program = super::helper::resolve(std::ffi::OsStr::new(&binary)).map_err(|_| {
        KeyError::Plugin(format!(
            "{binary} is not on PATH (add its package to sops.age.plugins); its {} skipped",
            count(identities.len())
        ))
    })?;
    let upper = name.to_uppercase();
    Ok(LoadedIdentity {
        identity: Box::new(PluginIdentity {
            program,
            identities: identities
                .iter()
                .map(|i| Zeroizing::new(i.to_string()))
                .collect(),
            binary: binary.clone(),
            source: source.clone(),
            log: log.clone(),
        }),
        recipient: format!(
            "{} AGE-PLUGIN-{upper}-1… via {binary}",
            count(identities.len())
        ),
        source: source.clone(),
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

struct PluginIdentity {
    program: PathBuf,
    identities: Vec<Zeroizing<String>>,
    binary: String,
    source: KeySource,
    log: FailureLog,
}

impl PluginIdentity {
    /// One exchange with the plugin; its failures, refusals and errors go to the log.
    fn unwrap(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let mut note = |n: client::Note| match n {
            client::Note::Message(text) => {
                tracing::info!("{}: {}", self.binary, client::shown(&text));
            }
            client::Note::Refused { what, text } => self.log.push(
                &self.source,
                format!(
                    "{} asked for {what} ({:?}), which cannot be given during an unattended run",
                    self.binary,
                    client::shown(&text)
                ),
            ),
        };
        let outcome = client::unwrap(
            &self.program,
            &self.binary,
            &self.identities,
            stanzas,
            super::helper::helper_timeout(),
            &mut note,
        );
        match outcome {
            Ok(client::Outcome {
                file_key: Some(key),
                ..
            }) => Some(Ok(key)),
            Ok(client::Outcome { errors, .. }) if errors.is_empty() => None,
            Ok(client::Outcome { errors, .. }) => {
                for e in errors {
                    self.log.push(&self.source, e);
                }
                Some(Err(age::DecryptError::DecryptionFailed))
            }
            Err(e) => {
                self.log.push(&self.source, e.0);
                Some(Err(age::DecryptError::DecryptionFailed))
            }
        }
    }
}

impl age::Identity for PluginIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap(stanzas)
    }
}

#[cfg(test)]
mod tests {
    use super::{FailureLog, KeySource};

    #[test]
    fn a_mark_scopes_failures_to_one_file_and_repeats_are_kept_once() {
        let log = FailureLog::default();
        let k = &KeySource::Plugin {
            within: Box::new(KeySource::AgeKeyText("k".into())),
            lines: vec![1],
        };
        log.push(k, "asked for a PIN".into());
        let mark = log.mark();
        assert!(log.since(mark).is_empty());
        log.push(k, "failed".into());
        log.push(k, "failed".into());
        // The same failure as before the mark, for the next file: it belongs to that file too.
        log.push(k, "asked for a PIN".into());
        let later: Vec<String> = log
            .since(mark)
            .into_iter()
            .map(|p| p.reason.to_string())
            .collect();
        assert_eq!(later, ["failed", "asked for a PIN"]);
        assert_eq!(log.since(0).len(), 2);
        assert!(log.since(99).is_empty());
    }

    #[test]
    fn messages_become_one_plain_line() {
        assert_eq!(
            super::client::shown("'\u{2068}age-plugin-x\u{2069}' failed:\n  retry\n"),
            "'age-plugin-x' failed: retry"
        );
        assert_eq!(super::client::shown("a\u{1b}[2Jb"), "a [2Jb");
        assert_eq!(super::client::shown(&"x".repeat(400)).chars().count(), 301);
    }
}
