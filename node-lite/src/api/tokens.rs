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

/// What a pair of blind-signature endpoints issues: read tokens (`/v1/tokens`) or fee
/// stamps (`/v1/stamps`). Both serve the same JSON through [`key`] and [`issue`].
pub trait BlindIssuer: Send + Sync + 'static {
    /// The issuer key and the price of one signature.
    fn key<S: LedgerService>(service: &S) -> Result<TokenKey, ServiceError>;
    /// Blind-signs a paid batch.
    fn sign<S: LedgerService>(
        service: &S,
        request: &IssueRequest,
    ) -> Result<Vec<Vec<u8>>, ServiceError>;
}

/// Declares the [`BlindIssuer`] `$name`, whose key and signing are the service's `$key`
/// and `$sign`.
macro_rules! blind_issuer {
    ($(#[$doc:meta])* $name:ident, $key:ident, $sign:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::api::tokens::BlindIssuer for $name {
            fn key<S: $crate::service::LedgerService>(
                service: &S,
            ) -> Result<$crate::service::TokenKey, $crate::service::ServiceError> {
                service.$key()
            }

            fn sign<S: $crate::service::LedgerService>(
                service: &S,
                request: &$crate::service::IssueRequest,
            ) -> Result<Vec<Vec<u8>>, $crate::service::ServiceError> {
                service.$sign(request)
            }
        }
    };
}
pub(super) use blind_issuer;

blind_issuer!(
    /// Read tokens: a paid read sends one each.
    ReadTokens,
    token_key,
    issue_tokens
);

/// `GET /v1/tokens/key` or `GET /v1/stamps/key`: the issuer key of `I`.
pub async fn key<S: LedgerService, I: BlindIssuer>(
    State(service): State<Arc<S>>,
) -> Result<Json<TokenKeyJson>, ApiError> {
    blocking(&service, I::key::<S>)
        .await
        .map(|key| Json(key.into()))
}

/// `POST /v1/tokens` or `POST /v1/stamps`: a paid batch of blind signatures of `I`, the
/// body parsed into an [`IssueRequest`], the signing run off the async workers, the
/// answer encoded (200).
pub async fn issue<S: LedgerService, I: BlindIssuer>(
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
        let signatures = I::sign(s, &request)?;
        Ok((I::key(s)?, signatures))
    })
    .await?;
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
