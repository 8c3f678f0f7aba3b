//! Transaction bodies: one struct per ledger operation and the [`TxBody`] enum over them.
//!
//! JSON form: an object tagged by `"type"` (snake case kind name; `"kind"` would clash
//! with the grant's own `kind` field) with the operation's fields, byte
//! fields in hex. Canonical form: the kind byte listed on [`TxBody`], then the fields in
//! declaration order (see [`super::codec`]).

use bitcoin::secp256k1::PublicKey;
use bitcoin::secp256k1::ecdsa::Signature;
use serde::{Deserialize, Serialize};

use super::codec::{Canonical, Reader, Writer, canonical_struct};
use super::error::{ProtocolError, Result};
use super::serde_hex;

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

/// One record named by a grant: its address and key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// The record's address.
    pub address: String,
    /// The record's key bytes.
    #[serde(with = "serde_hex::bytes")]
    pub key: Vec<u8>,
}
canonical_struct!(RecordRef { address, key });

/// What a grant gives the grantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GrantKind {
    /// An ownership copy (tag 0): the grantee may resell and/or duplicate it if flagged.
    Copy {
        /// The grantee may sell the copy on.
        resell: bool,
        /// The grantee may make further copies.
        dup: bool,
    },
    /// Usage only (tag 1): the named computation runs on the data; only its result leaves.
    Usage {
        /// Hash of the registered computation.
        #[serde(with = "serde_hex::fixed")]
        code_hash: [u8; 32],
    },
    /// A paid trade settled through escrow (tag 2).
    Trade,
}

impl Canonical for GrantKind {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            GrantKind::Copy { resell, dup } => {
                w.u8(0);
                resell.encode_to(w);
                dup.encode_to(w);
            }
            GrantKind::Usage { code_hash } => {
                w.u8(1);
                code_hash.encode_to(w);
            }
            GrantKind::Trade => w.u8(2),
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("grant kind")? {
            0 => Ok(GrantKind::Copy {
                resell: bool::decode_from(r)?,
                dup: bool::decode_from(r)?,
            }),
            1 => Ok(GrantKind::Usage {
                code_hash: r.array("code hash")?,
            }),
            2 => Ok(GrantKind::Trade),
            tag => Err(ProtocolError::UnknownTag {
                what: "grant kind",
                tag,
            }),
        }
    }
}

/// Grants records to another account (the seed's `send` / `SMcontract`).
///
/// Tx format v3: the ledger holds commitments, not the grant's contents. The (address,
/// key) list and the grantee's RSA key fingerprint are behind `records_commitment`
/// ([`super::commitments::GrantOpening`]); the opening travels sealed to the grantee in
/// its delivery, and the grantee checks it against this commitment. `copy_tags` lets
/// the ledger enforce copy rights without naming records: one opaque tag per copied
/// record, an HMAC under the record's own key (see `crate::crypto::copy_tag`), which
/// only holders of the record key can compute or test, so no ledger reader can match
/// a tag to a registered record. The same record carries the same tag in every grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Unique grant id chosen by the grantor.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
    /// The grantee's address.
    pub grantee_address: String,
    /// Salted commitment to the grantee's RSA key and the records granted
    /// ([`super::commitments::GrantOpening::commitment`]).
    #[serde(with = "serde_hex::fixed")]
    pub records_commitment: [u8; 32],
    /// One copy tag per record a copy or trade hands over (sorted, distinct); empty for
    /// a usage grant.
    #[serde(with = "serde_hex::vec_fixed")]
    pub copy_tags: Vec<[u8; 32]>,
    /// Copy, usage or trade.
    pub kind: GrantKind,
    /// Expiry time (unix ms), if any.
    #[serde(default)]
    pub expires_at: Option<u64>,
}
canonical_struct!(Grant {
    grant_id,
    grantee_address,
    records_commitment,
    copy_tags,
    kind,
    expires_at,
});

/// Names a grant (for revoke by the grantor or renounce by the grantee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRef {
    /// The grant id.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
}
canonical_struct!(GrantRef { grant_id });

/// Registers the signer as a service provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRegister {
    /// Display name.
    pub name: String,
    /// What the provider does.
    pub description: String,
    /// The provider's RSA public key (PKCS#1 or SPKI DER) that grants are wrapped to.
    #[serde(with = "serde_hex::bytes")]
    pub rsa_public_der: Vec<u8>,
    /// Hashes of the computations the provider offers for usage grants.
    #[serde(with = "serde_hex::vec_fixed")]
    pub code_hashes: Vec<[u8; 32]>,
}
canonical_struct!(ProviderRegister {
    name,
    description,
    rsa_public_der,
    code_hashes
});

