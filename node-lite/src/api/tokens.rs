//! Read-token endpoints: `GET /v1/tokens/key` (the issuer key and a token's price) and
//! `POST /v1/tokens` (blind signatures for a paid batch of blinded token messages).
//! Reads then send one token each in the [`TOKEN_HEADER`] header.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::blocking;
use super::error::ApiError;
use super::params::{parse_hex, parse_id, parse_json};
use crate::service::{ErrorCode, IssueRequest, LedgerService, ServiceError, TokenKey};
pub use carchain_core::protocol::api::{
    IssueRequest as IssueJson, Issued as IssuedJson, TokenKey as TokenKeyJson,
};

/// Header carrying a read token (hex of its canonical bytes).
pub const TOKEN_HEADER: &str = "x-carchain-token";
/// Body limit of `POST /v1/tokens`: a full batch of 4096-bit blinded messages in base64.
pub const TOKENS_BODY_LIMIT: usize = 1024 * 1024;

impl From<TokenKey> for TokenKeyJson {
    fn from(key: TokenKey) -> Self {
        TokenKeyJson {
            key_id: key.key_id,
            public_key: BASE64.encode(key.public_key),
            price: key.price,
            max_batch: key.max_batch,
        }
    }
}

/// `GET /v1/tokens/key`.
pub async fn key<S: LedgerService>(
    State(service): State<Arc<S>>,
) -> Result<Json<TokenKeyJson>, ApiError> {
    blocking(&service, super::super::service::LedgerService::token_key)
        .await
        .map(|key| Json(key.into()))
}

/// `POST /v1/tokens`: 200 with the blind signatures.
pub async fn issue<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IssuedJson>, ApiError> {
    issue_blind(&service, body, |s, request| {
        let signatures = s.issue_tokens(request)?;
        Ok((s.token_key()?, signatures))
    })
    .await
}

/// A paid batch of blind signatures (read tokens or fee stamps): the body parsed into an
/// [`IssueRequest`], `sign` run off the async workers (it answers the issuer key and the
/// signatures), the answer encoded.
pub(super) async fn issue_blind<S, F>(
    service: &Arc<S>,
    body: Result<Bytes, BytesRejection>,
    sign: F,
) -> Result<Json<IssuedJson>, ApiError>
where
    S: LedgerService,
    F: FnOnce(&S, &IssueRequest) -> Result<(TokenKey, Vec<Vec<u8>>), ServiceError> + Send + 'static,
{
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
    let (key, signatures) = blocking(service, move |s| sign(s, &request)).await?;
    Ok(Json(IssuedJson {
        key_id: key.key_id,
        signatures: signatures.iter().map(|s| BASE64.encode(s)).collect(),
    }))
}

/// The read token of a request, if any; text that is not hex is `token_malformed`.
pub fn token_header(headers: &HeaderMap) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(value) = headers.get(TOKEN_HEADER) else {
        return Ok(None);
    };
    let malformed = || ApiError::new(ErrorCode::TokenMalformed, "the read token is not hex");
    let text = value.to_str().map_err(|_| malformed())?;
    hex::decode(text.trim()).map(Some).map_err(|_| malformed())
}
