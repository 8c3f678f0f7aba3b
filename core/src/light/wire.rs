//! The node API's JSON as the light client reads and writes it (`node-lite/openapi.yaml`):
//! the bodies the node shares with the SDK come from [`crate::protocol::api`] under the
//! names the client uses; the rest are the client's own views (borrowed request bodies,
//! the state answer and range page without the node's `value_json`).

use serde::{Deserialize, Serialize};

use crate::protocol::SignedTransaction;
pub use crate::protocol::api::{
    CredentialHolder as CredentialHolderWire, CredentialRequest as CredentialRequestWire,
    Credentials as CredentialsWire, ErrorBody as ErrorWire, ErrorDetail as ErrorDetailWire,
    Headers as HeadersWire, IssueRequest as IssueWire, Issued as IssuedWire, PutAnswer as PutWire,
    TokenKey as TokenKeyWire,
};

/// `GET /v1/status`: what a node says about itself. Unverified: only headers and proofs
/// are checked; this view is for choosing whom to ask and whom to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatusView {
    /// Chain identifier.
    pub chain_id: String,
    /// Address network name (`mainnet`, `testnet`, `regtest`).
    pub network: String,
    /// The node's latest committed height.
    pub height: u64,
    /// Hash of its latest header (hex), if any.
    #[serde(default)]
    pub latest_hash: Option<String>,
    /// Storage mode: `private` or `shared`.
    pub mode: String,
    /// The node's software version.
    #[serde(default)]
    pub version: String,
    /// Other nodes it knows.
    #[serde(default)]
    pub peers: Vec<String>,
    /// The validator's public key (hex).
    pub validator: String,
    /// The operator's account (read payments go here).
    pub operator_address: String,
    /// Transactions waiting for a block.
    #[serde(default)]
    pub mempool: usize,
}

/// The answer of every `GET /v1/state/...` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateAnswerWire {
    /// Height of the header the proof is against.
    pub height: u64,
    /// That header's state root.
    #[serde(with = "hex::serde")]
    pub state_root: [u8; 32],
    /// The state-tree key looked up.
    #[serde(with = "hex::serde")]
    pub key_hash: [u8; 32],
    /// Canonical value bytes (hex), `None` when absent.
    pub value: Option<String>,
    /// The proof, hex of its borsh bytes.
    pub proof: String,
}

/// Body of `POST /v1/tx`.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitWire<'a> {
    /// The signed transaction.
    pub tx: &'a SignedTransaction,
    /// Wait for the committing block.
    pub wait: bool,
}

/// Answer of `POST /v1/tx`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptWire {
    /// Transaction id.
    #[serde(with = "hex::serde")]
    pub tx_id: [u8; 32],
    /// Committing block, when waited for.
    #[serde(default)]
    pub height: Option<u64>,
}

/// One item of `POST /v1/records`.
#[derive(Debug, Clone, Serialize)]
pub struct RecordItemWire<'a> {
    /// The signed `RecordPut`.
    pub tx: &'a SignedTransaction,
    /// The encrypted value, standard base64.
    pub value: String,
    /// The address's write credential (hex), private nodes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Body of `POST /v1/records`.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsWire<'a> {
    /// The items, all of one address when a car sends them.
    pub items: Vec<RecordItemWire<'a>>,
}

/// One item's result in the answer of `POST /v1/records`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RecordResultWire {
    /// Registered and stored (`outcome`: `stored` or `already_stored`).
    Stored {
        /// `stored` or `already_stored`.
        outcome: String,
    },
    /// Refused.
    Error {
        /// Why.
        error: ErrorDetailWire,
    },
}

/// Answer of `POST /v1/records`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordsAnswerWire {
    /// One result per item, in order.
    pub results: Vec<RecordResultWire>,
}

/// `GET /v1/credentials/key`: a private node's write-credential issuer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialKeyWire {
    /// The key's id (hex of its digest).
    pub key_id: String,
    /// The public key (hex), in the token module's form.
    pub public_key: String,
}

/// One item of a range page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeItemWire {
    /// Key, hex.
    pub key: String,
    /// Value, standard base64.
    pub value: String,
    /// A proven page's registration of the record with its proof.
    #[serde(default)]
    pub registration: Option<StateAnswerWire>,
}

/// `GET /v1/kv/{address}?start=&end=&limit=&after=&proofs_at=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeWire {
    /// Items in ascending key order.
    pub items: Vec<RangeItemWire>,
    /// Cursor of the next page, `None` at the end.
    pub next_cursor: Option<String>,
    /// A proven page's address index (count and key digest) with its proof.
    #[serde(default)]
    pub index: Option<StateAnswerWire>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_json_of_the_node_decodes() {
        let json = r#"{"chain_id":"carchain-dev","network":"regtest","height":7,
            "latest_hash":"ab","mode":"shared","version":"0.1.0","peers":[],
            "validator":"02aa","operator_address":"bcrt1qop","mempool":3}"#;
        let status: NodeStatusView = serde_json::from_str(json).unwrap();
        assert_eq!(status.height, 7);
        assert_eq!(status.mode, "shared");
        assert_eq!(status.operator_address, "bcrt1qop");
        assert_eq!(status.mempool, 3);
    }

    #[test]
    fn state_answer_with_and_without_value_decodes() {
        let root = "11".repeat(32);
        let key = "22".repeat(32);
        let present = format!(
            r#"{{"height":4,"state_root":"{root}","key_hash":"{key}","value":"0a0b",
            "value_json":{{"balance":1}},"proof":"00"}}"#
        );
        let answer: StateAnswerWire = serde_json::from_str(&present).unwrap();
        assert_eq!(answer.height, 4);
        assert_eq!(answer.state_root, [0x11; 32]);
        assert_eq!(answer.key_hash, [0x22; 32]);
        assert_eq!(answer.value.as_deref(), Some("0a0b"));
        let absent = format!(
            r#"{{"height":4,"state_root":"{root}","key_hash":"{key}","value":null,
            "value_json":null,"proof":"00"}}"#
        );
        let answer: StateAnswerWire = serde_json::from_str(&absent).unwrap();
        assert_eq!(answer.value, None);
        let short_root =
            r#"{"height":4,"state_root":"11","key_hash":"22","value":null,"proof":""}"#;
        assert!(serde_json::from_str::<StateAnswerWire>(short_root).is_err());
    }

    #[test]
    fn error_receipt_range_and_put_bodies_decode() {
        let error: ErrorWire = serde_json::from_str(
            r#"{"error":{"code":"duplicate_record","message":"already registered"}}"#,
        )
        .unwrap();
        assert_eq!(error.error.code, "duplicate_record");
        let receipt: ReceiptWire = serde_json::from_str(&format!(
            r#"{{"tx_id":"{}","height":9,"index":0}}"#,
            "ab".repeat(32)
        ))
        .unwrap();
        assert_eq!(receipt.tx_id, [0xab; 32]);
        assert_eq!(receipt.height, Some(9));
        let queued: ReceiptWire = serde_json::from_str(&format!(
            r#"{{"tx_id":"{}","height":null,"index":null}}"#,
            "cd".repeat(32)
        ))
        .unwrap();
        assert_eq!(queued.height, None);
        let page: RangeWire =
            serde_json::from_str(r#"{"items":[{"key":"01","value":"AQI="}],"next_cursor":"01"}"#)
                .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_cursor.as_deref(), Some("01"));
        let put: PutWire = serde_json::from_str(r#"{"outcome":"already_stored"}"#).unwrap();
        assert_eq!(put.outcome, "already_stored");
    }
}
