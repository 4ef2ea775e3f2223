//! `sops-install recipient`: what to put into `.sops.yaml` so this host can open a file, and
//! with `--check`, whether it can open given sops files (and if not, which recipients the file
//! has and which the host offers).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::CommandError;
use crate::keys::recipients::{self, Kind, Offered};
use crate::keys::Identities;
use crate::sops::data_key;
use crate::sops::stores::Format;

/// The host keys looked at when no source is given.
pub const DEFAULT_SSH_KEYS: [&str; 2] =
    ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"];

#[derive(Debug, Default)]
pub struct RecipientArgs {
    pub ssh_keys: Vec<PathBuf>,
    pub age_key_files: Vec<PathBuf>,
    /// Sops files to check instead of listing the recipients.
    pub check: Vec<PathBuf>,
}

/// What to print: stdout, notes for stderr, and how many checked files cannot be opened.
#[derive(Debug, Default)]
pub struct RecipientOutput {
    pub stdout: String,
    pub notes: Vec<String>,
    pub unopenable: usize,
}

/// Loads the key sources (`defaults` when none is given, skipping missing ones with a note).
/// An RSA ssh key is also loaded as the PGP key ssh-to-pgp derives from it, so that `--check`
/// opens files encrypted to the fingerprint the listing offers.
pub fn load_identities(
    args: &RecipientArgs,
    defaults: &[&Path],
    notes: &mut Vec<String>,
) -> Identities {
    let mut ids = Identities::new();
    if args.ssh_keys.is_empty() && args.age_key_files.is_empty() {
        for &path in defaults {
            if path.exists() {
                add_ssh_key(&mut ids, path);
            } else {
                notes.push(format!("{}: does not exist; skipped", path.display()));
            }
        }
    }
    for f in &args.age_key_files {
        ids.add_age_key_file(f);
    }
    for f in &args.ssh_keys {
        add_ssh_key(&mut ids, f);
    }
    notes.extend(
        ids.problems()
            .iter()
            .map(|p| format!("{}: {}", p.source, p.reason)),
    );
    ids
}

/// An ssh key as age identities and, when it is an RSA key, also as its ssh-to-pgp PGP key
/// (ed25519 keys get no PGP entry, and a key that fails to load is noted once).
fn add_ssh_key(ids: &mut Identities, path: &Path) {
    let before = ids.loaded().len();
    ids.add_ssh_key(path);
    if ids.loaded()[before..]
        .iter()
        .any(|l| l.recipient.starts_with("ssh-rsa "))
    {
        ids.add_rsa_ssh_key_as_pgp(path);
    }
}

pub fn run(args: &RecipientArgs) -> Result<RecipientOutput, CommandError> {
    let mut out = RecipientOutput::default();
    let ids = load_identities(args, &DEFAULT_SSH_KEYS.map(Path::new), &mut out.notes);
    let offered = recipients::offered(&ids);
    if args.check.is_empty() {
        if offered.is_empty() {
            let hint = crate::hint::Hint::new(format!(
                "give the host's key with --ssh-key FILE or --age-key-file FILE (without them, \
                 {} are read)",
                DEFAULT_SSH_KEYS.join(" and ")
            ));
            return Err(CommandError::new(
                1,
                crate::hint::line(
                    format!("no key source gave a recipient: {}", out.notes.join("; ")),
                    Some(&hint),
                ),
            ));
        }
        for o in &offered {
            let _ = writeln!(out.stdout, "{}  # {}", o.recipient, describe(o));
        }
        return Ok(out);
    }
    for file in &args.check {
        let line = check_one(file, &ids, &offered);
        if !line.starts_with("ok ") {
            out.unopenable += 1;
        }
        out.stdout.push_str(&line);
        out.stdout.push('\n');
    }
    Ok(out)
}

fn describe(o: &Offered) -> String {
    let kind = match o.kind {
        Kind::Age => "age",
        Kind::Pgp => "pgp",
    };
    format!("{kind}, from {}", o.source)
}

