//! Shared helpers of the grant, request and escrow rules: loading a ledger item by id
//! with a typed refusal when it is missing, refusing a reused id, and expiry checks
//! against the ledger clock.

use carchain_core::protocol::Canonical;
use jmt::KeyHash;

use super::error::TxError;
use super::layer::{Layer, StateRead};

/// The hex form of an id, for refusals.
pub(super) fn hex_id(id: &[u8; 32]) -> String {
    hex::encode(id)
}

/// The item `what` with id `id` under `key`, or `NotFound`.
pub(super) fn load<T: Canonical>(
    state: &Layer<'_>,
    key: KeyHash,
    what: &'static str,
    id: &[u8; 32],
) -> Result<T, TxError> {
    state.get(key)?.ok_or_else(|| TxError::NotFound {
        what,
        id: hex_id(id),
    })
}

/// `DuplicateId` when something is already stored under `key` (ids are never reused,
/// so a replayed grant, request or escrow is refused).
pub(super) fn require_unused(
    state: &Layer<'_>,
    key: KeyHash,
    what: &'static str,
    id: &[u8; 32],
) -> Result<(), TxError> {
    match state.read(key)? {
        Some(_) => Err(TxError::DuplicateId {
            what,
            id: hex_id(id),
        }),
        None => Ok(()),
    }
}

/// Whether an item with `expires_at` is still live at ledger time `now` (it expires at
/// that instant: live strictly before it).
pub fn live_at(expires_at: Option<u64>, now: u64) -> bool {
    expires_at.is_none_or(|at| now < at)
}

/// `Expired` unless the item is live at `now`.
pub(super) fn require_live(
    what: &'static str,
    expires_at: Option<u64>,
    now: u64,
) -> Result<(), TxError> {
    match expires_at {
        Some(at) if !live_at(expires_at, now) => Err(TxError::Expired {
            what,
            expired_at: at,
            now,
        }),
        _ => Ok(()),
    }
}

/// `balance + amount`, refusing an overflow.
pub(super) fn credit(balance: u64, amount: u64) -> Result<u64, TxError> {
    balance
        .checked_add(amount)
        .ok_or_else(|| TxError::Invalid("balance overflows".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_expires_at_its_expiry_instant() {
        assert!(live_at(None, u64::MAX));
        assert!(live_at(Some(10), 9));
        assert!(!live_at(Some(10), 10));
        assert_eq!(require_live("grant", Some(10), 9), Ok(()));
        assert_eq!(
            require_live("grant", Some(10), 11),
            Err(TxError::Expired {
                what: "grant",
                expired_at: 10,
                now: 11
            })
        );
    }

    #[test]
    fn credit_refuses_overflow() {
        assert_eq!(credit(1, 2), Ok(3));
        assert!(credit(u64::MAX, 1).is_err());
    }
}
