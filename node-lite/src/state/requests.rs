//! Rules of provider data requests and the owner's answers.
//!
//! - `DataRequest` is signed by the requester, which must be a registered provider
//!   (`UnknownProvider`); the id is used once (`DuplicateId`); at least one format is
//!   asked; the requester cannot ask itself; an expiry, if any, is ahead of the ledger
//!   clock. It is stored `Open`. Nothing is paid or locked by the request itself.
//! - Payment rule (one rule, simple): a priced request is paid through an escrow the
//!   provider opens for it (`EscrowOpen` naming the request, amount at least the price,
//!   seller = the owner). The owner's approval of a priced request needs that escrow
//!   still holding the funds (`PaymentMissing`); the owner's delivery and the buyer's
//!   acceptance (or the dispute path) then release it, see escrow.rs. A rejection
//!   refunds an escrow not yet delivered.
//! - `DataResponse` is signed by the request's `owner_address` only (`NotOwner`): a
//!   forged approval signed by anyone else is refused. The request must be `Open` and
//!   not expired. An approval naming a grant needs the grant to exist, be the owner's,
//!   be to the requester and be in force.

use carchain_core::protocol::{
    DataRequest, DataResponse, EscrowState, EscrowStatus, ProviderState, RequestState,
    RequestStatus, state_key,
};

use super::error::TxError;
use super::escrow::{escrow, refund};
use super::grants::{grant, in_force};
use super::layer::Layer;
use super::lookup::{load, require_live, require_unused};
use super::rules::ExecContext;

/// The request `id`, or `NotFound`.
pub(super) fn request(state: &Layer<'_>, id: &[u8; 32]) -> Result<RequestState, TxError> {
    load(state, state_key::request(id), "request", id)
}

/// Read-only checks of a `DataRequest` signed by `signer`.
pub(super) fn validate_request(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &DataRequest,
) -> Result<(), TxError> {
    if state
        .get::<ProviderState>(state_key::provider(signer))?
        .is_none()
    {
        return Err(TxError::UnknownProvider {
            address: signer.to_owned(),
        });
    }
    require_unused(
        state,
        state_key::request(&body.request_id),
        "request",
        &body.request_id,
    )?;
    if body.formats.is_empty() {
        return Err(TxError::Invalid(
            "a request asks for at least one format".into(),
        ));
    }
    if body.owner_address == signer {
        return Err(TxError::Invalid("a provider cannot ask itself".into()));
    }
    require_live("request", body.expires_at, ctx.time)
}

/// Stores a validated `DataRequest`, open.
pub(super) fn apply_request(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &DataRequest,
) {
    state.put_value(
        state_key::request(&body.request_id),
        &RequestState {
            request_id: body.request_id,
            requester: signer.to_owned(),
            owner_address: body.owner_address.clone(),
            formats: body.formats.clone(),
            from_date: body.from_date.clone(),
            to_date: body.to_date.clone(),
            fields: body.fields.clone(),
            purpose: body.purpose.clone(),
            price: body.price,
            expires_at: body.expires_at,
            status: RequestStatus::Open,
            grant_id: None,
            height: ctx.height,
            escrow_id: None,
        },
    );
}

/// The escrow paying for `request`, if it still holds the funds (open or delivered).
fn funding_escrow(
    state: &Layer<'_>,
    request: &RequestState,
) -> Result<Option<EscrowState>, TxError> {
    let Some(id) = request.escrow_id else {
        return Ok(None);
    };
    let current = escrow(state, &id)?;
    Ok(matches!(current.status, EscrowStatus::Open | EscrowStatus::Delivered).then_some(current))
}

/// Read-only checks of a `DataResponse` signed by `signer`.
pub(super) fn validate_response(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &DataResponse,
) -> Result<(), TxError> {
    let current = request(state, &body.request_id)?;
    if current.owner_address != signer {
        return Err(TxError::NotOwner);
    }
    if current.status != RequestStatus::Open {
        return Err(TxError::WrongStatus {
            what: "request",
            status: format!("{:?}", current.status).to_lowercase(),
            reason: "only an open request is answered",
        });
    }
    require_live("request", current.expires_at, ctx.time)?;
    if !body.approved {
        if body.grant_id.is_some() {
            return Err(TxError::Invalid("a rejection names no grant".into()));
        }
        return Ok(());
    }
    if let Some(grant_id) = &body.grant_id {
        let answer = grant(state, grant_id)?;
        if answer.grantor != signer {
            return Err(TxError::NotParty {
                role: "grant's grantor (the owner asked)",
            });
        }
        if answer.grantee_address != current.requester {
            return Err(TxError::Invalid(
                "the grant answering a request is to its requester".into(),
            ));
        }
        if !in_force(&answer, ctx.time) {
            return Err(TxError::WrongStatus {
                what: "grant",
                status: format!("{:?}", answer.status).to_lowercase(),
                reason: "the grant answering a request must be in force",
            });
        }
    }
    if current.price > 0 && funding_escrow(state, &current)?.is_none() {
        return Err(TxError::PaymentMissing {
            price: current.price,
        });
    }
    Ok(())
}

/// Writes a validated `DataResponse`: the request approved or rejected; a rejection
/// refunds its escrow.
pub(super) fn apply_response(state: &mut Layer<'_>, body: &DataResponse) -> Result<(), TxError> {
    let mut current = request(state, &body.request_id)?;
    if body.approved {
        current.status = RequestStatus::Approved;
        current.grant_id = body.grant_id;
    } else {
        current.status = RequestStatus::Rejected;
        if let Some(funding) = funding_escrow(state, &current)? {
            refund(state, funding)?;
        }
    }
    state.put_value(state_key::request(&body.request_id), &current);
    Ok(())
}
