//! The one logging proxy of the end-to-end tests, the node operator's view of the
//! traffic: it forwards every request to a node unchanged and records what an operator's
//! front end sees of it: method, path, query, every header, the body, the client's TCP
//! connection (its peer ip:port and the order it was accepted in: an operator tells two
//! connections apart even when the client's port is reused), the time, and the answer's
//! status and length. Clients talk to the proxy's URL as if it were the node. It can
//! also spoil the first item of the next `POST /v1/records` batch on its way (a flipped
//! value byte; the log keeps the batch as sent), to see a batch refused in part.
//!
//! Used by the adversary suite (through `support/adversary`), the write-privacy and the
//! read-connection tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;

/// One request as the operator logged it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Arrival order.
    pub seq: usize,
    /// Milliseconds since the proxy started.
    pub at_ms: f64,
    /// The client's TCP peer (a port can come back on a later connection).
    pub peer: SocketAddr,
    /// The TCP connection, numbered as accepted.
    pub connection: u64,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string (empty when none).
    pub query: String,
    /// Every header, lower-case name and raw value.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// The node's answer status.
    pub status: u16,
    /// The node's answer length.
    pub response_len: usize,
    /// SHA-256 of the node's answer body.
    pub response_hash: [u8; 32],
}

impl std::fmt::Display for LoggedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{} {:.0} ms {} {} {} -> {} ({} bytes)",
            self.seq, self.at_ms, self.peer, self.method, self.path, self.status, self.response_len
        )
    }
}

impl LoggedRequest {
    /// Everything the request carried, as one byte string (for searching).
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut bytes = format!("{} {}?{}\n", self.method, self.path, self.query).into_bytes();
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// [`Self::all_bytes`] as lower-case text (bytes that are not UTF-8 are replaced):
    /// what a search for an identifier runs over.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.all_bytes()).to_lowercase()
    }

    /// The value of header `name` (lower case), if the request carried it.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    started: Instant,
    arrivals: AtomicUsize,
    log: Mutex<Vec<LoggedRequest>>,
    spoil_next_batch: AtomicBool,
}

/// The running proxy; stops when dropped.
pub struct LoggingProxy {
    /// The proxy's base URL.
    pub base: String,
    state: Arc<ProxyState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for LoggingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Headers that belong to one hop and are not forwarded.
const HOP_BY_HOP: [&str; 5] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

impl LoggingProxy {
    /// Starts a proxy on a loopback port forwarding to `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("proxy client"),
            started: Instant::now(),
            arrivals: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
            spoil_next_batch: AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<Accepted>(),
            )
            .await;
        });
        LoggingProxy {
            base,
            state,
            server,
        }
    }

    /// A copy of the log so far, in arrival order.
    pub fn log(&self) -> Vec<LoggedRequest> {
        let mut log = self.state.log.lock().expect("log lock").clone();
        log.sort_by_key(|r| r.seq);
        log
    }

    /// Spoils the first item's value of the next `POST /v1/records` batch (the log keeps
    /// the batch as sent).
    pub fn spoil_next_batch(&self) {
        self.state.spoil_next_batch.store(true, Ordering::SeqCst);
    }
}

/// One accepted TCP connection: its peer and its number.
#[derive(Debug, Clone, Copy)]
struct Accepted {
    peer: SocketAddr,
    connection: u64,
}

static ACCEPTED: AtomicU64 = AtomicU64::new(0);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Accepted
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Accepted {
            peer: *stream.remote_addr(),
            connection: ACCEPTED.fetch_add(1, Ordering::SeqCst),
        }
    }
}

async fn forward(
    State(proxy): State<Arc<ProxyState>>,
    ConnectInfo(Accepted { peer, connection }): ConnectInfo<Accepted>,
    request: Request,
) -> Response {
    let at_ms = proxy.started.elapsed().as_secs_f64() * 1000.0;
    // Taken on arrival, before the (possibly long) forward.
    let seq = proxy.arrivals.fetch_add(1, Ordering::SeqCst);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers: Vec<(String, Vec<u8>)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let url = if query.is_empty() {
        format!("{}{path}", proxy.upstream)
    } else {
        format!("{}{path}?{query}", proxy.upstream)
    };
    let sent = if path == "/v1/records" && proxy.spoil_next_batch.swap(false, Ordering::SeqCst) {
        spoil_first_item(&body)
    } else {
        body.to_vec()
    };
    let mut upstream = proxy.http.request(method.clone(), url).body(sent);
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            upstream = upstream.header(name.as_str(), value.as_slice());
        }
    }
    let (status, out_headers, bytes) = match upstream.send().await {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let out_headers: Vec<(String, Vec<u8>)> = answer
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let bytes = answer.bytes().await.unwrap_or_default().to_vec();
            (status, out_headers, bytes)
        }
        Err(_) => (502, Vec::new(), Vec::new()),
    };
    proxy.log.lock().expect("log lock").push(LoggedRequest {
        seq,
        at_ms,
        peer,
        connection,
        method: method.to_string(),
        path,
        query,
        headers,
        body: body.to_vec(),
        status,
        response_len: bytes.len(),
        response_hash: carchain_core::protocol::hashing::sha256(&[&bytes]),
    });
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in out_headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_bytes(&value),
        ) {
            response.headers_mut().append(name, value);
        }
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
