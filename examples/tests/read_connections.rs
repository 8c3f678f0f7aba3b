//! The wallet reads each address on its own connection, and buys its read tokens on yet
//! another: a connection-logging proxy in front of a real shared node records, for every
//! client connection (its ip:port), which data addresses its requests named and whether
//! it carried a token purchase. No connection may name two addresses, and the purchase
//! (which names the payer) shares no connection with any read. Every read sends a token
//! the node never saw before.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use carchain_core::light::LightClient;
use support::{Mode, TestKey, start_node};

/// What one client connection carried.
#[derive(Debug, Default, Clone)]
struct Connection {
    addresses: BTreeSet<String>,
    purchase: bool,
}

struct LogState {
    upstream: String,
    http: reqwest::Client,
    connections: Mutex<BTreeMap<SocketAddr, Connection>>,
    tokens: Mutex<Vec<String>>,
}

/// The data address a request path names, if any.
fn address_of(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "kv", address, ..]
        | ["v1", "state", "record", address, ..]
        | ["v1", "state", "address-index", address] => Some((*address).to_owned()),
        _ => None,
    }
}

async fn log_and_forward(
    State(state): State<Arc<LogState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers().clone();
    {
        let mut connections = state.connections.lock().expect("lock");
        let entry = connections.entry(peer).or_default();
        if let Some(address) = address_of(&path) {
            entry.addresses.insert(address);
        }
        if path == "/v1/tokens" {
            entry.purchase = true;
        }
    }
    if let Some(token) = headers.get("x-carchain-token") {
        let token = token.to_str().expect("text").to_owned();
        state.tokens.lock().expect("lock").push(token);
    }
    let body = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
        .await
        .expect("body");
    let url = match query {
        Some(query) => format!("{}{path}?{query}", state.upstream),
        None => format!("{}{path}", state.upstream),
    };
    let mut upstream = state.http.request(method, url).body(body.to_vec());
    for (name, value) in &headers {
        if name.as_str().starts_with("x-carchain-") || name == "content-type" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("upstream");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("status");
    let content_type = answer
        .headers()
        .get("content-type")
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let bytes = answer.bytes().await.expect("upstream body");
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", content_type);
    response
}

/// Starts the logging proxy in front of `upstream`.
async fn logging_proxy(upstream: &str) -> (String, Arc<LogState>) {
    let state = Arc::new(LogState {
        upstream: upstream.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        connections: Mutex::new(BTreeMap::new()),
        tokens: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .fallback(log_and_forward)
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (base, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_address_is_read_on_its_own_connection_and_tokens_are_bought_on_another() {
    let cars: Vec<TestKey> = (41..45).map(TestKey::from_byte).collect();
    let reader = TestKey::from_byte(49);
    let mut funds: Vec<(&str, u64)> = cars
        .iter()
        .map(|c| (c.address.as_str(), 1_000_000))
        .collect();
    funds.push((&reader.address, 1_000_000));
    let node = start_node(&funds, Mode::Shared).await;
    let writer = node.client();
    for car in &cars {
        for i in 0..3u8 {
            let value = format!("sealed value {i} of {}", car.address).into_bytes();
            let nonce = writer.account(&car.address).await.expect("account").nonce;
            writer
                .submit(&car.record_put(nonce, &[0x10, i], &value), true)
                .await
                .expect("register");
            writer
                .put_value(&car.address, &[0x10, i], &value, None)
                .await
                .expect("store");
        }
    }

    let (proxy, log) = logging_proxy(&node.base).await;
    let reading = LightClient::new(vec![proxy], node.anchor.clone())
        .expect("client")
        .with_read_payer(reader.secret, 20);
    for car in &cars {
        let read = reading.records_at(&car.address).await.expect("read");
        assert_eq!(read.records.len(), 3);
        assert_eq!(
            reading
                .record(&car.address, &[0x10, 1])
                .await
                .expect("get")
                .map(|r| r.registration.put.key),
            Some(vec![0x10, 1])
        );
    }

    let connections = log.connections.lock().expect("lock").clone();
    let reads: Vec<&Connection> = connections
        .values()
        .filter(|c| !c.addresses.is_empty())
        .collect();
    // Two reads of each address (a whole-address read and a get), each on connections of
    // its own (a read may open several: its proofs are fetched concurrently).
    assert!(reads.len() >= 2 * cars.len(), "{connections:#?}");
    let named: BTreeSet<&String> = reads.iter().flat_map(|c| &c.addresses).collect();
    assert_eq!(named.len(), cars.len());
    for connection in &connections {
        assert!(
            connection.1.addresses.len() <= 1,
            "a connection named several addresses: {connection:?}"
        );
        assert!(
            !connection.1.purchase || connection.1.addresses.is_empty(),
            "a token purchase shared a connection with a read: {connection:?}"
        );
    }
    assert!(
        connections.values().any(|c| c.purchase),
        "tokens were bought"
    );
    // One token per address read, none sent twice.
    let tokens = log.tokens.lock().expect("lock").clone();
    assert_eq!(tokens.len(), 2 * cars.len());
    let distinct: BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len(), "a token was sent twice");
}
