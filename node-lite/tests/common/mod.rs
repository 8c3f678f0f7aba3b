//! Shared helpers of the end-to-end tests: create a chain with `carchain-node init`, run
//! the real binary on a free loopback port, sign transactions with funded keys and
//! verify state answers against signed headers.
#![allow(dead_code)]

pub mod batches;
pub mod cometbft;
pub mod providers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::protocol::signing::sign_digest;
use carchain_core::protocol::token_issue_digest;
use carchain_core::protocol::{
    AccountState, Canonical, SignedHeader, SignedTransaction, decode_state_proof, state_key,
    verify_chain, verify_state_proof,
};
use carchain_core::tokens::{IssuerPublicKey, PendingToken, batch_digest};
use carchain_testkit::{DevChain, TestChain, node_process};
use serde_json::{Value, json};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_carchain-node");
/// The chain id `init` uses by default.
pub const CHAIN_ID: &str = DevChain::CHAIN_ID;
pub use carchain_testkit::BASE_FEE;

/// A funded account key signing for the chain `init` creates by default.
pub type Wallet = carchain_testkit::ChainKey<DevChain>;

/// What `carchain-node init` printed.
pub struct Chain {
    pub dir: tempfile::TempDir,
    pub validator_pubkey: String,
    pub operator_address: String,
}

impl Chain {
    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

/// A chain funding key `[byte; 32]` with `amount`, and the node running it.
pub fn funded_node(byte: u8, amount: u64) -> (Wallet, Chain, NodeProcess) {
    let funded = Wallet::from_byte(byte);
    let chain = init_chain(&[(&funded.address, amount)]);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    (funded, chain, node)
}

/// The keys `[byte; 32]` of `bytes`, a chain funding each with `amount`, and the node
/// running it.
pub fn funded_keys_node<const N: usize>(
    bytes: [u8; N],
    amount: u64,
) -> ([Wallet; N], Chain, NodeProcess) {
    let keys = bytes.map(Wallet::from_byte);
    let chain = init_chain_funding(&keys.each_ref(), amount);
    let node = NodeProcess::start(&chain.data_dir(), &[]);
    (keys, chain, node)
}

/// Runs `init` in a fresh temp dir funding each of `keys` with `amount`.
pub fn init_chain_funding(keys: &[&Wallet], amount: u64) -> Chain {
    let funds: Vec<(&str, u64)> = keys.iter().map(|k| (k.address.as_str(), amount)).collect();
    init_chain(&funds)
}

/// Runs `init` in a fresh temp dir funding `funds`.
pub fn init_chain(funds: &[(&str, u64)]) -> Chain {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = node_process::init(
        Path::new(BIN),
        &dir.path().join("data"),
        &node_process::fund_args(funds),
    );
    Chain {
        validator_pubkey: summary.validator_pubkey,
        operator_address: summary.operator_address,
        dir,
    }
}

/// A running `carchain-node run` process.
pub struct NodeProcess {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl NodeProcess {
    /// Starts the node on `127.0.0.1:0` with 50 ms blocks and waits for its `listening
    /// on` line.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_block_time(data_dir, 50, extra)
    }

    /// [`NodeProcess::start`] with blocks every `block_ms`.
    pub fn start_with_block_time(data_dir: &Path, block_ms: u64, extra: &[&str]) -> Self {
        let log = unique_log_path(&data_dir.with_extension("log"));
        let block_ms = block_ms.to_string();
        let mut flags = vec!["--block-time-ms", block_ms.as_str()];
        flags.extend(extra);
        let (child, base) = node_process::spawn_run(
            Path::new(BIN),
            data_dir,
            "127.0.0.1:0",
            &flags,
            &[("RUST_LOG", "info")],
            &log,
        )
        .unwrap_or_else(|e| panic!("node did not start: {e}"));
        NodeProcess { child, base, log }
    }

