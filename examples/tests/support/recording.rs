//! A logging proxy, the node operator's view of the traffic: it forwards every request
//! to a node unchanged and records what an operator's front end sees of it — method,
//! path and query, every header, the body, the client's ip:port (one per TCP
//! connection) and the time. The privacy tests search this log. It can also spoil the
//! first item of the next `POST /v1/records` batch on its way (a flipped value byte),
//! to see a batch refused in part.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// The client's address and port: a new port is a new TCP connection.
    pub client: SocketAddr,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Every header, `name: value`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived, from the proxy's start.
    pub at_ms: u128,
}

impl SeenRequest {
    /// Everything the request carried, as text (bytes that are not UTF-8 are replaced),
    /// lower case: what a search for an identifier runs over.
    pub fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.method, self.target);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&self.body));
        text.to_lowercase()
    }
}

struct Recorder {
    upstream: String,
    http: reqwest::Client,
    log: Mutex<Vec<SeenRequest>>,
    started: Instant,
    spoil_next_batch: AtomicBool,
}

/// The proxy; stops when dropped.
pub struct RecordingProxy {
    /// The proxy's base URL (give it to clients instead of the node's).
    pub base: String,
    recorder: Arc<Recorder>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RecordingProxy {
    /// Starts a proxy in front of `upstream` on a loopback port.
    pub async fn start(upstream: &str) -> Self {
        let recorder = Arc::new(Recorder {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            log: Mutex::new(Vec::new()),
            started: Instant::now(),
            spoil_next_batch: AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&recorder));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        RecordingProxy {
            base,
            recorder,
            server,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.recorder.log.lock().expect("log").clone()
    }

    /// Spoils the first item's value of the next `POST /v1/records` batch (the log keeps
    /// the batch as sent).
    pub fn spoil_next_batch(&self) {
        self.recorder.spoil_next_batch.store(true, Ordering::SeqCst);
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.recorder.log.lock().expect("log").clear();
    }
}

async fn forward(
    State(recorder): State<Arc<Recorder>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let target = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let forwarded_headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024)
        .await
        .expect("request body")
        .to_vec();
    recorder.log.lock().expect("log").push(SeenRequest {
        client,
        method: method.to_string(),
        target: target.clone(),
        headers,
        body: body.clone(),
        at_ms: recorder.started.elapsed().as_millis(),
    });
    let body = if target == "/v1/records" && recorder.spoil_next_batch.swap(false, Ordering::SeqCst)
    {
        spoil_first_item(&body)
    } else {
        body
    };
    let mut upstream = recorder
        .http
        .request(method, format!("{}{target}", recorder.upstream))
        .body(body);
    for (name, value) in &forwarded_headers {
        if name != "host" && name != "content-length" && name != "connection" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("upstream answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("status");
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await.expect("upstream body");
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response.headers_mut().insert("content-type", content_type);
    }
    response
}

/// The batch with its first item's value changed (its cHash no longer matches).
fn spoil_first_item(body: &[u8]) -> Vec<u8> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    let mut json: serde_json::Value = serde_json::from_slice(body).expect("batch json");
    let value = json["items"][0]["value"].as_str().unwrap_or_default();
    let mut bytes = BASE64.decode(value).expect("base64");
    if let Some(first) = bytes.first_mut() {
        *first ^= 0x01;
    }
    json["items"][0]["value"] = BASE64.encode(bytes).into();
    serde_json::to_vec(&json).expect("json")
}
