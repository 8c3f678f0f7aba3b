//! Fee stamp endpoints, served by the node that holds the chain's stamp issuer key:
//! `GET /v1/stamps/key` (the issuer key and a stamp's price) and `POST /v1/stamps` (blind
//! signatures for a batch of stamps paid by one Transfer to the stamp escrow). Same JSON
//! as the read tokens' endpoints; the payer signs the same digest under the stamp key id.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;

use super::blocking;
use super::error::ApiError;
use super::tokens::{IssuedJson, TokenKeyJson, issue_blind};
use crate::service::LedgerService;

/// `GET /v1/stamps/key`.
pub async fn key<S: LedgerService>(
    State(service): State<Arc<S>>,
) -> Result<Json<TokenKeyJson>, ApiError> {
    blocking(&service, super::super::service::LedgerService::stamp_key)
        .await
        .map(|key| Json(key.into()))
}

/// `POST /v1/stamps`: 200 with the blind signatures.
pub async fn issue<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IssuedJson>, ApiError> {
    issue_blind(&service, body, |s, request| {
        let signatures = s.issue_stamps(request)?;
        Ok((s.stamp_key()?, signatures))
    })
    .await
}
