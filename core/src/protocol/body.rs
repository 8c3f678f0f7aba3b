//! Transaction bodies: one struct per ledger operation and the [`TxBody`] enum over them.
//!
//! JSON form: an object tagged by `"type"` (snake case kind name; `"kind"` would clash
//! with the grant's own `kind` field) with the operation's fields, byte
//! fields in hex. Canonical form: the kind byte listed on [`TxBody`], then the fields in
//! declaration order (see [`super::codec`]).
//!
//! The bodies of data grants are in `grants`, those of escrows and their possession
//! challenge in `escrow`; all are re-exported here.

use bitcoin::secp256k1::PublicKey;
use bitcoin::secp256k1::ecdsa::Signature;
use serde::{Deserialize, Serialize};

use super::codec::{Canonical, Reader, Writer, canonical_struct};
use super::error::{ProtocolError, Result};
use super::serde_hex;

mod escrow;
mod grants;

pub use escrow::*;
pub use grants::*;

/// Moves tokens from the signer's account to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Receiving P2WPKH address.
    pub to: String,
    /// Amount in the token's smallest unit.
    pub amount: u64,
}
canonical_struct!(Transfer { to, amount });

/// Pairs a device (car) with its owner: the seed's `setup(VID, BTCaddress, RSApubKey, agent)`.
/// Signed by the owner's key; `device_signature` proves the owner holds the device.
///
/// The owner's RSA key is not on the ledger (tx format v2 dropped the fingerprint that
/// v1 published here): the car receives the key itself in the end-to-end encrypted
/// pairing offer, and nothing public ties the owner to the key its records are
/// wrapped for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSetup {
    /// The vehicle identifier.
    pub vid: String,
    /// The device's own signing key.
    #[serde(with = "serde_hex::pubkey")]
    pub device_pubkey: PublicKey,
    /// The owner's identity address.
    pub owner_address: String,
    /// Hash committing to the device's address pool without revealing it.
    #[serde(with = "serde_hex::fixed")]
    pub pool_commitment: [u8; 32],
    /// The agent node that stores the device's data.
    pub agent: String,
    /// The device's signature over [`super::pairing::pairing_digest`].
    #[serde(with = "serde_hex::signature")]
    pub device_signature: Signature,
}
canonical_struct!(DeviceSetup {
    vid,
    device_pubkey,
    owner_address,
    pool_commitment,
    agent,
    device_signature,
});

/// Gives a paired device a new (larger) pool: the seed's `setDup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDup {
    /// The vehicle identifier.
    pub vid: String,
    /// Pool generation, increasing with each change.
    pub generation: u32,
    /// Commitment to the new pool.
    #[serde(with = "serde_hex::fixed")]
    pub pool_commitment: [u8; 32],
}
canonical_struct!(SetDup {
    vid,
    generation,
    pool_commitment
});

/// Re-pairs or transfers a device; signed by the previous owner's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reset {
    /// The vehicle identifier.
    pub vid: String,
    /// The new owner's identity address.
    pub new_owner_address: String,
    /// A replacement device key, if the device's key changes.
    #[serde(default, with = "serde_hex::opt_pubkey")]
    pub new_device_pubkey: Option<PublicKey>,
    /// Commitment to the new pool.
    #[serde(with = "serde_hex::fixed")]
    pub new_pool_commitment: [u8; 32],
    /// The agent node from now on.
    pub agent: String,
}
canonical_struct!(Reset {
    vid,
    new_owner_address,
    new_device_pubkey,
    new_pool_commitment,
    agent
});

/// The hash function a record put names for its commitments: the one the envelope
/// code computes them with.
pub use crate::crypto::HashFunc;

impl Canonical for HashFunc {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(match self {
            HashFunc::Sha256 => 0,
            HashFunc::DoubleSha256 => 1,
        });
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("hash function")? {
            0 => Ok(HashFunc::Sha256),
            1 => Ok(HashFunc::DoubleSha256),
            tag => Err(ProtocolError::UnknownTag {
                what: "hash function",
                tag,
            }),
        }
    }
}

