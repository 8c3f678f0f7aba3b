//! Rules of auditor attestations.
//!
//! - Who is an auditor: the chain's operator (named in the genesis file) is the root
//!   auditor; a registered provider becomes one when an auditor attests
//!   [`AUDITOR_CLAIM`] with the provider's address as subject (its `auditor` flag). Any
//!   other signer is refused (`NotAuditor`).
//! - An attestation has a subject and a claim. When the subject is the hex id of a grant
//!   on the ledger, the attestation is recorded on the grant (`attestations`), so a
//!   provider requiring a countersigned completeness claim before a grant completes
//!   checks it there with a state proof; any other subject (a VID, an address) is
//!   recorded by the transaction itself in its block.

use carchain_core::protocol::{
    AttestationRef, AuditorAttestation, GrantState, ProviderState, state_key,
};

use super::error::TxError;
use super::layer::Layer;
use super::rules::ExecContext;

/// The claim that registers the subject (a provider's address) as an auditor.
pub const AUDITOR_CLAIM: &str = "registered-auditor";

/// Longest subject or claim, in bytes.
const MAX_TEXT: usize = 1024;

fn is_auditor(state: &Layer<'_>, ctx: &ExecContext<'_>, address: &str) -> Result<bool, TxError> {
    if address == ctx.params.operator_address {
        return Ok(true);
    }
    Ok(state
        .get::<ProviderState>(state_key::provider(address))?
        .is_some_and(|provider| provider.auditor))
}

/// The grant id a subject names, when it is 64 hex digits.
fn grant_subject(subject: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(subject).ok()?;
    bytes.try_into().ok()
}

/// Checks and writes an `AuditorAttestation` signed by `signer`.
pub(super) fn attest(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &AuditorAttestation,
    tx_id: &[u8; 32],
) -> Result<(), TxError> {
    if !is_auditor(state, ctx, signer)? {
        return Err(TxError::NotAuditor {
            address: signer.to_owned(),
        });
    }
    if body.subject.is_empty() || body.claim.is_empty() {
        return Err(TxError::Invalid(
            "an attestation names a subject and a claim".into(),
        ));
    }
    if body.subject.len() > MAX_TEXT || body.claim.len() > MAX_TEXT {
        return Err(TxError::Invalid(format!(
            "subject and claim are at most {MAX_TEXT} bytes"
        )));
    }
    if body.claim == AUDITOR_CLAIM {
        let key = state_key::provider(&body.subject);
        let mut provider: ProviderState =
            state.get(key)?.ok_or_else(|| TxError::UnknownProvider {
                address: body.subject.clone(),
            })?;
        provider.auditor = true;
        state.put_value(key, &provider);
        return Ok(());
    }
    if let Some(grant_id) = grant_subject(&body.subject) {
        let key = state_key::grant(&grant_id);
        if let Some(mut grant) = state.get::<GrantState>(key)? {
            grant.attestations.push(AttestationRef {
                auditor: signer.to_owned(),
                claim: body.claim.clone(),
                tx_id: *tx_id,
            });
            state.put_value(key, &grant);
        }
    }
    Ok(())
}
