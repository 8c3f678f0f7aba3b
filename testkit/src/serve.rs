//! Test HTTP servers on loopback: an axum router served on a free port of `127.0.0.1`
//! (a node's API, a proxy, a webhook receiver) until its task is aborted or the test's
//! runtime ends.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A listener on a free port of `127.0.0.1`, for a server that must know its address
/// before its router is built.
pub async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    (listener, address)
}

/// Serves `app` on `listener` in a task of its own.
pub fn serve_on(listener: TcpListener, app: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

/// Serves `app` on a free port of `127.0.0.1`: its base URL (`http://127.0.0.1:PORT`)
/// and the serving task.
pub async fn serve_loopback(app: Router) -> (String, JoinHandle<()>) {
    let (listener, address) = bind_loopback().await;
    (format!("http://{address}"), serve_on(listener, app))
}
