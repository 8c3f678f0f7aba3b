//! The owner's RSA key pair, derived deterministically from the BIP39 seed so that the
//! recovery words restore it, and its public fingerprint.
//!
//! Derivation: HKDF-SHA256(ikm = seed, info = "carchain/rsa/v1/<bits>") gives a 32-byte
//! ChaCha20 seed; `rsa::RsaPrivateKey::new` draws the primes from that generator. A golden
//! test pins the result, so a dependency change that alters it fails loudly.

use hkdf::Hkdf;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::KeyError;
use super::seed::Seed;

/// RSA modulus sizes a wallet may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RsaBits {
    /// 2048-bit modulus (default).
    #[default]
    B2048,
    /// 3072-bit modulus.
    B3072,
}

impl RsaBits {
    /// Modulus size in bits.
    pub fn bits(self) -> usize {
        match self {
            RsaBits::B2048 => 2048,
            RsaBits::B3072 => 3072,
        }
    }

    /// HKDF info string binding the derivation to its version and key size.
    pub fn hkdf_info(self) -> String {
        format!("carchain/rsa/v1/{}", self.bits())
    }
}

/// Derives the wallet's RSA private key from its seed. Same seed and size, same key.
pub fn derive_rsa_private_key(seed: &Seed, bits: RsaBits) -> Result<RsaPrivateKey, KeyError> {
    let mut rng_seed = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, seed.as_bytes())
        .expand(bits.hkdf_info().as_bytes(), rng_seed.as_mut())
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit; kept typed all the same.
        .map_err(|_| KeyError::RsaGeneration(rsa::Error::InvalidArguments))?;
    let mut rng = ChaCha20Rng::from_seed(*rng_seed);
    RsaPrivateKey::new(&mut rng, bits.bits()).map_err(KeyError::RsaGeneration)
}

/// PKCS#1 DER encoding of an RSA public key: SEQUENCE { INTEGER n, INTEGER e }.
pub fn rsa_public_key_pkcs1_der(public_key: &RsaPublicKey) -> Vec<u8> {
    let modulus = der_integer(&public_key.n_bytes());
    let exponent = der_integer(&public_key.e_bytes());
    let mut body = Vec::with_capacity(modulus.len() + exponent.len());
    body.extend_from_slice(&modulus);
    body.extend_from_slice(&exponent);
    der_tlv(0x30, &body)
}

/// Fingerprint of an RSA public key: lower-case hex SHA-256 of its PKCS#1 DER encoding.
pub fn rsa_fingerprint(public_key: &RsaPublicKey) -> String {
    hex::encode(Sha256::digest(rsa_public_key_pkcs1_der(public_key)))
}

/// DER INTEGER of a non-negative big-endian magnitude (minimal, sign byte when needed).
fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match magnitude.iter().position(|&b| b != 0) {
        Some(first) => magnitude.get(first..).unwrap_or_default(),
        None => &[],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    der_tlv(0x02, &content)
}

/// DER tag-length-value with definite length.
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let len_bytes = len.to_be_bytes();
        let first = len_bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(len_bytes.len() - 1);
        let significant = len_bytes.get(first..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::mnemonic::Mnemonic;
    use rsa::pkcs1::EncodeRsaPublicKey;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn abandon_seed() -> Seed {
        Mnemonic::parse(ABANDON).unwrap().to_seed("").unwrap()
    }

    #[test]
    fn der_matches_the_rsa_crate_encoding() {
        let key = derive_rsa_private_key(&abandon_seed(), RsaBits::B2048).unwrap();
        let public = key.to_public_key();
        let reference = public.to_pkcs1_der().unwrap();
        assert_eq!(rsa_public_key_pkcs1_der(&public), reference.as_bytes());
    }

    #[test]
    fn der_integer_edge_cases() {
        assert_eq!(der_integer(&[]), vec![0x02, 0x01, 0x00]);
        assert_eq!(der_integer(&[0, 0, 0x7f]), vec![0x02, 0x01, 0x7f]);
        assert_eq!(der_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_tlv(0x04, &[0u8; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(der_tlv(0x04, &[0u8; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn derivation_is_deterministic_and_seed_bound() {
        let seed = abandon_seed();
        let first = derive_rsa_private_key(&seed, RsaBits::B2048).unwrap();
        let again = derive_rsa_private_key(&seed, RsaBits::B2048).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.size(), 256);
        let other_seed = Mnemonic::parse(ABANDON).unwrap().to_seed("TREZOR").unwrap();
        let other = derive_rsa_private_key(&other_seed, RsaBits::B2048).unwrap();
        assert_ne!(
            rsa_fingerprint(&first.to_public_key()),
            rsa_fingerprint(&other.to_public_key())
        );
    }

    #[test]
    fn sizes_have_distinct_info_strings() {
        assert_eq!(RsaBits::B2048.hkdf_info(), "carchain/rsa/v1/2048");
        assert_eq!(RsaBits::B3072.hkdf_info(), "carchain/rsa/v1/3072");
        assert_eq!(RsaBits::default(), RsaBits::B2048);
    }
}
