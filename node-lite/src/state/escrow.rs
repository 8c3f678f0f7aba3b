//! Rules of paid trades through escrow. Every path is one ledger transaction; times are
//! the ledger clock (the previous block's time).
//!
//! - `EscrowOpen` (buyer = signer): new id, amount > 0, seller is not the buyer. The
//!   amount moves from the buyer's balance into the escrow (rules.rs debits it with the
//!   fee; the total locked is kept under [`LOCKED_META`], so balances + reserves +
//!   locked == total supply). The seller must deliver within [`DELIVERY_WINDOW_MS`].
//!   Naming a request: the buyer is its requester, the seller its owner, the request is
//!   open, live and not yet funded, and the amount covers its price.
//! - `EscrowDeliver` (seller): the escrow is open and its delivery deadline not passed;
//!   a request it pays for must be approved first. Commits `d_hash_root`
//!   ([`carchain_core::protocol::chunk_commitment`] over the delivered chunks).
//! - `EscrowAccept` (buyer): delivered or disputed -> released, funds to the seller.
//! - `EscrowDispute` (buyer): delivered, within [`REVIEW_WINDOW_MS`] of delivery. Fixes
//!   the challenge seed from the parent block's hash (neither party picks the sampled
//!   chunks) and a deadline [`CHALLENGE_WINDOW_MS`] ahead.
//! - `EscrowResolve` (anyone, typically the seller or a validator):
//!   - disputed, `seller_proved` with a proof that verifies against the committed root
//!     for the fixed seed, before the challenge deadline -> released to the seller
//!     (a failing proof is refused: `ChallengeFailed`);
//!   - disputed, not `seller_proved`, once the challenge deadline passed unanswered ->
//!     refunded to the buyer;
//!   - delivered and undisputed, `seller_proved`, once the review window passed ->
//!     released (a silent buyer does not lock the seller's pay forever).
//! - `EscrowRefund` (buyer): still undelivered after the delivery deadline -> refunded.

use carchain_core::protocol::{
    AccountState, EscrowDeliver, EscrowOpen, EscrowRef, EscrowResolve, EscrowState, EscrowStatus,
    RequestStatus, challenge_seed, state_key,
};

use super::error::TxError;
use super::layer::Layer;
use super::lookup::{credit, load, require_live, require_unused};
use super::requests::request;
use super::rules::ExecContext;

/// The seller must deliver within this long after the escrow opens (3 days).
pub const DELIVERY_WINDOW_MS: u64 = 3 * 24 * 3600 * 1000;
/// The buyer may dispute a delivery within this long (3 days); after it the seller may
/// release the funds.
pub const REVIEW_WINDOW_MS: u64 = 3 * 24 * 3600 * 1000;
/// The seller must answer a possession challenge within this long (1 day).
pub const CHALLENGE_WINDOW_MS: u64 = 24 * 3600 * 1000;

/// The `state_key::meta` name of the total locked in escrows (a canonical `u64`).
pub const LOCKED_META: &str = "escrow/locked";

/// The escrow `id`, or `NotFound`.
pub(super) fn escrow(state: &Layer<'_>, id: &[u8; 32]) -> Result<EscrowState, TxError> {
    load(state, state_key::escrow(id), "escrow", id)
}

fn wrong_status(current: &EscrowState, reason: &'static str) -> TxError {
    TxError::WrongStatus {
        what: "escrow",
        status: format!("{:?}", current.status).to_lowercase(),
        reason,
    }
}

fn require_party(actual: &str, signer: &str, role: &'static str) -> Result<(), TxError> {
    if actual == signer {
        Ok(())
    } else {
        Err(TxError::NotParty { role })
    }
}

fn require_status(
    current: &EscrowState,
    allowed: &[EscrowStatus],
    reason: &'static str,
) -> Result<(), TxError> {
    if allowed.contains(&current.status) {
        Ok(())
    } else {
        Err(wrong_status(current, reason))
    }
}

fn too_early(what: &'static str, until: u64, now: u64) -> Result<(), TxError> {
    if now >= until {
        Ok(())
    } else {
        Err(TxError::TooEarly { what, until, now })
    }
}

