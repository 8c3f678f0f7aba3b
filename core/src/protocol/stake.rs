//! Proof of stake: the `Bond` and `Unbond` transaction bodies, and the stake values kept
//! in the authenticated state tree.
//!
//! An account bonds tokens to a validator, named by its ed25519 consensus public key (the
//! key CometBFT signs votes with). A validator's voting power is its bonded stake divided
//! by the chain's power unit (a genesis parameter). Unbonding takes tokens out of the
//! bond at once (the power drops in the same block) and returns them to the account
//! after the chain's unbonding delay, in blocks; until then they are pending in an
//! unbonding queue keyed by the height that releases them.
//!
//! Canonical forms follow [`super::codec`]: a validator key is 32 raw bytes, amounts are
//! big-endian `u64`. Adding these kinds (19 and 20) changed no existing layout, so the
//! transaction format stays v3.

use serde::{Deserialize, Serialize};

use super::codec::canonical_struct;
use super::serde_hex;

/// The largest total voting power CometBFT accepts (`MaxTotalVotingPower`, the largest
/// `int64` divided by 8): the rules refuse a bond that would exceed it.
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX as u64) / 8;

/// The signer bonds `amount` of its balance to `validator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bond {
    /// The validator's ed25519 consensus public key.
    #[serde(with = "serde_hex::fixed")]
    pub validator: [u8; 32],
    /// Tokens to bond, in the token's smallest unit (more than zero).
    pub amount: u64,
}
canonical_struct!(Bond { validator, amount });

/// The signer unbonds `amount` of what it bonded to `validator`: the validator's power
/// drops at once; the tokens return to the signer after the unbonding delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unbond {
    /// The validator's ed25519 consensus public key.
    #[serde(with = "serde_hex::fixed")]
    pub validator: [u8; 32],
    /// Tokens to unbond (more than zero, at most what the signer has bonded to it).
    pub amount: u64,
}
canonical_struct!(Unbond { validator, amount });

/// One account's stake with one validator (`state_key::delegation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// Tokens bonded now (they weigh in the validator's power).
    pub bonded: u64,
    /// Tokens unbonded and waiting for their release height.
    pub unbonding: u64,
}
canonical_struct!(Delegation { bonded, unbonding });

/// A validator's total stake and voting power (`state_key::validator_stake`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorStake {
    /// Every account's bonded tokens with this validator.
    pub bonded: u64,
    /// `bonded / power unit`: the voting power CometBFT gives it (0: not a validator).
    pub power: u64,
}
canonical_struct!(ValidatorStake { bonded, power });

/// Tokens that leave a bond and return to `delegator` at the queue's height.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnbondingEntry {
    /// The validator the tokens were bonded to.
    #[serde(with = "serde_hex::fixed")]
    pub validator: [u8; 32],
    /// The account they return to.
    pub delegator: String,
    /// How many.
    pub amount: u64,
}
canonical_struct!(UnbondingEntry {
    validator,
    delegator,
    amount
});

/// The unbondings the block at one height releases (`state_key::unbonding_queue`), in
/// the order their transactions executed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnbondingQueue {
    /// The entries.
    pub entries: Vec<UnbondingEntry>,
}
canonical_struct!(UnbondingQueue { entries });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_fixtures::{assert_pinned, assert_round_trips};

    #[test]
    fn layouts_are_pinned_and_round_trip() {
        let bond = Bond {
            validator: [0x11; 32],
            amount: 1_000,
        };
        assert_pinned(&bond, &format!("{}{}", "11".repeat(32), "00000000000003e8"));
        let delegation = Delegation {
            bonded: 5,
            unbonding: 7,
        };
        assert_pinned(&delegation, "00000000000000050000000000000007");
        let queue = UnbondingQueue {
            entries: vec![UnbondingEntry {
                validator: [0x22; 32],
                delegator: "bcrt1qx".into(),
                amount: 3,
            }],
        };
        assert_round_trips(&queue);
        let json = serde_json::to_string(&queue).unwrap_or_default();
        assert!(json.contains(&"22".repeat(32)), "{json}");
    }

    #[test]
    fn the_power_cap_is_cometbft_s() {
        assert_eq!(MAX_TOTAL_VOTING_POWER, 1_152_921_504_606_846_975);
    }
}
