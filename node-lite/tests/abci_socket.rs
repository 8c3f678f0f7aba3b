//! The node's ABCI server spoken to over its socket, the way CometBFT speaks to it: a
//! burst of CheckTx requests sent back to back, then the Flush that CometBFT's Commit
//! waits on, is answered in full and in order (a server that waited for its own unsent
//! answers stopped the whole chain under ingest); a malformed request closes its own
//! connection only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use carchain_core::protocol::Canonical;
use carchain_node::node::{CometOptions, Node, NodeConfig};
use carchain_node::service::NodeMode;
use common::*;
use prost::Message;
use tendermint_proto::v0_38::abci::{
    CheckTxType, Request, RequestCheckTx, RequestFlush, RequestInfo, Response, request, response,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// CheckTx requests sent before the first answer is read.
const BURST: u64 = 40;

fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

async fn send(stream: &mut TcpStream, value: request::Value) {
    let mut bytes = Vec::new();
    Request { value: Some(value) }
        .encode_length_delimited(&mut bytes)
        .expect("encode");
    stream.write_all(&bytes).await.expect("write");
}

/// Reads one length-delimited answer (the length is a varint).
/// A CheckTx of a new transaction, `tx` its canonical bytes.
fn new_check_tx(tx: Vec<u8>) -> request::Value {
    request::Value::CheckTx(RequestCheckTx {
        tx: tx.into(),
        r#type: CheckTxType::New.into(),
    })
}

async fn receive(stream: &mut TcpStream) -> response::Value {
    let mut length = 0usize;
    for shift in (0..64).step_by(7) {
        let byte = stream.read_u8().await.expect("length byte");
        length |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("body");
    Response::decode(body.as_slice())
        .expect("a response")
        .value
        .expect("a response value")
}

async fn connect(address: SocketAddr) -> TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = TcpStream::connect(address).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the ABCI server never listened on {address}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_check_tx_then_flush_is_answered_in_order() {
    let alice = Wallet::from_byte(0x41);
    let bob = Wallet::from_byte(0x42);
    let chain = init_chain(&[(&alice.address, 1_000_000)]);
    let config = NodeConfig {
        data_dir: chain.data_dir(),
        mode: NodeMode::Shared,
        block_time: Duration::from_millis(100),
        peers: Vec::new(),
        agent: "carchain-node".into(),
        max_mempool: 1_000,
    };
    // Nothing reaches this RPC: only CometBFT's side of the ABCI socket is played here.
    let options = CometOptions {
        rpc_url: "http://127.0.0.1:9".into(),
    };
    let node = Node::start_cometbft(config, &options).await.expect("node");
    let address = free_address();
    let server = tokio::spawn(carchain_node::abci::serve(Arc::clone(&node), address));

    let mut mempool = connect(address).await;
    let mut info = connect(address).await;
    let answered = tokio::time::timeout(Duration::from_secs(60), async {
        // Consecutive nonces, then a gap: every one answered, in the order sent.
        for nonce in 0..BURST {
            let tx = alice.transfer(nonce, &bob.address, 1).to_canonical();
            send(&mut mempool, new_check_tx(tx)).await;
        }
        let gap = alice.transfer(BURST + 5, &bob.address, 1).to_canonical();
        send(&mut mempool, new_check_tx(gap)).await;
        send(&mut mempool, request::Value::Flush(RequestFlush {})).await;
        let mut codes = Vec::new();
        loop {
            match receive(&mut mempool).await {
                response::Value::CheckTx(check) => codes.push(check.code),
                response::Value::Flush(_) => break,
                other => panic!("unexpected answer {other:?}"),
            }
        }
        // The info connection answers while the mempool one is busy or not.
        send(&mut info, request::Value::Info(RequestInfo::default())).await;
        let info = receive(&mut info).await;
        (codes, info)
    })
    .await
    .expect("the burst and its Flush were answered within a minute");
    let (codes, info) = answered;
    assert_eq!(codes.len(), usize::try_from(BURST).expect("burst") + 1);
    assert!(
        codes[..codes.len() - 1].iter().all(|&code| code == 0),
        "{codes:?}"
    );
    assert_ne!(codes[codes.len() - 1], 0, "the nonce gap is refused");
    match info {
        response::Value::Info(info) => assert_eq!(info.data, "carchain-node"),
        other => panic!("unexpected info answer {other:?}"),
    }

    // A malformed request (a frame that is no ABCI message) closes that connection
    // only: the server keeps running and a new connection is answered.
    let mut garbage = connect(address).await;
    garbage
        .write_all(&[0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        .await
        .expect("write garbage");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), garbage.read_to_end(&mut rest))
        .await
        .expect("the malformed connection is closed");
    assert!(
        closed.is_err() || rest.is_empty(),
        "no answer to garbage: {rest:?}"
    );
    assert!(!server.is_finished(), "the ABCI server is still running");
    let mut again = connect(address).await;
    send(&mut again, request::Value::Info(RequestInfo::default())).await;
    assert!(matches!(
        receive(&mut again).await,
        response::Value::Info(_)
    ));
    server.abort();
    node.shutdown().await;
}
