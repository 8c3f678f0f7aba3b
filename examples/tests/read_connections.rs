//! The wallet reads each address on its own connection, and buys its read tokens on yet
//! another: the tests' logging proxy in front of a real shared node records every
//! request with its client connection (numbered as accepted), and the test works out
//! which data addresses each connection's requests named and whether it carried a token
//! purchase. No connection may name two addresses, and the purchase
//! (which names the payer) shares no connection with any read. Every read sends a token
//! the node never saw before.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::collections::{BTreeMap, BTreeSet};

use carchain_core::light::LightClient;
use support::logging_proxy::{LoggedRequest, LoggingProxy};
use support::{Mode, TestKey, start_node};

/// What one client connection carried.
#[derive(Debug, Default, Clone)]
struct Connection {
    addresses: BTreeSet<String>,
    purchase: bool,
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

/// Each client connection of the log (numbered as the proxy accepted them) with what
/// its requests carried.
fn connections_in(log: &[LoggedRequest]) -> BTreeMap<u64, Connection> {
    let mut connections: BTreeMap<u64, Connection> = BTreeMap::new();
    for request in log {
        let entry = connections.entry(request.connection).or_default();
        if let Some(address) = address_of(&request.path) {
            entry.addresses.insert(address);
        }
        if request.path == "/v1/tokens" {
            entry.purchase = true;
        }
    }
    connections
}

/// The read tokens the log's requests carried, in arrival order.
fn tokens_in(log: &[LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter_map(|r| r.header("x-carchain-token"))
        .map(|token| String::from_utf8(token.to_vec()).expect("text"))
        .collect()
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

    let proxy = LoggingProxy::start(&node.base).await;
    let reading = LightClient::new(vec![proxy.base.clone()], node.anchor.clone())
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

    let log = proxy.log();
    let connections = connections_in(&log);
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
    let tokens = tokens_in(&log);
    assert_eq!(tokens.len(), 2 * cars.len());
    let distinct: BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len(), "a token was sent twice");
}