/// A provider asks an owner for data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequest {
    /// Unique request id chosen by the provider.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// The owner asked.
    pub owner_address: String,
    /// Record formats wanted.
    pub formats: Vec<String>,
    /// First day wanted, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day wanted, `YYYY-MM-DD`.
    pub to_date: String,
    /// Fields wanted (projection).
    pub fields: Vec<String>,
    /// Why the provider wants the data, shown to the owner.
    pub purpose: String,
    /// Offered price in the token's smallest unit.
    pub price: u64,
    /// Expiry time (unix ms), if any.
    #[serde(default)]
    pub expires_at: Option<u64>,
}
canonical_struct!(DataRequest {
    request_id,
    owner_address,
    formats,
    from_date,
    to_date,
    fields,
    purpose,
    price,
    expires_at,
});

/// The owner approves or rejects a data request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataResponse {
    /// The request answered.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// Approved or rejected.
    pub approved: bool,
    /// The grant that delivers the data, when approved.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub grant_id: Option<[u8; 32]>,
}
canonical_struct!(DataResponse {
    request_id,
    approved,
    grant_id
});

/// The buyer (signer) locks funds in escrow for a seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowOpen {
    /// Unique escrow id chosen by the buyer.
    #[serde(with = "serde_hex::fixed")]
    pub escrow_id: [u8; 32],
    /// The seller's address.
    pub seller: String,
    /// Amount locked.
    pub amount: u64,
    /// The data request this pays for, if any.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub request_id: Option<[u8; 32]>,
}
canonical_struct!(EscrowOpen {
    escrow_id,
    seller,
    amount,
    request_id
});

/// The seller declares delivery, committing to what was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowDeliver {
    /// The escrow.
    #[serde(with = "serde_hex::fixed")]
    pub escrow_id: [u8; 32],
    /// Merkle root of the delivered records' dHashes.
    #[serde(with = "serde_hex::fixed")]
    pub d_hash_root: [u8; 32],
}
canonical_struct!(EscrowDeliver {
    escrow_id,
    d_hash_root
});

/// Names an escrow (accept, dispute, refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowRef {
    /// The escrow.
    #[serde(with = "serde_hex::fixed")]
    pub escrow_id: [u8; 32],
}
canonical_struct!(EscrowRef { escrow_id });

/// Settles an escrow: after a dispute, the seller's answer to the possession challenge
/// (or, once the challenge window passed unanswered, the buyer's refund); after an
/// undisputed delivery whose review window passed, the seller's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowResolve {
    /// The escrow.
    #[serde(with = "serde_hex::fixed")]
    pub escrow_id: [u8; 32],
    /// True if the seller proved delivery (funds go to the seller), else refunded.
    pub seller_proved: bool,
    /// The seller's openings of the challenged chunks, required to settle a dispute
    /// for the seller (see [`PossessionProof::verify`]).
    #[serde(default)]
    pub proof: Option<PossessionProof>,
}
canonical_struct!(EscrowResolve {
    escrow_id,
    seller_proved,
    proof
});

/// How many chunks a possession challenge samples (fewer when the delivery has fewer).
pub const CHALLENGE_SAMPLES: usize = 4;

/// Domain tag of an escrow delivery's chunk commitment.
pub const CHUNK_COMMITMENT_DOMAIN: &[u8] = b"carchain/escrow-chunks/v1";

/// Domain tag of a possession challenge's seed.
pub const CHALLENGE_SEED_DOMAIN: &[u8] = b"carchain/escrow-challenge/v1";

/// The `d_hash_root` an [`EscrowDeliver`] commits: SHA-256(domain || u64 BE chunk count
/// || Merkle root over the chunk hashes), the Merkle tree being the block transaction
/// tree of [`super::merkle`] (RFC 6962). Binding the count stops a seller from later
/// claiming a smaller delivery.
pub fn chunk_commitment(chunk_hashes: &[[u8; 32]]) -> [u8; 32] {
    commitment_of(
        chunk_hashes.len() as u64,
        &super::merkle::merkle_root(chunk_hashes),
    )
}

fn commitment_of(chunk_count: u64, tree_root: &[u8; 32]) -> [u8; 32] {
    super::hashing::sha256(&[
        CHUNK_COMMITMENT_DOMAIN,
        &chunk_count.to_be_bytes(),
        tree_root,
    ])
}

