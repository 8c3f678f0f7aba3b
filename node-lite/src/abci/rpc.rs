//! A small client of CometBFT's JSON-RPC (loopback): `broadcast_tx_sync` hands a
//! transaction to the local CometBFT node's mempool (its answer is this app's CheckTx),
//! `status` tells the latest block.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

/// Why a call to CometBFT's RPC failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// CometBFT could not be reached or answered something that is not JSON-RPC.
    #[error("CometBFT RPC unreachable: {0}")]
    Unreachable(String),
    /// The transaction is already in CometBFT's mempool cache (sent before).
    #[error("the transaction is already in CometBFT's mempool cache")]
    AlreadyKnown,
    /// CometBFT refused the call (a full mempool, a transaction too large, ...).
    #[error("CometBFT refused: {0}")]
    Refused(String),
}

/// CometBFT's answer to `broadcast_tx_sync`: this app's CheckTx result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// 0 when admitted.
    pub code: u32,
    /// Its codespace.
    pub codespace: String,
    /// The log line (`name: message` for CarChain refusals).
    pub log: String,
}

/// The latest block CometBFT knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncInfo {
    /// Latest block height.
    pub height: u64,
    /// Whether the node is still catching up with its peers.
    pub catching_up: bool,
}

/// A JSON-RPC client of one CometBFT node.
#[derive(Debug, Clone)]
pub struct CometRpc {
    url: String,
    http: reqwest::Client,
}

impl CometRpc {
    /// A client of the RPC at `url` (e.g. `http://127.0.0.1:26657`).
    pub fn new(url: &str) -> Result<Self, RpcError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|err| RpcError::Unreachable(err.to_string()))?;
        Ok(CometRpc {
            url: url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The RPC's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|err| RpcError::Unreachable(err.to_string()))?;
        let answer: Value = response
            .json()
            .await
            .map_err(|err| RpcError::Unreachable(err.to_string()))?;
        if let Some(error) = answer.get("error") {
            let data = error
                .get("data")
                .and_then(Value::as_str)
                .or_else(|| error.get("message").and_then(Value::as_str))
                .unwrap_or("unknown error")
                .to_owned();
            if data.contains("already exists in cache") {
                return Err(RpcError::AlreadyKnown);
            }
            return Err(RpcError::Refused(data));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::Unreachable("an answer without a result".into()))
    }

    /// Hands `tx` (canonical bytes) to CometBFT's mempool; the answer is the CheckTx
    /// result.
    pub async fn broadcast_tx_sync(&self, tx: &[u8]) -> Result<CheckResult, RpcError> {
        let result = self
            .call("broadcast_tx_sync", json!({ "tx": BASE64.encode(tx) }))
            .await?;
        let code = result
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|code| u32::try_from(code).ok())
            .ok_or_else(|| RpcError::Unreachable("broadcast answer without a code".into()))?;
        let text = |name: &str| {
            result
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(CheckResult {
            code,
            codespace: text("codespace"),
            log: text("log"),
        })
    }

    /// The latest block and whether the node is catching up.
    pub async fn status(&self) -> Result<SyncInfo, RpcError> {
        let result = self.call("status", json!({})).await?;
        let sync = &result["sync_info"];
        let height = sync["latest_block_height"]
            .as_str()
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| RpcError::Unreachable("status without a height".into()))?;
        Ok(SyncInfo {
            height,
            catching_up: sync["catching_up"].as_bool().unwrap_or(false),
        })
    }
}