/// Registers a record (`putIotKV`, or `putWalKV` when `wallet`): signed by the key of the
/// pool address it writes to. Address + key is unique on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPut {
    /// The P2WPKH address the record lives under; must be the signer's address.
    pub address: String,
    /// The record key in its range-ordered byte encoding.
    #[serde(with = "serde_hex::bytes")]
    pub key: Vec<u8>,
    /// Record format name (`trip-gps`, `carvio`, ...).
    pub format: String,
    /// Hash function of `d_hash`.
    pub hash_func: HashFunc,
    /// Salted commitment to the plaintext.
    #[serde(with = "serde_hex::fixed")]
    pub d_hash: [u8; 32],
    /// Hash of the ciphertext as stored.
    #[serde(with = "serde_hex::fixed")]
    pub c_hash: [u8; 32],
    /// Ciphertext size in bytes (fees are per byte).
    pub size: u64,
    /// True for a wallet-written record (`putWalKV`), false for a device record.
    #[serde(default)]
    pub wallet: bool,
    /// The fee stamp that pays this put's fee (tx format v3): the fee then comes out of
    /// the stamp escrow, not from the signer (see [`super::fee_stamp`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<super::fee_stamp::FeeStamp>,
}
canonical_struct!(RecordPut {
    address,
    key,
    format,
    hash_func,
    d_hash,
    c_hash,
    size,
    wallet,
    stamp
});

/// An auditor countersigns a claim.
///
/// Tx format v3: a claim about data publishes only its kind (`claim`, e.g.
/// `mileage-complete/v1`) and a salted `commitment` to the full claim text (which names
/// the car) and the dHashes it covers ([`super::commitments::AttestationOpening`]); the
/// auditor hands the opening, sealed, to whoever relies on it. Appointing an auditor
/// (`registered-auditor` about a provider's address) commits to nothing (all zeros).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditorAttestation {
    /// What is attested about: a grant id in hex, or a provider's address when
    /// appointing an auditor.
    pub subject: String,
    /// The public kind of claim, e.g. `mileage-complete/v1` or `registered-auditor`.
    pub claim: String,
    /// Salted commitment to the full claim and its dHashes.
    #[serde(with = "serde_hex::fixed")]
    pub commitment: [u8; 32],
}
canonical_struct!(AuditorAttestation {
    subject,
    claim,
    commitment
});

/// Every ledger operation. The canonical kind byte of each variant is given in parentheses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TxBody {
    /// Token transfer (kind 1).
    Transfer(Transfer),
    /// Device pairing (kind 2).
    DeviceSetup(DeviceSetup),
    /// New device pool (kind 3).
    SetDup(SetDup),
    /// Device re-pair / transfer (kind 4).
    Reset(Reset),
    /// Record registration (kind 5).
    RecordPut(RecordPut),
    /// Data grant (kind 6).
    Grant(Grant),
    /// Grantor revokes a grant (kind 7).
    Revoke(GrantRef),
    /// Grantee renounces a grant (kind 8).
    Renounce(GrantRef),
    /// Provider registration (kind 9).
    ProviderRegister(ProviderRegister),
    /// Provider data request (kind 10).
    DataRequest(DataRequest),
    /// Owner's answer to a request (kind 11).
    DataResponse(DataResponse),
    /// Buyer opens escrow (kind 12).
    EscrowOpen(EscrowOpen),
    /// Seller declares delivery (kind 13).
    EscrowDeliver(EscrowDeliver),
    /// Buyer accepts delivery, releasing funds (kind 14).
    EscrowAccept(EscrowRef),
    /// Buyer disputes delivery (kind 15).
    EscrowDispute(EscrowRef),
    /// Validator resolves a dispute (kind 16).
    EscrowResolve(EscrowResolve),
    /// Buyer reclaims funds from an undelivered, expired escrow (kind 17).
    EscrowRefund(EscrowRef),
    /// Auditor attestation (kind 18).
    AuditorAttestation(AuditorAttestation),
    /// Bond tokens to a validator (kind 19; see [`super::stake`]).
    Bond(super::stake::Bond),
    /// Unbond tokens from a validator (kind 20).
    Unbond(super::stake::Unbond),
}

impl TxBody {
    /// The canonical kind byte.
    pub fn kind_byte(&self) -> u8 {
        match self {
            TxBody::Transfer(_) => 1,
            TxBody::DeviceSetup(_) => 2,
            TxBody::SetDup(_) => 3,
            TxBody::Reset(_) => 4,
            TxBody::RecordPut(_) => 5,
            TxBody::Grant(_) => 6,
            TxBody::Revoke(_) => 7,
            TxBody::Renounce(_) => 8,
            TxBody::ProviderRegister(_) => 9,
            TxBody::DataRequest(_) => 10,
            TxBody::DataResponse(_) => 11,
            TxBody::EscrowOpen(_) => 12,
            TxBody::EscrowDeliver(_) => 13,
            TxBody::EscrowAccept(_) => 14,
            TxBody::EscrowDispute(_) => 15,
            TxBody::EscrowResolve(_) => 16,
            TxBody::EscrowRefund(_) => 17,
            TxBody::AuditorAttestation(_) => 18,
            TxBody::Bond(_) => 19,
            TxBody::Unbond(_) => 20,
        }
    }

