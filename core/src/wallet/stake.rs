//! The owner's wallet staking with its own account: bonding tokens to a validator (its
//! ed25519 consensus key), unbonding them (they return after the chain's unbonding
//! delay), and reading its stake with proof. Signed by the owner identity key, paying
//! the default fee; the proven balance or stake is checked before anything is sent.

use thiserror::Error;

use super::identity::Wallet;
use crate::light::{LightClient, LightError, Receipt};
use crate::protocol::{Bond, Delegation, TxBody, Unbond};

/// Why the wallet could not bond or unbond.
#[derive(Debug, Error)]
pub enum StakeError {
    /// A bond or unbond of nothing.
    #[error("a bond or unbond must move at least 1 token")]
    ZeroAmount,
    /// The owner's proven balance does not cover the bond and its fee.
    #[error("the owner's balance {balance} does not cover {needed} (bond and fee)")]
    InsufficientFunds {
        /// The owner's proven balance.
        balance: u64,
        /// Bond plus fee.
        needed: u64,
    },
    /// The owner has bonded less than the unbond asks for.
    #[error("the owner has {bonded} bonded to this validator, not {requested}")]
    InsufficientStake {
        /// What the owner has bonded.
        bonded: u64,
        /// What the unbond asks for.
        requested: u64,
    },
    /// The node refused or could not be reached, or its answer failed verification.
    #[error("light client: {0}")]
    Light(#[from] LightError),
}

crate::error_code::error_codes!(StakeError {
    ZeroAmount => "stake.zero_amount",
    InsufficientFunds => "stake.insufficient_funds",
    InsufficientStake => "stake.insufficient_stake",
    Light => inner,
});

impl Wallet {
    /// Bonds `amount` of the owner's tokens to `validator`; waits until a block commits
    /// it. The validator's voting power grows in that block.
    pub async fn bond(
        &self,
        light: &LightClient,
        validator: [u8; 32],
        amount: u64,
    ) -> Result<Receipt, StakeError> {
        if amount == 0 {
            return Err(StakeError::ZeroAmount);
        }
        let body = TxBody::Bond(Bond { validator, amount });
        let needed = amount.saturating_add(light.fee_schedule().await?.fee_for(&body));
        self.submit_if_covered(light, body, needed)
            .await?
            .map_err(|balance| StakeError::InsufficientFunds { balance, needed })
    }

    /// Unbonds `amount` of the owner's stake with `validator`: the power drops in the
    /// committing block, the tokens return after the chain's unbonding delay.
    pub async fn unbond(
        &self,
        light: &LightClient,
        validator: [u8; 32],
        amount: u64,
    ) -> Result<Receipt, StakeError> {
        if amount == 0 {
            return Err(StakeError::ZeroAmount);
        }
        let bonded = self.stake(light, validator).await?.bonded;
        if bonded < amount {
            return Err(StakeError::InsufficientStake {
                bonded,
                requested: amount,
            });
        }
        let body = TxBody::Unbond(Unbond { validator, amount });
        Ok(light
            .sign_and_submit(self.keys().owner_key().secret_key(), body)
            .await?)
    }

    /// The owner's proven stake with `validator`: bonded, and unbonding (waiting).
    pub async fn stake(
        &self,
        light: &LightClient,
        validator: [u8; 32],
    ) -> Result<Delegation, StakeError> {
        Ok(light.delegation(&validator, &self.owner_address()).await?)
    }
}