/// Adds `delta` to (or, negative, takes it from) the total locked.
fn change_locked(state: &mut Layer<'_>, amount: u64, lock: bool) -> Result<(), TxError> {
    let key = state_key::meta(LOCKED_META);
    let locked: u64 = state.get(key)?.unwrap_or(0);
    let next = if lock {
        credit(locked, amount)?
    } else {
        locked
            .checked_sub(amount)
            .ok_or_else(|| TxError::Storage("escrow total below an escrow".into()))?
    };
    state.put_value(key, &next);
    Ok(())
}

/// Pays the escrow's amount out to `to` and marks it `status`.
fn pay_out(
    state: &mut Layer<'_>,
    mut current: EscrowState,
    to: &str,
    status: EscrowStatus,
) -> Result<(), TxError> {
    let key = state_key::account(to);
    let mut account: AccountState = state.get(key)?.unwrap_or_default();
    account.balance = credit(account.balance, current.amount)?;
    state.put_value(key, &account);
    change_locked(state, current.amount, false)?;
    current.status = status;
    state.put_value(state_key::escrow(&current.escrow_id), &current);
    Ok(())
}

/// Returns the escrow's funds to its buyer (`Refunded`).
pub(super) fn refund(state: &mut Layer<'_>, current: EscrowState) -> Result<(), TxError> {
    let buyer = current.buyer.clone();
    pay_out(state, current, &buyer, EscrowStatus::Refunded)
}

fn release(state: &mut Layer<'_>, current: EscrowState) -> Result<(), TxError> {
    let seller = current.seller.clone();
    pay_out(state, current, &seller, EscrowStatus::Released)
}

/// Read-only checks of an `EscrowOpen` signed by `signer` (the buyer).
pub(super) fn validate_open(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &EscrowOpen,
) -> Result<(), TxError> {
    require_unused(
        state,
        state_key::escrow(&body.escrow_id),
        "escrow",
        &body.escrow_id,
    )?;
    if body.amount == 0 {
        return Err(TxError::Invalid("an escrow locks a positive amount".into()));
    }
    if body.seller == signer {
        return Err(TxError::Invalid("the seller cannot be the buyer".into()));
    }
    if let Some(request_id) = &body.request_id {
        let paid_for = request(state, request_id)?;
        require_party(&paid_for.requester, signer, "request's requester")?;
        if paid_for.owner_address != body.seller {
            return Err(TxError::Invalid(
                "the seller of a request's escrow is the owner asked".into(),
            ));
        }
        if paid_for.status != RequestStatus::Open || paid_for.escrow_id.is_some() {
            return Err(TxError::WrongStatus {
                what: "request",
                status: format!("{:?}", paid_for.status).to_lowercase(),
                reason: "an escrow pays for an open request not yet funded",
            });
        }
        require_live("request", paid_for.expires_at, ctx.time)?;
        if body.amount < paid_for.price {
            return Err(TxError::Invalid(format!(
                "escrow amount {} is below the request price {}",
                body.amount, paid_for.price
            )));
        }
    }
    Ok(())
}

/// Writes a validated `EscrowOpen` (the buyer's balance is already debited).
pub(super) fn apply_open(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &EscrowOpen,
) -> Result<(), TxError> {
    change_locked(state, body.amount, true)?;
    if let Some(request_id) = &body.request_id {
        let mut paid_for = request(state, request_id)?;
        paid_for.escrow_id = Some(body.escrow_id);
        state.put_value(state_key::request(request_id), &paid_for);
    }
    state.put_value(
        state_key::escrow(&body.escrow_id),
        &EscrowState {
            escrow_id: body.escrow_id,
            buyer: signer.to_owned(),
            seller: body.seller.clone(),
            amount: body.amount,
            request_id: body.request_id,
            d_hash_root: None,
            status: EscrowStatus::Open,
            height: ctx.height,
            deliver_by: ctx.time.saturating_add(DELIVERY_WINDOW_MS),
            delivered_at: None,
            challenge_seed: None,
            challenge_deadline: None,
        },
    );
    Ok(())
}