    /// The JSON `type` name, for logs and errors.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TxBody::Transfer(_) => "transfer",
            TxBody::DeviceSetup(_) => "device_setup",
            TxBody::SetDup(_) => "set_dup",
            TxBody::Reset(_) => "reset",
            TxBody::RecordPut(_) => "record_put",
            TxBody::Grant(_) => "grant",
            TxBody::Revoke(_) => "revoke",
            TxBody::Renounce(_) => "renounce",
            TxBody::ProviderRegister(_) => "provider_register",
            TxBody::DataRequest(_) => "data_request",
            TxBody::DataResponse(_) => "data_response",
            TxBody::EscrowOpen(_) => "escrow_open",
            TxBody::EscrowDeliver(_) => "escrow_deliver",
            TxBody::EscrowAccept(_) => "escrow_accept",
            TxBody::EscrowDispute(_) => "escrow_dispute",
            TxBody::EscrowResolve(_) => "escrow_resolve",
            TxBody::EscrowRefund(_) => "escrow_refund",
            TxBody::AuditorAttestation(_) => "auditor_attestation",
            TxBody::Bond(_) => "bond",
            TxBody::Unbond(_) => "unbond",
        }
    }
}

impl Canonical for TxBody {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.kind_byte());
        match self {
            TxBody::Transfer(b) => b.encode_to(w),
            TxBody::DeviceSetup(b) => b.encode_to(w),
            TxBody::SetDup(b) => b.encode_to(w),
            TxBody::Reset(b) => b.encode_to(w),
            TxBody::RecordPut(b) => b.encode_to(w),
            TxBody::Grant(b) => b.encode_to(w),
            TxBody::Revoke(b) | TxBody::Renounce(b) => b.encode_to(w),
            TxBody::ProviderRegister(b) => b.encode_to(w),
            TxBody::DataRequest(b) => b.encode_to(w),
            TxBody::DataResponse(b) => b.encode_to(w),
            TxBody::EscrowOpen(b) => b.encode_to(w),
            TxBody::EscrowDeliver(b) => b.encode_to(w),
            TxBody::EscrowAccept(b) | TxBody::EscrowDispute(b) | TxBody::EscrowRefund(b) => {
                b.encode_to(w);
            }
            TxBody::EscrowResolve(b) => b.encode_to(w),
            TxBody::AuditorAttestation(b) => b.encode_to(w),
            TxBody::Bond(b) => b.encode_to(w),
            TxBody::Unbond(b) => b.encode_to(w),
        }
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8("transaction kind")? {
            1 => TxBody::Transfer(Canonical::decode_from(r)?),
            2 => TxBody::DeviceSetup(Canonical::decode_from(r)?),
            3 => TxBody::SetDup(Canonical::decode_from(r)?),
            4 => TxBody::Reset(Canonical::decode_from(r)?),
            5 => TxBody::RecordPut(Canonical::decode_from(r)?),
            6 => TxBody::Grant(Canonical::decode_from(r)?),
            7 => TxBody::Revoke(Canonical::decode_from(r)?),
            8 => TxBody::Renounce(Canonical::decode_from(r)?),
            9 => TxBody::ProviderRegister(Canonical::decode_from(r)?),
            10 => TxBody::DataRequest(Canonical::decode_from(r)?),
            11 => TxBody::DataResponse(Canonical::decode_from(r)?),
            12 => TxBody::EscrowOpen(Canonical::decode_from(r)?),
            13 => TxBody::EscrowDeliver(Canonical::decode_from(r)?),
            14 => TxBody::EscrowAccept(Canonical::decode_from(r)?),
            15 => TxBody::EscrowDispute(Canonical::decode_from(r)?),
            16 => TxBody::EscrowResolve(Canonical::decode_from(r)?),
            17 => TxBody::EscrowRefund(Canonical::decode_from(r)?),
            18 => TxBody::AuditorAttestation(Canonical::decode_from(r)?),
            19 => TxBody::Bond(Canonical::decode_from(r)?),
            20 => TxBody::Unbond(Canonical::decode_from(r)?),
            tag => {
                return Err(ProtocolError::UnknownTag {
                    what: "transaction kind",
                    tag,
                });
            }
        })
    }
}

#[cfg(test)]
mod tests;
