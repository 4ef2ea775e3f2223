//! Shamir secret sharing over GF(2^8) as sops uses it for key groups.
//!
//! Each part is `secret.len() + 1` bytes: one polynomial value per secret byte, then the
//! part's x-coordinate. Combining interpolates every byte at x = 0 (Lagrange).

use crate::secret_bytes::SecretBytes;

/// Multiplication in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1, without
/// secret-dependent branches.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse (a^254); 0 maps to 0.
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exp = 254u8;
    while exp > 0 {
        if exp & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    result
}

/// Why parts cannot be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShamirError {
    #[error("less than two parts cannot be combined")]
    TooFewParts,
    #[error("the parts differ in length")]
    LengthsDiffer,
    #[error("two parts have the same x-coordinate")]
    SameX,
}

/// Recovers the secret from at least two parts with distinct x-coordinates.
pub fn combine(parts: &[SecretBytes]) -> Result<SecretBytes, ShamirError> {
    if parts.len() < 2 {
        return Err(ShamirError::TooFewParts);
    }
    let len = parts[0].len();
    if len < 2 || parts.iter().any(|p| p.len() != len) {
        return Err(ShamirError::LengthsDiffer);
    }
    let xs: Vec<u8> = parts.iter().map(|p| p.as_bytes()[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(ShamirError::SameX);
        }
    }
    let mut secret = SecretBytes::with_capacity(len - 1);
    for byte in 0..len - 1 {
        let mut value = 0u8;
        for (j, part) in parts.iter().enumerate() {
            let mut basis = 1u8;
            for (m, xm) in xs.iter().enumerate() {
                if m != j {
                    basis = mul(basis, mul(*xm, inverse(xs[j] ^ xm)));
                }
            }
            value ^= mul(part.as_bytes()[byte], basis);
        }
        secret.push(value);
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(h: &str) -> SecretBytes {
        SecretBytes::from_vec(hex::decode(h).unwrap())
    }

    const P1: &str = "42440967d182babc6d88d698f0fee54b2a187b0d00014f7c4d6458aebb3ab84f01";
    const P2: &str = "c74e25cd4c78b9a8e51a9409a0aded1f8c838b5a1e9db36d03ced95d83339c4102";
    const P3: &str = "4d48c8abce2eb8a49d9daa8f909c1cdaee03db9e14e9e76239a8a60c623480b203";
    const KEY: &str = "c842e40153d4bbb0150fe81ec0cf148e48982bc90a751b73770227ff5a3da4bc";

    #[test]
    fn field_arithmetic_matches_the_aes_field() {
        assert_eq!(mul(0x57, 0x83), 0xc1);
        assert_eq!(mul(0x53, 0xca), 0x01);
        assert_eq!(inverse(3), 0xf6);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1);
        }
    }

    #[test]
    fn any_two_of_three_parts_give_the_spec_example_key() {
        for pair in [[P1, P2], [P2, P3], [P1, P3]] {
            let key = combine(&[part(pair[0]), part(pair[1])]).unwrap();
            assert_eq!(hex::encode(key.as_bytes()), KEY);
        }
        let all = combine(&[part(P1), part(P2), part(P3)]).unwrap();
        assert_eq!(hex::encode(all.as_bytes()), KEY);
    }

    #[test]
    fn one_part_or_duplicate_parts_are_rejected() {
        assert!(combine(&[part(P1)]).is_err());
        assert!(combine(&[part(P1), part(P1)]).is_err());
        assert!(combine(&[part(P1), SecretBytes::from("ab")]).is_err());
    }
}
