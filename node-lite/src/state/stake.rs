//! Proof-of-stake rules: `Bond` and `Unbond`, the release of matured unbondings at the
//! end of a block, and the validators whose voting power a block changed (what
//! FinalizeBlock hands CometBFT as validator updates).
//!
//! State (see `carchain_core::protocol::stake`): per (validator, account) a
//! [`Delegation`], per validator a [`ValidatorStake`] (bonded total and power = bonded /
//! power unit), per release height an [`UnbondingQueue`], and chain-wide totals under
//! [`BONDED_META`], [`UNBONDING_META`] and [`POWER_META`]. A bond's amount leaves the
//! signer's balance (charged with the fee by the rules), so balances + reserves +
//! escrows + bonded + unbonding == total supply.

use std::collections::BTreeSet;

use carchain_core::protocol::{
    AccountState, Delegation, MAX_TOTAL_VOTING_POWER, TxBody, UnbondingEntry, UnbondingQueue,
    ValidatorStake, state_key,
};

use super::error::TxError;
use super::layer::{Layer, StateRead};
use super::rules::ExecContext;

/// `state_key::meta` name of the total bonded stake (a canonical `u64`).
pub const BONDED_META: &str = "stake/bonded";
/// `state_key::meta` name of the total stake waiting for its release (a canonical `u64`).
pub const UNBONDING_META: &str = "stake/unbonding";
/// `state_key::meta` name of the total voting power (a canonical `u64`).
pub const POWER_META: &str = "stake/power";

/// Unbonding delay of a chain whose genesis names none, in blocks.
pub const DEFAULT_UNBONDING_BLOCKS: u64 = 10;

/// The stake parameters of a chain (from genesis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StakeParams {
    /// Stake per unit of voting power (at least 1).
    pub power_unit: u64,
    /// Blocks between an unbond and the return of its tokens.
    pub unbonding_blocks: u64,
    /// The validator set comes from the chain's stake (genesis names it): an unbond that
    /// would leave no voting power at all is refused (CometBFT halts on an empty set).
    pub stake_sets_validators: bool,
}

impl Default for StakeParams {
    fn default() -> Self {
        StakeParams {
            power_unit: 1,
            unbonding_blocks: DEFAULT_UNBONDING_BLOCKS,
            stake_sets_validators: false,
        }
    }
}

impl StakeParams {
    /// The voting power of `bonded` stake.
    pub fn power_of(&self, bonded: u64) -> u64 {
        bonded / self.power_unit.max(1)
    }
}

/// A validator whose voting power a block changed, and its new power (0: removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerChange {
    /// The validator's ed25519 consensus public key.
    pub validator: [u8; 32],
    /// Its voting power after the block.
    pub power: u64,
}

/// Whether `key` is an ed25519 public key: 32 bytes that decode to a curve point.
pub fn is_validator_key(key: &[u8; 32]) -> bool {
    ed25519_consensus::VerificationKey::try_from(*key).is_ok()
}

/// The validator a stake body names, if `body` is one.
pub fn validator_of(body: &TxBody) -> Option<[u8; 32]> {
    match body {
        TxBody::Bond(bond) => Some(bond.validator),
        TxBody::Unbond(unbond) => Some(unbond.validator),
        _ => None,
    }
}

fn meta(state: &dyn StateRead, name: &str) -> Result<u64, TxError> {
    let layer = Layer::new(state);
    Ok(layer.get(state_key::meta(name))?.unwrap_or(0))
}

fn common_checks(validator: &[u8; 32], amount: u64) -> Result<(), TxError> {
    if amount == 0 {
        return Err(TxError::StakeZero);
    }
    if !is_validator_key(validator) {
        return Err(TxError::InvalidValidatorKey);
    }
    Ok(())
}

/// The validator's stake after `delta` more (or less) bonded tokens, and the chain's
/// total power after it; refuses a total beyond CometBFT's limit.
fn restake(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    validator: &[u8; 32],
    add: u64,
    sub: u64,
) -> Result<(ValidatorStake, u64), TxError> {
    let stake = &ctx.params.stake;
    let current: ValidatorStake = state
        .get(state_key::validator_stake(validator))?
        .unwrap_or_default();
    let bonded = current
        .bonded
        .checked_add(add)
        .and_then(|b| b.checked_sub(sub))
        .ok_or(TxError::PowerOverflow {
            limit: MAX_TOTAL_VOTING_POWER,
        })?;
    let power = stake.power_of(bonded);
    let total = meta(state, POWER_META)?
        .saturating_sub(current.power)
        .checked_add(power)
        .filter(|total| *total <= MAX_TOTAL_VOTING_POWER)
        .ok_or(TxError::PowerOverflow {
            limit: MAX_TOTAL_VOTING_POWER,
        })?;
    Ok((ValidatorStake { bonded, power }, total))
}