    /// SIGKILL, no cleanup.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit status (at most 20 s).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "node did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique_log_path(base: &Path) -> PathBuf {
    let mut n = 0;
    loop {
        let candidate = base.with_extension(format!("log{n}"));
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

/// An HTTP client with a timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Posts `tx`; returns the status and the JSON body.
pub async fn submit(base: &str, tx: &SignedTransaction, wait: bool) -> (u16, Value) {
    let response = client()
        .post(format!("{base}/v1/tx"))
        .json(&json!({ "tx": tx, "wait": wait }))
        .send()
        .await
        .expect("post tx");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// Asserts `body` is the API's error shape with `code`.
pub fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// GETs `url` paying with read `token` (the `x-carchain-token` header).
pub async fn paid_get(url: &str, token: &str) -> reqwest::Response {
    client()
        .get(url)
        .header("x-carchain-token", token)
        .send()
        .await
        .expect("paid get")
}

/// The JSON document at `url`, paid with read `token`.
pub async fn paid_json(url: &str, token: &str) -> Value {
    paid_get(url, token).await.json().await.expect("json body")
}

/// GETs a JSON document.
pub async fn get_json(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// The node's status.
pub async fn status(base: &str) -> Value {
    let (code, body) = get_json(&format!("{base}/v1/status")).await;
    assert_eq!(code, 200, "{body}");
    body
}

/// The light block at `height` from `base`, `None` while the node has none (a CometBFT
/// engine commits the light block of ledger block `H` one block later).
async fn light_block_at(base: &str, height: u64) -> Option<carchain_core::light::LightBlock> {
    let (code, body) = get_json(&format!("{base}/v1/light/{height}")).await;
    if code == 404 {
        return None;
    }
    assert_eq!(code, 200, "{body}");
    Some(serde_json::from_value(body).expect("light block"))
}

/// All signed headers from genesis up to the newest one a light block certifies, each
/// signature and link checked, the newest certified by the node's light block verified
/// from the anchor `validators` (the trust anchor text: the ed25519 validator key(s))
/// with tendermint-light-client-verifier, and every header bound to the verified chain.
pub async fn verified_headers(base: &str, validators: &str) -> Vec<SignedHeader> {
    let mut headers: Vec<SignedHeader> = Vec::new();
    let mut from = 0u64;
    loop {
        let (code, body) = get_json(&format!("{base}/v1/headers?from={from}&limit=1000")).await;
        assert_eq!(code, 200, "{body}");
        let page: Vec<SignedHeader> =
            serde_json::from_value(body["headers"].clone()).expect("headers");
        if page.is_empty() {
            break;
        }
        from = page.last().map_or(from, |h| h.header.height + 1);
        headers.extend(page);
    }
    assert!(!headers.is_empty(), "no genesis header");
    assert_eq!(headers[0].header.height, 0, "first header is genesis");
    for header in &headers {
        header.verify_signature().expect("header signature");
    }
    for pair in headers.windows(2) {
        verify_chain(&pair[0], &pair[1]).expect("header chain links");
    }
    let anchor = carchain_core::light::TrustAnchor::from_hex(
        CHAIN_ID,
        carchain_core::protocol::Network::Regtest,
        validators,
    )
    .expect("anchor");
    if headers.len() > 1 && light_block_at(base, headers.len() as u64).await.is_none() {
        headers.pop();
    }
    let tip = headers.last().expect("a tip");
    let target = tip.header.height + 1;
    let fetch = |height| async move {
        Ok(light_block_at(base, height)
            .await
            .expect("a light block below the certified one"))
    };
    let light = carchain_core::light::certify::verify_to(
        &anchor,
        None,
        (target, &carchain_core::clock::SystemClock),
        fetch,
    )
    .await
    .expect("the light block verifies");
    carchain_core::light::certify::check_certifies(&light, tip).expect("it certifies the tip");
    carchain_core::light::bind::bind_headers(&headers, &light, None, None, fetch)
        .await
        .expect("every header is bound to the verified chain");
    headers
}

/// Reads an account with its proof at the newest certified height and verifies the proof
/// against that verified header. `None` when the account does not exist (absence is
/// proven too).
pub async fn proven_account(base: &str, validators: &str, address: &str) -> Option<AccountState> {
    let headers = verified_headers(base, validators).await;
    let header = headers.last().expect("a certified header");
    let height = header.header.height;
    let (code, answer) = get_json(&format!(
        "{base}/v1/state/account/{address}?height={height}"
    ))
    .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["height"].as_u64(), Some(height), "{answer}");
    assert_eq!(answer["state_root"], hex::encode(header.header.state_root));
    let value = answer["value"]
        .as_str()
        .map(|text| hex::decode(text).expect("value hex"));
    let proof = decode_state_proof(answer["proof"].as_str().expect("proof")).expect("proof");
    verify_state_proof(
        &header.header.state_root,
        state_key::account(address),
        value.as_deref(),
        &proof,
    )
    .expect("state proof verifies against the signed header");
    value.map(|bytes| AccountState::from_canonical(&bytes).expect("account bytes"))
}

/// The trust anchor text of a CometBFT network: the validators of its `genesis.json`
/// (`<ed25519 hex>:<power>,...`).
pub fn cometbft_anchor(genesis: &Path) -> String {
    let text = std::fs::read_to_string(genesis).expect("CometBFT genesis");
    let genesis: Value = serde_json::from_str(&text).expect("genesis JSON");
    let validators = genesis["validators"]
        .as_array()
        .expect("genesis validators");
    validators
        .iter()
        .map(|v| {
            let key = BASE64
                .decode(v["pub_key"]["value"].as_str().expect("key"))
                .expect("base64 key");
            let power = v["power"].as_str().expect("power");
            format!("{}:{power}", hex::encode(key))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits until `check` is true (polling every 50 ms, at most 10 s).
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "condition not met in 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One item of `POST /v1/records`: the registration and its value, with an optional
/// write credential (private nodes).
pub fn record_item(tx: &SignedTransaction, value: &[u8], credential: Option<&[u8]>) -> Value {
    use base64::Engine;
    let mut item = json!({
        "tx": tx,
        "value": base64::engine::general_purpose::STANDARD.encode(value),
    });
    if let Some(credential) = credential {
        item["credential"] = json!(hex::encode(credential));
    }
    item
}

/// Posts a batch of record items; returns the status and the JSON body.
pub async fn put_records(base: &str, items: &[Value]) -> (u16, Value) {
    let response = client()
        .post(format!("{base}/v1/records"))
        .json(&json!({ "items": items }))
        .send()
        .await
        .expect("post records");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// A token purchase as it went over the wire: the payment and the issue request body.
pub struct Purchase {
    /// The committed payment (a Transfer to the operator).
    pub payment: SignedTransaction,
    /// The `POST /v1/tokens` body that was sent.
    pub request: Value,
    /// The finalized tokens (hex of their bytes), one per read.
    pub tokens: Vec<String>,
}

/// The node's token issuer key and token price.
pub async fn token_key(base: &str) -> (IssuerPublicKey, u64) {
    let (code, body) = get_json(&format!("{base}/v1/tokens/key")).await;
    assert_eq!(code, 200, "{body}");
    let der = BASE64
        .decode(body["public_key"].as_str().expect("public_key"))
        .expect("base64 key");
    let key = IssuerPublicKey::from_der(&der).expect("issuer key");
    assert_eq!(hex::encode(key.key_id().0), body["key_id"]);
    (key, body["price"].as_u64().expect("price"))
}

/// The `POST /v1/tokens` body for `payment` and `pending`, signed by `payer`.
pub fn issue_body(
    payer: &Wallet,
    payment: &[u8; 32],
    key: &IssuerPublicKey,
    pending: &[PendingToken],
) -> Value {
    let blinded: Vec<&[u8]> = pending
        .iter()
        .map(carchain_core::tokens::PendingToken::blinded_message)
        .collect();
    let digest = token_issue_digest(payment, &key.key_id().0, &batch_digest(&blinded));
    let signature = sign_digest(&payer.secret, &digest).serialize_compact();
    json!({
        "payment": hex::encode(payment),
        "blinded": blinded.iter().map(|b| BASE64.encode(b)).collect::<Vec<_>>(),
        "signature": hex::encode(signature),
    })
}

/// POSTs `body` as JSON to `path` of the node at `base`; `(status, JSON answer)`.
pub async fn post_json(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = client()
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// POSTs a token issue request; `(status, body)`.
pub async fn post_tokens(base: &str, body: &Value) -> (u16, Value) {
    post_json(base, "/v1/tokens", body).await
}

/// Buys `count` read tokens (shared mode): commits a transfer from `payer` (at `nonce`)
/// to the operator, asks for blind signatures and finalizes them.
pub async fn buy_tokens(
    base: &str,
    payer: &Wallet,
    nonce: u64,
    operator: &str,
    count: usize,
) -> Purchase {
    let (key, price) = token_key(base).await;
    let pending = key.blind(count).expect("blind");
    let payment = payer.transfer(nonce, operator, price * count as u64);
    let (code, body) = submit(base, &payment, true).await;
    assert_eq!(code, 200, "{body}");
    let request = issue_body(payer, &payment.id(), &key, &pending);
    let (code, issued) = post_tokens(base, &request).await;
    assert_eq!(code, 200, "{issued}");
    let tokens = pending
        .iter()
        .zip(issued["signatures"].as_array().expect("signatures"))
        .map(|(p, s)| {
            let signature = BASE64.decode(s.as_str().expect("text")).expect("base64");
            hex::encode(key.finalize(p, &signature).expect("finalize").to_bytes())
        })
        .collect();
    Purchase {
        payment,
        request,
        tokens,
    }
}

/// GETs a stored value's raw bytes (with a read token when given); `None` on 404.
pub async fn get_value(
    base: &str,
    address: &str,
    key: &[u8],
    token: Option<&str>,
) -> Option<Vec<u8>> {
    let mut request = client().get(format!("{base}/v1/kv/{address}/{}", hex::encode(key)));
    if let Some(token) = token {
        request = request.header("x-carchain-token", token);
    }
    let response = request.send().await.expect("get value");
    match response.status().as_u16() {
        200 => Some(response.bytes().await.expect("body").to_vec()),
        404 => None,
        other => panic!("unexpected status {other}"),
    }
}

/// Reads `warmup + queries` 30-record pages of `address` from `base`, each paid with its
/// own read token (bought in one payment by `reader`, at its nonce 0, to `operator`),
/// each checked to hold 30 records; the sorted latencies of the last `queries` (the
/// benchmarks' range phase).
pub async fn timed_paid_pages(
    http: &reqwest::Client,
    base: &str,
    (reader, operator): (&Wallet, &str),
    address: &str,
    (warmup, queries): (usize, usize),
) -> Vec<Duration> {
    let purchase = buy_tokens(base, reader, 0, operator, warmup + queries).await;
    let mut latencies = Vec::new();
    for query in 0..warmup + queries {
        let begin = Instant::now();
        let page: Value = http
            .get(format!("{base}/v1/kv/{address}?limit=30"))
            .header("x-carchain-token", &purchase.tokens[query])
            .send()
            .await
            .expect("range")
            .json()
            .await
            .expect("range json");
        if query >= warmup {
            latencies.push(begin.elapsed());
        }
        assert_eq!(page["items"].as_array().map(Vec::len), Some(30), "{page}");
    }
    latencies.sort();
    latencies
}
