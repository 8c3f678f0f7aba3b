//! Shared helpers of the end-to-end tests: what `carchain-testkit` gives every test (an
//! in-process node, deterministic keys, wallets, cars and grant worlds), re-exported
//! under the names the tests use, and the examples' own test servers: a tampering proxy
//! that forwards to a node and can falsify its answers, a logging proxy and a webhook
//! receiver.
//!
//! Use from a test file with `mod support;`. Everything here panics on failure: it is
//! test scaffolding, not library code.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use carchain_core::protocol::SignedHeader;
use carchain_core::protocol::signing::{public_key_of, secret_key_from_bytes};
use carchain_testkit::serve::serve_loopback;

// Each test file uses part of what the kit gives.
#[allow(unused_imports)]
pub use carchain_testkit::{
    AGENT, BASE_FEE, CHAIN_ID, InitialisedChain, Mode, TestKey, TestNode, closed_endpoint, flows,
    funded_key_node, grants_setup, init_chain, past, serve, standing, start_node,
};

pub mod logging_proxy;
pub mod webhook_receiver;

/// How a [`TamperingProxy`] falsifies the node's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Forward unchanged.
    Honest,
    /// Flip a byte of every KV value (single gets and range items).
    FlipValues,
    /// Drop the first item of every range page.
    DropRangeItem,
    /// Change the state root of every header above genesis; keep the signature (now
    /// invalid) or re-sign with an intruder key.
    ForgeHeaders {
        /// Keep the validator's (now invalid) signature.
        keep_signature: bool,
    },
    /// Answer a header page from one height earlier (an old header replayed) and a state
    /// read from one height below the one asked.
    ReplayOld,
    /// Report a status height of 0 (a node far behind).
    LowHeight,
    /// Serve range pages without their records' proofs (as a node that does not prove
    /// pages would).
    StripPageProofs,
    /// Give each item of a proven page the (valid) proof of the next item's registration.
    ShiftPageProofs,
    /// Give a proven page, as its address index, the (valid) proof of its first record's
    /// registration.
    ForgePageIndex,
    /// Answer the fee-schedule read with a cheaper schedule, keeping the proof.
    CheapFees,
    /// Answer the fee-schedule read as absent (the default schedule), keeping the proof.
    HideFees,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    tamper: Mutex<Tamper>,
    paths: Mutex<Vec<String>>,
}

/// A proxy in front of a node that can falsify its answers.
pub struct TamperingProxy {
    /// The proxy's base URL.
    pub base: String,
    state: Arc<ProxyState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TamperingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TamperingProxy {
    /// Starts a proxy forwarding to `upstream` with `tamper`.
    pub async fn start(upstream: &str, tamper: Tamper) -> Self {
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            tamper: Mutex::new(tamper),
            paths: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&state));
        let (base, server) = serve_loopback(app).await;
        TamperingProxy {
            base,
            state,
            server,
        }
    }

    /// Changes how answers are falsified from now on.
    pub fn set(&self, tamper: Tamper) {
        *self.state.tamper.lock().expect("lock") = tamper;
    }

    /// The path of every request forwarded so far, in order; the log is emptied.
    pub fn take_paths(&self) -> Vec<String> {
        std::mem::take(&mut *self.state.paths.lock().expect("lock"))
    }
}

