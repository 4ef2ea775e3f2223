//! The recipients a host's key sources answer to, in the forms `.sops.yaml` takes: `age1…`
//! (age keys, ssh-to-age conversions of ed25519 keys, plugin recipients a key-file comment
//! names), native `ssh-ed25519 …` / `ssh-rsa …` lines, and for RSA keys the OpenPGP v4
//! fingerprint ssh-to-pgp derives (creation time 0).

use base64::Engine;

use super::{openpgp_v4, Identities};

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
            source: l.source.clone(),
        });
        if let Some(fpr) = ssh_rsa_pgp_fingerprint(&l.recipient) {
            out.push(Offered {
                recipient: fpr,
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

/// The v4 fingerprint (40 upper-case hex digits) ssh-to-pgp gives an `ssh-rsa AAAA…` key.
pub fn ssh_rsa_pgp_fingerprint(public_line: &str) -> Option<String> {
    let (e, n) = ssh_rsa_public_numbers(public_line)?;
    Some(openpgp_v4::to_hex(&openpgp_v4::rsa_v4_fingerprint(
        &n, &e, 0,
    )))
}

/// (e, n) from an OpenSSH `ssh-rsa` public key line.
pub fn ssh_rsa_public_numbers(public_line: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut fields = public_line.split_whitespace();
    if fields.next()? != "ssh-rsa" {
        return None;
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(fields.next()?)
        .ok()?;
    let mut rest = blob.as_slice();
    let mut next = || -> Option<Vec<u8>> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4 + len)?.to_vec();
        rest = &rest[4 + len..];
        Some(value)
    };
    if next()? != b"ssh-rsa" {
        return None;
    }
    let e = next()?;
    let n = next()?;
    Some((e, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(parts: &[&[u8]]) -> String {
        let mut b = Vec::new();
        for p in parts {
            b.extend_from_slice(&(p.len() as u32).to_be_bytes());
            b.extend_from_slice(p);
        }
        format!(
            "ssh-rsa {}",
            base64::engine::general_purpose::STANDARD.encode(b)
        )
    }

    #[test]
    fn rsa_numbers_are_read_from_the_public_blob() {
        let line = blob(&[b"ssh-rsa", &[1, 0, 1], &[0, 0xc1, 0x02]]);
        assert_eq!(
            ssh_rsa_public_numbers(&line),
            Some((vec![1, 0, 1], vec![0, 0xc1, 0x02]))
        );
        let fpr = ssh_rsa_pgp_fingerprint(&line).unwrap();
        assert_eq!(fpr.len(), 40);
        assert_eq!(fpr, fpr.to_uppercase());
    }

    #[test]
    fn other_and_truncated_keys_give_nothing() {
        assert_eq!(ssh_rsa_pgp_fingerprint("ssh-ed25519 AAAA"), None);
        let truncated = blob(&[b"ssh-rsa", &[1, 0, 1]]);
        assert_eq!(ssh_rsa_public_numbers(&truncated), None);
        let mislabelled = blob(&[b"ssh-dss", &[1], &[2]]);
        assert_eq!(ssh_rsa_public_numbers(&mislabelled), None);
    }
}
