//! The node's ABCI calls without a CometBFT process: two nodes of one genesis given the
//! same decided blocks agree on every app hash; CheckTx refuses with stable codes; a
//! block finalized but never committed (a crash) is finalized again to the same hash;
//! a committed block survives a restart (what Info reports for CometBFT's replay); a
//! bond yields the validator update CometBFT applies, and unbonding everything removes
//! the validator; a bundle (one engine transaction carrying several) is admitted whole
//! or not at all and executed one transaction at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use carchain_core::protocol::Canonical;
use carchain_node::abci::bundle;
use carchain_node::node::{CometOptions, Finalized, Node, NodeConfig};
use carchain_node::service::{ErrorCode, NodeMode};
use common::*;

/// Per transaction of a finalized block: the code it was refused with, `None` if accepted.
fn refusal_codes(decided: &Finalized) -> Vec<Option<ErrorCode>> {
    decided
        .results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code))
        .collect()
}

fn config(dir: &Path) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        mode: NodeMode::Shared,
        block_time: Duration::from_millis(100),
        peers: Vec::new(),
        agent: "carchain-node".into(),
        max_mempool: 100,
    }
}

async fn start(dir: &Path) -> Arc<Node> {
    // Nothing reaches this RPC: the ABCI calls are made directly.
    let options = CometOptions {
        rpc_url: "http://127.0.0.1:9".into(),
    };
    Node::start_cometbft(config(dir), &options)
        .await
        .expect("start as a CometBFT application")
}

/// A second data directory of the same chain (genesis and header key copied).
fn twin(chain: &Chain) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["genesis.json", "validator.key"] {
        std::fs::copy(chain.data_dir().join(file), dir.path().join(file)).expect("copy");
    }
    dir
}

#[tokio::test]
async fn two_nodes_agree_refusals_have_codes_and_commits_survive_restarts() {
    let alice = Wallet::from_byte(0x31);
    let bob = Wallet::from_byte(0x32);
    let chain = init_chain(&[(&alice.address, 100_000)]);
    let other = twin(&chain);
    let first = start(&chain.data_dir()).await;
    let second = start(other.path()).await;

    let (height, genesis_root) = first.consensus_info();
    assert_eq!(height, 0);
    assert_eq!(second.consensus_info(), (0, genesis_root));
    assert_eq!(
        first.consensus_init_chain(CHAIN_ID, 1).ok(),
        Some(genesis_root)
    );
    assert_eq!(
        first
            .consensus_init_chain("another-chain", 1)
            .err()
            .map(|e| e.code),
        Some(ErrorCode::WrongChain)
    );

    // CheckTx: garbage and a bad nonce are refused with their codes; consecutive nonces
    // of one signer are admitted in order.
    let tx0 = alice.transfer(0, &bob.address, 1_000).to_canonical();
    let tx1 = alice.transfer(1, &bob.address, 2_000).to_canonical();
    assert_eq!(
        first
            .consensus_check_tx(b"not a transaction", false)
            .err()
            .map(|e| e.code),
        Some(ErrorCode::InvalidRequest)
    );
    assert!(first.consensus_check_tx(&tx0, false).is_ok());
    assert!(first.consensus_check_tx(&tx1, false).is_ok());
    let gap = alice.transfer(5, &bob.address, 1).to_canonical();
    assert_eq!(
        first.consensus_check_tx(&gap, false).err().map(|e| e.code),
        Some(ErrorCode::BadNonce)
    );
    // A forged signature is refused by CheckTx (its stateless checks run once, here).
    let mut forged = alice.transfer(2, &bob.address, 1).to_canonical();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(first.consensus_check_tx(&forged, false).is_err());
    assert!(!first.consensus_accepts_proposal(&[tx0.clone(), b"junk".to_vec()]));
    assert!(first.consensus_accepts_proposal(&[tx0.clone(), tx1.clone()]));

    // The same decided block gives the same app hash on both nodes; an undecodable and a
    // replayed transaction get their codes and change nothing.
    let block = vec![tx0.clone(), b"junk".to_vec(), tx1.clone(), tx0.clone()];
    let time = 1_900_000_000_000u64;
    let decided = first
        .consensus_finalize_block(1, time, &block)
        .expect("finalize");
    let codes = refusal_codes(&decided);
    assert_eq!(
        codes,
        [
            None,
            Some(ErrorCode::InvalidRequest),
            None,
            Some(ErrorCode::Replay)
        ]
    );
    assert_ne!(decided.app_hash, genesis_root);
    // A crash before Commit: the same height is finalized again, to the same hash.
    let again = first
        .consensus_finalize_block(1, time, &block)
        .expect("again");
    assert_eq!(again.app_hash, decided.app_hash);
    let on_second = second
        .consensus_finalize_block(1, time, &block)
        .expect("second");
    assert_eq!(on_second.app_hash, decided.app_hash);
    assert_eq!(
        first
            .consensus_finalize_block(3, time, &block)
            .err()
            .map(|e| e.code),
        Some(ErrorCode::Internal),
        "a height that does not follow is refused"
    );
    // The refused height dropped the finalized block: finalize it again, then commit.
    first
        .consensus_finalize_block(1, time, &block)
        .expect("finalize");
    assert_eq!(first.consensus_commit().ok(), Some(1));
    assert_eq!(second.consensus_commit().ok(), Some(1));
    assert!(first.consensus_commit().is_err(), "nothing left to commit");
    // The engine's recheck after the block skips the signature but not the state: the
    // committed transaction is refused as a replay.
    assert_eq!(
        first.consensus_check_tx(&tx1, true).err().map(|e| e.code),
        Some(ErrorCode::Replay)
    );
    assert_eq!(first.consensus_info(), (1, decided.app_hash));

    // An empty block is a ledger block too, with the state (and app hash) unchanged.
    let empty: Vec<Vec<u8>> = Vec::new();
    let next = first
        .consensus_finalize_block(2, time + 500, &empty)
        .expect("empty");
    assert_eq!(next.app_hash, decided.app_hash);
    assert_eq!(first.consensus_commit().ok(), Some(2));

    // Restarted, the node reports what it committed (CometBFT replays from there).
    first.shutdown().await;
    drop(first);
    let restarted = start(&chain.data_dir()).await;
    assert_eq!(restarted.consensus_info(), (2, decided.app_hash));
    assert_eq!(second.consensus_info(), (1, decided.app_hash));
    restarted.shutdown().await;
    second.shutdown().await;
}