/// Rewrites `name=<n>` in a query to `name=<n-1>` when n > 0.
fn one_height_back(query: &str, name: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if key == name => match value.parse::<u64>() {
                Ok(n) if n > 0 => format!("{key}={}", n - 1),
                _ => pair.to_owned(),
            },
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn forward(State(proxy): State<Arc<ProxyState>>, request: Request) -> Response {
    let tamper = *proxy.tamper.lock().expect("lock");
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    proxy.paths.lock().expect("lock").push(path.clone());
    let mut query = request.uri().query().unwrap_or_default().to_owned();
    if tamper == Tamper::ReplayOld {
        if path == "/v1/headers" {
            query = one_height_back(&query, "from");
        } else if path.starts_with("/v1/state/") {
            query = one_height_back(&query, "height");
        }
    }
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
        .await
        .expect("request body");
    let url = if query.is_empty() {
        format!("{}{path}", proxy.upstream)
    } else {
        format!("{}{path}?{query}", proxy.upstream)
    };
    let mut upstream = proxy.http.request(method.clone(), url).body(body.to_vec());
    for (name, value) in &headers {
        if name.as_str().starts_with("x-carchain-") || name == "content-type" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("upstream answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("status");
    let content_type = answer.headers().get("content-type").cloned();
    let mut bytes = answer.bytes().await.expect("upstream body").to_vec();
    if status.is_success() && method == axum::http::Method::GET {
        bytes = falsify(tamper, &path, bytes);
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let mut out_headers = HeaderMap::new();
    if let Some(content_type) = content_type {
        out_headers.insert("content-type", content_type);
    } else {
        out_headers.insert("content-type", HeaderValue::from_static("application/json"));
    }
    *response.headers_mut() = out_headers;
    response
}

fn falsify(tamper: Tamper, path: &str, bytes: Vec<u8>) -> Vec<u8> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (tamper, segments.as_slice()) {
        (Tamper::CheapFees, ["v1", "state", "fee-schedule"]) => edit_json(&bytes, |json| {
            use carchain_core::protocol::codec::Canonical;
            let cheap = carchain_core::protocol::FeeSchedule {
                base_fee: 1,
                put_per_byte: 0,
                read_per_address: 0,
            };
            json["value"] = serde_json::Value::String(hex::encode(cheap.to_canonical()));
            json["value_json"] = serde_json::to_value(cheap).expect("json");
        }),
        (Tamper::HideFees, ["v1", "state", "fee-schedule"]) => edit_json(&bytes, |json| {
            json["value"] = serde_json::Value::Null;
            json["value_json"] = serde_json::Value::Null;
        }),
        (Tamper::FlipValues, ["v1", "kv", _, _]) => {
            let mut bytes = bytes;
            if let Some(first) = bytes.first_mut() {
                *first ^= 0x01;
            }
            bytes
        }
        (Tamper::FlipValues, ["v1", "kv", _]) => edit_json(&bytes, |json| {
            for item in json["items"].as_array_mut().into_iter().flatten() {
                let mut value = BASE64
                    .decode(item["value"].as_str().unwrap_or_default())
                    .expect("base64");
                if let Some(first) = value.first_mut() {
                    *first ^= 0x01;
                }
                item["value"] = BASE64.encode(value).into();
            }
        }),
        (Tamper::DropRangeItem, ["v1", "kv", _]) => edit_json(&bytes, |json| {
            if let Some(items) = json["items"].as_array_mut()
                && !items.is_empty()
            {
                items.remove(0);
            }
        }),
        (Tamper::ForgeHeaders { keep_signature }, ["v1", "headers"]) => edit_json(&bytes, |json| {
            for entry in json["headers"].as_array_mut().into_iter().flatten() {
                let mut header: SignedHeader =
                    serde_json::from_value(entry.clone()).expect("header json");
                if header.header.height == 0 {
                    continue;
                }
                header.header.state_root = [0xee; 32];
                if !keep_signature {
                    let intruder = secret_key_from_bytes(&[0xdd; 32]).expect("intruder");
                    header.header.proposer = public_key_of(&intruder);
                    header = header.header.sign(&intruder).expect("sign");
                }
                *entry = serde_json::to_value(&header).expect("json");
            }
        }),
        (Tamper::LowHeight, ["v1", "status"]) => edit_json(&bytes, |json| {
            json["height"] = 0.into();
        }),
        (Tamper::StripPageProofs, ["v1", "kv", _]) => edit_json(&bytes, |json| {
            for item in json["items"].as_array_mut().into_iter().flatten() {
                if let Some(item) = item.as_object_mut() {
                    item.remove("registration");
                }
            }
            if let Some(page) = json.as_object_mut() {
                page.remove("index");
            }
        }),
        (Tamper::ForgePageIndex, ["v1", "kv", _]) => edit_json(&bytes, |json| {
            let first = json["items"][0]["registration"].clone();
            if !first.is_null() {
                json["index"] = first;
            }
        }),
        (Tamper::ShiftPageProofs, ["v1", "kv", _]) => edit_json(&bytes, |json| {
            if let Some(items) = json["items"].as_array_mut() {
                let proofs: Vec<serde_json::Value> =
                    items.iter().map(|i| i["registration"].clone()).collect();
                for (index, item) in items.iter_mut().enumerate() {
                    item["registration"] = proofs[(index + 1) % proofs.len()].clone();
                }
            }
        }),
        _ => bytes,
    }
}

fn edit_json(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(bytes).expect("json answer");
    edit(&mut json);
    serde_json::to_vec(&json).expect("json")
}
