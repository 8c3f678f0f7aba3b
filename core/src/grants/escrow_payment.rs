//! Payment of a priced data request through the ledger's escrow, as both sides compute
//! it: the escrow id the provider opens for a request, and the chunk commitment the
//! owner declares on delivery (`EscrowDeliver { d_hash_root }`) and the provider checks
//! before accepting (`EscrowAccept`).
//!
//! The chunks of a delivery are what was sold, each record's ledger dHash blinded with
//! the salt of the grant's commitment (which only owner and provider hold):
//! `SHA-256("carchain/escrow-chunk/v1" || salt || dHash)`, so a possession proof (which
//! publishes sampled chunk hashes when a dispute is settled) names no registered record:
//! - a copy: every delivered record's blinded dHash, in delivery order;
//! - a computation's result: every input record's blinded dHash, in input order, then the
//!   SHA-256 of the signed result's delivery bytes.
//!
//! The commitment is [`chunk_commitment`] over those chunk hashes, so the possession
//! challenge of the dispute path ([`crate::protocol::PossessionProof`]) samples them.

use sha2::{Digest, Sha256};

use super::error::{GrantsError, GrantsResult};
use crate::protocol::{EscrowState, EscrowStatus, chunk_commitment};

/// Domain tag of escrow ids derived from request ids.
pub const REQUEST_ESCROW_DOMAIN: &[u8] = b"carchain/request-escrow/v1";

/// The id of the escrow paying for `request_id`:
/// `SHA-256("carchain/request-escrow/v1" || request_id)`. Deterministic, so a retried
/// payment names the same escrow (and the ledger refuses a second one).
pub fn escrow_id_for(request_id: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(REQUEST_ESCROW_DOMAIN)
        .chain_update(request_id)
        .finalize()
        .into()
}

/// Domain tag of a blinded chunk hash.
pub const CHUNK_DOMAIN: &[u8] = b"carchain/escrow-chunk/v1";

/// A record's chunk hash: its dHash blinded with the grant commitment's `salt`.
pub fn blinded_chunk(salt: &[u8; 32], d_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(CHUNK_DOMAIN)
        .chain_update(salt)
        .chain_update(d_hash)
        .finalize()
        .into()
}

/// The chunk hashes of a copy: the delivered records' blinded dHashes, in delivery
/// order (`salt`: the grant opening's).
pub fn copy_chunk_hashes(salt: &[u8; 32], record_d_hashes: &[[u8; 32]]) -> Vec<[u8; 32]> {
    record_d_hashes
        .iter()
        .map(|d_hash| blinded_chunk(salt, d_hash))
        .collect()
}

/// The chunk hashes of a result: the inputs' blinded dHashes in input order, then the
/// SHA-256 of the signed result's delivery bytes (`salt`: the grant opening's).
pub fn result_chunk_hashes(
    salt: &[u8; 32],
    input_d_hashes: &[[u8; 32]],
    signed_result: &[u8],
) -> Vec<[u8; 32]> {
    let mut chunks = copy_chunk_hashes(salt, input_d_hashes);
    chunks.push(Sha256::digest(signed_result).into());
    chunks
}

/// A delivery the owner declared on the escrow paying for a request
/// (`EscrowDeliver`), as the owner's wallet reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredDelivery {
    /// The escrow.
    pub escrow_id: [u8; 32],
    /// What it pays the owner once the provider accepts.
    pub amount: u64,
    /// The chunk commitment declared ([`delivery_commitment`]).
    pub d_hash_root: [u8; 32],
}

/// The `d_hash_root` a delivery of `chunks` commits.
pub fn delivery_commitment(chunks: &[[u8; 32]]) -> [u8; 32] {
    chunk_commitment(chunks)
}

/// Checks the escrow paying for a request before the owner approves it: it pays
/// `owner_address`, still holds its funds (open) and covers `price`.
pub fn check_funding(
    escrow: Option<&EscrowState>,
    owner_address: &str,
    price: u64,
) -> GrantsResult<()> {
    let missing = |reason: &str| {
        Err(GrantsError::PaymentMissing {
            price,
            reason: reason.to_owned(),
        })
    };
    let Some(escrow) = escrow else {
        return missing("no escrow pays for the request");
    };
    if escrow.seller != owner_address {
        return missing("the escrow pays another account");
    }
    if escrow.status != EscrowStatus::Open {
        return missing("the escrow no longer holds undelivered funds");
    }
    if escrow.amount < price {
        return missing("the escrow holds less than the price");
    }
    Ok(())
}

