//! Proof-of-stake rules: a bond moves balance into stake and sets the validator's power,
//! an unbond drops the power at once and returns the tokens after the unbonding delay,
//! every refusal has its code and changes nothing, a block reports exactly the
//! validators whose power it changed, and genesis stake builds the starting set.

use carchain_core::protocol::{Bond, Delegation, Unbond, UnbondingQueue, ValidatorStake};

use super::*;
use crate::genesis::{GenesisError, GenesisStake};
use crate::state::stake::{BONDED_META, POWER_META, UNBONDING_META, is_validator_key};

/// The ed25519 public key of seed `seed`.
pub(crate) fn validator_key(seed: u8) -> [u8; 32] {
    ed25519_consensus::SigningKey::from([seed; 32])
        .verification_key()
        .to_bytes()
}

pub(crate) fn bond(validator: u8, amount: u64) -> TxBody {
    TxBody::Bond(Bond {
        validator: validator_key(validator),
        amount,
    })
}

pub(crate) fn unbond(validator: u8, amount: u64) -> TxBody {
    TxBody::Unbond(Unbond {
        validator: validator_key(validator),
        amount,
    })
}

/// Account 1 holds 100 000, account 2 50 000; power unit `unit`, delay `delay` blocks.
fn chain(unit: u64, delay: u64) -> Chain {
    let mut genesis = genesis_with(1_000_000, &[(1, 100_000), (2, 50_000)]);
    genesis.power_unit = Some(unit);
    genesis.unbonding_blocks = Some(delay);
    Chain::with_genesis(genesis)
}

impl Chain {
    fn delegation(&self, validator: u8, byte: u8) -> Delegation {
        self.get(state_key::delegation(
            &validator_key(validator),
            &address(byte),
        ))
        .unwrap_or_default()
    }

    fn stake(&self, validator: u8) -> ValidatorStake {
        self.get(state_key::validator_stake(&validator_key(validator)))
            .unwrap_or_default()
    }

    fn meta_u64(&self, name: &str) -> u64 {
        self.get(state_key::meta(name)).unwrap_or(0)
    }

    fn changes(&self) -> Vec<(u8, u64)> {
        self.app
            .power_changes()
            .iter()
            .map(|change| {
                let seed = (0..=255u8)
                    .find(|seed| validator_key(*seed) == change.validator)
                    .unwrap_or_else(|| panic!("unknown validator"));
                (seed, change.power)
            })
            .collect()
    }

    fn height(&self) -> u64 {
        self.prev.header.height
    }

    /// The state root of the latest block: a refused transaction leaves it unchanged.
    fn root(&self) -> [u8; 32] {
        self.prev.header.state_root
    }
}

#[test]
fn a_bond_moves_balance_into_stake_and_sets_the_power() {
    let mut chain = chain(100, 3);
    assert!(chain.run(sign(1, 0, 10, bond(1, 10_050))).is_ok());
    assert_eq!(chain.account(1).balance, 100_000 - 10_050 - 10);
    assert_eq!(
        chain.delegation(1, 1),
        Delegation {
            bonded: 10_050,
            unbonding: 0
        }
    );
    assert_eq!(
        chain.stake(1),
        ValidatorStake {
            bonded: 10_050,
            power: 100
        }
    );
    assert_eq!(chain.changes(), vec![(1, 100)]);
    // A second account adds to the same validator; below one unit more, no change.
    assert!(chain.run(sign(2, 0, 10, bond(1, 49))).is_ok());
    assert_eq!(chain.stake(1).power, 100);
    assert_eq!(chain.changes(), vec![]);
    assert!(chain.run(sign(2, 1, 10, bond(1, 1))).is_ok());
    assert_eq!(chain.changes(), vec![(1, 101)]);
    assert_eq!(chain.meta_u64(BONDED_META), 10_100);
    assert_eq!(chain.meta_u64(POWER_META), 101);
    // A transfer block changes no power.
    assert!(chain.run(sign(1, 1, 10, transfer(3, 5))).is_ok());
    assert_eq!(chain.changes(), vec![]);
}

#[test]
fn refused_bonds_have_their_codes_and_change_nothing() {
    let mut chain = chain(1, 3);
    let not_a_point = (0..=255u8)
        .map(|b| [b; 32])
        .find(|key| !is_validator_key(key))
        .unwrap_or_else(|| panic!("every pattern is a point"));
    let bad_key = TxBody::Bond(Bond {
        validator: not_a_point,
        amount: 5,
    });
    let root = chain.root();
    let before = chain.account(1);
    for (body, code) in [
        (bond(1, 0), ErrorCode::StakeAmountZero),
        (bond(1, 100_000), ErrorCode::InsufficientBalance),
        (bad_key, ErrorCode::InvalidValidatorKey),
        (unbond(1, 0), ErrorCode::StakeAmountZero),
        (unbond(1, 1), ErrorCode::InsufficientStake),
    ] {
        assert_eq!(chain.run(sign(1, 0, 10, body)).err(), Some(code));
        assert_eq!(chain.account(1), before);
        assert_eq!(chain.root(), root, "{code:?} changed the state");
    }
    assert_eq!(chain.delegation(1, 1), Delegation::default());
    assert_eq!(chain.meta_u64(BONDED_META), 0);
}

