//! OpenPGP v4 public-key packets for RSA keys, and their fingerprints.
//!
//! An RSA ssh host key becomes an OpenPGP key by fixing the creation time (ssh-to-pgp and
//! sops-nix use 0, the Unix epoch), so the fingerprint is a pure function of `n` and `e`:
//! SHA-1 over `0x99 || u16 length || body`, body = `0x04 || u32 created || 0x01 || MPI(n) ||
//! MPI(e)` (RFC 4880 §5.5.2, §12.2). The key ID is the fingerprint's last 8 bytes.

use sha1::{Digest, Sha1};

/// Public-key algorithm number of RSA (encrypt or sign).
pub const ALGO_RSA: u8 = 1;

/// The body of a v4 RSA public-key packet.
pub fn rsa_v4_public_body(n: &[u8], e: &[u8], created: u32) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 10);
    body.push(4);
    body.extend_from_slice(&created.to_be_bytes());
    body.push(ALGO_RSA);
    push_mpi(&mut body, n);
    push_mpi(&mut body, e);
    body
}

/// The v4 fingerprint of the RSA key (`n`, `e`: big-endian, leading zeros allowed).
pub fn rsa_v4_fingerprint(n: &[u8], e: &[u8], created: u32) -> [u8; 20] {
    let body = rsa_v4_public_body(n, e, created);
    let mut h = Sha1::new();
    h.update([0x99]);
    // A key body longer than 64 KiB would need a modulus of over 500 000 bits.
    h.update((body.len() as u16).to_be_bytes());
    h.update(&body);
    h.finalize().into()
}

/// The fingerprint as sops writes it: 40 upper-case hex digits.
pub fn to_hex(fingerprint: &[u8; 20]) -> String {
    hex::encode_upper(fingerprint)
}

/// The key ID: the last 8 bytes of a v4 fingerprint.
pub fn key_id(fingerprint: &[u8; 20]) -> [u8; 8] {
    let mut id = [0u8; 8];
    id.copy_from_slice(&fingerprint[12..]);
    id
}

/// Appends an OpenPGP MPI: u16 bit count, then the bytes without leading zeros.
pub fn push_mpi(out: &mut Vec<u8>, be: &[u8]) {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let v = &be[start..];
    let bits = match v.first() {
        Some(&top) => (v.len() * 8 - top.leading_zeros() as usize) as u16,
        None => 0,
    };
    out.extend_from_slice(&bits.to_be_bytes());
    out.extend_from_slice(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpis_count_bits_from_the_highest_set_bit() {
        let mut v = Vec::new();
        push_mpi(&mut v, &[0, 0, 1, 0xff]);
        assert_eq!(v, [0, 9, 1, 0xff]);
        let mut v = Vec::new();
        push_mpi(&mut v, &[1, 0, 1]);
        assert_eq!(v, [0, 17, 1, 0, 1]);
    }

    #[test]
    fn leading_zeros_do_not_change_the_fingerprint() {
        let n = [0xc3u8; 256];
        let mut padded = vec![0u8];
        padded.extend_from_slice(&n);
        assert_eq!(
            rsa_v4_fingerprint(&n, &[1, 0, 1], 0),
            rsa_v4_fingerprint(&padded, &[0, 1, 0, 1], 0)
        );
    }

    #[test]
    fn the_key_id_is_the_fingerprint_tail() {
        let fp = rsa_v4_fingerprint(&[0xc5; 256], &[1, 0, 1], 0);
        assert_eq!(key_id(&fp), fp[12..20]);
        assert_ne!(
            fp,
            rsa_v4_fingerprint(&[0xc5; 256], &[1, 0, 1], 1),
            "the time counts"
        );
    }
}
