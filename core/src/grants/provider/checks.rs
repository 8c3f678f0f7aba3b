//! The pure checks a provider makes on what it received: a ledger grant against the
//! request and its opening, a result's program and signature, and the copy tags.

use bitcoin::CompressedPublicKey;

use super::ReceivedRecord;
use crate::compute::SignedResult;
use crate::grants::delivery::DeliveredRecord;
use crate::grants::error::{GrantsError, GrantsResult};
use crate::protocol::{GrantOpening, GrantState, GrantStatus, RequestState};

/// Checks a result: it is for the program the grant names and signed by `owner`.
pub fn check_result(
    signed: &SignedResult,
    code_hash: &[u8; 32],
    owner: &CompressedPublicKey,
) -> GrantsResult<()> {
    if &signed.result.program_hash != code_hash {
        return Err(GrantsError::DeliveryRefused(
            "the result is of another program than granted".into(),
        ));
    }
    signed
        .verify(owner)
        .map_err(|_| GrantsError::DeliveryRefused("the result is not signed by the owner".into()))
}

/// Checks that the copy tags of the `received` records are exactly the grant's: a
/// grantor cannot hide a record from the ledger's copy rights (a reseller naming no tag
/// for a copy it may not sell on), nor name records it did not deliver.
pub fn check_copy_tags(grant: &GrantState, received: &[ReceivedRecord]) -> GrantsResult<()> {
    let mut tags: Vec<[u8; 32]> = received.iter().map(|r| r.copy_tag).collect();
    tags.sort_unstable();
    tags.dedup();
    if tags != grant.copy_tags {
        return Err(GrantsError::GrantRefused(
            "the grant's copy tags are not those of the delivered records".into(),
        ));
    }
    Ok(())
}

/// Checks a ledger grant and the opening of its commitment against the request it
/// answers and the provider receiving it.
pub fn check_grant(
    grant: &GrantState,
    opening: &GrantOpening,
    request: &RequestState,
    provider_address: &str,
    provider_fingerprint: &[u8; 32],
    now_ms: u64,
) -> GrantsResult<()> {
    let refuse = |reason: &str| Err(GrantsError::GrantRefused(reason.to_owned()));
    if grant.grantor != request.owner_address {
        return refuse("the grant was not made by the owner asked");
    }
    if grant.grantee_address != provider_address {
        return refuse("the grant is to another account");
    }
    if opening.commitment() != grant.records_commitment {
        return refuse("the delivery's opening does not match the grant's commitment");
    }
    if &opening.grantee_rsa_fingerprint != provider_fingerprint {
        return refuse("the grant is wrapped to another RSA key");
    }
    if grant.status != GrantStatus::Active {
        return refuse("the grant is no longer in force");
    }
    if grant.expires_at.is_some_and(|at| at <= now_ms) {
        return refuse("the grant has expired");
    }
    Ok(())
}

/// Checks that a copy delivers exactly the records the grant's opening commits to, in
/// its order.
pub(crate) fn check_delivers_opening(
    records: &[DeliveredRecord],
    opening: &GrantOpening,
) -> GrantsResult<()> {
    let delivered = records.iter().map(DeliveredRecord::reference);
    if !delivered.eq(opening.records.iter().cloned()) {
        return Err(GrantsError::GrantRefused(
            "the copy delivers other records than the grant commits to".into(),
        ));
    }
    Ok(())
}
