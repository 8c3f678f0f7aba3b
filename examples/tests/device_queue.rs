//! End to end, against a real node on loopback: a car pairs with a wallet through the
//! sealed mailbox, queues trips while offline for three days, then delivers them to a
//! live node, one day's address at a time in shuffled order: every record arrives exactly
//! once, intact, and opens with the owner's RSA key; flushing again changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::sync::Arc;
use std::time::Duration;

use carchain_core::device::{CarDevice, DeliveryPacing};
use carchain_core::keys::WalletKeys;
use carchain_core::light::LightClient;
use carchain_core::pool::AddressPool;
use carchain_core::protocol::Network;
use carchain_core::store::InMemorySecretStore;
use carchain_core::trip::Trip;
use carchain_testkit::car_records::{
    owner_keys, pool_sessions, queue_trips, short_trip, wallet_and_car,
};
use chrono::NaiveDate;
use support::{AGENT, Mode, closed_endpoint, start_node};

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const VID: &str = "LBVNU79049SB81546";
const POOL: usize = 8;

/// The owner's keys (from [`WORDS`]), a private node funding the owner, and a synced
/// light client of it.
async fn funded_owner_and_private_node() -> (WalletKeys, support::TestNode, LightClient) {
    let keys = owner_keys(WORDS);
    let owner = keys.owner_address().to_string();
    let node = start_node(&[(owner.as_str(), 1_000_000)], Mode::Private).await;
    let light = node.client();
    light.sync(&|_| {}).await.expect("sync");
    (keys, node, light)
}

