//! End-to-end paid trades through escrow against a real node on loopback, driven by the
//! escrow client of both parties: the happy path; a buyer who denies receipt and a
//! seller who proves possession (paid); a seller who cannot answer the challenge
//! (refused, buyer refunded after the deadline); an undelivered escrow refunded after
//! its delivery window; an undisputed delivery released to the seller after the
//! review window.
//!
//! The windows are days long, so those chains start in the past (`support::past`):
//! the first steps run in blocks dated days ago, then the real node takes over at the
//! wall clock, and the rest of the flow runs through the client against it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use carchain_core::grants::GrantsLedger;
use carchain_core::grants::escrow_client::{EscrowError, EscrowParty};
use carchain_core::grants::escrow_payment::delivery_commitment;
use carchain_core::keys::Network;
use carchain_core::protocol::fee_for;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::{
    EscrowDeliver, EscrowOpen, EscrowRef, EscrowResolve, EscrowStatus, PossessionProof,
    SignedTransaction, TxBody, challenge_seed,
};
use carchain_node::state::TxError;
use support::past::{DAY_MS, PastChain, now_ms, past_chain};
use support::{Mode, TestKey, TestNode, start_node};

const PRICE: u64 = 5_000;
const FUNDS: u64 = 1_000_000;
const BUYER: u8 = 0x61;
const SELLER: u8 = 0x62;
const TICKER: u8 = 0x63;

fn party(byte: u8) -> EscrowParty {
    EscrowParty::new(TestKey::from_byte(byte).secret, Network::Regtest)
}

fn ledger(node: &TestNode) -> GrantsLedger {
    GrantsLedger::new(node.client(), std::slice::from_ref(&node.base)).expect("ledger")
}

/// The seller's records: values it holds and registers (`carvio`, dHash = SHA-256 of
/// "salt" || value, as `TestKey::record_put` commits).
fn values(tag: &str, count: u8) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("{tag} record {i}").into_bytes())
        .collect()
}

/// The chunks of a delivery of `values`: their dHashes recomputed from the values.
fn chunks_of(values: &[Vec<u8>]) -> Vec<[u8; 32]> {
    values.iter().map(|v| sha256(&[b"salt", v])).collect()
}

fn signed(byte: u8, nonce: u64, body: TxBody) -> SignedTransaction {
    let fee = fee_for(&body);
    TestKey::from_byte(byte).sign(nonce, fee, body)
}

fn open_body(escrow_id: [u8; 32]) -> TxBody {
    TxBody::EscrowOpen(EscrowOpen {
        escrow_id,
        seller: TestKey::from_byte(SELLER).address,
        amount: PRICE,
        request_id: None,
    })
}

fn funded() -> Vec<(String, u64)> {
    [BUYER, SELLER, TICKER]
        .into_iter()
        .map(|b| (TestKey::from_byte(b).address, FUNDS))
        .collect()
}

fn dated_chain(days_ago: u64) -> PastChain {
    let funds = funded();
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    past_chain(&funds, now_ms() - days_ago * DAY_MS)
}

/// One block at the wall clock, so the next block's ledger clock is now.
async fn tick(ledger: &GrantsLedger) {
    ledger
        .submit(
            &TestKey::from_byte(TICKER).secret,
            TxBody::Transfer(carchain_core::protocol::Transfer {
                to: TestKey::from_byte(SELLER).address,
                amount: 1,
            }),
        )
        .await
        .expect("tick");
}

/// The node started on `chain` (days after its past blocks), a ledger reading it, and
/// one block at the wall clock.
async fn days_later(chain: PastChain) -> (TestNode, GrantsLedger) {
    let node = chain.start(Mode::Private).await;
    let ledger = ledger(&node);
    tick(&ledger).await;
    (node, ledger)
}

/// Asserts that `result` is the escrow client's refusal of a closed `window`.
fn assert_too_late<T: std::fmt::Debug>(result: Result<T, EscrowError>, window: &str) {
    assert!(
        matches!(&result, Err(EscrowError::TooLate { what, .. }) if *what == window),
        "{window}: {result:?}"
    );
}