/// Checks and writes an `EscrowDeliver` signed by `signer` (the seller).
pub(super) fn deliver(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &EscrowDeliver,
) -> Result<(), TxError> {
    let mut current = escrow(state, &body.escrow_id)?;
    require_party(&current.seller, signer, "escrow's seller")?;
    require_status(
        &current,
        &[EscrowStatus::Open],
        "only an open escrow is delivered",
    )?;
    require_live("escrow delivery window", Some(current.deliver_by), ctx.time)?;
    if let Some(request_id) = &current.request_id {
        let paid_for = request(state, request_id)?;
        if paid_for.status != RequestStatus::Approved {
            return Err(TxError::WrongStatus {
                what: "request",
                status: format!("{:?}", paid_for.status).to_lowercase(),
                reason: "the owner approves a request before delivering it",
            });
        }
    }
    current.status = EscrowStatus::Delivered;
    current.d_hash_root = Some(body.d_hash_root);
    current.delivered_at = Some(ctx.time);
    state.put_value(state_key::escrow(&body.escrow_id), &current);
    Ok(())
}

/// Checks and writes an `EscrowAccept` signed by `signer` (the buyer).
pub(super) fn accept(state: &mut Layer<'_>, signer: &str, body: &EscrowRef) -> Result<(), TxError> {
    let current = escrow(state, &body.escrow_id)?;
    require_party(&current.buyer, signer, "escrow's buyer")?;
    require_status(
        &current,
        &[EscrowStatus::Delivered, EscrowStatus::Disputed],
        "only a delivery is accepted",
    )?;
    release(state, current)
}

/// Checks and writes an `EscrowDispute` signed by `signer` (the buyer).
pub(super) fn dispute(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &EscrowRef,
) -> Result<(), TxError> {
    let mut current = escrow(state, &body.escrow_id)?;
    require_party(&current.buyer, signer, "escrow's buyer")?;
    require_status(
        &current,
        &[EscrowStatus::Delivered],
        "only a delivery is disputed",
    )?;
    let delivered_at = current.delivered_at.unwrap_or(0);
    require_live(
        "escrow review window",
        Some(delivered_at.saturating_add(REVIEW_WINDOW_MS)),
        ctx.time,
    )?;
    current.status = EscrowStatus::Disputed;
    current.challenge_seed = Some(challenge_seed(&body.escrow_id, &ctx.parent_hash));
    current.challenge_deadline = Some(ctx.time.saturating_add(CHALLENGE_WINDOW_MS));
    state.put_value(state_key::escrow(&body.escrow_id), &current);
    Ok(())
}

/// Checks and writes an `EscrowResolve` (any signer; see the module doc).
pub(super) fn resolve(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    body: &EscrowResolve,
) -> Result<(), TxError> {
    let current = escrow(state, &body.escrow_id)?;
    match (current.status, body.seller_proved) {
        (EscrowStatus::Disputed, true) => {
            let deadline = current.challenge_deadline.unwrap_or(0);
            require_live("possession challenge", Some(deadline), ctx.time)?;
            let (Some(root), Some(seed)) = (current.d_hash_root, current.challenge_seed) else {
                return Err(TxError::Storage(
                    "disputed escrow without a challenge".into(),
                ));
            };
            let proof = body.proof.as_ref().ok_or_else(|| {
                TxError::ChallengeFailed("the seller's openings are missing".into())
            })?;
            proof
                .verify(&root, &seed)
                .map_err(|e| TxError::ChallengeFailed(e.to_string()))?;
            release(state, current)
        }
        (EscrowStatus::Disputed, false) => {
            let deadline = current.challenge_deadline.unwrap_or(0);
            too_early("possession challenge", deadline, ctx.time)?;
            refund(state, current)
        }
        (EscrowStatus::Delivered, true) => {
            let until = current
                .delivered_at
                .unwrap_or(0)
                .saturating_add(REVIEW_WINDOW_MS);
            too_early("escrow review window", until, ctx.time)?;
            release(state, current)
        }
        _ => Err(wrong_status(
            &current,
            "resolve settles a dispute, or releases an undisputed delivery after review",
        )),
    }
}

/// Checks and writes an `EscrowRefund` signed by `signer` (the buyer).
pub(super) fn refund_undelivered(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signer: &str,
    body: &EscrowRef,
) -> Result<(), TxError> {
    let current = escrow(state, &body.escrow_id)?;
    require_party(&current.buyer, signer, "escrow's buyer")?;
    require_status(
        &current,
        &[EscrowStatus::Open],
        "only an undelivered escrow is refunded",
    )?;
    too_early("escrow delivery window", current.deliver_by, ctx.time)?;
    refund(state, current)
}
