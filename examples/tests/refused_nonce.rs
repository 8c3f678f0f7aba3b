#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A transaction a block refused, whose nonce another transaction of the same signer
//! then took, can never commit: its caller gets the typed refusal promptly instead of
//! waiting for the commit patience (60 s) to run out.

mod support;

use std::time::{Duration, Instant};

use carchain_core::light::LightClient;
use carchain_core::protocol::{Transfer, TxBody};
use support::{Mode, TestKey, funded_key_node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_refused_transaction_whose_nonce_was_taken_is_refused_promptly() {
    let (payer, node) = funded_key_node(91, 1_000_000, Mode::Private).await;
    let payee = TestKey::from_byte(92);
    let light: LightClient = node.client();
    let send = |amount: u64| {
        let light = light.clone();
        let secret = payer.secret;
        let to = payee.address.clone();
        async move {
            light
                .sign_and_submit(&secret, TxBody::Transfer(Transfer { to, amount }))
                .await
        }
    };
    // Both are admitted (each alone is covered), one block commits one of them and
    // refuses the other (the balance no longer covers it), which leaves no trace. Which
    // of the two takes the first nonce is up to the scheduler.
    let started = Instant::now();
    let mut a = tokio::spawn(send(600_000));
    let mut b = tokio::spawn(send(600_000));
    let (first_done, pending) = tokio::select! {
        done = &mut a => (done.expect("task"), b),
        done = &mut b => (done.expect("task"), a),
    };
    let typed = |err: &carchain_core::light::LightError| {
        matches!(err.node_code(), Some("replay" | "insufficient_balance"))
    };
    let (committed, pending) = match first_done {
        Ok(receipt) => (receipt, Some(pending)),
        // The refused one learnt the block's reason before the other's answer came.
        Err(err) => {
            assert!(typed(&err), "a typed refusal: {err}");
            (
                pending.await.expect("task").expect("one transfer commits"),
                None,
            )
        }
    };
    // Another transaction of the signer takes the refused one's nonce.
    let third = send(1_000).await.expect("the third transfer commits");
    assert!(third.height >= committed.height);
    if let Some(pending) = pending {
        let err = pending
            .await
            .expect("task")
            .expect_err("the refused transfer never commits");
        assert!(typed(&err), "a typed refusal: {err}");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(15),
        "the refusal came after {elapsed:?}"
    );
    let account = light.account(&payer.address).await.expect("account");
    assert_eq!(account.nonce, 2, "two transfers committed");
}
