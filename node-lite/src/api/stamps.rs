//! Fee stamp endpoints, served by the node that holds the chain's stamp issuer key:
//! `GET /v1/stamps/key` (the issuer key and a stamp's price) and `POST /v1/stamps` (blind
//! signatures for a batch of stamps paid by one Transfer to the stamp escrow). Same JSON
//! as the read tokens' endpoints; the payer signs the same digest under the stamp key id.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::blocking;
use super::error::ApiError;
use super::params::{parse_hex, parse_id, parse_json};
use super::tokens::{IssueJson, IssuedJson, TokenKeyJson};
use crate::service::{IssueRequest, LedgerService};

/// `GET /v1/stamps/key`.
pub async fn key<S: LedgerService>(
    State(service): State<Arc<S>>,
) -> Result<Json<TokenKeyJson>, ApiError> {
    blocking(&service, |s| s.stamp_key())
        .await
        .map(|key| Json(key.into()))
}

/// `POST /v1/stamps`: 200 with the blind signatures.
pub async fn issue<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IssuedJson>, ApiError> {
    let body: IssueJson = parse_json(&body?)?;
    let payment = parse_id("payment", &body.payment)?;
    let signature = parse_hex("signature", &body.signature)?;
    let blinded = body
        .blinded
        .iter()
        .map(|text| {
            BASE64
                .decode(text)
                .map_err(|_| ApiError::invalid("a blinded message is not base64"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let request = IssueRequest {
        payment,
        blinded,
        signature,
    };
    let (key, signatures) = blocking(&service, move |s| {
        let signatures = s.issue_stamps(&request)?;
        Ok((s.stamp_key()?, signatures))
    })
    .await?;
    Ok(Json(IssuedJson {
        key_id: key.key_id,
        signatures: signatures.iter().map(|s| BASE64.encode(s)).collect(),
    }))
}