/// Checks the escrow paying for a delivery before the provider accepts it: the owner
/// declared the delivery and its commitment is `expected_root`. `Ok(false)` when the
/// owner has not declared it yet; `Ok(true)` when it may be accepted.
pub fn check_declared(escrow: &EscrowState, expected_root: &[u8; 32]) -> GrantsResult<bool> {
    match escrow.status {
        EscrowStatus::Open => Ok(false),
        EscrowStatus::Delivered | EscrowStatus::Disputed | EscrowStatus::Released => {
            if escrow.d_hash_root.as_ref() == Some(expected_root) {
                Ok(true)
            } else {
                Err(GrantsError::DeliveryRefused(
                    "the escrow commits another delivery than the one received".into(),
                ))
            }
        }
        EscrowStatus::Refunded => Err(GrantsError::DeliveryRefused(
            "the escrow paying for the request was refunded".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PossessionProof;

    fn escrow(status: EscrowStatus, amount: u64, root: Option<[u8; 32]>) -> EscrowState {
        EscrowState {
            escrow_id: escrow_id_for(&[1; 32]),
            buyer: "bcrt1qprovider".into(),
            seller: "bcrt1qowner".into(),
            amount,
            request_id: Some([1; 32]),
            d_hash_root: root,
            status,
            height: 3,
            deliver_by: 1_000,
            delivered_at: None,
            challenge_seed: None,
            challenge_deadline: None,
        }
    }

    #[test]
    fn the_escrow_id_of_a_request_is_pinned() {
        assert_eq!(
            hex::encode(escrow_id_for(&[1; 32])),
            hex::encode(
                Sha256::new()
                    .chain_update(b"carchain/request-escrow/v1")
                    .chain_update([1u8; 32])
                    .finalize()
            )
        );
        assert_eq!(
            hex::encode(escrow_id_for(&[0; 32])),
            "b12fe945120908b136489da5c5bde244a20ada5aeb9ec5516e66488bde33a9f5"
        );
        assert_ne!(escrow_id_for(&[1; 32]), escrow_id_for(&[2; 32]));
        assert_ne!(
            escrow_id_for(&[1; 32]),
            super::super::delivery::grant_id_for(&[1; 32])
        );
    }

    #[test]
    fn result_chunks_are_the_inputs_then_the_result_hash() {
        let salt = [0x5a; 32];
        let chunks = result_chunk_hashes(&salt, &[[5; 32], [6; 32]], b"signed result");
        assert_eq!(chunks.len(), 3);
        let mut preimage = b"carchain/escrow-chunk/v1".to_vec();
        preimage.extend_from_slice(&salt);
        preimage.extend_from_slice(&[5; 32]);
        assert_eq!(chunks[0], <[u8; 32]>::from(Sha256::digest(&preimage)));
        assert_eq!(chunks[1], blinded_chunk(&salt, &[6; 32]));
        // The dHashes themselves (public in their registrations) are not the chunks.
        assert!(!chunks.contains(&[5; 32]) && !chunks.contains(&[6; 32]));
        assert_eq!(
            hex::encode(chunks[2]),
            hex::encode(Sha256::digest(b"signed result"))
        );
        // Another result or another input order commits differently.
        let root = delivery_commitment(&chunks);
        assert_ne!(
            root,
            delivery_commitment(&result_chunk_hashes(&salt, &[[5; 32], [6; 32]], b"other"))
        );
        assert_ne!(
            root,
            delivery_commitment(&result_chunk_hashes(
                &salt,
                &[[6; 32], [5; 32]],
                b"signed result"
            ))
        );
        assert_eq!(
            copy_chunk_hashes(&salt, &[[7; 32]]),
            vec![blinded_chunk(&salt, &[7; 32])]
        );
        assert_ne!(
            copy_chunk_hashes(&[0x5b; 32], &[[7; 32]]),
            copy_chunk_hashes(&salt, &[[7; 32]])
        );
    }

    #[test]
    fn a_possession_proof_over_the_chunks_verifies_against_the_commitment() {
        let chunks = result_chunk_hashes(&[0; 32], &[[1; 32], [2; 32], [3; 32], [4; 32]], b"r");
        let root = delivery_commitment(&chunks);
        let seed = [9; 32];
        let proof = PossessionProof::build(&chunks, &seed).expect("proof");
        assert!(proof.verify(&root, &seed).is_ok());
        let fewer = delivery_commitment(&chunks[1..]);
        assert!(proof.verify(&fewer, &seed).is_err());
    }

    #[test]
    fn approval_needs_an_open_escrow_to_the_owner_covering_the_price() {
        let open = escrow(EscrowStatus::Open, 50, None);
        assert!(check_funding(Some(&open), "bcrt1qowner", 50).is_ok());
        let refused = |escrow: Option<&EscrowState>, owner: &str, price: u64| {
            matches!(
                check_funding(escrow, owner, price),
                Err(GrantsError::PaymentMissing { .. })
            )
        };
        assert!(refused(None, "bcrt1qowner", 50));
        assert!(refused(Some(&open), "bcrt1qsomeoneelse", 50));
        assert!(refused(Some(&open), "bcrt1qowner", 51));
        for status in [
            EscrowStatus::Delivered,
            EscrowStatus::Released,
            EscrowStatus::Refunded,
        ] {
            assert!(refused(Some(&escrow(status, 50, None)), "bcrt1qowner", 50));
        }
    }

    #[test]
    fn acceptance_needs_the_declared_commitment_of_what_was_received() {
        let root = [4; 32];
        assert_eq!(
            check_declared(&escrow(EscrowStatus::Open, 5, None), &root).ok(),
            Some(false)
        );
        for status in [
            EscrowStatus::Delivered,
            EscrowStatus::Disputed,
            EscrowStatus::Released,
        ] {
            assert_eq!(
                check_declared(&escrow(status, 5, Some(root)), &root).ok(),
                Some(true)
            );
            assert!(matches!(
                check_declared(&escrow(status, 5, Some([3; 32])), &root),
                Err(GrantsError::DeliveryRefused(_))
            ));
        }
        assert!(matches!(
            check_declared(&escrow(EscrowStatus::Refunded, 5, Some(root)), &root),
            Err(GrantsError::DeliveryRefused(_))
        ));
    }
}
