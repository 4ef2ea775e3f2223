//! `sops-install host-check`: the build-time check behind the modules' `sops.hostRecipients`.
//! Reads a sops file's metadata (no key needed) and says whether this host's recipients can
//! open it: a key group counts when one of its age recipients (`age1…` or an ssh public key
//! line, compared without its comment) or PGP fingerprints (any spacing or case, or a 16-digit
//! key ID) is the host's; the file opens when enough groups count (one for a single group,
//! else the Shamir threshold, as the installer combines them).

use std::path::PathBuf;

use super::CommandError;
use crate::sops::metadata::{KeyGroup, Metadata};
use crate::sops::stores::Format;

pub struct HostCheckArgs {
    pub recipients: Vec<String>,
    pub input_type: Option<Format>,
    pub file: PathBuf,
}

/// A recipient reduced for comparison: `type base64` for ssh lines, upper-case hex without
/// spaces or `0x` for PGP fingerprints, the trimmed text otherwise.
fn normalise(r: &str) -> String {
    let r = r.trim();
    if r.starts_with("ssh-") {
        return r.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    }
    let hex: String = r
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if (hex.len() == 40 || hex.len() == 16) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return hex.to_ascii_uppercase();
    }
    r.to_string()
}

fn group_has(group: &KeyGroup, host: &[String]) -> bool {
    let age = group
        .age
        .iter()
        .any(|k| host.contains(&normalise(&k.recipient)));
    let pgp = group.pgp.iter().any(|k| {
        let fp = normalise(&k.fingerprint);
        host.iter()
            .any(|h| *h == fp || (h.len() == 16 && fp.len() == 40 && fp.ends_with(h.as_str())))
    });
    age || pgp
}

/// (groups this host opens, groups needed).
pub fn groups_opened(meta: &Metadata, recipients: &[String]) -> (usize, usize) {
    let host: Vec<String> = recipients.iter().map(|r| normalise(r)).collect();
    let opened = meta
        .key_groups
        .iter()
        .filter(|g| group_has(g, &host))
        .count();
    // As the installer recovers the data key: one group needs itself, several their threshold.
    let needed = if meta.key_groups.len() <= 1 {
        1
    } else {
        meta.shamir_threshold.max(2)
    };
    (opened, needed)
}

/// Ok when the host can open the file; else the reason, one sentence.
pub fn run(args: &HostCheckArgs) -> Result<(), CommandError> {
    let file = &args.file;
    let shown = file.display();
    let input = crate::input_file::read(file, crate::input_file::SOPS_FILE_MAX)
        .map_err(|e| CommandError::new(2, format!("{shown}: cannot read: {e}")))?;
    let format = args.input_type.unwrap_or_else(|| Format::from_path(file));
    let (_, meta) = crate::sops::decrypt::parse(&input, format).map_err(|e| {
        let hint = e.hint_for(&shown.to_string());
        CommandError::new(2, crate::hint::line(format!("{shown}: {e}"), hint.as_ref()))
    })?;
    let (opened, needed) = groups_opened(&meta, &args.recipients);
    if opened >= needed {
        return Ok(());
    }
    let reason = if meta.key_groups.len() <= 1 {
        "none of the host recipients is among its recipients".to_string()
    } else {
        format!(
            "the host recipients are in {opened} of its {} key groups, and {needed} are needed",
            meta.key_groups.len()
        )
    };
    Err(CommandError::new(1, format!("{shown}: {reason}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_compare_without_comments_spacing_or_case() {
        assert_eq!(
            normalise("ssh-ed25519 AAAAC3 root@host"),
            "ssh-ed25519 AAAAC3"
        );
        assert_eq!(
            normalise("2504 7914 68b1 53b8 a396 3cc9 7ba5 3d19 19c5 dfd4"),
            "2504791468B153B8A3963CC97BA53D1919C5DFD4"
        );
        assert_eq!(normalise("0x7BA53D1919C5DFD4"), "7BA53D1919C5DFD4");
        assert_eq!(normalise(" age1abc "), "age1abc");
    }
}