/// A private node funding nobody, and a client of it that has synced its headers.
async fn synced_private_node() -> (support::TestNode, carchain_core::light::LightClient) {
    let node = start_node(&[], Mode::Private).await;
    let light = node.client();
    light.sync(&|_| {}).await.expect("sync");
    (node, light)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_three_days_then_every_record_arrives_once_in_order() {
    let (keys, node, light) = funded_owner_and_private_node().await;

    let dir = tempfile::tempdir().expect("dir");
    let (wallet, car) = wallet_and_car(&dir, WORDS, VID, Duration::from_millis(30));

    // Pairing through the mailbox: the wallet posts its offer and waits; the car polls.
    let payload = car.pairing_payload(600).expect("payload");
    let car_side = async {
        for _ in 0..200 {
            if car.complete_pairing(&light).await.expect("car pairing") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no offer reached the car");
    };
    let payload_text = payload.to_text();
    let (paired, ()) = tokio::join!(
        wallet.pair_device(&light, &payload_text, "family car", POOL, AGENT),
        car_side
    );
    paired.expect("wallet pairing");
    light.sync(&|_| {}).await.expect("sync");
    assert!(car.is_paired(&light).await.expect("is paired"));

    // Three days without coverage: the puts queue, a flush to a dead node keeps them.
    let trips: Vec<(NaiveDate, Trip)> = (1..=3).map(short_trip).collect();
    queue_trips(&car, &trips);
    assert_eq!(car.queue_len().expect("len"), 3);
    let offline = LightClient::new(vec![closed_endpoint()], node.anchor.clone()).expect("client");
    let report = car.flush(&offline).await.expect("offline flush");
    assert_eq!((report.delivered, report.remaining), (0, 3));
    assert_eq!(car.queue_len().expect("len"), 3);

    // Coverage again: everything goes out, once.
    let report = car.flush(&light).await.expect("flush");
    assert_eq!(
        (report.delivered, report.already_there, report.remaining),
        (3, 0, 0)
    );
    let again = car.flush(&light).await.expect("second flush");
    assert_eq!(
        (again.delivered, again.already_there, again.remaining),
        (0, 0, 0)
    );

    // Read back through the light client over the whole pool, open with the owner key.
    light.sync(&|_| {}).await.expect("sync");
    // Days leave in shuffled order (one address at a time): each record is matched to
    // its trip by its session, opened and compared.
    let sessions = pool_sessions(&light, &keys, (VID, POOL), &trips).await;
    assert_eq!(sessions.len(), 3, "each record exactly once");
    assert_eq!(sessions, vec![100, 200, 300]);
}

/// A flush cut off between two addresses (the car loses power or coverage mid-backlog)
/// keeps what it did not deliver; the next flush delivers the rest, and every record is
/// on the node exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_cut_off_mid_backlog_loses_nothing_and_duplicates_nothing() {
    let (keys, _node, light) = funded_owner_and_private_node().await;
    let dir = tempfile::tempdir().expect("dir");
    let wallet = support::flows::wallet(WORDS);
    let car = support::flows::car(&dir, VID);
    support::flows::pair(&wallet, &light, &car, "family car", POOL).await;

    let trips: Vec<(NaiveDate, Trip)> = (1..=6).map(short_trip).collect();
    queue_trips(&car, &trips);
    // Long pauses between addresses; the flush is cut off (dropped, as when the car
    // loses power or coverage) as soon as the first address is delivered, during the
    // pause that follows it.
    car.set_delivery_pacing(DeliveryPacing {
        max_delay: Duration::from_millis(1_500),
    });
    let first_address_out = async {
        while car.queue_len().expect("len") == 6 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let cut = tokio::select! {
        done = car.flush(&light) => Some(done),
        () = first_address_out => None,
    };
    assert!(cut.is_none(), "the flush was cut off before it finished");
    let left = car.queue_len().expect("len");
    assert!(left < 6, "the first address was delivered before the cut");
    assert!(left > 0, "the cut left addresses queued");
    car.set_delivery_pacing(DeliveryPacing::NONE);
    let report = car.flush(&light).await.expect("flush");
    assert_eq!(report.remaining, 0);
    assert_eq!(report.delivered + report.already_there, left);

    light.sync(&|_| {}).await.expect("sync");
    let pool = AddressPool::derive(&keys, VID, 0, POOL).expect("pool");
    let mut found = 0;
    for address in pool.addresses() {
        let read = light.records_at(&address.to_string()).await.expect("read");
        assert_eq!(read.missing, 0, "a registration without its value");
        found += read.records.len();
    }
    assert_eq!(found, 6, "each record exactly once");
}

/// A car store left by a build from before tx format v2: schema 1 (no write-credential
/// table), its queued puts signed under the v1 domain (`carchain/tx/v1`), one of them
/// marked submitted by that build's flush. A v2 node refuses such a transaction; the
/// upgraded car signs each queued put again in the current format with its pool keys
/// and delivers it, once, so the owner reads every trip back, and nothing stays queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_car_store_from_before_tx_format_v2_delivers_its_old_queue() {
    use carchain_core::pool::pool_signing_key;
    use carchain_core::protocol::hashing::sha256d;
    use carchain_core::protocol::signing::sign_digest;
    use carchain_core::protocol::{Canonical, SignedTransaction};

    let (keys, _node, light) = funded_owner_and_private_node().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("car.db");
    let secrets = Arc::new(InMemorySecretStore::new());
    let open_car = || {
        CarDevice::open(&path, secrets.clone(), VID)
            .expect("car")
            .with_delivery_pacing(DeliveryPacing::NONE)
    };
    let wallet = support::flows::wallet(WORDS);
    let car = open_car();
    support::flows::pair(&wallet, &light, &car, "family car", POOL).await;
    let trips: Vec<(NaiveDate, Trip)> = (1..=3).map(short_trip).collect();
    queue_trips(&car, &trips);
    drop(car);

    // The old build's store: every queued transaction signed under the v1 domain, the
    // first one marked submitted, the schema-2 and schema-3 tables gone, the version back
    // to 1.
    let mut old_txs = Vec::new();
    {
        let conn = rusqlite::Connection::open(&path).expect("open store");
        let rows: Vec<(i64, Vec<u8>, u32)> = conn
            .prepare("SELECT seq, tx, key_index FROM queue ORDER BY seq")
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(rows.len(), 3);
        for (seq, tx, key_index) in rows {
            let mut signed = SignedTransaction::from_canonical(&tx).expect("queued tx");
            let key = pool_signing_key(&keys, VID, 0, key_index).expect("pool key");
            let v1_digest = sha256d(&[b"carchain/tx/v1", &signed.tx.to_canonical()]);
            signed.signature = sign_digest(key.secret_key(), &v1_digest);
            assert!(signed.verify_signature().is_err(), "not a v2 signature");
            conn.execute(
                "UPDATE queue SET tx = ?2 WHERE seq = ?1",
                rusqlite::params![seq, signed.to_canonical()],
            )
            .expect("v1 tx");
            old_txs.push(signed);
        }
        conn.execute_batch(
            "UPDATE queue SET state = 'submitted' WHERE seq = (SELECT MIN(seq) FROM queue);
             DROP TABLE write_credentials;
             DROP TABLE fee_stamps;
             DROP TABLE chain_fees;
             PRAGMA user_version = 1;",
        )
        .expect("schema 1");
    }
    // What a v2 node makes of a v1 transaction.
    let refused = light
        .submit(&old_txs[0], true)
        .await
        .expect_err("a v1 transaction is refused");
    assert_eq!(refused.node_code(), Some("bad_signature"), "{refused}");

    // The upgraded car delivers its old queue.
    let car = open_car();
    assert_eq!(car.queue_len().expect("len"), 3);
    let report = car.flush(&light).await.expect("flush");
    assert_eq!(report.refused, Vec::new(), "nothing refused");
    assert_eq!(
        (report.delivered, report.already_there, report.remaining),
        (3, 0, 0)
    );
    let again = car.flush(&light).await.expect("second flush");
    assert_eq!((again.delivered, again.remaining), (0, 0));

    light.sync(&|_| {}).await.expect("sync");
    let read = wallet
        .trips(&light, VID, trips[0].0, trips[2].0)
        .await
        .expect("trips");
    assert_eq!((read.rejected.len(), read.missing), (0, 0));
    let mut sessions: Vec<i64> = read.trips.iter().map(|t| t.session_id).collect();
    sessions.sort_unstable();
    assert_eq!(sessions, vec![100, 200, 300], "each trip exactly once");
}

/// The owner registers its pairing offer, then stores the offer's value: a car that
/// looks into the mailbox between the two finds the registration without its value. That
/// is an offer still on its way (the car looks again), not a failed pairing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_registered_but_not_yet_stored_is_not_there_yet() {
    use carchain_core::pairing::{MAILBOX_FORMAT, SEQ_OFFER, mailbox_key, mailbox_record_key};
    use carchain_core::protocol::{HashFunc, RecordPut, TxBody};

    let (_node, light) = synced_private_node().await;
    let dir = tempfile::tempdir().expect("dir");
    let car = support::flows::car(&dir, VID);
    let payload = car.pairing_payload(600).expect("payload");
    assert!(!car.complete_pairing(&light).await.expect("empty mailbox"));

    // The first half of the owner's post: the offer's registration, no value yet.
    let mailbox = mailbox_key(&payload.code, &payload.device_pubkey).expect("mailbox key");
    let address = carchain_core::protocol::signing::p2wpkh_address(
        &carchain_core::protocol::signing::public_key_of(&mailbox),
        Network::Regtest,
    );
    let key = mailbox_record_key(SEQ_OFFER).expect("offer key");
    let value = b"an offer on its way";
    let hash = HashFunc::Sha256.digest(value);
    light
        .sign_and_submit(
            &mailbox,
            TxBody::RecordPut(RecordPut {
                address: address.clone(),
                key: key.clone(),
                format: MAILBOX_FORMAT.into(),
                hash_func: HashFunc::Sha256,
                d_hash: hash,
                c_hash: hash,
                size: value.len() as u64,
                wallet: true,
                stamp: None,
            }),
        )
        .await
        .expect("offer registered");
    light.sync(&|_| {}).await.expect("sync");
    let read = light.record(&address, &key).await;
    assert!(
        matches!(
            read,
            Err(carchain_core::light::LightError::ValueMissing { .. })
        ),
        "the offer is registered without its value: {read:?}"
    );
    assert!(
        !car.complete_pairing(&light)
            .await
            .expect("an offer on its way is no error"),
        "no offer has arrived yet"
    );
}

/// The car judges its pairing code's lifetime by its clock: with no offer in the
/// mailbox it keeps waiting while the code lives, and reports the code expired (typed,
/// with the expiry) once its clock is past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairing_code_expires_by_the_cars_clock() {
    use carchain_core::clock::ManualClock;
    use carchain_core::device::DeviceError;

    let (_node, light) = synced_private_node().await;
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::offset_from_now(0));
    let car = support::flows::car(&dir, VID).with_clock(clock.clone());
    let payload = car.pairing_payload(60).expect("payload");
    assert!(
        !car.complete_pairing(&light)
            .await
            .expect("code still valid")
    );

    clock.advance(Duration::from_secs(61));
    let err = car
        .complete_pairing(&light)
        .await
        .expect_err("the code has expired");
    assert!(
        matches!(err, DeviceError::CodeExpired { expires_at } if expires_at == payload.expires_at),
        "{err:?}"
    );
    assert!(!car.is_paired(&light).await.expect("is paired"));
}
