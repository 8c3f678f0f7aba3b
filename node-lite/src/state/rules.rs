//! The rules every transaction passes, in order: stateless checks (chain, signature,
//! address forms), nonce, fee, the kind's own rules, then the fee and
//! nonce are charged and the kind's effects written.

use carchain_core::protocol::{AccountState, SignedTransaction, TxBody, state_key};
use carchain_core::record::FormatRegistry;

use super::bodies;
use super::error::TxError;
use super::layer::Layer;
use super::lookup::credit;
use super::token::{FeeSchedule, Phase, required_fee};

/// Chain-wide parameters the rules need (from the genesis file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainParams {
    /// The chain id transactions must name.
    pub chain_id: String,
    /// The address network transactions must name.
    pub network: carchain_core::protocol::Network,
    /// The fee schedule.
    pub fees: FeeSchedule,
    /// The account fees are paid to (the block producer's operator).
    pub operator_address: String,
    /// The fee stamp rules, when genesis names a stamp issuer.
    pub stamps: Option<StampRules>,
    /// Proof-of-stake parameters.
    pub stake: super::stake::StakeParams,
}

/// How record puts pay with fee stamps (see `carchain_core::protocol::fee_stamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampRules {
    /// The issuer's blind-signature public key (from genesis).
    pub issuer: carchain_core::tokens::IssuerPublicKey,
    /// The escrow account stamp payments go to and stamped fees come from.
    pub escrow_address: String,
    /// Price of one stamp, and the most fee one stamp pays.
    pub price: u64,
}

/// Where a transaction executes: the chain, the block and the known formats.
pub struct ExecContext<'a> {
    /// The chain parameters.
    pub params: &'a ChainParams,
    /// The known record formats.
    pub formats: &'a FormatRegistry,
    /// Height of the block being built (or the next one, for `check_tx`).
    pub height: u64,
    /// The ledger clock: the time (unix ms) of the block before the one being built.
    /// Expiries and escrow deadlines are judged against it, so every node agrees.
    pub time: u64,
    /// Hash of the block before the one being built (seeds possession challenges).
    pub parent_hash: [u8; 32],
}

/// What a delivered transaction did with its fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOutcome {
    /// The transaction id.
    pub tx_id: [u8; 32],
    /// Paid from the signer's balance.
    pub fee_from_balance: u64,
    /// Paid by the phase-1 reserve (record puts).
    pub fee_reimbursed: u64,
    /// Paid from the stamp escrow (a record put carrying a fee stamp).
    pub fee_from_stamp: u64,
}

/// Checks the nonce: `Replay` below the account's nonce or below `expected` (already
/// pending), `BadNonce` above `expected`.
fn check_nonce(account_nonce: u64, expected: u64, got: u64) -> Result<(), TxError> {
    if got < account_nonce || got < expected {
        return Err(TxError::Replay { expected, got });
    }
    if got > expected {
        return Err(TxError::BadNonce { expected, got });
    }
    Ok(())
}

/// Whether the state machine must run the stateless checks (chain, signatures, address forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stateless {
    /// Run them.
    Check,
    /// They already passed for this very transaction (same id) on this chain.
    Passed,
}

/// What the rules derive from a transaction's bytes, computed once per transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The transaction id.
    pub id: [u8; 32],
    /// The signer's account address.
    pub signer: String,
}

impl Derived {
    /// The id and signer address of `signed`.
    pub fn of(signed: &SignedTransaction) -> Self {
        Derived {
            id: signed.id(),
            signer: signed.tx.signer_address(),
        }
    }
}

/// Runs every rule on `signed` (whose id and signer address are `derived`, i.e.
/// `Derived::of(signed)`) and writes its effects into `state`.
///
/// `expected_nonce` overrides the account's nonce as the one expected (the mempool's next
/// pending nonce of the signer); `None` expects the account's own nonce.
pub fn execute(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    derived: &Derived,
    expected_nonce: Option<u64>,
    stateless: Stateless,
) -> Result<TxOutcome, TxError> {
    let checked = check(state, ctx, signed, derived, expected_nonce, stateless)?;
    write_effects(state, ctx, signed, derived, checked)
}

/// The admission check of `signed`: [`execute`]'s answer without keeping its effects.
/// Effects that cannot be refused once the checks pass
/// ([`bodies::apply_cannot_refuse`]) are not written at all; other kinds run in full (on
/// `state`, which the caller drops).
pub fn admit(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    derived: &Derived,
    expected_nonce: Option<u64>,
    stateless: Stateless,
) -> Result<(), TxError> {
    let checked = check(state, ctx, signed, derived, expected_nonce, stateless)?;
    if bodies::apply_cannot_refuse(&signed.tx.body) {
        return Ok(());
    }
    write_effects(state, ctx, signed, derived, checked).map(|_| ())
}

/// What [`check`] read and computed, for [`write_effects`].
struct Checked {
    signer_key: jmt::KeyHash,
    account: AccountState,
    phase1: u64,
    reimbursed: u64,
    fee_from_balance: u64,
    needed: u64,
    stamp: Option<StampPayment>,
}

/// A fee stamp that passed its checks: what [`write_effects`] records and debits.
struct StampPayment {
    spent_key: jmt::KeyHash,
    escrow_key: jmt::KeyHash,
    escrow: AccountState,
    fee: u64,
}