/// The ed25519 consensus key of seed `seed`.
fn consensus_key(seed: u8) -> [u8; 32] {
    ed25519_consensus::SigningKey::from([seed; 32])
        .verification_key()
        .to_bytes()
}

#[tokio::test]
async fn a_bond_gives_a_validator_update_and_a_full_unbond_removes_it() {
    use carchain_core::protocol::{Bond, TxBody, Unbond, ValidatorStake};
    use carchain_node::abci::{parse_query_path, validator_update};
    use carchain_node::service::{LedgerService, StateQuery};
    use carchain_node::state::PowerChange;

    let alice = Wallet::from_byte(0x41);
    let chain = init_chain(&[(&alice.address, 100_000)]);
    let node = start(&chain.data_dir()).await;
    // A genesis without stake: the engine's own genesis validators stand.
    assert!(node.consensus_init_chain(CHAIN_ID, 1).is_ok());
    assert_eq!(node.consensus_genesis_validators().ok(), Some(Vec::new()));

    let validator = consensus_key(7);
    let bond = alice
        .sign(
            0,
            BASE_FEE,
            TxBody::Bond(Bond {
                validator,
                amount: 5_000,
            }),
        )
        .to_canonical();
    assert!(node.consensus_check_tx(&bond, false).is_ok());
    let zero = alice.sign(
        1,
        BASE_FEE,
        TxBody::Bond(Bond {
            validator,
            amount: 0,
        }),
    );
    assert_eq!(
        node.consensus_check_tx(&zero.to_canonical(), false)
            .err()
            .map(|e| e.code),
        Some(ErrorCode::StakeAmountZero)
    );
    let time = 1_900_000_000_000u64;
    let bonded = node
        .consensus_finalize_block(1, time, &[bond])
        .expect("finalize the bond");
    assert!(bonded.results.iter().all(Result::is_ok));
    let power_change = |power| PowerChange { validator, power };
    let added = power_change(5_000);
    assert_eq!(bonded.validator_updates, vec![added]);
    // What CometBFT receives: the ed25519 key and the power.
    let update = validator_update(&added).expect("a CometBFT update");
    assert_eq!(update.pub_key.to_bytes(), validator.to_vec());
    assert_eq!(update.power.value(), 5_000);
    assert_eq!(node.consensus_commit().ok(), Some(1));

    // The stake is in the proven state, through the ABCI Query path too.
    let query = parse_query_path(&format!("/stake/{}", hex::encode(validator))).expect("path");
    assert_eq!(query, StateQuery::ValidatorStake(validator));
    let answer = node.query_state(&query, None).expect("query");
    let value = answer.value.expect("a stake");
    assert_eq!(
        ValidatorStake::from_canonical(&value).ok(),
        Some(ValidatorStake {
            bonded: 5_000,
            power: 5_000
        })
    );

    // Unbonding everything removes the validator (power 0) in that very block.
    let unbond = alice
        .sign(
            1,
            BASE_FEE,
            TxBody::Unbond(Unbond {
                validator,
                amount: 5_000,
            }),
        )
        .to_canonical();
    let unbonded = node
        .consensus_finalize_block(2, time + 500, &[unbond])
        .expect("finalize the unbond");
    assert!(unbonded.results.iter().all(Result::is_ok));
    let removed = power_change(0);
    assert_eq!(unbonded.validator_updates, vec![removed]);
    assert_eq!(
        validator_update(&removed).map(|u| u.power.value()).ok(),
        Some(0)
    );
    assert_eq!(node.consensus_commit().ok(), Some(2));
    // A block that touches no stake updates no validator.
    let empty: Vec<Vec<u8>> = Vec::new();
    let quiet = node
        .consensus_finalize_block(3, time + 1_000, &empty)
        .expect("empty");
    assert!(quiet.validator_updates.is_empty());
    assert_eq!(node.consensus_commit().ok(), Some(3));
    node.shutdown().await;
}

