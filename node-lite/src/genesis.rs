//! The genesis file (`genesis.json`): the chain's identity, token supply, initial
//! balances, fee schedule, validator and stake, and the genesis state (block 0) built
//! from it.
//!
//! Stake (optional, absent from older files): `stake` lists `{validator, delegator,
//! amount}` bonds made at genesis out of the phase-3 reserve (like initial balances);
//! when present they set the consensus engine's validator set (InitChain answers it).
//! `power_unit` (stake per unit of voting power, default 1) and `unbonding_blocks`
//! (default [`DEFAULT_UNBONDING_BLOCKS`]) are the stake parameters. A file without them
//! builds the same genesis state as before; the engine's own genesis validators then
//! stand, and bonds add validators (or set the power of those they name).

use std::path::Path;

use bitcoin::secp256k1::PublicKey;
use carchain_core::protocol::{
    AccountState, Canonical, Network, check_account_address, signing::p2wpkh_address, state_key,
};
use jmt::KeyHash;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use carchain_core::protocol::stamp_escrow_address;
use carchain_core::tokens::IssuerPublicKey;

pub use crate::state::FeeSchedule;
use crate::state::stake::{
    BONDED_META, DEFAULT_UNBONDING_BLOCKS, POWER_META, PowerChange, StakeParams, is_validator_key,
};
use crate::state::token::{Phase, TOTAL_SUPPLY_META, split_supply};
use crate::state::{ChainParams, StampRules};
use carchain_core::protocol::{Delegation, MAX_TOTAL_VOTING_POWER, ValidatorStake};

/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// A genesis file that cannot be used.
#[derive(Debug, Error)]
pub enum GenesisError {
    /// The chain id is empty, too long or not printable ASCII.
    #[error("the chain id must be 1..={MAX_CHAIN_ID_LEN} printable ASCII characters")]
    InvalidChainId,
    /// An initial balance names an address that is not a P2WPKH address of the network.
    #[error("initial balance address {address} is not a P2WPKH address of the network")]
    InvalidAddress {
        /// The refused address.
        address: String,
    },
    /// The same address appears twice in the initial balances.
    #[error("initial balance address {address} appears twice")]
    DuplicateAddress {
        /// The repeated address.
        address: String,
    },
    /// The initial balances exceed the phase-3 reserve they are sold from.
    #[error("initial balances total {requested}, more than the phase-3 reserve {available}")]
    ExceedsPhase3 {
        /// Sum of the initial balances.
        requested: u128,
        /// The phase-3 reserve (20% of the supply).
        available: u64,
    },
    /// The stamp issuer key is not a hex RSA public key fit for blind signatures, or a
    /// stamp's price is zero.
    #[error("the fee stamp issuer is not usable: {0}")]
    InvalidStamps(String),
    /// The validator public key is not a compressed secp256k1 key in hex.
    #[error("the validator public key is not a compressed secp256k1 key in hex")]
    InvalidValidatorKey,
    /// A genesis bond, the power unit or the resulting voting power is not usable.
    #[error("genesis stake: {0}")]
    InvalidStake(String),
    /// The operator address is not the validator key's P2WPKH address.
    #[error("the operator address is not the validator key's address")]
    OperatorMismatch,
    /// The file could not be read or written.
    #[error("genesis file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not valid genesis JSON.
    #[error("genesis file is not valid: {0}")]
    Json(#[from] serde_json::Error),
}

/// The genesis file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain identifier every transaction names.
    pub chain_id: String,
    /// Address network of accounts.
    pub network: Network,
    /// Total token supply.
    pub total_supply: u64,
    /// `(address, amount)` sold at genesis out of the phase-3 reserve.
    pub initial_balances: Vec<(String, u64)>,
    /// Fee schedule.
    pub fees: FeeSchedule,
    /// The single validator's compressed public key (hex).
    pub validator_pubkey: String,
    /// The operator account (the validator key's P2WPKH address): fees go here.
    pub operator_address: String,
    /// Time of block 0, unix milliseconds.
    pub genesis_time: u64,
    /// The fee stamp issuer (absent: record puts cannot carry stamps on this chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamps: Option<StampGenesis>,
    /// Caps the phase-1 reserve below its 50% share (the rest goes to phase 2): small
    /// and test chains whose reserve runs out soon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_reserve: Option<u64>,
    /// Bonds made at genesis (out of the phase-3 reserve); when any, they set the
    /// consensus engine's validator set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stake: Vec<GenesisStake>,
    /// Stake per unit of voting power (absent: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_unit: Option<u64>,
    /// Blocks between an unbond and the return of its tokens (absent:
    /// [`DEFAULT_UNBONDING_BLOCKS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbonding_blocks: Option<u64>,
}

