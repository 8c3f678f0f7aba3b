//! A small client of CometBFT's JSON-RPC (loopback): `broadcast_tx_sync` hands a
//! transaction to the local CometBFT node's mempool (its answer is this app's CheckTx);
//! `broadcast_tx_async` hands several at once as one JSON-RPC batch (CometBFT runs a
//! batch's calls in order, so one signer's nonces stay in sequence, and answers without
//! waiting for each CheckTx: the app learns those itself); `status` tells the latest block, and `commit` with
//! `validators` make the light block at a height (the engine's signed header and the
//! validator sets that signed it), which the node serves at `GET /v1/light/{height}`
//! unchanged: light clients verify the engine's validators' own signatures.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::protocol::light_block::LightBlock;
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
        let answer = self.post(&body).await?;
        if answer.get("error").is_some() {
            return Err(refusal(&answer));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::Unreachable("an answer without a result".into()))
    }

    async fn post(&self, body: &Value) -> Result<Value, RpcError> {
        let response = self
            .http
            .post(&self.url)
            .json(body)
            .send()
            .await
            .map_err(|err| RpcError::Unreachable(err.to_string()))?;
        response
            .json()
            .await
            .map_err(|err| RpcError::Unreachable(err.to_string()))
    }

    /// Hands `tx` (canonical bytes) to CometBFT's mempool; the answer is the CheckTx
    /// result.
    pub async fn broadcast_tx_sync(&self, tx: &[u8]) -> Result<CheckResult, RpcError> {
        let result = self
            .call("broadcast_tx_sync", json!({ "tx": BASE64.encode(tx) }))
            .await?;
        check_result(&result)
    }

    /// Queues `txs` in CometBFT's mempool in their order, [`BROADCAST_BATCH`] per JSON-RPC
    /// batch of `broadcast_tx_async` calls: each answer is `Ok` once CometBFT took the
    /// transaction for its CheckTx (whose result only the app sees: CometBFT does not
    /// wait for it, so a whole batch shares one flush of its ABCI connection instead of
    /// waiting for one per transaction), [`RpcError::AlreadyKnown`] for one in its cache,
    /// or why CometBFT refused it.
    pub async fn broadcast_txs_async(&self, txs: &[Vec<u8>]) -> Vec<Result<(), RpcError>> {
        let mut answers = Vec::with_capacity(txs.len());
        for chunk in txs.chunks(BROADCAST_BATCH) {
            match self.broadcast_chunk("broadcast_tx_async", chunk).await {
                Ok(chunk_answers) => {
                    answers.extend(chunk_answers.into_iter().map(|answer| answer.map(|_| ())));
                }
                Err(RpcError::Refused(_)) => {
                    for tx in chunk {
                        let answer = self
                            .call("broadcast_tx_async", json!({ "tx": BASE64.encode(tx) }))
                            .await;
                        answers.push(answer.map(|_| ()));
                    }
                }
                Err(err) => answers.extend(chunk.iter().map(|_| Err(err.clone()))),
            }
        }
        answers
    }

    /// One JSON-RPC batch of `method` calls; `Err` when the batch as a whole is refused or
    /// unanswered.
    async fn broadcast_chunk(
        &self,
        method: &str,
        txs: &[Vec<u8>],
    ) -> Result<Vec<Result<CheckResult, RpcError>>, RpcError> {
        let calls: Vec<Value> = txs
            .iter()
            .enumerate()
            .map(|(id, tx)| {
                json!({ "jsonrpc": "2.0", "id": id, "method": method,
                        "params": { "tx": BASE64.encode(tx) } })
            })
            .collect();
        let answer = self.post(&Value::Array(calls)).await?;
        let replies = match answer {
            Value::Array(replies) => replies,
            // CometBFT answers a batch of one call with that call's reply itself, not an
            // array of one (the call was made: sending it again would find it cached).
            reply if txs.len() == 1 && reply.get("id").and_then(Value::as_u64) == Some(0) => {
                vec![reply]
            }
            // One error answers a batch CometBFT does not take (too many calls).
            refused => return Err(RpcError::Refused(rpc_error_text(&refused))),
        };
        let mut answers: Vec<Result<CheckResult, RpcError>> = txs
            .iter()
            .map(|_| Err(RpcError::Unreachable("no answer in the batch".into())))
            .collect();
        for reply in &replies {
            let slot = reply
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| usize::try_from(id).ok())
                .and_then(|id| answers.get_mut(id));
            let Some(slot) = slot else { continue };
            *slot = match reply.get("result") {
                Some(result) if reply.get("error").is_none() => check_result(result),
                _ => Err(refusal(reply)),
            };
        }
        Ok(answers)
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

/// Calls per JSON-RPC batch ([`CometRpc::broadcast_txs_async`]); `scripts/cometbft`
/// raises CometBFT's `rpc.max_request_batch_size` (10 by default) to it.
pub const BROADCAST_BATCH: usize = 100;