/// The seed of an escrow's possession challenge: SHA-256(domain || escrow id || hash of
/// the block before the dispute's block). The ledger fixes it when the dispute executes,
/// so neither party picks which chunks are sampled.
pub fn challenge_seed(escrow_id: &[u8; 32], parent_block_hash: &[u8; 32]) -> [u8; 32] {
    super::hashing::sha256(&[CHALLENGE_SEED_DOMAIN, escrow_id, parent_block_hash])
}

/// The chunk indices a challenge samples: for i in 0..min(CHALLENGE_SAMPLES, count),
/// the first 8 bytes (BE) of SHA-256(seed || u32 BE i) modulo `chunk_count`. Empty when
/// `chunk_count` is 0.
pub fn challenge_indices(seed: &[u8; 32], chunk_count: u64) -> Vec<u64> {
    if chunk_count == 0 {
        return Vec::new();
    }
    let samples = CHALLENGE_SAMPLES.min(usize::try_from(chunk_count).unwrap_or(usize::MAX));
    (0..samples)
        .map(|i| {
            let digest = super::hashing::sha256(&[seed, &(i as u32).to_be_bytes()]);
            let mut head = [0u8; 8];
            head.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
            u64::from_be_bytes(head) % chunk_count
        })
        .collect()
}

/// One challenged chunk: its hash and its Merkle audit path in the delivery's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkOpening {
    /// SHA-256 of the chunk.
    #[serde(with = "serde_hex::fixed")]
    pub chunk_hash: [u8; 32],
    /// Sibling hashes from the leaf up to the tree root.
    #[serde(with = "serde_hex::vec_fixed")]
    pub path: Vec<[u8; 32]>,
}
canonical_struct!(ChunkOpening { chunk_hash, path });

/// A seller's answer to a possession challenge: the delivery's chunk count and tree
/// root (which must hash to the committed `d_hash_root`) and one opening per sampled
/// index, in [`challenge_indices`] order.
///
/// What it proves: the seller still holds the chunk hashes at the sampled positions of
/// the committed tree (the sampled positions are unknown until the dispute executes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PossessionProof {
    /// Number of chunks delivered.
    pub chunk_count: u64,
    /// Merkle root over the chunk hashes.
    #[serde(with = "serde_hex::fixed")]
    pub tree_root: [u8; 32],
    /// The sampled chunks' openings.
    pub openings: Vec<ChunkOpening>,
}
canonical_struct!(PossessionProof {
    chunk_count,
    tree_root,
    openings
});

impl PossessionProof {
    /// Builds the answer to the challenge `seed` over the delivered `chunk_hashes`
    /// (what the seller committed with [`chunk_commitment`]); `None` when there are none.
    pub fn build(chunk_hashes: &[[u8; 32]], seed: &[u8; 32]) -> Option<Self> {
        let chunk_count = chunk_hashes.len() as u64;
        let openings = challenge_indices(seed, chunk_count)
            .into_iter()
            .map(|index| {
                let index = usize::try_from(index).ok()?;
                let proof = super::merkle::InclusionProof::build(chunk_hashes, index)?;
                Some(ChunkOpening {
                    chunk_hash: *chunk_hashes.get(index)?,
                    path: proof.path,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        if openings.is_empty() {
            return None;
        }
        Some(Self {
            chunk_count,
            tree_root: super::merkle::merkle_root(chunk_hashes),
            openings,
        })
    }

    /// Checks the answer against the committed `d_hash_root` and the challenge `seed`:
    /// the count and tree root hash to the commitment, there is one opening per sampled
    /// index, and each opening's path leads to the tree root.
    pub fn verify(&self, d_hash_root: &[u8; 32], seed: &[u8; 32]) -> Result<()> {
        let refuse = |reason| Err(ProtocolError::InclusionProof { reason });
        if commitment_of(self.chunk_count, &self.tree_root) != *d_hash_root {
            return refuse("chunk count and tree root do not match the committed root");
        }
        let indices = challenge_indices(seed, self.chunk_count);
        if indices.is_empty() || indices.len() != self.openings.len() {
            return refuse("one opening per sampled chunk is required");
        }
        for (index, opening) in indices.into_iter().zip(&self.openings) {
            super::merkle::InclusionProof {
                index,
                total: self.chunk_count,
                path: opening.path.clone(),
            }
            .verify(&self.tree_root, &opening.chunk_hash)?;
        }
        Ok(())
    }
}

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
                b.encode_to(w)
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
