//! State endpoints: `GET /v1/state/{kind}/...` answer a piece of ledger state with its
//! Jellyfish Merkle proof against a committed header's state root.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::blocking;
use super::error::ApiError;
use super::params::{parse_hex, parse_id};
use crate::service::{LedgerService, StateAnswer, StateQuery};

/// Query of every state endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeightQuery {
    /// Read at this committed height (latest when absent).
    pub height: Option<u64>,
}

/// JSON answer of the state endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateAnswerJson {
    /// Height of the header the proof is against.
    pub height: u64,
    /// That header's state root (hex).
    #[serde(with = "hex::serde")]
    pub state_root: [u8; 32],
    /// The state-tree key that was looked up (hex).
    #[serde(with = "hex::serde")]
    pub key_hash: [u8; 32],
    /// Canonical bytes of the value (hex), `null` when absent.
    pub value: Option<String>,
    /// The value as JSON (not for verification), `null` when absent.
    pub value_json: Option<serde_json::Value>,
    /// The proof: hex of its borsh bytes.
    pub proof: String,
}

impl From<StateAnswer> for StateAnswerJson {
    fn from(answer: StateAnswer) -> Self {
        StateAnswerJson {
            height: answer.height,
            state_root: answer.state_root,
            key_hash: answer.key_hash,
            value: answer.value.map(hex::encode),
            value_json: answer.value_json,
            proof: answer.proof,
        }
    }
}

async fn answer<S: LedgerService>(
    service: &Arc<S>,
    query: StateQuery,
    height: Result<Query<HeightQuery>, QueryRejection>,
) -> Result<Json<StateAnswerJson>, ApiError> {
    let Query(height) =
        height.map_err(|err| ApiError::invalid(format!("bad query: {}", err.body_text())))?;
    let at = height.height;
    let found = blocking(service, move |s| s.query_state(&query, at)).await?;
    Ok(Json(found.into()))
}

/// Defines a state endpoint: a handler that reads its path (`Path(..): Path<..>`, or
/// nothing) and the `?height=` query, and answers the state query `$query` builds.
macro_rules! state_endpoint {
    ($(#[$doc:meta])* $name:ident($($path:ident $bind:tt: $path_type:ty)?) => $query:expr) => {
        $(#[$doc])*
        pub async fn $name<S: LedgerService>(
            State(service): State<Arc<S>>,
            $($path $bind: $path_type,)?
            height: Result<Query<HeightQuery>, QueryRejection>,
        ) -> Result<Json<StateAnswerJson>, ApiError> {
            answer(&service, $query, height).await
        }
    };
}

state_endpoint! {
    /// `GET /v1/state/account/{address}`.
    account(Path(address): Path<String>) => StateQuery::Account(address)
}

state_endpoint! {
    /// `GET /v1/state/device/{vid}`.
    device(Path(vid): Path<String>) => StateQuery::Device(vid)
}

state_endpoint! {
    /// `GET /v1/state/provider/{address}`.
    provider(Path(address): Path<String>) => StateQuery::Provider(address)
}

state_endpoint! {
    /// `GET /v1/state/record/{address}/{key_hex}`.
    record(Path((address, key_hex)): Path<(String, String)>) => StateQuery::Record {
        address,
        key: parse_hex("record key", &key_hex)?,
    }
}

state_endpoint! {
    /// `GET /v1/state/address-index/{address}`: how many records the address holds and
    /// the digest of their keys (readers check a whole-address read against it).
    address_index(Path(address): Path<String>) => StateQuery::AddressIndex(address)
}

state_endpoint! {
    /// `GET /v1/state/grant/{id_hex}`.
    grant(Path(id_hex): Path<String>) => StateQuery::Grant(parse_id("grant id", &id_hex)?)
}

state_endpoint! {
    /// `GET /v1/state/request/{id_hex}`.
    request(Path(id_hex): Path<String>) => StateQuery::Request(parse_id("request id", &id_hex)?)
}

state_endpoint! {
    /// `GET /v1/state/escrow/{id_hex}`.
    escrow(Path(id_hex): Path<String>) => StateQuery::Escrow(parse_id("escrow id", &id_hex)?)
}

state_endpoint! {
    /// `GET /v1/state/stamp/{id_hex}`: a fee stamp in the spent set (value: the height
    /// that spent it), or its proven absence.
    spent_stamp(Path(id_hex): Path<String>) => {
        StateQuery::SpentStamp(parse_id("stamp id", &id_hex)?)
    }
}

state_endpoint! {
    /// `GET /v1/state/stake/{validator_hex}`: a validator's total bonded stake and voting
    /// power (the validator named by its ed25519 consensus key), or its proven absence.
    validator_stake(Path(validator_hex): Path<String>) => {
        StateQuery::ValidatorStake(parse_id("validator key", &validator_hex)?)
    }
}

state_endpoint! {
    /// `GET /v1/state/stake/{validator_hex}/{address}`: what one account has bonded to a
    /// validator and what is waiting for its release.
    delegation(Path((validator_hex, delegator)): Path<(String, String)>) => {
        StateQuery::Delegation {
            validator: parse_id("validator key", &validator_hex)?,
            delegator,
        }
    }
}

state_endpoint! {
    /// `GET /v1/state/fee-schedule`: the chain's fee schedule, or the proof that the
    /// chain keeps none (it uses the default schedule).
    fee_schedule() => StateQuery::FeeSchedule
}

/// `GET /v1/state/unbonding/{height}`: the unbondings the block at `height` releases.
pub async fn unbonding<S: LedgerService>(
    State(service): State<Arc<S>>,
    release: Result<Path<u64>, PathRejection>,
    height: Result<Query<HeightQuery>, QueryRejection>,
) -> Result<Json<StateAnswerJson>, ApiError> {
    // A height past u64 is the API's JSON error, not axum's plain-text rejection.
    let Path(release) = release
        .map_err(|err| ApiError::invalid(format!("bad release height: {}", err.body_text())))?;
    answer(&service, StateQuery::Unbonding(release), height).await
}