#[tokio::test]
async fn a_bundle_is_checked_whole_and_executed_one_transaction_at_a_time() {
    let alice = Wallet::from_byte(0x41);
    let bob = Wallet::from_byte(0x42);
    let chain = init_chain(&[(&alice.address, 100_000)]);
    let node = start(&chain.data_dir()).await;
    node.consensus_init_chain(CHAIN_ID, 1).expect("init chain");
    let pay = |nonce: u64| alice.transfer(nonce, &bob.address, 10);
    let code =
        |result: Result<(), carchain_node::service::ServiceError>| result.err().map(|e| e.code);

    // A bundle whose third transaction skips a nonce is refused whole, and what its
    // first two reserved is given back: the same two in a good bundle pass after it.
    let gapped = bundle::encode(&[&pay(0), &pay(1), &pay(5)]);
    assert_eq!(
        code(node.consensus_check_tx(&gapped, false)),
        Some(ErrorCode::BadNonce)
    );
    let good = bundle::encode(&[&pay(0), &pay(1), &pay(2)]);
    assert_eq!(code(node.consensus_check_tx(&good, false)), None);
    assert_eq!(
        code(node.consensus_check_tx(&good[..good.len() - 1], false)),
        Some(ErrorCode::InvalidRequest),
        "a truncated bundle"
    );
    assert!(node.consensus_accepts_proposal(std::slice::from_ref(&good)));
    assert!(!node.consensus_accepts_proposal(&[good.clone(), good[..9].to_vec()]));

    // FinalizeBlock: the bundle, then a replay of its first transaction alone: one
    // result per engine transaction, each ledger transaction executed on its own.
    let block = vec![good.clone(), pay(0).to_canonical()];
    let decided = node
        .consensus_finalize_block(1, 1_900_000_000_000, &block)
        .expect("finalize");
    let codes = refusal_codes(&decided);
    assert_eq!(codes, [None, Some(ErrorCode::Replay)]);
    assert_eq!(node.consensus_commit().ok(), Some(1));

    // All three are on the ledger: nonce 3 is next, 2 is spent.
    assert_eq!(
        code(node.consensus_check_tx(&pay(2).to_canonical(), false)),
        Some(ErrorCode::Replay)
    );
    assert_eq!(
        code(node.consensus_check_tx(&pay(3).to_canonical(), false)),
        None
    );
    node.shutdown().await;
}