/// `ok FILE` or `cannot open FILE: why; file recipients: …; this host offers: …; hint: …`.
fn check_one(file: &Path, ids: &Identities, offered: &[Offered]) -> String {
    let shown = file.display();
    let input = match crate::input_file::read(file, crate::input_file::SOPS_FILE_MAX) {
        Ok(i) => i,
        Err(e) => {
            return crate::hint::line(
                format!("cannot open {shown}: cannot read: {e}"),
                Some(&crate::hint::Hint::new(
                    "give the path of a readable sops file (a regular file)",
                )),
            )
        }
    };
    let meta = match crate::sops::decrypt::parse(&input, Format::from_path(file)) {
        Ok((_, meta)) => meta,
        Err(e) => {
            let hint = e.hint_for(&shown.to_string());
            return crate::hint::line(format!("cannot open {shown}: {e}"), hint.as_ref());
        }
    };
    let report = match data_key::recover(&meta, ids) {
        Ok(_key) => return format!("ok {shown}"),
        Err(report) => report,
    };
    let mut age = Vec::new();
    let mut pgp = Vec::new();
    let mut others = Vec::new();
    for group in &meta.key_groups {
        age.extend(group.age.iter().map(|k| k.recipient.clone()));
        pgp.extend(group.pgp.iter().map(|k| k.fingerprint.clone()));
        others.extend(group.others.iter().cloned());
    }
    let mut line = format!("cannot open {shown}: ");
    if let Some(detail) = &report.detail {
        line.push_str(&detail.to_string());
    } else if let Some((found, needed)) = report.shamir {
        let _ = write!(
            line,
            "this host opens {found} of the {needed} key groups needed"
        );
    } else {
        line.push_str("no recipient of the file is one of this host's");
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = write!(
        line,
        "; file recipients: age: {}; pgp: {}; others: {}",
        list(&age),
        list(&pgp),
        list(&others)
    );
    let offers: Vec<String> = offered
        .iter()
        .map(|o| match o.kind {
            Kind::Age => o.recipient.clone(),
            Kind::Pgp => format!("pgp {}", o.recipient),
        })
        .collect();
    let _ = write!(line, "; this host offers: {}", list(&offers));
    for p in &report.problems {
        let _ = write!(line, "; {}: {}", p.source, p.reason);
    }
    crate::hint::line(line, Some(&report.fix(&shown.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_default_host_keys_are_skipped_with_a_note() {
        let dir = crate::test_fixtures::fixtures_dir().join("keys");
        let present = dir.join("ssh_host_ed25519_key");
        let absent = dir.join("ssh_host_rsa_key_that_does_not_exist");
        let mut notes = Vec::new();
        let ids = load_identities(
            &RecipientArgs::default(),
            &[present.as_path(), absent.as_path()],
            &mut notes,
        );
        assert_eq!(ids.loaded().len(), 2, "native and converted");
        assert!(ids.pgp().is_empty(), "an ed25519 key has no PGP form");
        assert_eq!(
            notes,
            [format!("{}: does not exist; skipped", absent.display())]
        );
    }

    #[test]
    fn a_file_that_cannot_be_checked_says_what_to_do_on_its_line() {
        let ids = Identities::new();
        let missing = check_one(Path::new("/nonexistent/secrets.yaml"), &ids, &[]);
        assert!(
            missing.starts_with("cannot open /nonexistent/secrets.yaml: cannot read: ")
                && missing
                    .ends_with("; hint: give the path of a readable sops file (a regular file)"),
            "{missing}"
        );
        let plain = crate::test_fixtures::fixtures_dir().join("plain/basic.yaml");
        let line = check_one(&plain, &ids, &[]);
        assert!(line.contains(": it has no sops metadata"), "{line}");
        assert!(
            line.contains(&format!(
                "; hint: encrypt it with `sops encrypt --in-place {}`",
                plain.display()
            )),
            "{line}"
        );
        let encrypted = crate::test_fixtures::fixtures_dir().join("enc/basic.yaml");
        let line = check_one(&encrypted, &ids, &[]);
        assert!(
            line.contains("this host offers: none; hint: no key source loaded"),
            "{line}"
        );
        assert!(
            !line.contains("recipient --check"),
            "no advice to run itself: {line}"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn given_sources_replace_the_defaults() {
        let dir = crate::test_fixtures::fixtures_dir().join("keys");
        let args = RecipientArgs {
            age_key_files: vec![dir.join("age1.txt")],
            ..RecipientArgs::default()
        };
        let mut notes = Vec::new();
        let ids = load_identities(
            &args,
            &[dir.join("ssh_host_ed25519_key").as_path()],
            &mut notes,
        );
        assert_eq!(ids.loaded().len(), 1);
        assert!(notes.is_empty());
    }
}
