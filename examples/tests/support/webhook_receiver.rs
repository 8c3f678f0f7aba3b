//! A provider's webhook receiver on 127.0.0.1 for the grant webhook tests: it keeps each
//! notice's signature header and body, in arrival order, and answers with a given status.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use carchain_core::grants::webhook::SIGNATURE_HEADER;
use carchain_testkit::serve::serve_loopback;

/// The notices a receiver got: (signature header, body), oldest first.
pub type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[derive(Clone)]
struct Sink {
    received: Received,
    status: StatusCode,
}

async fn receive(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    sink.received
        .lock()
        .expect("lock")
        .push((signature, body.to_vec()));
    sink.status
}

/// A receiver on 127.0.0.1 at `path` (e.g. `/hook`) that answers `status`: its URL and
/// what it gets.
pub async fn receiver(path: &str, status: StatusCode) -> (String, Received) {
    let received: Received = Arc::default();
    let router = Router::new()
        .route(path, axum::routing::post(receive))
        .with_state(Sink {
            received: Arc::clone(&received),
            status,
        });
    let (base, _server) = serve_loopback(router).await;
    (format!("{base}{path}"), received)
}