/// Checks the fee stamp of a record put, if it carries one: the chain names a stamp
/// issuer, the stamp is the issuer's and bound to this put, it was never spent, the fee
/// is within a stamp's value and the escrow holds it.
fn check_stamp(
    state: &mut Layer<'_>,
    params: &ChainParams,
    signed: &SignedTransaction,
) -> Result<Option<StampPayment>, TxError> {
    let TxBody::RecordPut(put) = &signed.tx.body else {
        return Ok(None);
    };
    let Some(stamp) = &put.stamp else {
        return Ok(None);
    };
    let rules = params
        .stamps
        .as_ref()
        .ok_or_else(|| TxError::StampInvalid("this chain names no stamp issuer".into()))?;
    let fee = signed.tx.fee;
    if fee > rules.price {
        return Err(TxError::StampInvalid(format!(
            "a stamp pays a fee of at most {}, not {fee}",
            rules.price
        )));
    }
    let token = stamp
        .verify(&rules.issuer, &params.chain_id, &signed.tx.signer, &put.key)
        .map_err(|fault| TxError::StampInvalid(fault.to_string()))?;
    let spent_key = state_key::spent_stamp(&token.token_id());
    if state.get::<u64>(spent_key)?.is_some() {
        return Err(TxError::StampSpent);
    }
    let escrow_key = state_key::account(&rules.escrow_address);
    let escrow: AccountState = state.get(escrow_key)?.unwrap_or_default();
    if escrow.balance < fee {
        return Err(TxError::StampEscrowEmpty {
            needed: fee,
            available: escrow.balance,
        });
    }
    Ok(Some(StampPayment {
        spent_key,
        escrow_key,
        escrow,
        fee,
    }))
}

/// Every check of `signed` against `state`, writing nothing.
fn check(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    derived: &Derived,
    expected_nonce: Option<u64>,
    stateless: Stateless,
) -> Result<Checked, TxError> {
    let tx = &signed.tx;
    let params = ctx.params;
    if stateless == Stateless::Check {
        signed
            .check_stateless(&params.chain_id, params.network)
            .map_err(TxError::from_protocol)?;
    }
    let signer = derived.signer.as_str();
    let signer_key = state_key::account(signer);
    let account: AccountState = state.get(signer_key)?.unwrap_or_default();
    check_nonce(
        account.nonce,
        expected_nonce.unwrap_or(account.nonce),
        tx.nonce,
    )?;
    let required = required_fee(&params.fees, &tx.body)?;
    if tx.fee < required {
        return Err(TxError::FeeTooLow {
            required,
            offered: tx.fee,
        });
    }
    bodies::validate(state, ctx, signed, signer)?;
    let stamp = check_stamp(state, params, signed)?;

    // A stamped put's fee comes from the stamp escrow. Otherwise phase 1 reimburses a
    // put's required fee while it lasts; the rest is the signer's.
    let phase1: u64 = state.get(Phase::One.key())?.unwrap_or(0);
    let reimbursed = match tx.body {
        TxBody::RecordPut(_) if stamp.is_none() => required.min(phase1),
        _ => 0,
    };
    let fee_from_balance = match stamp {
        Some(_) => 0,
        None => tx.fee - reimbursed,
    };
    // A transfer's amount goes to its recipient; an escrow's is locked (see escrow.rs),
    // a bond's is bonded (see stake.rs).
    let amount = match &tx.body {
        TxBody::Transfer(transfer) => transfer.amount,
        TxBody::EscrowOpen(open) => open.amount,
        TxBody::Bond(bond) => bond.amount,
        _ => 0,
    };
    let needed = credit(fee_from_balance, amount)?;
    if account.balance < needed {
        return Err(TxError::InsufficientBalance {
            needed,
            available: account.balance,
        });
    }
    Ok(Checked {
        signer_key,
        account,
        phase1,
        reimbursed,
        fee_from_balance,
        needed,
        stamp,
    })
}

/// Writes the effects of `signed`, whose checks passed (`checked`), into `state`.
fn write_effects(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    signed: &SignedTransaction,
    derived: &Derived,
    checked: Checked,
) -> Result<TxOutcome, TxError> {
    let tx = &signed.tx;
    let params = ctx.params;
    let Checked {
        signer_key,
        account,
        phase1,
        reimbursed,
        fee_from_balance,
        needed,
        stamp,
    } = checked;
    state.put_value(
        signer_key,
        &AccountState {
            balance: account.balance - needed,
            nonce: tx.nonce.saturating_add(1),
        },
    );
    if reimbursed > 0 {
        state.put_value(Phase::One.key(), &(phase1 - reimbursed));
    }
    let fee_from_stamp = stamp.as_ref().map_or(0, |paid| paid.fee);
    if let Some(paid) = stamp {
        state.put_value(
            paid.escrow_key,
            &AccountState {
                balance: paid.escrow.balance - paid.fee,
                nonce: paid.escrow.nonce,
            },
        );
        // The spent set: the stamp's id, valued with the height that spent it.
        state.put_value(paid.spent_key, &ctx.height);
    }
    let operator_key = state_key::account(&params.operator_address);
    let mut operator: AccountState = state.get(operator_key)?.unwrap_or_default();
    operator.balance = credit(operator.balance, tx.fee)?;
    state.put_value(operator_key, &operator);

    let tx_id = derived.id;
    bodies::apply(state, ctx, signed, &tx_id, derived.signer.as_str())?;
    Ok(TxOutcome {
        tx_id,
        fee_from_balance,
        fee_reimbursed: reimbursed,
        fee_from_stamp,
    })
}
