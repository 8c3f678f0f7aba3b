//! Dispatch of the data-sharing kinds (grants, requests, escrow, attestations) to their
//! rule modules. Each kind's checks and effects run together; [`validate`] runs them on
//! a throwaway layer so that nothing is written before the fee is charged.

use carchain_core::protocol::{SignedTransaction, TxBody};

use super::error::TxError;
use super::grants::Ending;
use super::layer::Layer;
use super::rules::ExecContext;
use super::{auditors, escrow, grants, requests};

/// Whether `body` is one of the kinds dispatched here.
pub(super) fn handles(body: &TxBody) -> bool {
    matches!(
        body,
        TxBody::Grant(_)
            | TxBody::Revoke(_)
            | TxBody::Renounce(_)
            | TxBody::DataRequest(_)
            | TxBody::DataResponse(_)
            | TxBody::EscrowOpen(_)
            | TxBody::EscrowDeliver(_)
            | TxBody::EscrowAccept(_)
            | TxBody::EscrowDispute(_)
            | TxBody::EscrowResolve(_)
            | TxBody::EscrowRefund(_)
            | TxBody::AuditorAttestation(_)
    )
}

/// The kind's checks, with its effects discarded.
pub(super) fn validate(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
) -> Result<(), TxError> {
    let mut scratch = Layer::new(state);
    run(&mut scratch, ctx, signed, &signed.id())
}

/// The kind's checks and effects on `state`.
pub(super) fn run(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    tx_id: &[u8; 32],
) -> Result<(), TxError> {
    let signer = signed.tx.signer_address();
    let signer = signer.as_str();
    match &signed.tx.body {
        TxBody::Grant(body) => {
            grants::validate_grant(state, ctx, signer, body)?;
            grants::apply_grant(state, ctx, signer, body)
        }
        TxBody::Revoke(body) => {
            grants::validate_end(state, signer, body, Ending::Revoke)?;
            grants::apply_end(state, body, Ending::Revoke)
        }
        TxBody::Renounce(body) => {
            grants::validate_end(state, signer, body, Ending::Renounce)?;
            grants::apply_end(state, body, Ending::Renounce)
        }
        TxBody::DataRequest(body) => {
            requests::validate_request(state, ctx, signer, body)?;
            requests::apply_request(state, ctx, signer, body);
            Ok(())
        }
        TxBody::DataResponse(body) => {
            requests::validate_response(state, ctx, signer, body)?;
            requests::apply_response(state, body)
        }
        TxBody::EscrowOpen(body) => {
            escrow::validate_open(state, ctx, signer, body)?;
            escrow::apply_open(state, ctx, signer, body)
        }
        TxBody::EscrowDeliver(body) => escrow::deliver(state, ctx, signer, body),
        TxBody::EscrowAccept(body) => escrow::accept(state, signer, body),
        TxBody::EscrowDispute(body) => escrow::dispute(state, ctx, signer, body),
        TxBody::EscrowResolve(body) => escrow::resolve(state, ctx, body),
        TxBody::EscrowRefund(body) => escrow::refund_undelivered(state, ctx, signer, body),
        TxBody::AuditorAttestation(body) => auditors::attest(state, ctx, signer, body, tx_id),
        other => Err(TxError::Invalid(format!(
            "{} is not a data-sharing kind",
            other.kind_name()
        ))),
    }
}
