//! The token: the fee schedule, the issuance reserves kept in provable state, and the
//! fee a transaction must pay.
//!
//! Issuance follows the seed: of the total supply, phase 1 (50%) reimburses data
//! producers' put fees until exhausted, phase 2 (30%) is for bulk grants to agent nodes,
//! phase 3 (20%) is sold to providers and early users (the genesis' initial balances come
//! out of it). Invariant: balances + reserves == total supply.

use std::sync::OnceLock;

use carchain_core::protocol::{TxBody, state_key};
use jmt::KeyHash;

use super::error::TxError;

/// Fees of the chain, fixed at genesis (the protocol's schedule).
pub use carchain_core::protocol::FeeSchedule;

/// An issuance reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reimburses data producers' put fees.
    One,
    /// Bulk grants to agent nodes.
    Two,
    /// Sold to providers and early users.
    Three,
}

impl Phase {
    /// Every phase.
    pub const ALL: [Phase; 3] = [Phase::One, Phase::Two, Phase::Three];

    /// The `state_key::meta` name of the phase's remaining reserve.
    pub fn meta_name(self) -> &'static str {
        match self {
            Phase::One => "reserve/phase1",
            Phase::Two => "reserve/phase2",
            Phase::Three => "reserve/phase3",
        }
    }

    /// The tree key of the phase's remaining reserve (a canonical `u64`), hashed once
    /// per process (every record put reads and writes phase 1's).
    pub fn key(self) -> KeyHash {
        static KEYS: [OnceLock<KeyHash>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match self {
            Phase::One => &KEYS[0],
            Phase::Two => &KEYS[1],
            Phase::Three => &KEYS[2],
        };
        *slot.get_or_init(|| state_key::meta(self.meta_name()))
    }
}

/// The `state_key::meta` name of the total supply (a canonical `u64`).
pub const TOTAL_SUPPLY_META: &str = "supply/total";

/// The reserves at genesis: 50% / 30% / the rest (20%, so the three add up exactly).
pub fn split_supply(total_supply: u64) -> [u64; 3] {
    let share = |percent: u128| {
        u64::try_from(u128::from(total_supply) * percent / 100).unwrap_or(total_supply)
    };
    let phase1 = share(50);
    let phase2 = share(30);
    let phase3 = total_supply - phase1 - phase2;
    [phase1, phase2, phase3]
}

/// The fee `body` must pay: the base fee, plus `put_per_byte * size` for a record put.
pub fn required_fee(fees: &FeeSchedule, body: &TxBody) -> Result<u64, TxError> {
    fees.required(body)
        .ok_or_else(|| TxError::Invalid("the fee overflows".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supply_splits_fifty_thirty_twenty_and_adds_up() {
        assert_eq!(split_supply(1_000_000), [500_000, 300_000, 200_000]);
        // Rounding goes to phase 3, never loses a unit.
        assert_eq!(split_supply(7), [3, 2, 2]);
        let max = split_supply(u64::MAX);
        assert_eq!(
            max.iter().map(|x| u128::from(*x)).sum::<u128>(),
            u128::from(u64::MAX)
        );
    }

    #[test]
    fn reserve_keys_are_distinct_meta_keys() {
        assert_eq!(Phase::One.key(), state_key::meta("reserve/phase1"));
        assert_ne!(Phase::One.key(), Phase::Two.key());
        assert_ne!(Phase::Two.key(), Phase::Three.key());
    }
}
