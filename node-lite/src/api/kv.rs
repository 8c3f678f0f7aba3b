//! KV endpoints: `PUT`/`GET /v1/kv/{address}/{key_hex}` store and read one encrypted value
//! (raw bytes), `GET /v1/kv/{address}` reads an ordered page of one address. On a shared
//! node each read spends one read token (see [`super::tokens`]).
//!
//! A proven page (`proofs_at=H`) carries beside each record its registration with its
//! state proof against the header at height `H`, so a light client checks a whole page
//! against one header with no request per record.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::blocking;
use super::error::ApiError;
use super::params::{optional_text_header, parse_hex};
use super::state::StateAnswerJson;
use super::tokens::token_header;
use crate::kv::{MAX_KEY_LEN, PutOutcome, RangePage};
use crate::service::{ErrorCode, LedgerService, RangeRequest, StateQuery, WriteCredential};
pub use carchain_core::protocol::api::PutAnswer as PutJson;

/// Header carrying the put's write credential (hex), private nodes only.
pub const CREDENTIAL_HEADER: &str = "x-carchain-credential";
/// Records per page when `limit` is not given.
pub const DEFAULT_RANGE_LIMIT: u32 = 100;

/// Query of `GET /v1/kv/{address}`: hex keys, inclusive bounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// First key (default: the smallest key).
    pub start: Option<String>,
    /// Last key, inclusive (default: past every key).
    pub end: Option<String>,
    /// Page size 1..=1000 (default 100).
    pub limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Attach each record's registration, proven against the header at this committed
    /// height.
    pub proofs_at: Option<u64>,
}

/// One record of a range page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeItemJson {
    /// Key (hex).
    pub key: String,
    /// Value (standard base64).
    pub value: String,
    /// With `proofs_at`: the record's registration and its proof, as
    /// `GET /v1/state/record/{address}/{key}?height=H` answers them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<StateAnswerJson>,
}

/// JSON answer of `GET /v1/kv/{address}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeJson {
    /// Records in ascending key order.
    pub items: Vec<RangeItemJson>,
    /// Pass as `after` for the next page; `null` when the range is exhausted.
    pub next_cursor: Option<String>,
    /// With `proofs_at`: the address's record index (count and key digest) and its
    /// proof, as `GET /v1/state/address-index/{address}?height=H` answers them, so a
    /// reader checks the page complete with no further request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<StateAnswerJson>,
}

impl From<RangePage> for RangeJson {
    fn from(page: RangePage) -> Self {
        RangeJson {
            items: page
                .items
                .into_iter()
                .map(|(key, value)| RangeItemJson {
                    key: hex::encode(key),
                    value: BASE64.encode(value),
                    registration: None,
                })
                .collect(),
            next_cursor: page.next_cursor.map(hex::encode),
            index: None,
        }
    }
}

/// A write credential's hex text (a header or a batch item's field).
pub fn parse_credential(text: &str) -> Result<WriteCredential, ApiError> {
    hex::decode(text.trim()).map(WriteCredential).map_err(|_| {
        ApiError::new(
            ErrorCode::CredentialMalformed,
            "the write credential is not hex",
        )
    })
}

/// `PUT /v1/kv/{address}/{key_hex}`: 201 stored, 200 already stored.
pub async fn put<S: LedgerService>(
    State(service): State<Arc<S>>,
    Path((address, key_hex)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value = body?;
    let key = parse_hex("record key", &key_hex)?;
    let credential = optional_text_header(&headers, CREDENTIAL_HEADER)?
        .map(|text| parse_credential(&text))
        .transpose()?;
    let outcome = blocking(&service, move |s| {
        s.put_value(&address, &key, &value, credential.as_ref())
    })
    .await?;
    let (status, outcome) = match outcome {
        PutOutcome::Stored => (StatusCode::CREATED, "stored"),
        PutOutcome::AlreadyStored => (StatusCode::OK, "already_stored"),
    };
    Ok((
        status,
        Json(PutJson {
            outcome: outcome.to_owned(),
        }),
    )
        .into_response())
}

/// `GET /v1/kv/{address}/{key_hex}`: the raw value, or 404.
pub async fn get<S: LedgerService>(
    State(service): State<Arc<S>>,
    Path((address, key_hex)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = parse_hex("record key", &key_hex)?;
    let token = token_header(&headers)?;
    let found = blocking(&service, move |s| {
        s.get_value(&address, &key, token.as_deref())
    })
    .await?;
    let value =
        found.ok_or_else(|| ApiError::not_found(format!("no value under key {key_hex}")))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], value).into_response())
}

/// `GET /v1/kv/{address}?start=&end=&limit=&after=&proofs_at=`: one page of the address,
/// with each record's proven registration when `proofs_at` is given.
pub async fn range<S: LedgerService>(
    State(service): State<Arc<S>>,
    Path(address): Path<String>,
    headers: HeaderMap,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<RangeJson>, ApiError> {
    let Query(query) =
        query.map_err(|err| ApiError::invalid(format!("bad query: {}", err.body_text())))?;
    let token = token_header(&headers)?;
    let start = match query.start {
        Some(text) => parse_hex("start", &text)?,
        None => Vec::new(),
    };
    let end = match query.end {
        Some(text) => parse_hex("end", &text)?,
        None => vec![0xff; MAX_KEY_LEN],
    };
    let after = query
        .after
        .map(|text| parse_hex("after", &text))
        .transpose()?;
    let proofs_at = query.proofs_at;
    let request = RangeRequest {
        address,
        start,
        end,
        limit: query.limit.unwrap_or(DEFAULT_RANGE_LIMIT),
        after,
    };
    let page = blocking(&service, move |s| {
        // The index at the proof height; a height the node cannot prove at is refused
        // before the read is paid.
        let index = proofs_at
            .map(|height| {
                s.query_state(
                    &StateQuery::AddressIndex(request.address.clone()),
                    Some(height),
                )
            })
            .transpose()?;
        let page = s.range_values(&request, token.as_deref())?;
        let Some(height) = proofs_at else {
            return Ok(RangeJson::from(page));
        };
        let mut registrations = Vec::with_capacity(page.items.len());
        for (key, _) in &page.items {
            let query = StateQuery::Record {
                address: request.address.clone(),
                key: key.clone(),
            };
            registrations.push(StateAnswerJson::from(s.query_state(&query, Some(height))?));
        }
        let mut json = RangeJson::from(page);
        for (item, registration) in json.items.iter_mut().zip(registrations) {
            item.registration = Some(registration);
        }
        json.index = index.map(StateAnswerJson::from);
        Ok(json)
    })
    .await?;
    Ok(Json(page))
}
