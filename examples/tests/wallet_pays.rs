//! The owner's wallet paying with its own account on a real `carchain-node`: on a shared
//! node a plain light client's read is refused with `payment_required` (also through the
//! wallet's inbox read, as a typed error) while the wallet's paying client reads, the
//! owner's balance dropping by exactly one token batch and its fee; `Wallet::transfer` moves
//! tokens (typed errors for an unfunded wallet and an amount above the balance);
//! `Wallet::fund_car_reads` tops a car account up once; `carchain wallet send` sends. On
//! a private node reads are free and no car is funded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod cli_run;
use carchain_testkit::node_process;

use std::sync::Arc;

use carchain_core::device::CAR_READ_FUNDS;
use carchain_core::grants::{GrantsError, GrantsLedger};
use carchain_core::light::LightError;
use carchain_core::protocol::Network;
use carchain_core::protocol::fee_for;
use carchain_core::protocol::signing::{p2wpkh_address, public_key_of};
use carchain_core::protocol::{Transfer, TxBody};
use carchain_core::store::{InMemorySecretStore, WalletStore};
use carchain_core::wallet::{OWNER_READ_TOKEN_BATCH, PaymentError, Wallet};

const CHAIN_ID: &str = "carchain-wallet-pays";
const FUNDED: u64 = 1_000_000;
/// The published BIP39 vector the owner restores (funded at genesis).
const OWNER_WORDS: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
/// Another published vector, never funded.
const UNFUNDED_WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn wallet(words: &str) -> Wallet {
    let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).expect("store");
    Wallet::restore_in(store, Network::Regtest, words, "").expect("wallet")
}

/// A regtest account no one funded (the key 0x0b..0b).
fn account(byte: u8) -> String {
    let secret = bitcoin::secp256k1::SecretKey::from_slice(&[byte; 32]).expect("key");
    p2wpkh_address(&public_key_of(&secret), Network::Regtest)
}

fn is_payment_required(err: &LightError) -> bool {
    err.node_code() == Some("payment_required")
}

