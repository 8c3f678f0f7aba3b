//! The pool seed: the secret shared only by a car and its owner that decides which pool
//! address holds each day's records (the seed's `userSeed`).
//!
//! pool_seed = HMAC-SHA256(key = HKDF-SHA256(seed, "carchain/pool-seed"), vid || generation
//! as u32 big-endian).

use core::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::PoolError;
use crate::keys::Seed;

/// HKDF info for the key that derives pool seeds.
pub const POOL_SEED_INFO: &[u8] = b"carchain/pool-seed";

/// Length of a pool seed in bytes.
pub const POOL_SEED_LEN: usize = 32;

/// A device's pool seed. Secret: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PoolSeed {
    bytes: [u8; POOL_SEED_LEN],
}

impl PoolSeed {
    /// Wraps raw bytes (a seed received at pairing or read from encrypted storage).
    pub fn from_bytes(bytes: [u8; POOL_SEED_LEN]) -> Self {
        PoolSeed { bytes }
    }

    /// The raw bytes, for sending to the paired device over an encrypted channel.
    pub fn as_bytes(&self) -> &[u8; POOL_SEED_LEN] {
        &self.bytes
    }

    /// Derives the pool seed for a device and pool generation from the wallet seed.
    pub fn derive(seed: &Seed, vid: &str, generation: u32) -> Result<Self, PoolError> {
        if vid.is_empty() {
            return Err(PoolError::EmptyVid);
        }
        let key = hkdf_key(seed, POOL_SEED_INFO)?;
        let mut mac = hmac_sha256(key.as_ref())?;
        mac.update(vid.as_bytes());
        mac.update(&generation.to_be_bytes());
        Ok(PoolSeed::from_bytes(mac.finalize().into_bytes().into()))
    }
}

impl fmt::Debug for PoolSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolSeed([REDACTED; 32 bytes])")
    }
}

/// HKDF-SHA256 (no salt) of the wallet seed to a 32-byte key for `info`.
pub(crate) fn hkdf_key(seed: &Seed, info: &[u8]) -> Result<Zeroizing<[u8; 32]>, PoolError> {
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, seed.as_bytes())
        .expand(info, key.as_mut())
        .map_err(|_| PoolError::KeyDerivation)?;
    Ok(key)
}

/// An HMAC-SHA256 instance keyed with `key`.
pub(crate) fn hmac_sha256(key: &[u8]) -> Result<Hmac<Sha256>, PoolError> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| PoolError::KeyDerivation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Mnemonic;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const VID: &str = "LBVNU79049SB81546";

    fn abandon_seed() -> Seed {
        Mnemonic::parse(ABANDON).unwrap().to_seed("").unwrap()
    }

    #[test]
    fn hkdf_and_hmac_follow_rfc_constructions() {
        // RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
        let mut mac = hmac_sha256(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn golden_pool_seed() {
        let pool_seed = PoolSeed::derive(&abandon_seed(), VID, 0).unwrap();
        assert_eq!(
            hex::encode(pool_seed.as_bytes()),
            "557ce8f4f1ffc0bd3195b6c2625826e1e23ace07a9316271c652b420bed6e509"
        );
    }

    #[test]
    fn pool_seed_depends_on_vid_generation_and_wallet() {
        let seed = abandon_seed();
        let base = PoolSeed::derive(&seed, VID, 0).unwrap();
        assert_eq!(base, PoolSeed::derive(&seed, VID, 0).unwrap());
        assert_ne!(base, PoolSeed::derive(&seed, VID, 1).unwrap());
        assert_ne!(
            base,
            PoolSeed::derive(&seed, "LBVNU79049SB81547", 0).unwrap()
        );
        let other = Mnemonic::parse(ABANDON).unwrap().to_seed("TREZOR").unwrap();
        assert_ne!(base, PoolSeed::derive(&other, VID, 0).unwrap());
    }

    #[test]
    fn empty_vid_is_rejected() {
        assert!(matches!(
            PoolSeed::derive(&abandon_seed(), "", 0),
            Err(PoolError::EmptyVid)
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let pool_seed = PoolSeed::from_bytes([0x5a; 32]);
        assert_eq!(format!("{pool_seed:?}"), "PoolSeed([REDACTED; 32 bytes])");
    }
}
