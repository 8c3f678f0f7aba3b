//! Rules of auditor attestations.
//!
//! - Who is an auditor: the chain's operator (named in the genesis file) is the root
//!   auditor; a registered provider becomes one when an auditor attests
//!   [`AUDITOR_CLAIM`] with the provider's address as subject (its `auditor` flag). Any
//!   other signer is refused (`NotAuditor`).
//! - An attestation names a subject, the public kind of its claim and a salted
//!   commitment to the full claim and the dHashes it covers (tx format v3): the claim's
//!   text names a car, so only its opening, handed sealed to whoever relies on it,
//!   carries it. The kind is a short label (printable ASCII without spaces or `=`, at
//!   most 64 bytes), so no `vid=...` reaches the ledger.
//! - Appointing an auditor ([`AUDITOR_CLAIM`]) names a registered provider's address and
//!   commits to nothing (all zeros). Any other attestation names a grant on the ledger
//!   by its hex id, commits to something (not all zeros), and is recorded on that grant
//!   (`attestations`), so a provider requiring a countersigned claim before a grant
//!   completes checks it there with a state proof.

use carchain_core::protocol::{
    AttestationRef, AuditorAttestation, GrantState, ProviderState, state_key,
};

use super::error::TxError;
use super::layer::Layer;
use super::lookup::load;
use super::rules::ExecContext;

/// The claim that registers the subject (a provider's address) as an auditor.
pub const AUDITOR_CLAIM: &str = "registered-auditor";

/// Longest subject, in bytes.
const MAX_TEXT: usize = 1024;
/// Longest claim kind, in bytes.
const MAX_CLAIM_KIND: usize = 64;

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
    if body.subject.len() > MAX_TEXT {
        return Err(TxError::Invalid(format!(
            "a subject is at most {MAX_TEXT} bytes"
        )));
    }
    let label = body.claim.len() <= MAX_CLAIM_KIND
        && body
            .claim
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'=');
    if !label {
        return Err(TxError::Invalid(format!(
            "a claim kind is a label of at most {MAX_CLAIM_KIND} printable bytes without '=': \
             the claim itself goes behind the commitment"
        )));
    }
    if body.claim == AUDITOR_CLAIM {
        if body.commitment != [0; 32] {
            return Err(TxError::Invalid(
                "appointing an auditor commits to nothing".into(),
            ));
        }
        let key = state_key::provider(&body.subject);
        let mut provider: ProviderState =
            state.get(key)?.ok_or_else(|| TxError::UnknownProvider {
                address: body.subject.clone(),
            })?;
        provider.auditor = true;
        state.put_value(key, &provider);
        return Ok(());
    }
    if body.commitment == [0; 32] {
        return Err(TxError::Invalid(
            "an attestation commits to its claim and dHashes".into(),
        ));
    }
    let grant_id = grant_subject(&body.subject)
        .ok_or_else(|| TxError::Invalid("an attestation names a grant by its hex id".into()))?;
    let key = state_key::grant(&grant_id);
    let mut grant: GrantState = load(state, key, "grant", &grant_id)?;
    grant.attestations.push(AttestationRef {
        auditor: signer.to_owned(),
        claim: body.claim.clone(),
        tx_id: *tx_id,
    });
    state.put_value(key, &grant);
    Ok(())
}