/// Read-only checks of a `Bond` or `Unbond` by `signer` (the bond's amount against the
/// balance is checked with the fee by the rules).
pub(super) fn validate(
    state: &Layer<'_>,
    ctx: &ExecContext<'_>,
    body: &TxBody,
    signer: &str,
) -> Result<(), TxError> {
    match body {
        TxBody::Bond(bond) => {
            common_checks(&bond.validator, bond.amount)?;
            restake(state, ctx, &bond.validator, bond.amount, 0).map(|_| ())
        }
        TxBody::Unbond(unbond) => {
            common_checks(&unbond.validator, unbond.amount)?;
            let delegation: Delegation = state
                .get(state_key::delegation(&unbond.validator, signer))?
                .unwrap_or_default();
            if delegation.bonded < unbond.amount {
                return Err(TxError::InsufficientStake {
                    bonded: delegation.bonded,
                    requested: unbond.amount,
                });
            }
            let (_, total) = restake(state, ctx, &unbond.validator, 0, unbond.amount)?;
            if total == 0 && ctx.params.stake.stake_sets_validators {
                return Err(TxError::LastValidator);
            }
            Ok(())
        }
        other => Err(TxError::Invalid(format!(
            "{} is no stake transaction",
            other.kind_name()
        ))),
    }
}

fn add_meta(state: &mut Layer<'_>, name: &str, add: u64, sub: u64) -> Result<(), TxError> {
    let key = state_key::meta(name);
    let value = meta(state, name)?
        .checked_add(add)
        .and_then(|v| v.checked_sub(sub))
        .ok_or_else(|| TxError::Storage(format!("{name} leaves its range")))?;
    state.put_value(key, &value);
    Ok(())
}

/// Writes a `Bond` or `Unbond` whose checks passed.
pub(super) fn apply(
    state: &mut Layer<'_>,
    ctx: &ExecContext<'_>,
    body: &TxBody,
    signer: &str,
) -> Result<(), TxError> {
    let (validator, bond, unbond) = match body {
        TxBody::Bond(b) => (b.validator, b.amount, 0),
        TxBody::Unbond(u) => (u.validator, 0, u.amount),
        other => {
            return Err(TxError::Invalid(format!(
                "{} is no stake transaction",
                other.kind_name()
            )));
        }
    };
    let (stake, total) = restake(state, ctx, &validator, bond, unbond)?;
    let delegation_key = state_key::delegation(&validator, signer);
    let mut delegation: Delegation = state.get(delegation_key)?.unwrap_or_default();
    let overflow = || TxError::Storage("a delegation leaves its range".into());
    delegation.bonded = delegation
        .bonded
        .checked_add(bond)
        .and_then(|b| b.checked_sub(unbond))
        .ok_or_else(overflow)?;
    delegation.unbonding = delegation
        .unbonding
        .checked_add(unbond)
        .ok_or_else(overflow)?;
    state.put_value(delegation_key, &delegation);
    state.put_value(state_key::validator_stake(&validator), &stake);
    state.put_value(state_key::meta(POWER_META), &total);
    add_meta(state, BONDED_META, bond, unbond)?;
    if unbond > 0 {
        add_meta(state, UNBONDING_META, unbond, 0)?;
        let release = ctx.height.saturating_add(ctx.params.stake.unbonding_blocks);
        let queue_key = state_key::unbonding_queue(release);
        let mut queue: UnbondingQueue = state.get(queue_key)?.unwrap_or_default();
        queue.entries.push(UnbondingEntry {
            validator,
            delegator: signer.to_owned(),
            amount: unbond,
        });
        state.put_value(queue_key, &queue);
    }
    Ok(())
}

/// End of the block at `height`: the unbondings due at it return to their accounts and
/// the queue is removed.
pub(super) fn end_block(state: &mut Layer<'_>, height: u64) -> Result<(), TxError> {
    let queue_key = state_key::unbonding_queue(height);
    let Some(queue) = state.get::<UnbondingQueue>(queue_key)? else {
        return Ok(());
    };
    let mut released = 0u64;
    for entry in &queue.entries {
        let account_key = state_key::account(&entry.delegator);
        let mut account: AccountState = state.get(account_key)?.unwrap_or_default();
        account.balance = account
            .balance
            .checked_add(entry.amount)
            .ok_or_else(|| TxError::Storage("an unbonding overflows a balance".into()))?;
        state.put_value(account_key, &account);
        let delegation_key = state_key::delegation(&entry.validator, &entry.delegator);
        let mut delegation: Delegation = state.get(delegation_key)?.unwrap_or_default();
        delegation.unbonding = delegation
            .unbonding
            .checked_sub(entry.amount)
            .ok_or_else(|| TxError::Storage("an unbonding exceeds its delegation".into()))?;
        state.put_value(delegation_key, &delegation);
        released = released.saturating_add(entry.amount);
    }
    add_meta(state, UNBONDING_META, 0, released)?;
    state.delete(queue_key);
    Ok(())
}

/// The validators of `touched` whose power differs between `before` and `after` the
/// block, with their new power, in key order.
pub fn power_changes(
    before: &dyn StateRead,
    after: &dyn StateRead,
    touched: &BTreeSet<[u8; 32]>,
) -> Result<Vec<PowerChange>, TxError> {
    let (before, after) = (Layer::new(before), Layer::new(after));
    let mut changes = Vec::new();
    for validator in touched {
        let key = state_key::validator_stake(validator);
        let old = before.get::<ValidatorStake>(key)?.unwrap_or_default().power;
        let new = after.get::<ValidatorStake>(key)?.unwrap_or_default().power;
        if old != new {
            changes.push(PowerChange {
                validator: *validator,
                power: new,
            });
        }
    }
    Ok(changes)
}