#[test]
fn a_bond_beyond_cometbft_s_total_power_is_refused() {
    // Phase 3 of this supply is ~3.7e18: enough to exceed the ~1.15e18 power cap.
    let big = 2_000_000_000_000_000_000u64;
    let genesis = genesis_with(u64::MAX, &[(1, big)]);
    let mut chain = Chain::with_genesis(genesis);
    let cap = carchain_core::protocol::MAX_TOTAL_VOTING_POWER;
    assert_eq!(
        chain.run(sign(1, 0, 10, bond(1, cap + 1))).err(),
        Some(ErrorCode::PowerOverflow)
    );
    assert!(chain.run(sign(1, 0, 10, bond(1, cap - 5))).is_ok());
    assert_eq!(chain.changes(), vec![(1, cap - 5)]);
    // The cap is on the total over every validator.
    assert_eq!(
        chain.run(sign(1, 1, 10, bond(2, 6))).err(),
        Some(ErrorCode::PowerOverflow)
    );
    assert!(chain.run(sign(1, 1, 10, bond(2, 5))).is_ok());
    assert_eq!(chain.meta_u64(POWER_META), cap);
}

#[test]
fn an_unbond_drops_power_at_once_and_returns_tokens_after_the_delay() {
    let mut chain = chain(10, 3);
    assert!(chain.run(sign(1, 0, 10, bond(1, 10_000))).is_ok());
    assert_eq!(
        chain.run(sign(1, 1, 10, unbond(1, 10_001))).err(),
        Some(ErrorCode::InsufficientStake)
    );
    // Someone else's stake is not the signer's to unbond.
    assert_eq!(
        chain.run(sign(2, 0, 10, unbond(1, 1))).err(),
        Some(ErrorCode::InsufficientStake)
    );
    let balance = chain.account(1).balance;
    assert!(chain.run(sign(1, 1, 10, unbond(1, 4_000))).is_ok());
    let unbonded_at = chain.height();
    assert_eq!(chain.changes(), vec![(1, 600)]);
    assert_eq!(chain.stake(1).power, 600);
    assert_eq!(chain.account(1).balance, balance - 10);
    assert_eq!(
        chain.delegation(1, 1),
        Delegation {
            bonded: 6_000,
            unbonding: 4_000
        }
    );
    let queue: Option<UnbondingQueue> = chain.get(state_key::unbonding_queue(unbonded_at + 3));
    assert_eq!(queue.map(|q| q.entries.len()), Some(1));
    assert_eq!(chain.meta_u64(UNBONDING_META), 4_000);
    // Two more blocks: still waiting.
    assert!(chain.run(sign(2, 0, 10, transfer(3, 1))).is_ok());
    assert!(chain.run(sign(2, 1, 10, transfer(3, 1))).is_ok());
    assert_eq!(chain.account(1).balance, balance - 10);
    // The block at the release height returns them.
    assert!(chain.run(sign(2, 2, 10, transfer(3, 1))).is_ok());
    assert_eq!(chain.height(), unbonded_at + 3);
    assert_eq!(chain.account(1).balance, balance - 10 + 4_000);
    assert_eq!(chain.delegation(1, 1).unbonding, 0);
    assert_eq!(chain.meta_u64(UNBONDING_META), 0);
    let queue: Option<UnbondingQueue> = chain.get(state_key::unbonding_queue(unbonded_at + 3));
    assert_eq!(queue, None, "a released queue is removed");
    assert_eq!(chain.changes(), vec![], "a release changes no power");
}

#[test]
fn unbonding_everything_removes_the_validator_and_a_netted_block_reports_nothing() {
    let mut chain = chain(1, 0);
    assert!(chain.run(sign(1, 0, 10, bond(1, 500))).is_ok());
    assert!(chain.run(sign(1, 1, 10, unbond(1, 500))).is_ok());
    assert_eq!(chain.changes(), vec![(1, 0)]);
    assert_eq!(chain.stake(1), ValidatorStake::default());
    // A delay of 0 releases within the unbond's own block.
    assert_eq!(chain.account(1).balance, 100_000 - 20);
    // Bond and unbond the same amount in one block: power ends where it started.
    let result = chain.block(&[sign(1, 2, 10, bond(2, 300)), sign(1, 3, 10, unbond(2, 300))]);
    assert!(result.outcomes.iter().all(Result::is_ok));
    assert_eq!(chain.changes(), vec![]);
    // Two validators in one block, reported in key order.
    chain.block(&[sign(1, 4, 10, bond(2, 7)), sign(2, 0, 10, bond(1, 9))]);
    let mut expected = vec![(1, 9), (2, 7)];
    expected.sort_by_key(|(seed, _)| validator_key(*seed));
    assert_eq!(chain.changes(), expected);
}