fn transfer_fee() -> u64 {
    fee_for(&TxBody::Transfer(Transfer {
        to: account(1),
        amount: 1,
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_shared_node_the_wallet_pays_its_reads_and_transfers() {
    let owner = wallet(OWNER_WORDS);
    let node = node_process::start(CHAIN_ID, &[(&owner.owner_address(), FUNDED)], &[]);
    let plain = node.client();
    plain.sync(&|_| {}).await.expect("sync");
    let paying = owner.paying_reads(node.client());
    let balance = |address: String| {
        let plain = plain.clone();
        async move { plain.account(&address).await.expect("account").balance }
    };

    // A plain client's read is refused with the node's payment code, typed.
    let address = account(11);
    let refused = plain.records_at(&address).await.expect_err("unpaid read");
    assert!(
        is_payment_required(&refused),
        "{refused:?}\n{}",
        node.log_text()
    );
    let ledger =
        GrantsLedger::new(plain.clone(), std::slice::from_ref(&node.base)).expect("ledger");
    match owner.pending_requests(&ledger).await {
        Err(GrantsError::Light(err)) => assert!(is_payment_required(&err), "{err:?}"),
        other => panic!("an unpaid inbox read gave {other:?}"),
    }
    assert_eq!(
        balance(owner.owner_address()).await,
        FUNDED,
        "refusals cost nothing"
    );

    // The wallet's paying client reads: one batch of tokens bought from the owner's
    // account, kept in the wallet's store, one spent.
    let read = paying.records_at(&address).await.expect("paid read");
    assert!(read.records.is_empty());
    let batch = OWNER_READ_TOKEN_BATCH + carchain_core::protocol::FeeSchedule::DEFAULT.base_fee;
    assert_eq!(balance(owner.owner_address()).await, FUNDED - batch);
    assert_eq!(
        paying.read_tokens_held().await.expect("held"),
        OWNER_READ_TOKEN_BATCH - 1
    );
    let paid_ledger =
        GrantsLedger::new(paying.clone(), std::slice::from_ref(&node.base)).expect("ledger");
    let pending = owner.pending_requests(&paid_ledger).await.expect("inbox");
    assert!(pending.is_empty());
    assert_eq!(
        balance(owner.owner_address()).await,
        FUNDED - batch,
        "the second read is paid by a token of the same batch"
    );
    assert!(paying.read_tokens_held().await.expect("held") < OWNER_READ_TOKEN_BATCH - 1);

    // Transfers: signed by the owner inside the wallet, fee added.
    let friend = account(12);
    let receipt = owner
        .transfer(&paying, &friend, 777)
        .await
        .expect("transfer");
    assert!(receipt.height.is_some());
    assert_eq!(balance(friend.clone()).await, 777);
    let after_transfer = FUNDED - batch - 777 - transfer_fee();
    assert_eq!(balance(owner.owner_address()).await, after_transfer);
    match owner.transfer(&paying, &friend, after_transfer).await {
        Err(PaymentError::InsufficientFunds { balance, needed }) => {
            assert_eq!(balance, after_transfer);
            assert_eq!(needed, after_transfer + transfer_fee());
        }
        other => panic!("an overdraft gave {other:?}"),
    }
    let unfunded = wallet(UNFUNDED_WORDS);
    match unfunded.transfer(&plain, &friend, 1).await {
        Err(PaymentError::InsufficientFunds { balance: 0, needed }) => {
            assert_eq!(needed, 1 + transfer_fee());
        }
        other => panic!("an unfunded wallet's transfer gave {other:?}"),
    }
    // An unfunded wallet's paying client cannot buy tokens: the node's refusal, typed.
    let broke = unfunded.paying_reads(node.client());
    let err = broke.records_at(&address).await.expect_err("no funds");
    assert!(err.node_code().is_some(), "{err:?}");

    // Funding a car account: topped up to CAR_READ_FUNDS once, then nothing.
    let car = account(13);
    assert_eq!(
        owner.fund_car_reads(&paying, &car).await.expect("fund"),
        CAR_READ_FUNDS
    );
    assert_eq!(balance(car.clone()).await, CAR_READ_FUNDS);
    assert_eq!(owner.fund_car_reads(&paying, &car).await.expect("again"), 0);
    assert_eq!(
        balance(owner.owner_address()).await,
        after_transfer - CAR_READ_FUNDS - transfer_fee()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_private_node_reads_are_free_and_no_car_is_funded() {
    let owner = wallet(OWNER_WORDS);
    let node = node_process::start(
        CHAIN_ID,
        &[(&owner.owner_address(), FUNDED)],
        &["--mode", "private"],
    );
    let paying = owner.paying_reads(node.client());
    paying.sync(&|_| {}).await.expect("sync");
    let plain = node.client();
    plain.records_at(&account(11)).await.expect("a free read");
    paying.records_at(&account(11)).await.expect("a free read");
    assert_eq!(
        owner
            .fund_car_reads(&paying, &account(13))
            .await
            .expect("fund"),
        0
    );
    let owner_account = paying
        .account(&owner.owner_address())
        .await
        .expect("account");
    assert_eq!(owner_account.balance, FUNDED, "nothing was paid");
}

#[test]
fn carchain_wallet_send_moves_tokens_from_the_owner_account() {
    let owner = wallet(OWNER_WORDS);
    let node = node_process::start(CHAIN_ID, &[(&owner.owner_address(), FUNDED)], &[]);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("wallet.db");
    let wallet_path = path.to_str().expect("utf-8 path");
    let carchain = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--wallet", wallet_path, "--node", &node.base, "--json"];
        all.extend_from_slice(args);
        cli_run::run(&all, stdin)
    };
    let restored = carchain(&["wallet", "restore"], Some(&format!("{OWNER_WORDS}\n")));
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let friend = account(14);
    let sent = carchain(
        &["wallet", "send", "--to", &friend, "--amount", "321"],
        None,
    );
    let stderr = String::from_utf8_lossy(&sent.stderr).into_owned();
    assert!(sent.status.success(), "{stderr}\n{}", node.log_text());
    let doc: serde_json::Value = serde_json::from_slice(&sent.stdout).expect("json");
    assert_eq!(doc["to"], friend.as_str());
    assert_eq!(doc["amount"], 321);
    assert_eq!(doc["tx_id"].as_str().map(str::len), Some(64));
    let zero = carchain(&["wallet", "send", "--to", &friend, "--amount", "0"], None);
    assert_eq!(zero.status.code(), Some(3), "a zero amount is bad input");
    let to_self = owner.owner_address();
    let own = carchain(&["wallet", "send", "--to", &to_self, "--amount", "5"], None);
    assert_eq!(own.status.code(), Some(3), "sending to itself is bad input");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = node.client();
    let friend_balance = runtime
        .block_on(async {
            client.sync(&|_| {}).await?;
            client.account(&friend).await
        })
        .expect("friend account")
        .balance;
    assert_eq!(friend_balance, 321);
}
