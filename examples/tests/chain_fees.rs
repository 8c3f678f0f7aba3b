//! The chain's own fee schedule, end to end on a real node: a chain whose genesis fixes
//! a non-default schedule publishes it in its proven state; the SDK reads it with its
//! proof and signs under it (the node would refuse the default fee as too low), so a
//! payment costs exactly the chain's fee. A chain on the default schedule proves the
//! absence of an entry. A node (here a proxy in front of an honest one) that rewrites
//! the schedule, cheaper or absent, is caught by the proof check, and a client with an
//! honest endpoint besides fails over to it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use carchain_core::light::{LightClient, LightError};
use carchain_core::protocol::{FeeSchedule, Transfer, TxBody};
use support::{Mode, Tamper, TamperingProxy, TestKey, serve, start_node};

const FUNDED: u64 = 1_000_000;
const CHAIN_FEES: FeeSchedule = FeeSchedule {
    base_fee: 37,
    put_per_byte: 2,
    read_per_address: 3,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_pays_the_chains_own_fees() {
    let payer = TestKey::from_byte(51);
    let payee = TestKey::from_byte(52);
    let chain = carchain_testkit::init_chain_with_fees(&[(&payer.address, FUNDED)], CHAIN_FEES);
    let node = serve(chain, Mode::Private).await;
    let client = node.client();
    assert_eq!(client.fee_schedule().await.expect("schedule"), CHAIN_FEES);

    let body = TxBody::Transfer(Transfer {
        to: payee.address.clone(),
        amount: 100,
    });
    let receipt = client
        .sign_and_submit(&payer.secret, body)
        .await
        .expect("a transfer paying the chain's fee");
    assert!(receipt.height.is_some());
    let balance = client.account(&payer.address).await.expect("payer").balance;
    assert_eq!(balance, FUNDED - 100 - CHAIN_FEES.base_fee);
    assert_eq!(
        client.account(&payee.address).await.expect("payee").balance,
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_on_the_default_schedule_proves_it_keeps_none() {
    let node = start_node(&[], Mode::Private).await;
    assert_eq!(
        node.client().fee_schedule().await.expect("schedule"),
        FeeSchedule::DEFAULT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_schedule_is_refused_and_the_honest_node_answers() {
    let chain = carchain_testkit::init_chain_with_fees(&[], CHAIN_FEES);
    let node = serve(chain, Mode::Private).await;
    for tamper in [Tamper::CheapFees, Tamper::HideFees] {
        let proxy = TamperingProxy::start(&node.base, tamper).await;
        let lied_to = LightClient::new(vec![proxy.base.clone()], node.anchor.clone()).unwrap();
        let err = lied_to
            .fee_schedule()
            .await
            .expect_err("a rewritten schedule fails its proof");
        assert!(
            matches!(err, LightError::Tampered(_)),
            "{tamper:?}: {err:?}"
        );
        assert_eq!(err.code(), "light.tampered");
        assert!(err.is_failover() && !err.is_forgery());

        let with_honest = LightClient::new(
            vec![proxy.base.clone(), node.base.clone()],
            node.anchor.clone(),
        )
        .unwrap();
        assert_eq!(
            with_honest.fee_schedule().await.expect("the honest node"),
            CHAIN_FEES,
            "{tamper:?}"
        );
    }
}

/// On a shared node of such a chain, a paying client's token purchase (its Transfer to
/// the operator) pays the chain's fee too, so its reads go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_token_purchases_pay_the_chains_fee() {
    let reader = TestKey::from_byte(53);
    let chain = carchain_testkit::init_chain_with_fees(&[(&reader.address, FUNDED)], CHAIN_FEES);
    let node = serve(chain, Mode::Shared).await;
    let client = node.client().with_read_payer(reader.secret, 10);
    let pages = client
        .records_at_many(std::slice::from_ref(&reader.address))
        .await;
    let page = pages
        .into_iter()
        .next()
        .expect("one page")
        .expect("a paid read");
    assert!(page.records.is_empty());
    let spent = FUNDED
        - client
            .account(&reader.address)
            .await
            .expect("reader")
            .balance;
    assert!(
        spent > CHAIN_FEES.base_fee,
        "the purchase paid its tokens and the chain's fee: {spent}"
    );
    assert_eq!(client.read_tokens_held().await.expect("held"), 9);
}

/// An amount whose fee under the chain's schedule overflows is refused as too large
/// before anything is signed (the fee is the chain's, so a node is asked first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amount_whose_fee_overflows_is_refused() {
    use carchain_core::store::{InMemorySecretStore, WalletStore};
    use carchain_core::wallet::{PaymentError, Wallet};
    const WORDS: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let chain = carchain_testkit::init_chain_with_fees(&[], CHAIN_FEES);
    let node = serve(chain, Mode::Private).await;
    let store = WalletStore::open_in_memory(std::sync::Arc::new(InMemorySecretStore::new()))
        .expect("store");
    let wallet = Wallet::restore_in(store, carchain_core::keys::Network::Regtest, WORDS, "")
        .expect("wallet");
    let amount = u64::MAX - CHAIN_FEES.base_fee + 1;
    let err = wallet
        .transfer(&node.client(), &TestKey::from_byte(9).address, amount)
        .await
        .expect_err("the fee overflows");
    assert!(
        matches!(err, PaymentError::AmountTooLarge { amount: a } if a == amount),
        "{err:?}"
    );
}

/// A car paired on such a chain keeps the chain's schedule and pays it on the puts it
/// signs offline: its queued trips are accepted (the default fee would be refused as
/// too low) and the owner reads every one back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_car_signs_its_offline_puts_under_the_chains_fees() {
    use carchain_testkit::car_records::{owner_keys, queue_trips, short_trip};
    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let owner = owner_keys(WORDS).owner_address().to_string();
    let chain = carchain_testkit::init_chain_with_fees(&[(&owner, FUNDED)], CHAIN_FEES);
    let node = serve(chain, Mode::Private).await;
    let light = node.client();
    light.sync(&|_| {}).await.expect("sync");
    let dir = tempfile::tempdir().expect("dir");
    let wallet = support::flows::wallet(WORDS);
    let car = support::flows::car(&dir, "LBVNU79049SB81546");
    support::flows::pair(&wallet, &light, &car, "family car", 4).await;

    let trips: Vec<_> = (1..=3).map(short_trip).collect();
    queue_trips(&car, &trips);
    let report = car.flush(&light).await.expect("flush");
    assert_eq!((report.delivered, report.remaining), (3, 0), "{report:?}");
    let read = wallet
        .trips(
            &light,
            "LBVNU79049SB81546",
            support::flows::day(1),
            support::flows::day(3),
        )
        .await
        .expect("trips");
    assert_eq!(read.trips.len(), 3);
    assert!(read.rejected.is_empty());
}

/// An operator fixes the schedule with `carchain-node init`'s fee flags: the running
/// node's proven schedule is that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_binary_publishes_the_schedule_its_init_was_given() {
    let node = carchain_testkit::node_process::start_with_init(
        "carchain-chain-fees",
        &[],
        &[
            "--base-fee",
            "37",
            "--put-fee-per-byte",
            "2",
            "--read-fee-per-address",
            "3",
        ],
        &[],
    );
    assert_eq!(
        node.client().fee_schedule().await.expect("schedule"),
        CHAIN_FEES
    );
}