fn staked_genesis() -> Genesis {
    let mut genesis = genesis_with(1_000_000, &[(1, 100_000)]);
    genesis.power_unit = Some(100);
    genesis.unbonding_blocks = Some(2);
    genesis.stake = vec![
        GenesisStake {
            validator: validator_key(1),
            delegator: address(1),
            amount: 50_000,
        },
        GenesisStake {
            validator: validator_key(2),
            delegator: address(2),
            amount: 20_000,
        },
    ];
    genesis
}

#[test]
fn genesis_stake_builds_the_starting_set_and_its_last_power_stays() {
    let genesis = staked_genesis();
    let mut set: Vec<(u8, u64)> = genesis
        .validator_set()
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|c| {
            (
                if c.validator == validator_key(1) {
                    1
                } else {
                    2
                },
                c.power,
            )
        })
        .collect();
    set.sort_unstable();
    assert_eq!(set, vec![(1, 500), (2, 200)]);
    let mut chain = Chain::with_genesis(genesis);
    assert_eq!(chain.reserve(Phase::Three), 200_000 - 100_000 - 70_000);
    assert_eq!(chain.delegation(1, 1).bonded, 50_000);
    assert_eq!(chain.stake(2).power, 200);
    assert_eq!(chain.meta_u64(BONDED_META), 70_000);
    assert_eq!(chain.meta_u64(POWER_META), 700);
    // Both validators may leave but not the last one.
    assert!(chain.run(sign(2, 0, 10, bond(2, 1))).is_err(), "no balance");
    assert!(chain.run(sign(1, 0, 10, unbond(1, 50_000))).is_ok());
    assert_eq!(chain.changes(), vec![(1, 0)]);
    let mut funded = chain.block(&[sign(1, 1, 10, transfer(2, 100))]);
    assert!(funded.outcomes.pop().is_some_and(|o| o.is_ok()));
    assert_eq!(
        chain.run(sign(2, 0, 10, unbond(2, 20_000))).err(),
        Some(ErrorCode::LastValidator)
    );
    assert!(chain.run(sign(2, 0, 10, unbond(2, 19_900))).is_ok());
    assert_eq!(chain.changes(), vec![(2, 1)]);
}

#[test]
fn genesis_without_stake_keeps_its_state_and_old_files_load() {
    let plain = genesis_with(1_000_000, &[(1, 100)]);
    let writes = plain.state().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(writes.len(), 5, "reserves, supply and one account only");
    assert_eq!(plain.validator_set().ok(), Some(vec![]));
    let json = serde_json::to_string(&plain).unwrap_or_default();
    for field in ["stake", "power_unit", "unbonding_blocks"] {
        assert!(!json.contains(field), "{json}");
    }
    let loaded: Genesis = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, plain);
    assert!(!loaded.params().stake.stake_sets_validators);
    let staked = staked_genesis();
    let json = serde_json::to_string(&staked).unwrap_or_default();
    let loaded: Genesis = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, staked);
    assert!(loaded.params().stake.stake_sets_validators);
}

#[test]
fn unusable_genesis_stake_is_refused() {
    let stake_error =
        |genesis: Genesis| matches!(genesis.validate(), Err(GenesisError::InvalidStake(_)));
    let mut zero_unit = staked_genesis();
    zero_unit.power_unit = Some(0);
    assert!(stake_error(zero_unit));
    let mut below_unit = staked_genesis();
    below_unit.stake[1].amount = 99;
    assert!(stake_error(below_unit));
    let mut twice = staked_genesis();
    twice.stake[1] = twice.stake[0].clone();
    assert!(stake_error(twice));
    let mut zero = staked_genesis();
    zero.stake[0].amount = 0;
    assert!(stake_error(zero));
    let mut bad_key = staked_genesis();
    bad_key.stake[0].validator = (0..=255u8)
        .map(|b| [b; 32])
        .find(|key| !is_validator_key(key))
        .unwrap_or_else(|| panic!("no bad key"));
    assert!(stake_error(bad_key));
    let mut bad_address = staked_genesis();
    bad_address.stake[0].delegator = "not an address".into();
    assert!(matches!(
        bad_address.validate(),
        Err(GenesisError::InvalidAddress { .. })
    ));
    let mut too_much = staked_genesis();
    too_much.stake[0].amount = 150_000;
    assert!(matches!(
        too_much.validate(),
        Err(GenesisError::ExceedsPhase3 { .. })
    ));
}
