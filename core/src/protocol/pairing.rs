//! The device's pairing signature: proof, inside a `DeviceSetup`, that the owner holds
//! the device.
//!
//! Pairing digest = SHA256d(`"carchain/pair/v1"` || string(vid) || string(owner_address)
//! || pool_commitment), strings length-prefixed as in [`super::codec`].

use bitcoin::secp256k1::SecretKey;
use bitcoin::secp256k1::ecdsa::Signature;

use super::body::DeviceSetup;
use super::codec::Writer;
use super::error::Result;
use super::hashing::sha256d;
use super::signing::{sign_digest, verify_digest};

/// Domain tag of the pairing digest.
pub const PAIRING_DOMAIN: &[u8] = b"carchain/pair/v1";

/// The digest a device signs to pair with `owner_address` under `pool_commitment`.
pub fn pairing_digest(vid: &str, owner_address: &str, pool_commitment: &[u8; 32]) -> [u8; 32] {
    let mut w = Writer::new();
    w.bytes(vid.as_bytes());
    w.bytes(owner_address.as_bytes());
    w.raw(pool_commitment);
    sha256d(&[PAIRING_DOMAIN, &w.into_bytes()])
}

/// The device signs its pairing with the owner.
pub fn sign_pairing(
    device_secret: &SecretKey,
    vid: &str,
    owner_address: &str,
    pool_commitment: &[u8; 32],
) -> Signature {
    sign_digest(
        device_secret,
        &pairing_digest(vid, owner_address, pool_commitment),
    )
}

impl DeviceSetup {
    /// Checks `device_signature` against `device_pubkey` over the pairing digest.
    pub fn verify_device_signature(&self) -> Result<()> {
        let digest = pairing_digest(&self.vid, &self.owner_address, &self.pool_commitment);
        verify_digest(
            &self.device_pubkey,
            &digest,
            &self.device_signature,
            "device pairing",
        )
    }
}