/// A bond made at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisStake {
    /// The validator's ed25519 consensus public key (hex, 32 bytes).
    #[serde(with = "hex::serde")]
    pub validator: [u8; 32],
    /// The account whose bond it is.
    pub delegator: String,
    /// Tokens bonded.
    pub amount: u64,
}

/// The chain's fee stamp issuer, as genesis names it (see
/// `carchain_core::protocol::fee_stamp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampGenesis {
    /// The issuer's RSA public key, DER SubjectPublicKeyInfo, in hex.
    pub public_key: String,
    /// Price of one stamp (transferred to the stamp escrow), and the most fee one stamp
    /// pays.
    pub price: u64,
}

/// Default price of a fee stamp: covers the put fee of a record of up to ~9.9 kB under
/// the default fee schedule.
pub const DEFAULT_STAMP_PRICE: u64 = 10_000;

impl Genesis {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, GenesisError> {
        let text = std::fs::read_to_string(path).map_err(|source| GenesisError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let genesis: Genesis = serde_json::from_str(&text)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Writes the file (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<(), GenesisError> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text).map_err(|source| GenesisError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// The validator's public key.
    pub fn proposer(&self) -> Result<PublicKey, GenesisError> {
        let bytes =
            hex::decode(&self.validator_pubkey).map_err(|_| GenesisError::InvalidValidatorKey)?;
        if bytes.len() != 33 {
            return Err(GenesisError::InvalidValidatorKey);
        }
        PublicKey::from_slice(&bytes).map_err(|_| GenesisError::InvalidValidatorKey)
    }

    /// Checks the chain id, the addresses, the validator and that the initial balances
    /// fit in the phase-3 reserve.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let id_ok = !self.chain_id.is_empty()
            && self.chain_id.len() <= MAX_CHAIN_ID_LEN
            && self.chain_id.bytes().all(|b| b.is_ascii_graphic());
        if !id_ok {
            return Err(GenesisError::InvalidChainId);
        }
        let proposer = self.proposer()?;
        if p2wpkh_address(&proposer, self.network) != self.operator_address {
            return Err(GenesisError::OperatorMismatch);
        }
        let mut seen = std::collections::HashSet::new();
        let mut requested: u128 = 0;
        for (address, amount) in &self.initial_balances {
            if check_account_address(address, self.network, "initial_balances").is_err() {
                return Err(GenesisError::InvalidAddress {
                    address: address.clone(),
                });
            }
            if !seen.insert(address.as_str()) {
                return Err(GenesisError::DuplicateAddress {
                    address: address.clone(),
                });
            }
            requested += u128::from(*amount);
        }
        requested += self.validate_stake()?;
        self.stamp_rules()?;
        let [_, _, phase3] = split_supply(self.total_supply);
        if requested > u128::from(phase3) {
            return Err(GenesisError::ExceedsPhase3 {
                requested,
                available: phase3,
            });
        }
        Ok(())
    }

    /// Checks the stake list and parameters; the tokens it bonds.
    fn validate_stake(&self) -> Result<u128, GenesisError> {
        let invalid = |why: String| GenesisError::InvalidStake(why);
        if self.power_unit == Some(0) {
            return Err(invalid("the power unit is zero".into()));
        }
        let mut pairs = std::collections::HashSet::new();
        let mut bonded: u128 = 0;
        for entry in &self.stake {
            if !is_validator_key(&entry.validator) {
                return Err(invalid(format!(
                    "{} is not an ed25519 public key",
                    hex::encode(entry.validator)
                )));
            }
            if check_account_address(&entry.delegator, self.network, "stake").is_err() {
                return Err(GenesisError::InvalidAddress {
                    address: entry.delegator.clone(),
                });
            }
            if entry.amount == 0 {
                return Err(invalid("a bond of zero tokens".into()));
            }
            if !pairs.insert((entry.validator, entry.delegator.as_str())) {
                return Err(invalid(format!(
                    "{} bonds to {} twice",
                    entry.delegator,
                    hex::encode(entry.validator)
                )));
            }
            bonded += u128::from(entry.amount);
        }
        let mut total: u128 = 0;
        for (validator, stake) in self.validator_stakes()? {
            if stake.power == 0 {
                return Err(invalid(format!(
                    "validator {} has less stake than one power unit",
                    hex::encode(validator)
                )));
            }
            total += u128::from(stake.power);
        }
        if total > u128::from(MAX_TOTAL_VOTING_POWER) {
            return Err(invalid(format!(
                "the total voting power {total} exceeds {MAX_TOTAL_VOTING_POWER}"
            )));
        }
        Ok(bonded)
    }

    /// The stake parameters of the chain.
    pub fn stake_params(&self) -> StakeParams {
        StakeParams {
            power_unit: self.power_unit.unwrap_or(1).max(1),
            unbonding_blocks: self.unbonding_blocks.unwrap_or(DEFAULT_UNBONDING_BLOCKS),
            stake_sets_validators: !self.stake.is_empty(),
        }
    }

    /// Each genesis validator's stake and power, in key order.
    fn validator_stakes(&self) -> Result<Vec<([u8; 32], ValidatorStake)>, GenesisError> {
        let params = self.stake_params();
        let mut totals = std::collections::BTreeMap::<[u8; 32], u64>::new();
        for entry in &self.stake {
            let total = totals.entry(entry.validator).or_default();
            *total = total.checked_add(entry.amount).ok_or_else(|| {
                GenesisError::InvalidStake("a validator's stake overflows".into())
            })?;
        }
        Ok(totals
            .into_iter()
            .map(|(validator, bonded)| {
                let power = params.power_of(bonded);
                (validator, ValidatorStake { bonded, power })
            })
            .collect())
    }

    /// The validator set the genesis stake gives (empty without a stake list: the
    /// engine's genesis validators stand), in key order.
    pub fn validator_set(&self) -> Result<Vec<PowerChange>, GenesisError> {
        Ok(self
            .validator_stakes()?
            .into_iter()
            .map(|(validator, stake)| PowerChange {
                validator,
                power: stake.power,
            })
            .collect())
    }

    /// The stamp rules of the chain, if it names a stamp issuer.
    pub fn stamp_rules(&self) -> Result<Option<StampRules>, GenesisError> {
        let Some(stamps) = &self.stamps else {
            return Ok(None);
        };
        let invalid = |what: &str| GenesisError::InvalidStamps(what.to_owned());
        let der = hex::decode(&stamps.public_key).map_err(|_| invalid("the key is not hex"))?;
        let issuer = IssuerPublicKey::from_der(&der)
            .map_err(|err| GenesisError::InvalidStamps(err.to_string()))?;
        if stamps.price == 0 {
            return Err(invalid("a stamp's price is zero"));
        }
        Ok(Some(StampRules {
            escrow_address: stamp_escrow_address(&issuer.key_id().0, self.network),
            issuer,
            price: stamps.price,
        }))
    }

    /// The phase reserves at genesis: the 50/30/20 split, phase 1 capped by
    /// `phase1_reserve` (what it gives up goes to phase 2).
    pub fn reserves(&self) -> [u64; 3] {
        let [phase1, phase2, phase3] = split_supply(self.total_supply);
        match self.phase1_reserve {
            Some(cap) if cap < phase1 => [cap, phase2 + (phase1 - cap), phase3],
            _ => [phase1, phase2, phase3],
        }
    }

    /// The chain parameters the state machine runs with (call after
    /// [`Genesis::validate`], which checks the stamp issuer).
    pub fn params(&self) -> ChainParams {
        ChainParams {
            chain_id: self.chain_id.clone(),
            network: self.network,
            fees: self.fees,
            operator_address: self.operator_address.clone(),
            stamps: self.stamp_rules().ok().flatten(),
            stake: self.stake_params(),
        }
    }

    /// The state of block 0: the reserves (phase 3 less the initial balances), the total
    /// supply and the initial accounts. Call after [`Genesis::validate`].
    pub fn state(&self) -> Result<Vec<(KeyHash, Vec<u8>)>, GenesisError> {
        self.validate()?;
        let [phase1, phase2, phase3] = self.reserves();
        let sold: u64 = self.initial_balances.iter().map(|(_, a)| *a).sum();
        let staked: u64 = self.stake.iter().map(|entry| entry.amount).sum();
        let mut writes = vec![
            (Phase::One.key(), phase1.to_canonical()),
            (Phase::Two.key(), phase2.to_canonical()),
            (Phase::Three.key(), (phase3 - sold - staked).to_canonical()),
            (
                state_key::meta(TOTAL_SUPPLY_META),
                self.total_supply.to_canonical(),
            ),
        ];
        if self.fees != FeeSchedule::DEFAULT {
            // A chain on the default schedule has no entry (and keeps its former state
            // root); the proof of its absence tells a light client the default applies.
            writes.push((state_key::fee_schedule(), self.fees.to_canonical()));
        }
        for (address, amount) in &self.initial_balances {
            let account = AccountState {
                balance: *amount,
                nonce: 0,
            };
            writes.push((state_key::account(address), account.to_canonical()));
        }
        if !self.stake.is_empty() {
            // Older genesis files (no stake) keep exactly their former state root.
            for entry in &self.stake {
                let delegation = Delegation {
                    bonded: entry.amount,
                    unbonding: 0,
                };
                writes.push((
                    state_key::delegation(&entry.validator, &entry.delegator),
                    delegation.to_canonical(),
                ));
            }
            let mut power = 0u64;
            for (validator, stake) in self.validator_stakes()? {
                power = power.saturating_add(stake.power);
                writes.push((state_key::validator_stake(&validator), stake.to_canonical()));
            }
            writes.push((state_key::meta(BONDED_META), staked.to_canonical()));
            writes.push((state_key::meta(POWER_META), power.to_canonical()));
        }
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis(fees: FeeSchedule) -> Genesis {
        Genesis {
            chain_id: "carchain-genesis-test".into(),
            fees,
            ..crate::state::tests::genesis_with(21_000_000, &[])
        }
    }

    fn schedule_entry(genesis: &Genesis) -> Option<Vec<u8>> {
        genesis
            .state()
            .unwrap()
            .into_iter()
            .find(|(key, _)| *key == state_key::fee_schedule())
            .map(|(_, value)| value)
    }

    /// A chain fixing its own schedule keeps it in its state (what light clients read
    /// with a proof); a chain on the default schedule keeps no entry, so its genesis
    /// state (and root) is what it was before schedules were published.
    #[test]
    fn only_a_non_default_schedule_is_kept_in_state() {
        assert_eq!(schedule_entry(&genesis(FeeSchedule::DEFAULT)), None);
        let own = FeeSchedule {
            base_fee: 37,
            ..FeeSchedule::DEFAULT
        };
        let kept = schedule_entry(&genesis(own)).expect("kept");
        assert_eq!(FeeSchedule::from_canonical(&kept).unwrap(), own);
        assert_eq!(
            genesis(FeeSchedule::DEFAULT).state().unwrap().len() + 1,
            genesis(own).state().unwrap().len()
        );
    }
}
