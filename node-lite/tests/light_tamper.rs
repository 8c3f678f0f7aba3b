//! The light client against a node that rewrites what it serves: a tamper proxy (an HTTP
//! server on 127.0.0.1 in this test) in front of a real `carchain-node` rewrites a ledger
//! header field (re-signing the header chain with the node's own header key, as a
//! dishonest operator could), a commit signature of a light block, or serves a header
//! that conflicts with the verified chain. The light client names each with its typed
//! error, drops that endpoint and fails over to the honest node.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use carchain_testkit::serve::serve_loopback;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bitcoin::secp256k1::SecretKey;
use carchain_core::light::{LightClient, LightError, TrustAnchor};
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::protocol::{Network, SignedHeader};
use common::{CHAIN_ID, Wallet, funded_node, submit};
use serde_json::{Value, json};

/// What the proxy rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tamper {
    /// Header 2's time (+1 ms), the headers after it re-linked and re-signed.
    HeaderTime,
    /// One byte of the first commit signature of every light block.
    CommitSignature,
    /// In pages after the first, the first header's previous hash (re-signed).
    ConflictingHeader,
}

struct Proxy {
    upstream: String,
    tamper: Tamper,
    header_key: SecretKey,
    http: reqwest::Client,
}

fn resign(header: &mut SignedHeader, key: &SecretKey) {
    *header = header.header.clone().sign(key).expect("re-sign");
}

fn relink(headers: &mut [SignedHeader], from: usize, key: &SecretKey) {
    for index in from..headers.len() {
        if index > 0 {
            headers[index].header.prev_hash = headers[index - 1].header.hash();
        }
        resign(&mut headers[index], key);
    }
}

impl Proxy {
    fn rewrite(&self, path: &str, query: &str, body: Bytes) -> Bytes {
        let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
            return body;
        };
        match self.tamper {
            Tamper::HeaderTime | Tamper::ConflictingHeader if path == "/v1/headers" => {
                let mut headers: Vec<SignedHeader> =
                    serde_json::from_value(value["headers"].clone()).expect("headers");
                if self.tamper == Tamper::HeaderTime {
                    if let Some(index) = headers.iter().position(|h| h.header.height == 2) {
                        headers[index].header.time += 1;
                        relink(&mut headers, index, &self.header_key);
                    }
                } else if !query.starts_with("from=0&") && !headers.is_empty() {
                    headers[0].header.prev_hash = [0xcc; 32];
                    relink(&mut headers, 0, &self.header_key);
                }
                value = json!({ "headers": headers });
            }
            Tamper::CommitSignature if path.starts_with("/v1/light/") => {
                let signature = &mut value["signed_header"]["commit"]["signatures"][0]["signature"];
                if let Some(text) = signature.as_str() {
                    let mut bytes = BASE64.decode(text).expect("base64 signature");
                    bytes[0] ^= 0x01;
                    *signature = Value::String(BASE64.encode(bytes));
                }
            }
            _ => return body,
        }
        Bytes::from(serde_json::to_vec(&value).expect("json"))
    }
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let target = format!("{}{}", proxy.upstream, uri);
    let answer = proxy
        .http
        .request(method, target)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let Ok(answer) = answer else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::OK);
    let bytes = answer.bytes().await.unwrap_or_default();
    let bytes = if status.is_success() {
        proxy.rewrite(&path, &query, bytes)
    } else {
        bytes
    };
    (status, [("content-type", "application/json")], bytes).into_response()
}

/// Starts a tamper proxy in front of `upstream`; returns its base URL.
async fn start_proxy(upstream: &str, tamper: Tamper, header_key: SecretKey) -> String {
    let proxy = Arc::new(Proxy {
        upstream: upstream.trim_end_matches('/').to_owned(),
        tamper,
        header_key,
        http: common::client(),
    });
    let app = Router::new().fallback(forward).with_state(proxy);
    serve_loopback(app).await.0
}

fn header_key(data_dir: &std::path::Path) -> SecretKey {
    let text = std::fs::read_to_string(data_dir.join("validator.key")).expect("header key");
    let bytes: [u8; 32] = hex::decode(text.trim())
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    secret_key_from_bytes(&bytes).expect("secret")
}

async fn transfers(base: &str, wallet: &Wallet, nonces: std::ops::Range<u64>) {
    let to = Wallet::from_byte(9).address;
    for nonce in nonces {
        let (code, body) = submit(base, &wallet.transfer(nonce, &to, 5), true).await;
        assert_eq!(code, 200, "{body}");
    }
}

fn client(endpoints: &[&str], anchor: &TrustAnchor) -> LightClient {
    let endpoints = endpoints.iter().map(|e| (*e).to_owned()).collect();
    LightClient::new(endpoints, anchor.clone()).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_rewriting_headers_or_commits_is_caught_dropped_and_failed_over() {
    let (wallet, chain, node) = funded_node(1, 1_000_000);
    transfers(&node.base, &wallet, 0..4).await;
    let anchor =
        TrustAnchor::from_hex(CHAIN_ID, Network::Regtest, &chain.validator_pubkey).expect("anchor");
    let key = header_key(&chain.data_dir());
    let honest_height = client(&[&node.base], &anchor)
        .sync(&|_| {})
        .await
        .expect("the honest node syncs");
    assert!(honest_height >= 4, "{honest_height}");

    // A rewritten header time: every header of the page is bound, not only the newest.
    let rewriter = start_proxy(&node.base, Tamper::HeaderTime, key).await;
    let err = client(&[&rewriter], &anchor)
        .sync(&|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LightError::HeaderMismatch {
                height: 2,
                field: "time"
            }
        ),
        "{err}"
    );
    let failing_over = client(&[&rewriter, &node.base], &anchor);
    assert_eq!(failing_over.sync(&|_| {}).await.unwrap(), honest_height);
    let dropped = failing_over.dropped_endpoints();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0].0, rewriter);
    assert!(dropped[0].1.contains("time"), "{}", dropped[0].1);
    let account = failing_over.account(&wallet.address).await.unwrap();
    assert_eq!(account.nonce, 4);

    // A forged commit signature in the light blocks.
    let forger = start_proxy(&node.base, Tamper::CommitSignature, key).await;
    let err = client(&[&forger], &anchor).sync(&|_| {}).await.unwrap_err();
    assert!(matches!(err, LightError::ForgedCommit { .. }), "{err}");
    let failing_over = client(&[&forger, &node.base], &anchor);
    assert_eq!(failing_over.sync(&|_| {}).await.unwrap(), honest_height);
    assert_eq!(failing_over.dropped_endpoints()[0].0, forger);

    // A header conflicting with the verified tip, served after an honest first sync.
    let forker = start_proxy(&node.base, Tamper::ConflictingHeader, key).await;
    let watched = client(&[&forker, &node.base], &anchor);
    assert_eq!(watched.sync(&|_| {}).await.unwrap(), honest_height);
    assert!(watched.dropped_endpoints().is_empty());
    transfers(&node.base, &wallet, 4..6).await;
    let height = watched.sync(&|_| {}).await.unwrap();
    assert!(height > honest_height, "{height}");
    let dropped = watched.dropped_endpoints();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0].0, forker);
    assert!(dropped[0].1.contains("conflicting"), "{}", dropped[0].1);
    node.kill();
}
