//! Proven reads of proof-of-stake state: a validator's bonded stake and voting power,
//! and one account's stake with one validator, each checked against a verified header's
//! state root like every other state read.

use super::client::LightClient;
use super::error::LightResult;
use super::proofs::decode_proven;
use crate::protocol::{Delegation, ValidatorStake, state_key};

impl LightClient {
    /// A validator's proven stake and power (`GET /v1/state/stake/{validator}`); zero
    /// when nothing was ever bonded to it.
    pub async fn validator_stake(&self, validator: &[u8; 32]) -> LightResult<ValidatorStake> {
        let key_hex = hex::encode(validator);
        let proven = self
            .read_state(&["stake", &key_hex], state_key::validator_stake(validator))
            .await?;
        Ok(decode_proven(proven)?.unwrap_or_default())
    }

    /// What `delegator` has bonded to `validator` and what waits for its release,
    /// proven (`GET /v1/state/stake/{validator}/{address}`).
    pub async fn delegation(
        &self,
        validator: &[u8; 32],
        delegator: &str,
    ) -> LightResult<Delegation> {
        let key_hex = hex::encode(validator);
        let proven = self
            .read_state(
                &["stake", &key_hex, delegator],
                state_key::delegation(validator, delegator),
            )
            .await?;
        Ok(decode_proven(proven)?.unwrap_or_default())
    }
}
