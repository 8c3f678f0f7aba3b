//! Graceful shutdown: SIGTERM makes the node finish and exit 0, and what it committed is
//! there after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use carchain_core::protocol::AccountState;
use common::*;

#[tokio::test]
async fn sigterm_exits_zero_and_keeps_committed_state() {
    let (alice, chain, node) = funded_node(41, 5_000);
    let bob = Wallet::from_byte(42);
    let (code, body) = submit(&node.base, &alice.transfer(0, &bob.address, 100), true).await;
    assert_eq!(code, 200, "{body}");

    let exit = node.terminate();
    assert!(exit.success(), "exit status {exit:?}");

    let node = NodeProcess::start(&chain.data_dir(), &[]);
    let bob_state = proven_account(&node.base, &chain.validator_pubkey, &bob.address).await;
    assert_eq!(
        bob_state,
        Some(AccountState {
            balance: 100,
            nonce: 0
        })
    );
    assert_eq!(node.terminate().code(), Some(0));
}

#[test]
fn init_refuses_an_existing_data_dir_and_bad_funds() {
    let chain = init_chain(&[]);
    let again = std::process::Command::new(BIN)
        .arg("init")
        .arg("--data-dir")
        .arg(chain.data_dir())
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "init over an existing chain must fail"
    );
    let bad = std::process::Command::new(BIN)
        .args(["init", "--data-dir", "/nonexistent/x", "--fund", "nope"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ADDRESS=AMOUNT"));
}
