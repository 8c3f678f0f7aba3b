//! Bodies of escrows (open, deliver, accept, dispute, resolve) and the possession
//! challenge behind a dispute: the chunk commitment, the challenge seed and indices, and
//! the proof a seller answers with.

use serde::{Deserialize, Serialize};

use crate::protocol::codec::canonical_struct;
use crate::protocol::error::{ProtocolError, Result};
use crate::protocol::serde_hex;

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
/// tree of [`crate::protocol::merkle`] (RFC 6962). Binding the count stops a seller from later
/// claiming a smaller delivery.
pub fn chunk_commitment(chunk_hashes: &[[u8; 32]]) -> [u8; 32] {
    commitment_of(
        chunk_hashes.len() as u64,
        &crate::protocol::merkle::merkle_root(chunk_hashes),
    )
}

fn commitment_of(chunk_count: u64, tree_root: &[u8; 32]) -> [u8; 32] {
    crate::protocol::hashing::sha256(&[
        CHUNK_COMMITMENT_DOMAIN,
        &chunk_count.to_be_bytes(),
        tree_root,
    ])
}

/// The seed of an escrow's possession challenge: SHA-256(domain || escrow id || hash of
/// the block before the dispute's block). The ledger fixes it when the dispute executes,
/// so neither party picks which chunks are sampled.
pub fn challenge_seed(escrow_id: &[u8; 32], parent_block_hash: &[u8; 32]) -> [u8; 32] {
    crate::protocol::hashing::sha256(&[CHALLENGE_SEED_DOMAIN, escrow_id, parent_block_hash])
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
            let digest = crate::protocol::hashing::sha256(&[seed, &(i as u32).to_be_bytes()]);
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
                let proof = crate::protocol::merkle::InclusionProof::build(chunk_hashes, index)?;
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
            tree_root: crate::protocol::merkle::merkle_root(chunk_hashes),
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
            crate::protocol::merkle::InclusionProof {
                index,
                total: self.chunk_count,
                path: opening.path.clone(),
            }
            .verify(&self.tree_root, &opening.chunk_hash)?;
        }
        Ok(())
    }
}
