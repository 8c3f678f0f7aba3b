//! A small client of CometBFT's JSON-RPC (loopback): `broadcast_tx_sync` hands a
//! transaction to the local CometBFT node's mempool (its answer is this app's CheckTx),
//! `status` tells the latest block, and `commit` with `validators` make the light block
//! at a height (the engine's signed header and the validator sets that signed it), which
//! the node serves at `GET /v1/light/{height}` unchanged: light clients verify the
//! engine's validators' own signatures.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::light::LightBlock;
use serde_json::{Value, json};
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator::{Info, Set};

/// Validators asked per `validators` page (CometBFT's maximum).
const VALIDATORS_PER_PAGE: usize = 100;

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
    /// CometBFT has no block (or no commit yet) at the height asked.
    #[error("CometBFT has no block at height {0} yet")]
    NoBlock(u64),
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

    /// The light block at `height`: the signed header CometBFT committed (its commit for
    /// the latest height is the one this node saw), the validators of `height` and of
    /// `height + 1`.
    pub async fn light_block(&self, height: u64) -> Result<LightBlock, RpcError> {
        if height == 0 {
            return Err(RpcError::NoBlock(0));
        }
        let result = self
            .call("commit", json!({ "height": height.to_string() }))
            .await
            .map_err(|err| no_block(err, height))?;
        let signed_header: SignedHeader =
            serde_json::from_value(result["signed_header"].clone())
                .map_err(|err| RpcError::Unreachable(format!("commit {height}: {err}")))?;
        let validators = self.validators(height).await?;
        let next = self.validators(height.saturating_add(1)).await?;
        Ok(LightBlock::new(
            signed_header,
            validators,
            next,
            tendermint::node::Id::new([0; 20]),
        ))
    }

    /// The validator set of `height` (every page of `validators`).
    async fn validators(&self, height: u64) -> Result<Set, RpcError> {
        let mut all: Vec<Info> = Vec::new();
        for page in 1.. {
            let result = self
                .call(
                    "validators",
                    json!({
                        "height": height.to_string(),
                        "page": page.to_string(),
                        "per_page": VALIDATORS_PER_PAGE.to_string(),
                    }),
                )
                .await
                .map_err(|err| no_block(err, height))?;
            let listed: Vec<Info> = serde_json::from_value(result["validators"].clone())
                .map_err(|err| RpcError::Unreachable(format!("validators {height}: {err}")))?;
            let total: usize = result["total"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| RpcError::Unreachable("validators without a total".into()))?;
            let empty = listed.is_empty();
            all.extend(listed);
            if all.len() >= total || empty {
                break;
            }
        }
        Ok(Set::without_proposer(all))
    }
}

/// CometBFT's "height must be less than or equal to the current blockchain height" (and
/// its other answers for a height it has not reached) as [`RpcError::NoBlock`].
fn no_block(err: RpcError, height: u64) -> RpcError {
    match err {
        RpcError::Refused(text)
            if text.contains("must be less than or equal")
                || text.contains("could not find")
                || text.contains("not found") =>
        {
            RpcError::NoBlock(height)
        }
        other => other,
    }
}
