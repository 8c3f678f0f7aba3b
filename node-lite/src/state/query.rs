//! Which tree key a [`StateQuery`] reads, and the JSON rendering of its value.

use carchain_core::protocol::{
    AccountState, AddressIndex, Canonical, Delegation, DeviceState, EscrowState, GrantState,
    ProviderState, RecordRegistration, RequestState, UnbondingQueue, ValidatorStake, state_key,
};
use jmt::KeyHash;
use serde::Serialize;

use super::error::TxError;
use crate::service::StateQuery;

/// The tree key `query` reads.
pub fn query_key(query: &StateQuery) -> KeyHash {
    match query {
        StateQuery::Account(address) => state_key::account(address),
        StateQuery::Device(vid) => state_key::device(vid),
        StateQuery::Record { address, key } => state_key::record(address, key),
        StateQuery::AddressIndex(address) => state_key::address_index(address),
        StateQuery::Grant(id) => state_key::grant(id),
        StateQuery::Provider(address) => state_key::provider(address),
        StateQuery::Request(id) => state_key::request(id),
        StateQuery::Escrow(id) => state_key::escrow(id),
        StateQuery::SpentStamp(id) => state_key::spent_stamp(id),
        StateQuery::ValidatorStake(validator) => state_key::validator_stake(validator),
        StateQuery::Delegation {
            validator,
            delegator,
        } => state_key::delegation(validator, delegator),
        StateQuery::Unbonding(height) => state_key::unbonding_queue(*height),
        StateQuery::FeeSchedule => state_key::fee_schedule(),
    }
}

fn render<T: Canonical + Serialize>(bytes: &[u8]) -> Result<serde_json::Value, TxError> {
    let value = T::from_canonical(bytes).map_err(TxError::storage)?;
    serde_json::to_value(value).map_err(TxError::storage)
}

/// The JSON form of the canonical `bytes` that `query` returned.
pub fn query_json(query: &StateQuery, bytes: &[u8]) -> Result<serde_json::Value, TxError> {
    match query {
        StateQuery::Account(_) => render::<AccountState>(bytes),
        StateQuery::Device(_) => render::<DeviceState>(bytes),
        StateQuery::Record { .. } => render::<RecordRegistration>(bytes),
        StateQuery::AddressIndex(_) => render::<AddressIndex>(bytes),
        StateQuery::Grant(_) => render::<GrantState>(bytes),
        StateQuery::Provider(_) => render::<ProviderState>(bytes),
        StateQuery::Request(_) => render::<RequestState>(bytes),
        StateQuery::Escrow(_) => render::<EscrowState>(bytes),
        StateQuery::SpentStamp(_) => render::<u64>(bytes),
        StateQuery::ValidatorStake(_) => render::<ValidatorStake>(bytes),
        StateQuery::Delegation { .. } => render::<Delegation>(bytes),
        StateQuery::Unbonding(_) => render::<UnbondingQueue>(bytes),
        StateQuery::FeeSchedule => render::<carchain_core::protocol::FeeSchedule>(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_renders_as_json_and_garbage_is_refused() {
        let bytes = AccountState {
            balance: 7,
            nonce: 2,
        }
        .to_canonical();
        let query = StateQuery::Account("a".into());
        assert_eq!(query_key(&query), state_key::account("a"));
        let json = query_json(&query, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json, serde_json::json!({"balance": 7, "nonce": 2}));
        assert!(query_json(&query, &[1, 2]).is_err());
    }
}
