//! OpenPGP material for tests against the real gpg and sops: RSA ssh keys made by `ssh-keygen`,
//! the ssh-to-pgp public key built from one (v4 key packet with creation time 0, a user ID and
//! a self-signature made with that RSA key, so that gpg imports it and sops can encrypt to it),
//! and throw-away GnuPG homes. Used by tests/recipient.rs (through `common`) and tests/install.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use sops_install::keys::openpgp_v4;

/// A GnuPG home (mode 0700); its agent and other daemons are stopped on drop.
pub struct GnupgHome {
    pub dir: PathBuf,
}

impl GnupgHome {
    /// Creates the directory `dir` as a new, empty home.
    pub fn new(dir: PathBuf) -> GnupgHome {
        std::fs::create_dir(&dir).expect("create gnupg home");
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod gnupg home");
        GnupgHome { dir }
    }

    /// Runs `gpg --batch ARGS` with this home; its stdout (the test fails if gpg does).
    pub fn gpg(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .arg("--batch")
            .args(args)
            .env("GNUPGHOME", &self.dir)
            .output()
            .expect("gpg runs");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new unprotected key; returns its fingerprint.
    pub fn generate(&self, uid: &str) -> String {
        self.gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "default",
            "default",
            "never",
        ]);
        self.fingerprints().pop().expect("a key was made")
    }

    /// The fingerprints of the keys in the public keyring, as gpg prints them.
    pub fn fingerprints(&self) -> Vec<String> {
        self.gpg(&["--with-colons", "--list-keys"])
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .filter_map(|l| l.split(':').nth(9).map(str::to_string))
            .collect()
    }

    /// Imports binary OpenPGP key packets (written to a file in the home first).
    pub fn import(&self, packets: &[u8]) {
        let file = self.dir.join("import.pgp");
        std::fs::write(&file, packets).expect("write key to import");
        self.gpg(&["--import", file.to_str().expect("utf-8 path")]);
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.dir)
            .status();
    }
}

/// A new unprotected 2048-bit RSA ssh key at `path` (OpenSSH format, or PEM with `pem`).
pub fn ssh_keygen_rsa(path: &Path, pem: bool) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args([
        "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "test", "-f",
    ])
    .arg(path);
    if pem {
        cmd.args(["-m", "PEM"]);
    }
    assert!(cmd.status().expect("ssh-keygen runs").success());
}

/// Reads an RSA ssh private key (OpenSSH or PEM) with `ssh-keygen`'s help: it rewrites a copy
/// (beside the key, removed again) as PEM, which the `rsa` crate reads. Independent of the
/// installer's own reader.
pub fn rsa_key_of(path: &Path) -> RsaPrivateKey {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let mut copy = path.as_os_str().to_owned();
    copy.push(".pem-copy");
    let copy = PathBuf::from(copy);
    std::fs::copy(path, &copy).expect("copy key");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "", "-P", "", "-m", "PEM", "-f"])
        .arg(&copy)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs")
        .success();
    assert!(ok, "ssh-keygen -p -m PEM failed");
    let text = std::fs::read_to_string(&copy).expect("read pem");
    std::fs::remove_file(&copy).expect("remove copy");
    RsaPrivateKey::from_pkcs1_pem(&text).expect("pkcs1 pem")
}

/// A new-format OpenPGP packet.
fn packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xC0 | tag];
    let len = body.len();
    if len < 192 {
        out.push(len as u8);
    } else if len < 8384 {
        let l = len - 192;
        out.push((l >> 8) as u8 + 192);
        out.push(l as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// A signature subpacket (short length form).
fn subpacket(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    out.push((data.len() + 1) as u8);
    out.push(kind);
    out.extend_from_slice(data);
}

/// The transferable public key ssh-to-pgp makes of an RSA key: v4 key (created at 0), user ID,
/// positive self-certification (SHA-256) with the given cipher and compression preferences.
/// Returns the packets and the key's fingerprint.
pub fn ssh_to_pgp_public_key(
    key: &RsaPrivateKey,
    ciphers: &[u8],
    compression: &[u8],
) -> (Vec<u8>, [u8; 20]) {
    let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
    let body = openpgp_v4::rsa_v4_public_body(&n, &e, 0);
    let fp = openpgp_v4::rsa_v4_fingerprint(&n, &e, 0);
    let uid = b"root (Imported from SSH) <root@localhost>";
    let mut hashed = Vec::new();
    subpacket(&mut hashed, 2, &0u32.to_be_bytes()); // signature creation time
    subpacket(&mut hashed, 27, &[0x0f]); // certify, sign, encrypt communications and storage
    subpacket(&mut hashed, 11, ciphers);
    subpacket(&mut hashed, 21, &[8]); // SHA-256
    subpacket(&mut hashed, 22, compression);
    subpacket(&mut hashed, 25, &[1]); // primary user ID
    subpacket(&mut hashed, 33, &[[4u8].as_slice(), &fp].concat()); // issuer fingerprint
    let mut sig = vec![4, 0x13, openpgp_v4::ALGO_RSA, 8];
    sig.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
    sig.extend_from_slice(&hashed);
    let mut h = Sha256::new();
    h.update([0x99]);
    h.update((body.len() as u16).to_be_bytes());
    h.update(&body);
    h.update([0xB4]);
    h.update((uid.len() as u32).to_be_bytes());
    h.update(uid);
    h.update(&sig);
    h.update([4, 0xFF]);
    h.update((sig.len() as u32).to_be_bytes());
    let digest = h.finalize();
    // DigestInfo prefix of SHA-256 (RFC 8017 §9.2), then the digest.
    let prefix = hex::decode("3031300d060960864801650304020105000420").expect("hex");
    let signed = key
        .sign(
            Pkcs1v15Sign::new_unprefixed(),
            &[prefix.as_slice(), &digest].concat(),
        )
        .expect("rsa sign");
    let mut unhashed = Vec::new();
    subpacket(&mut unhashed, 16, &openpgp_v4::key_id(&fp)); // issuer key ID
    sig.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
    sig.extend_from_slice(&unhashed);
    sig.extend_from_slice(&digest[..2]);
    openpgp_v4::push_mpi(&mut sig, &signed);
    let public = [packet(6, &body), packet(13, uid), packet(2, &sig)].concat();
    (public, fp)
}