/// The buyer takes the refund of escrow `id`: it is refunded, and the buyer gets
/// [`PRICE`] back less the refund's `fee`.
async fn refund_buyer(buyer: &EscrowParty, ledger: &GrantsLedger, id: &[u8; 32], fee: u64) {
    let buyer_before = balance(ledger, BUYER).await;
    let refunded = buyer.refund(ledger, id).await.expect("refund");
    assert_eq!(refunded.status, EscrowStatus::Refunded);
    assert_eq!(balance(ledger, BUYER).await, buyer_before + PRICE - fee);
}

async fn balance(ledger: &GrantsLedger, byte: u8) -> u64 {
    ledger
        .light()
        .account(&TestKey::from_byte(byte).address)
        .await
        .expect("account")
        .balance
}

fn fee_of(body: TxBody) -> u64 {
    fee_for(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_the_buyer_checks_the_commitment_and_pays_the_seller() {
    let funds = funded();
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let node = start_node(&funds, Mode::Private).await;
    let ledger = ledger(&node);
    let light = ledger.light().clone();
    let (buyer, seller) = (party(BUYER), party(SELLER));
    let data = values("happy", 5);
    let seller_key = TestKey::from_byte(SELLER);
    for (nonce, value) in data.iter().enumerate() {
        let key = format!("k{nonce}").into_bytes();
        light
            .submit(&seller_key.record_put(nonce as u64, &key, value), true)
            .await
            .expect("record put");
    }
    let seller_before = balance(&ledger, SELLER).await;
    let buyer_before = balance(&ledger, BUYER).await;

    let id = [0xe1; 32];
    let opened = buyer
        .open(&ledger, id, &seller.address(), PRICE, None)
        .await
        .expect("open");
    assert_eq!(opened.status, EscrowStatus::Open);
    assert_eq!(opened.amount, PRICE);
    assert!(matches!(
        buyer
            .open(&ledger, id, &seller.address(), PRICE, None)
            .await,
        Err(EscrowError::DuplicateEscrow(_))
    ));
    assert!(matches!(
        buyer
            .open(&ledger, [0xe2; 32], &buyer.address(), PRICE, None)
            .await,
        Err(EscrowError::Invalid(_))
    ));
    // Only the seller declares; only the buyer accepts.
    assert!(matches!(
        buyer.declare(&ledger, &id, &chunks_of(&data)).await,
        Err(EscrowError::NotParty { role: "seller", .. })
    ));
    let declared = seller
        .declare(&ledger, &id, &chunks_of(&data))
        .await
        .expect("declare");
    assert_eq!(declared.status, EscrowStatus::Delivered);
    assert_eq!(
        declared.d_hash_root,
        Some(delivery_commitment(&chunks_of(&data)))
    );

    // The buyer received the values, checks each against its registered dHash, and
    // accepts only the commitment of exactly what it received.
    let received = chunks_of(&data);
    for (i, chunk) in received.iter().enumerate() {
        let registration = light
            .registration(&seller_key.address, format!("k{i}").as_bytes())
            .await
            .expect("registration")
            .expect("registered");
        assert_eq!(&registration.put.d_hash, chunk);
    }
    assert!(matches!(
        buyer.accept(&ledger, &id, &received[1..]).await,
        Err(EscrowError::CommitmentMismatch)
    ));
    assert!(matches!(
        seller.accept(&ledger, &id, &received).await,
        Err(EscrowError::NotParty { role: "buyer", .. })
    ));
    let released = buyer.accept(&ledger, &id, &received).await.expect("accept");
    assert_eq!(released.status, EscrowStatus::Released);

    let reference = EscrowRef { escrow_id: id };
    assert_eq!(
        balance(&ledger, SELLER).await,
        seller_before + PRICE
            - fee_of(TxBody::EscrowDeliver(EscrowDeliver {
                escrow_id: id,
                d_hash_root: [0; 32]
            }))
    );
    assert_eq!(
        balance(&ledger, BUYER).await,
        buyer_before
            - PRICE
            - fee_of(open_body(id))
            - fee_of(TxBody::EscrowAccept(reference.clone()))
    );
    // Settled: nothing more can happen to it.
    assert!(matches!(
        buyer.dispute(&ledger, &id).await,
        Err(EscrowError::WrongStatus { .. })
    ));
    assert!(matches!(
        buyer.refund(&ledger, &id).await,
        Err(EscrowError::WrongStatus { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_delivery_is_paid_when_the_seller_proves_possession() {
    let funds = funded();
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let node = start_node(&funds, Mode::Private).await;
    let ledger = ledger(&node);
    let (buyer, seller) = (party(BUYER), party(SELLER));
    let data = values("disputed", 11);
    let id = [0xd1; 32];
    buyer
        .open(&ledger, id, &seller.address(), PRICE, None)
        .await
        .expect("open");
    seller
        .declare(&ledger, &id, &chunks_of(&data))
        .await
        .expect("declare");
    let seller_before = balance(&ledger, SELLER).await;

    let disputed = buyer.dispute(&ledger, &id).await.expect("dispute");
    assert_eq!(disputed.status, EscrowStatus::Disputed);
    let seed = disputed.challenge_seed.expect("the ledger fixed a seed");
    let deadline = disputed.challenge_deadline.expect("deadline");
    assert!(deadline > now_ms() + DAY_MS - 60_000, "a day to answer");
    // The seed is the escrow id with the hash of a block before the dispute's: one of
    // the chain's verified headers, not a value either party picked.
    let light = ledger.light();
    let tip = light.verified_height();
    let from_a_header = (0..=tip).any(|h| {
        light
            .verified_header(h)
            .is_ok_and(|header| challenge_seed(&id, &header.header.hash()) == seed)
    });
    assert!(from_a_header);
    // While the challenge runs, the buyer cannot take the funds back.
    assert!(matches!(
        buyer.refund(&ledger, &id).await,
        Err(EscrowError::TooEarly {
            what: "possession challenge",
            ..
        })
    ));
    // A seller holding other data is stopped by its own client.
    assert!(matches!(
        seller
            .answer_challenge(&ledger, &id, &chunks_of(&values("other", 11)))
            .await,
        Err(EscrowError::PossessionNotProven(_))
    ));
    let released = seller
        .answer_challenge(&ledger, &id, &chunks_of(&data))
        .await
        .expect("possession proven");
    assert_eq!(released.status, EscrowStatus::Released);
    let answer_fee = fee_of(TxBody::EscrowResolve(EscrowResolve {
        escrow_id: id,
        seller_proved: true,
        proof: PossessionProof::build(&chunks_of(&data), &seed),
    }));
    assert_eq!(
        balance(&ledger, SELLER).await,
        seller_before + PRICE - answer_fee
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_that_never_delivered_fails_the_challenge_and_the_buyer_is_refunded() {
    let mut chain = dated_chain(5);
    let genesis_time = chain.tip().header.time;
    let id = [0xf1; 32];
    // The seller declared a delivery of data it does not hold.
    let claimed = chunks_of(&values("claimed", 6));
    let held = chunks_of(&values("what the seller has", 6));
    let step = |chain: &mut PastChain, tx: SignedTransaction, at: u64| {
        chain.block(&[tx], genesis_time + at).remove(0)
    };
    step(&mut chain, signed(BUYER, 0, open_body(id)), 1_000).expect("open");
    let declare = TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: id,
        d_hash_root: delivery_commitment(&claimed),
    });
    step(&mut chain, signed(SELLER, 0, declare), 2_000).expect("declare");
    let parent = chain.tip().header.hash();
    step(
        &mut chain,
        signed(BUYER, 1, TxBody::EscrowDispute(EscrowRef { escrow_id: id })),
        3_000,
    )
    .expect("dispute");
    // Within the challenge window the seller answers with what it holds: the ledger
    // refuses it, and refuses the buyer's refund until the window closes.
    let seed = challenge_seed(&id, &parent);
    let answer = TxBody::EscrowResolve(EscrowResolve {
        escrow_id: id,
        seller_proved: true,
        proof: PossessionProof::build(&held, &seed),
    });
    let refused = step(&mut chain, signed(SELLER, 1, answer), 4_000);
    assert!(
        matches!(refused, Err(TxError::ChallengeFailed(_))),
        "{refused:?}"
    );
    let early_refund = TxBody::EscrowResolve(EscrowResolve {
        escrow_id: id,
        seller_proved: false,
        proof: None,
    });
    let early = step(&mut chain, signed(BUYER, 2, early_refund), 5_000);
    assert!(matches!(early, Err(TxError::TooEarly { .. })), "{early:?}");

    // Days later, on the running node.
    let (_node, ledger) = days_later(chain).await;
    let (buyer, seller) = (party(BUYER), party(SELLER));
    let (escrow, _) = buyer.escrow(&ledger, &id).await.expect("escrow");
    assert_eq!(escrow.status, EscrowStatus::Disputed);
    assert_eq!(escrow.challenge_seed, Some(seed));
    assert_too_late(
        seller.answer_challenge(&ledger, &id, &held).await,
        "possession challenge",
    );
    let refund = TxBody::EscrowResolve(EscrowResolve {
        escrow_id: id,
        seller_proved: false,
        proof: None,
    });
    refund_buyer(&buyer, &ledger, &id, fee_of(refund)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undelivered_escrow_is_refunded_after_its_delivery_window() {
    let mut chain = dated_chain(4);
    let genesis_time = chain.tip().header.time;
    let id = [0xa1; 32];
    let opened = chain.block(&[signed(BUYER, 0, open_body(id))], genesis_time + 1_000);
    assert!(opened[0].is_ok(), "{opened:?}");
    let refund = TxBody::EscrowRefund(EscrowRef { escrow_id: id });
    let early = chain.block(&[signed(BUYER, 1, refund.clone())], genesis_time + 2_000);
    assert!(
        matches!(early[0], Err(TxError::TooEarly { .. })),
        "{early:?}"
    );

    let (_node, ledger) = days_later(chain).await;
    let (buyer, seller) = (party(BUYER), party(SELLER));
    // The seller is too late to deliver.
    assert_too_late(
        seller
            .declare(&ledger, &id, &chunks_of(&values("late", 2)))
            .await,
        "delivery window",
    );
    refund_buyer(&buyer, &ledger, &id, fee_of(refund)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undisputed_delivery_is_released_to_the_seller_after_the_review_window() {
    let mut chain = dated_chain(4);
    let genesis_time = chain.tip().header.time;
    let id = [0xb1; 32];
    let data = chunks_of(&values("reviewed", 3));
    let declare = TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: id,
        d_hash_root: delivery_commitment(&data),
    });
    let release = TxBody::EscrowResolve(EscrowResolve {
        escrow_id: id,
        seller_proved: true,
        proof: None,
    });
    for (tx, at) in [
        (signed(BUYER, 0, open_body(id)), 1_000),
        (signed(SELLER, 0, declare), 2_000),
    ] {
        let outcome = chain.block(&[tx], genesis_time + at);
        assert!(outcome[0].is_ok(), "{outcome:?}");
    }
    let early = chain.block(&[signed(SELLER, 1, release.clone())], genesis_time + 3_000);
    assert!(
        matches!(early[0], Err(TxError::TooEarly { .. })),
        "{early:?}"
    );

    let (_node, ledger) = days_later(chain).await;
    let (buyer, seller) = (party(BUYER), party(SELLER));
    assert_too_late(buyer.dispute(&ledger, &id).await, "review window");
    // The ledger itself refuses the late dispute, not only the client.
    let late = ledger
        .submit(
            &TestKey::from_byte(BUYER).secret,
            TxBody::EscrowDispute(EscrowRef { escrow_id: id }),
        )
        .await;
    match late {
        Err(carchain_core::grants::GrantsError::Light(err)) => {
            assert!(err.to_string().contains("review window"), "{err}");
        }
        other => panic!("a late dispute is refused by the ledger, got {other:?}"),
    }
    let seller_before = balance(&ledger, SELLER).await;
    let released = seller.release(&ledger, &id).await.expect("release");
    assert_eq!(released.status, EscrowStatus::Released);
    assert_eq!(
        balance(&ledger, SELLER).await,
        seller_before + PRICE - fee_of(release)
    );
}
