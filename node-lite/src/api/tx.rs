//! Transaction endpoints: `POST /v1/tx` (submit), `GET /v1/tx/{id}` (look up with its
//! inclusion proof and header), `GET /v1/headers` (signed headers from a height) and
//! `GET /v1/light/{height}` (the CometBFT light block certifying ledger block height - 1).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use carchain_core::protocol::{InclusionProof, SignedHeader, SignedTransaction};
use serde::{Deserialize, Serialize};

use super::blocking;
use super::error::ApiError;
use super::params::{parse_id, parse_json};
use crate::service::{LedgerService, TxLookup};
pub use carchain_core::protocol::api::Headers as HeadersJson;

/// Largest number of headers one `GET /v1/headers` returns.
pub const MAX_HEADERS_PER_PAGE: u32 = 1000;
/// Headers returned when `limit` is not given.
pub const DEFAULT_HEADERS_PER_PAGE: u32 = 100;

/// Body of `POST /v1/tx`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The signed transaction.
    pub tx: SignedTransaction,
    /// Wait for the block that commits it (default true).
    #[serde(default = "wait_by_default")]
    pub wait: bool,
}

fn wait_by_default() -> bool {
    true
}

/// JSON answer of `GET /v1/tx/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxLookupJson {
    /// The transaction id (hex).
    #[serde(with = "hex::serde")]
    pub tx_id: [u8; 32],
    /// The transaction.
    pub tx: SignedTransaction,
    /// The block height.
    pub height: u64,
    /// Its index in the block.
    pub index: u32,
    /// Inclusion proof against `header.header.tx_root`.
    pub proof: InclusionProof,
    /// The block's signed header.
    pub header: SignedHeader,
}

impl From<TxLookup> for TxLookupJson {
    fn from(found: TxLookup) -> Self {
        TxLookupJson {
            tx_id: found.tx.id(),
            tx: found.tx,
            height: found.height,
            index: found.index,
            proof: found.proof,
            header: found.header,
        }
    }
}

/// Query of `GET /v1/headers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadersQuery {
    /// First height (default 1).
    pub from: Option<u64>,
    /// Page size, 1..=1000 (default 100).
    pub limit: Option<u32>,
}

/// `POST /v1/tx`: 200 with the receipt once committed (`wait`), 202 once queued.
pub async fn submit<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let request: SubmitBody = parse_json(&body)?;
    let wait = request.wait;
    let receipt = service.submit(request.tx, wait).await?;
    let status = if wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(receipt)).into_response())
}

/// `GET /v1/tx/{id_hex}`: the committed transaction, or 404.
pub async fn lookup<S: LedgerService>(
    State(service): State<Arc<S>>,
    Path(id_hex): Path<String>,
) -> Result<Json<TxLookupJson>, ApiError> {
    let id = parse_id("transaction id", &id_hex)?;
    let found = blocking(&service, move |s| s.transaction(&id)).await?;
    found
        .map(|found| Json(TxLookupJson::from(found)))
        .ok_or_else(|| ApiError::not_found(format!("no committed transaction {id_hex}")))
}

/// `GET /v1/headers?from=H&limit=N`.
pub async fn headers<S: LedgerService>(
    State(service): State<Arc<S>>,
    query: Result<Query<HeadersQuery>, QueryRejection>,
) -> Result<Json<HeadersJson>, ApiError> {
    let Query(query) =
        query.map_err(|err| ApiError::invalid(format!("bad query: {}", err.body_text())))?;
    let from = query.from.unwrap_or(1);
    let limit = query.limit.unwrap_or(DEFAULT_HEADERS_PER_PAGE);
    if limit == 0 || limit > MAX_HEADERS_PER_PAGE {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_HEADERS_PER_PAGE}"
        )));
    }
    let headers = blocking(&service, move |s| s.headers_from(from, limit)).await?;
    Ok(Json(HeadersJson { headers }))
}

/// `GET /v1/light/{height}`: the CometBFT light block at `height`, in tendermint's JSON.
pub async fn light_block<S: LedgerService>(
    State(service): State<Arc<S>>,
    height: Result<Path<u64>, PathRejection>,
) -> Result<Json<carchain_core::protocol::light_block::LightBlock>, ApiError> {
    // A height past u64 is the API's JSON error, not axum's plain-text rejection.
    let Path(height) =
        height.map_err(|err| ApiError::invalid(format!("bad height: {}", err.body_text())))?;
    let light = blocking(&service, move |s| s.light_block(height)).await?;
    Ok(Json(light))
}
