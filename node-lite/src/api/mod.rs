//! The node's HTTP API (axum, JSON, versioned under `/v1`): transactions, headers,
//! proven state, the KV store, read tokens, write credentials, status, health and the
//! OpenAPI document.
//!
//! [`router`] serves any [`LedgerService`]; the binary serves the running node with it.
//! Every refusal is `{"error":{"code":..,"message":..}}` (see [`error`]), including
//! axum's own rejections (oversized or unreadable bodies, unknown routes).

pub mod credentials;
pub mod error;
pub mod kv;
pub mod params;
pub mod record_wire;
pub mod records;
pub mod stamps;
pub mod state;
pub mod tokens;
pub mod tx;
pub mod webhooks;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, status_for};

use crate::service::{ErrorCode, LedgerService, NodeStatus, ServiceError};

/// The OpenAPI 3.1 document of this API, served at `/v1/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// Default body limit of `POST /v1/tx`: 256 KiB.
pub const DEFAULT_TX_BODY_LIMIT: usize = 256 * 1024;
/// Default body limit of `PUT /v1/kv/...` and `POST /v1/records`: 4 MiB.
pub const DEFAULT_KV_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Limits of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiConfig {
    /// Largest accepted `POST /v1/tx` body, in bytes.
    pub tx_body_limit: usize,
    /// Largest accepted KV value (and `POST /v1/records` body), in bytes.
    pub kv_body_limit: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            tx_body_limit: DEFAULT_TX_BODY_LIMIT,
            kv_body_limit: DEFAULT_KV_BODY_LIMIT,
        }
    }
}

/// Builds the router of the whole API over `service`.
pub fn router<S: LedgerService>(service: Arc<S>, config: ApiConfig) -> Router {
    let tx_routes = Router::new()
        .route("/v1/tx", axum::routing::post(tx::submit::<S>))
        .layer(DefaultBodyLimit::max(config.tx_body_limit));
    let kv_routes = Router::new()
        .route(
            "/v1/kv/{address}/{key}",
            get(kv::get::<S>).put(kv::put::<S>),
        )
        .layer(DefaultBodyLimit::max(config.kv_body_limit));
    let batch_routes = Router::new()
        .route(
            "/v1/records",
            axum::routing::post(records::put_records::<S>),
        )
        .layer(DefaultBodyLimit::max(config.kv_body_limit));
    let token_routes = Router::new()
        .route(
            "/v1/tokens",
            axum::routing::post(tokens::issue::<S, tokens::ReadTokens>),
        )
        .route(
            "/v1/stamps",
            axum::routing::post(tokens::issue::<S, stamps::FeeStamps>),
        )
        .layer(DefaultBodyLimit::max(tokens::TOKENS_BODY_LIMIT));
    Router::new()
        .route("/health", get(health::<S>))
        .route("/v1/tokens/key", get(tokens::key::<S, tokens::ReadTokens>))
        .route("/v1/stamps/key", get(tokens::key::<S, stamps::FeeStamps>))
        .route("/v1/status", get(status::<S>))
        .route("/v1/openapi.yaml", get(openapi))
        .route("/v1/tx/{id}", get(tx::lookup::<S>))
        .route("/v1/headers", get(tx::headers::<S>))
        .route("/v1/light/{height}", get(tx::light_block::<S>))
        .route("/v1/state/account/{address}", get(state::account::<S>))
        .route("/v1/state/device/{vid}", get(state::device::<S>))
        .route("/v1/state/provider/{address}", get(state::provider::<S>))
        .route("/v1/state/record/{address}/{key}", get(state::record::<S>))
        .route(
            "/v1/state/address-index/{address}",
            get(state::address_index::<S>),
        )
        .route("/v1/state/grant/{id}", get(state::grant::<S>))
        .route("/v1/state/request/{id}", get(state::request::<S>))
        .route("/v1/state/escrow/{id}", get(state::escrow::<S>))
        .route("/v1/state/stamp/{id}", get(state::spent_stamp::<S>))
        .route(
            "/v1/state/stake/{validator}",
            get(state::validator_stake::<S>),
        )
        .route(
            "/v1/state/stake/{validator}/{address}",
            get(state::delegation::<S>),
        )
        .route(
            "/v1/state/unbonding/{release_height}",
            get(state::unbonding::<S>),
        )
        .route("/v1/state/fee-schedule", get(state::fee_schedule::<S>))
        .route("/v1/kv/{address}", get(kv::range::<S>))
        .route("/v1/credentials/key", get(credentials::key::<S>))
        .route(
            "/v1/credentials",
            axum::routing::post(credentials::issue::<S>),
        )
        .merge(tx_routes)
        .merge(kv_routes)
        .merge(batch_routes)
        .merge(token_routes)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TraceLayer::new_for_http())
        .with_state(service)
}

/// Runs a synchronous service call (SQLite, proofs) off the async workers.
pub(crate) async fn blocking<S, T, F>(service: &Arc<S>, call: F) -> Result<T, ApiError>
where
    S: LedgerService,
    T: Send + 'static,
    F: FnOnce(&S) -> Result<T, ServiceError> + Send + 'static,
{
    let service = Arc::clone(service);
    tokio::task::spawn_blocking(move || call(&service))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "a node task stopped unexpectedly"))?
        .map_err(ApiError::from)
}

/// `ok`, or 503 `kv_unavailable` while the KV store cannot reach its quorum.
async fn health<S: LedgerService>(State(service): State<Arc<S>>) -> Result<&'static str, ApiError> {
    let kv = service.kv_health();
    if kv.available {
        return Ok("ok");
    }
    Err(ApiError::new(
        ErrorCode::KvUnavailable,
        format!(
            "the {} key-value store cannot reach its quorum: {}",
            kv.backend,
            kv.detail.unwrap_or_default()
        ),
    ))
}

async fn status<S: LedgerService>(
    State(service): State<Arc<S>>,
) -> Result<Json<NodeStatus>, ApiError> {
    blocking(&service, super::service::LedgerService::status)
        .await
        .map(Json)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such endpoint (see /v1/openapi.yaml)")
}

pub(crate) async fn method_not_allowed() -> impl IntoResponse {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        Json(
            serde_json::json!({"error": {"code": "invalid_request", "message": "method not allowed on this endpoint"}}),
        ),
    )
}
