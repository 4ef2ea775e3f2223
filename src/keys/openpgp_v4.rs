//! The OpenPGP v4 fingerprint of an RSA public key (RFC 4880 §12.2), as sops files name PGP
//! recipients and as ssh-to-pgp derives it from an SSH RSA host key (creation time 0).
//!
//! The fingerprint is SHA-1 over 0x99, the two-byte length of the public-key packet body and the
//! body: version 4, the four-byte creation time, algorithm 1 (RSA), then the MPIs n and e (each
//! a two-byte bit count and the big-endian bytes without leading zeros).

use sha1::{Digest, Sha1};

/// The v4 fingerprint of RSA key (n, e) created at `created` (seconds since the epoch).
/// `n` and `e` are big-endian; leading zero bytes are ignored.
pub fn rsa_v4_fingerprint(n: &[u8], e: &[u8], created: u32) -> [u8; 20] {
    let mut body = Vec::with_capacity(n.len() + e.len() + 10);
    body.push(4);
    body.extend_from_slice(&created.to_be_bytes());
    body.push(1);
    push_mpi(&mut body, n);
    push_mpi(&mut body, e);
    let mut hash = Sha1::new();
    hash.update([0x99]);
    // An RSA key body is far below 64 KiB (16384-bit n is 2 KiB); saturate rather than wrap.
    hash.update(u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    hash.update(&body);
    hash.finalize().into()
}

/// The fingerprint as sops writes it: 40 upper-case hex digits.
pub fn to_hex(fingerprint: &[u8; 20]) -> String {
    hex::encode_upper(fingerprint)
}

fn push_mpi(out: &mut Vec<u8>, value: &[u8]) {
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let value = &value[start..];
    let bits = match value.first() {
        Some(&top) => (value.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    };
    out.extend_from_slice(&u16::try_from(bits).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpi_bit_counts_ignore_leading_zeros() {
        let mut out = Vec::new();
        push_mpi(&mut out, &[0, 0, 0x01, 0x00, 0x01]);
        assert_eq!(out, [0, 17, 0x01, 0x00, 0x01]);
        let mut out = Vec::new();
        push_mpi(&mut out, &[0x80]);
        assert_eq!(out, [0, 8, 0x80]);
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
        assert_ne!(
            rsa_v4_fingerprint(&n, &[1, 0, 1], 0),
            rsa_v4_fingerprint(&n, &[1, 0, 1], 1)
        );
    }
}
