//! A logging proxy in front of a node: forwards every request unchanged and records
//! what a node operator sees of it: method, path, query, every header, the body, the
//! client's TCP connection (its peer ip:port and the order it was accepted in: an
//! operator tells two connections apart even when the client's port is reused), the
//! time, and the answer's status and length. Clients talk to the proxy's URL as if it were the node.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    started: Instant,
    arrivals: AtomicUsize,
    log: Mutex<Vec<LoggedRequest>>,
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
    let mut upstream = proxy.http.request(method.clone(), url).body(body.to_vec());
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