/// A `broadcast_tx_sync` result: the CheckTx answer.
fn check_result(result: &Value) -> Result<CheckResult, RpcError> {
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

/// The text of a JSON-RPC error answer.
fn rpc_error_text(answer: &Value) -> String {
    let error = answer.get("error").unwrap_or(answer);
    error
        .get("data")
        .and_then(Value::as_str)
        .or_else(|| error.get("message").and_then(Value::as_str))
        .unwrap_or("unknown error")
        .to_owned()
}

/// A JSON-RPC error answer as an [`RpcError`].
fn refusal(answer: &Value) -> RpcError {
    let text = rpc_error_text(answer);
    if text.contains("already exists in cache") {
        RpcError::AlreadyKnown
    } else {
        RpcError::Refused(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::routing::post;
    use std::sync::{Arc, Mutex};

    /// What the fake RPC was sent: per request, how many calls it held and their method.
    type Seen = Arc<Mutex<Vec<(usize, String)>>>;

    /// A stand-in for CometBFT's RPC on loopback: CheckTx code = the transaction's first
    /// byte; a transaction starting with 0xcc is "already in the cache"; batches of more
    /// than `max_batch` calls are refused as a whole (CometBFT's
    /// `max_request_batch_size`), and a batch's answers come back in reverse order.
    async fn fake_rpc(max_batch: usize) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let log = Arc::clone(&seen);
        let answer = |call: &Value| {
            let tx = BASE64
                .decode(call["params"]["tx"].as_str().unwrap_or_default())
                .unwrap_or_default();
            let id = call["id"].clone();
            match tx.first() {
                Some(0xcc) => json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32603, "message": "Internal error",
                              "data": "tx already exists in cache"}}),
                first => json!({"jsonrpc": "2.0", "id": id,
                    "result": {"code": first.copied().unwrap_or(0), "log": "", "codespace": ""}}),
            }
        };
        let app = axum::Router::new().route(
            "/",
            post(move |Json(body): Json<Value>| {
                let log = Arc::clone(&log);
                async move {
                    let calls = body.as_array().map_or(1, Vec::len);
                    let first = body.as_array().and_then(|b| b.first()).unwrap_or(&body);
                    let method = first["method"].as_str().unwrap_or_default().to_owned();
                    log.lock().expect("log").push((calls, method));
                    Json(match body.as_array().map(Vec::as_slice) {
                        Some(batch) if batch.len() > max_batch => json!({"jsonrpc": "2.0",
                            "id": -1, "error": {"code": -32600, "message": "Invalid Request",
                            "data": "batch request exceeds maximum"}}),
                        // As CometBFT does: a batch of one is answered with the reply.
                        Some([call]) => answer(call),
                        Some(batch) => Value::Array(batch.iter().rev().map(answer).collect()),
                        None => answer(&body),
                    })
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, seen)
    }

    fn txs() -> Vec<Vec<u8>> {
        (0..250u32)
            .map(|i| match i {
                7 => vec![0xcc],
                9 => vec![5, 1],
                _ => vec![0, (i % 256) as u8],
            })
            .collect()
    }

    fn sizes(seen: &Seen) -> Vec<usize> {
        seen.lock().expect("seen").iter().map(|(n, _)| *n).collect()
    }

    #[tokio::test]
    async fn batches_queue_each_transaction_in_order_by_id() {
        let (url, seen) = fake_rpc(BROADCAST_BATCH).await;
        let rpc = CometRpc::new(&url).expect("client");
        let answers = rpc.broadcast_txs_async(&txs()).await;
        assert_eq!(answers.len(), 250);
        assert_eq!(answers[7], Err(RpcError::AlreadyKnown));
        // The engine took the others; their CheckTx results reach the app, not the RPC.
        assert!(answers.iter().enumerate().all(|(i, a)| i == 7 || a.is_ok()));
        assert_eq!(sizes(&seen), [100, 100, 50], "three round trips");
        assert!(
            seen.lock()
                .expect("seen")
                .iter()
                .all(|(_, method)| method == "broadcast_tx_async")
        );
    }

    #[tokio::test]
    async fn a_batch_of_one_is_sent_once_and_answered_by_its_reply() {
        let (url, seen) = fake_rpc(BROADCAST_BATCH).await;
        let rpc = CometRpc::new(&url).expect("client");
        assert_eq!(rpc.broadcast_txs_async(&[vec![0, 1]]).await, [Ok(())]);
        assert_eq!(
            rpc.broadcast_txs_async(&[vec![0xcc]]).await,
            [Err(RpcError::AlreadyKnown)]
        );
        assert_eq!(sizes(&seen), [1, 1], "each sent once");
    }

    #[tokio::test]
    async fn a_batch_the_engine_refuses_goes_one_call_at_a_time() {
        let (url, seen) = fake_rpc(10).await;
        let rpc = CometRpc::new(&url).expect("client");
        let answers = rpc.broadcast_txs_async(&txs()[..120]).await;
        assert_eq!(answers[7], Err(RpcError::AlreadyKnown));
        assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 119);
        let sizes = sizes(&seen);
        assert_eq!(sizes[0], 100, "the batch was tried first");
        assert_eq!(sizes.iter().filter(|&&calls| calls == 1).count(), 120);
    }

    #[tokio::test]
    async fn one_synchronous_broadcast_answers_its_check() {
        let (url, _) = fake_rpc(BROADCAST_BATCH).await;
        let rpc = CometRpc::new(&url).expect("client");
        assert_eq!(
            rpc.broadcast_tx_sync(&[5, 1]).await.expect("answer").code,
            5
        );
        assert_eq!(
            rpc.broadcast_tx_sync(&[0xcc]).await,
            Err(RpcError::AlreadyKnown)
        );
    }

    #[tokio::test]
    async fn an_unreachable_engine_answers_every_transaction_unreachable() {
        let rpc = CometRpc::new("http://127.0.0.1:9").expect("client");
        let answers = rpc.broadcast_txs_async(&txs()[..3]).await;
        assert_eq!(answers.len(), 3);
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Err(RpcError::Unreachable(_))))
        );
    }
}
