//! The recipients a host's key sources answer to, in the forms `.sops.yaml` takes: `age1…`
//! (age keys, ssh-to-age conversions of ed25519 keys, plugin recipients a key-file comment
//! names), native `ssh-ed25519 …` / `ssh-rsa …` lines, and for RSA keys loaded as PGP keys
//! the OpenPGP v4 fingerprint ssh-to-pgp derives (creation time 0), listed after the key's
//! native line.

use super::{openpgp_v4, Identities, KeySource};

/// What a recipient string is, for `.sops.yaml`'s `age:` or `pgp:` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Age,
    Pgp,
}

/// One recipient this host can open, and the key source behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub recipient: String,
    pub kind: Kind,
    pub source: String,
}

/// Every recipient the loaded identities answer to (plugin identities only through the
/// recipient their key file's comment names; their own recipient is not derivable here).
pub fn offered(ids: &Identities) -> Vec<Offered> {
    let mut out = Vec::new();
    for l in ids.loaded() {
        let is_recipient = l.recipient.starts_with("age1")
            || l.recipient.starts_with("ssh-ed25519 ")
            || l.recipient.starts_with("ssh-rsa ");
        if !is_recipient {
            continue;
        }
        out.push(Offered {
            recipient: l.recipient.clone(),
            kind: Kind::Age,
            source: l.source.to_string(),
        });
        if !l.recipient.starts_with("ssh-rsa ") {
            continue;
        }
        let KeySource::SshKey(path) = &l.source else {
            continue;
        };
        let as_pgp = KeySource::SshKeyAsPgp(path.clone());
        let same_key = ids.pgp().iter().filter(|k| k.source() == as_pgp);
        for fingerprint in same_key.filter_map(|k| k.fingerprint()) {
            out.push(Offered {
                recipient: openpgp_v4::to_hex(&fingerprint),
                kind: Kind::Pgp,
                source: format!("{} (as ssh-to-pgp converts it)", l.source),
            });
        }
    }
    for (recipient, source) in ids.plugin_recipients() {
        out.push(Offered {
            recipient: recipient.clone(),
            kind: Kind::Age,
            source: format!("{source} (plugin recipient named in a comment)"),
        });
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|o| seen.insert(o.recipient.clone()));
    out
}
