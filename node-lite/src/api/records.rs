//! `POST /v1/records`: many record puts in one request — each a signed `RecordPut`
//! transaction with its encrypted value (base64) — registered and stored together, one
//! result per item. What a car's offline queue sends when it comes back into coverage;
//! sending the same batch again is harmless.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use carchain_core::protocol::SignedTransaction;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::kv::parse_credential;
use super::params::parse_json;
use super::record_wire::{WireRecordItem, WireRecordsBody};
use crate::node::MAX_BATCH_ITEMS;
use crate::service::{ErrorCode, LedgerService, RecordItem, RecordReceipt, ServiceError};

/// One item of a batch.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordItemJson {
    /// The signed `RecordPut` transaction.
    pub tx: SignedTransaction,
    /// The encrypted value, standard base64.
    pub value: String,
    /// The address's write credential (hex), when the node is private. Nothing in an
    /// item names the writer.
    #[serde(default)]
    pub credential: Option<String>,
}

/// Body of `POST /v1/records` (its JSON shape; the handler decodes it through
/// [`super::record_wire`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsBody {
    /// The records, at most [`MAX_BATCH_ITEMS`].
    pub items: Vec<RecordItemJson>,
}

/// An item's refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemErrorJson {
    /// Stable code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

/// One item's result: where it landed, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemResultJson {
    /// Registered and stored.
    Stored {
        /// The registration's transaction id (hex).
        #[serde(with = "hex::serde")]
        tx_id: [u8; 32],
        /// Its block.
        height: u64,
        /// Its position in the block.
        index: u32,
        /// `"stored"` or `"already_stored"` (a retry).
        outcome: String,
    },
    /// Refused.
    Error {
        /// Why.
        error: ItemErrorJson,
    },
}

impl From<Result<RecordReceipt, ServiceError>> for ItemResultJson {
    fn from(result: Result<RecordReceipt, ServiceError>) -> Self {
        match result {
            Ok(receipt) => ItemResultJson::Stored {
                tx_id: receipt.tx_id,
                height: receipt.height,
                index: receipt.index,
                outcome: match receipt.outcome {
                    crate::kv::PutOutcome::Stored => "stored",
                    crate::kv::PutOutcome::AlreadyStored => "already_stored",
                }
                .to_owned(),
            },
            Err(err) => ItemResultJson::Error {
                error: ItemErrorJson {
                    code: err.code,
                    message: err.message,
                },
            },
        }
    }
}

/// Answer of `POST /v1/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsJson {
    /// One result per item, in the items' order.
    pub results: Vec<ItemResultJson>,
}

fn item(index: usize, wire: WireRecordItem) -> Result<RecordItem, ApiError> {
    let value = wire
        .value
        .0
        .ok_or_else(|| ApiError::invalid(format!("items[{index}].value is not base64")))?;
    let credential = wire
        .credential
        .map(|text| parse_credential(&text))
        .transpose()?;
    Ok(RecordItem {
        tx: wire.tx.0,
        value,
        credential,
    })
}

/// `POST /v1/records`: 200 with one result per item (each its own success or error).
pub async fn put_records<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecordsJson>, ApiError> {
    let body = body?;
    let request: WireRecordsBody = parse_json(&body)?;
    if request.items.is_empty() || request.items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::invalid(format!(
            "a batch holds 1 to {MAX_BATCH_ITEMS} items"
        )));
    }
    let items = request
        .items
        .into_iter()
        .enumerate()
        .map(|(index, wire)| item(index, wire))
        .collect::<Result<Vec<_>, _>>()?;
    let results = service.put_records(items).await;
    Ok(Json(RecordsJson {
        results: results.into_iter().map(ItemResultJson::from).collect(),
    }))
}
