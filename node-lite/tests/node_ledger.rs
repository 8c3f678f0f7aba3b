//! In-process tests of the running node through `LedgerService`: submission and
//! commits, proofs against signed headers, restart, KV puts and paid reads, private
//! mode, the bounded mempool and refusing a damaged ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::pairing::sign_pairing;
use carchain_core::protocol::signing::{public_key_of, sign_digest};
use carchain_core::protocol::token_issue_digest;
use carchain_core::protocol::{
    AccountState, Canonical, DeviceSetup, HashFunc, Network, RecordPut, SignedTransaction,
    Transfer, TxBody, decode_state_proof, state_key, verify_state_proof,
};
use carchain_core::tokens::{IssuerPublicKey, PendingToken, batch_digest};
use carchain_node::kv::PutOutcome;
use carchain_node::node::{FeeSchedule, InitOptions, Node, NodeConfig, NodeError};
use carchain_node::service::{
    CredentialHolder, CredentialRequest, ErrorCode, IssueRequest, LedgerService, NodeMode,
    RangeRequest, ServiceError, StateQuery, WriteCredential,
};
use carchain_testkit::{ChainKey, TestChain};

/// The chain and agent of the nodes these tests start.
struct NodeTestChain;

impl TestChain for NodeTestChain {
    const CHAIN_ID: &'static str = "node-test";
    const AGENT: &'static str = "agent-1";
}

const CHAIN: &str = NodeTestChain::CHAIN_ID;

fn chain_key(byte: u8) -> ChainKey<NodeTestChain> {
    ChainKey::from_byte(byte)
}

fn secret(byte: u8) -> SecretKey {
    chain_key(byte).secret
}

fn address(byte: u8) -> String {
    chain_key(byte).address
}

fn sign(byte: u8, nonce: u64, fee: u64, body: TxBody) -> SignedTransaction {
    chain_key(byte).sign(nonce, fee, body)
}

/// A token issue request for `pending` on `payment`, signed by key `byte`.
fn issue_request(
    byte: u8,
    payment: [u8; 32],
    issuer: &IssuerPublicKey,
    pending: &[PendingToken],
) -> IssueRequest {
    let blinded: Vec<Vec<u8>> = pending
        .iter()
        .map(|p| p.blinded_message().to_vec())
        .collect();
    let digest = token_issue_digest(&payment, &issuer.key_id().0, &batch_digest(&blinded));
    IssueRequest {
        payment,
        blinded,
        signature: sign_digest(&secret(byte), &digest)
            .serialize_compact()
            .to_vec(),
    }
}

fn transfer(to: &str, amount: u64) -> TxBody {
    TxBody::Transfer(Transfer {
        to: to.into(),
        amount,
    })
}

fn put_body(byte: u8, key: &[u8], value: &[u8]) -> TxBody {
    TxBody::RecordPut(RecordPut {
        address: address(byte),
        key: key.to_vec(),
        format: "trip-gps".into(),
        hash_func: HashFunc::Sha256,
        d_hash: [4; 32],
        c_hash: sha256(&[value]),
        size: value.len() as u64,
        wallet: false,
        stamp: None,
    })
}

fn options(balances: &[(u8, u64)], read_per_address: u64) -> InitOptions {
    InitOptions {
        chain_id: CHAIN.into(),
        network: Network::Regtest,
        total_supply: 1_000_000,
        initial_balances: balances.iter().map(|(b, a)| (address(*b), *a)).collect(),
        fees: FeeSchedule {
            read_per_address,
            ..FeeSchedule::default()
        },
    }
}

fn config(dir: &Path, mode: NodeMode) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        mode,
        block_time: Duration::from_millis(20),
        peers: vec!["http://peer.invalid".into()],
        agent: "agent-1".into(),
        max_mempool: 100,
    }
}

async fn started(dir: &Path, mode: NodeMode, balances: &[(u8, u64)], read_price: u64) -> Arc<Node> {
    Node::init(dir, &options(balances, read_price)).unwrap_or_else(|e| panic!("{e}"));
    Node::start(config(dir, mode))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn commit(node: &Node, tx: SignedTransaction) -> (u64, u32) {
    let receipt = node
        .submit(tx, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (
        receipt.height.unwrap_or_else(|| panic!("no height")),
        receipt.index.unwrap_or_else(|| panic!("no index")),
    )
}

/// The code `result` was refused with, `None` if it succeeded.
fn refusal<T>(result: Result<T, ServiceError>) -> Option<ErrorCode> {
    result.err().map(|e| e.code)
}

/// An account holding `balance` whose next nonce is `nonce`.
fn account(balance: u64, nonce: u64) -> AccountState {
    AccountState { balance, nonce }
}

fn proven_account(node: &Node, byte: u8) -> Option<AccountState> {
    let answer = node
        .query_state(&StateQuery::Account(address(byte)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let headers = node
        .headers_from(answer.height, 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let header = headers.first().unwrap_or_else(|| panic!("no header"));
    assert_eq!(header.verify_signature(), Ok(()));
    assert_eq!(header.header.state_root, answer.state_root);
    let proof = decode_state_proof(&answer.proof).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.key_hash, state_key::account(&address(byte)).0);
    verify_state_proof(
        &header.header.state_root,
        state_key::account(&address(byte)),
        answer.value.as_deref(),
        &proof,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    answer
        .value
        .map(|bytes| AccountState::from_canonical(&bytes).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn init_writes_genesis_and_a_private_key_and_refuses_a_used_directory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("node");
    let summary = Node::init(&data, &options(&[(1, 5)], 1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.genesis_path, data.join("genesis.json"));
    assert!(summary.operator_address.starts_with("bcrt1q"));
    assert_eq!(summary.validator_pubkey.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("validator.key")).map(|m| m.permissions().mode());
        assert_eq!(mode.ok().map(|m| m & 0o777), Some(0o600));
    }
    assert!(matches!(
        Node::init(&data, &options(&[], 1)),
        Err(NodeError::DataDirExists { .. })
    ));
    // 20% of 1,000,000 is the most that can be sold at genesis.
    let greedy = Node::init(&dir.path().join("other"), &options(&[(1, 200_001)], 1));
    assert!(matches!(greedy, Err(NodeError::Genesis(_))), "{greedy:?}");
}

#[tokio::test]
async fn submitted_transactions_commit_with_proofs_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let node = started(dir.path(), NodeMode::Shared, &[(1, 1_000)], 1).await;
    assert_eq!(node.status().map(|s| s.height), Ok(0));
    // An absent account is proven absent.
    assert_eq!(proven_account(&node, 2), None);

    let tx = sign(1, 0, 10, transfer(&address(2), 300));
    let id = tx.id();
    let (height, index) = commit(&node, tx).await;
    assert_eq!((height, index), (1, 0));
    assert_eq!(proven_account(&node, 1), Some(account(690, 1)));
    assert_eq!(proven_account(&node, 2), Some(account(300, 0)));

    let lookup = node
        .transaction(&id)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!((lookup.height, lookup.index), (1, 0));
    assert_eq!(
        lookup.proof.verify(&lookup.header.header.tx_root, &id),
        Ok(())
    );
    assert_eq!(node.transaction(&[0; 32]).map(|t| t.is_none()), Ok(true));

    // Key 1 pays 1 to key 2 at `nonce` with `fee`.
    let pay_bob = |nonce, fee| sign(1, nonce, fee, transfer(&address(2), 1));
    // A refusal comes back with its code; a waited-for failure never commits.
    let refused = node.submit(pay_bob(1, 9), true).await;
    assert_eq!(refusal(refused), Some(ErrorCode::FeeTooLow));
    let replay = node.submit(pay_bob(0, 10), false).await;
    assert_eq!(refusal(replay), Some(ErrorCode::Replay));

    // Consecutive nonces wait in the mempool together.
    let first = node.submit(pay_bob(1, 10), false).await;
    assert!(first.is_ok());
    let (height, _) = commit(&node, pay_bob(2, 10)).await;
    assert!(height >= 2);

    let status = node.status().unwrap_or_else(|e| panic!("{e}"));
    let root = node
        .query_state(&StateQuery::Account(address(1)), None)
        .map_or_else(|e| panic!("{e}"), |a| a.state_root);
    assert_eq!(status.chain_id, CHAIN);
    assert_eq!(status.network, "regtest");
    node.shutdown().await;
    node.shutdown().await;
    let after = node.submit(pay_bob(3, 10), true).await;
    assert_eq!(refusal(after), Some(ErrorCode::Unavailable));
    drop(node);

    let again = Node::start(config(dir.path(), NodeMode::Shared))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let restarted = again.status().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (restarted.height, &restarted.latest_hash),
        (status.height, &status.latest_hash)
    );
    let root_again = again
        .query_state(&StateQuery::Account(address(1)), None)
        .map(|a| a.state_root);
    assert_eq!(root_again, Ok(root));
    assert_eq!(proven_account(&again, 1), Some(account(668, 3)));
    // Proofs at an older height still verify against that height's header.
    let old = again
        .query_state(&StateQuery::Account(address(1)), Some(1))
        .unwrap_or_else(|e| panic!("{e}"));
    let header = again.headers_from(1, 1).unwrap_or_else(|e| panic!("{e}"));
    let proof = decode_state_proof(&old.proof).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        header.first().map(|h| verify_state_proof(
            &h.header.state_root,
            state_key::account(&address(1)),
            old.value.as_deref(),
            &proof
        )),
        Some(Ok(()))
    );
    let too_high = again.query_state(&StateQuery::Account(address(1)), Some(99));
    assert_eq!(refusal(too_high), Some(ErrorCode::NotFound));
    assert_eq!(
        refusal(again.headers_from(0, 0)),
        Some(ErrorCode::InvalidRequest)
    );
    assert!(
        commit(&again, sign(1, 3, 10, transfer(&address(2), 1)))
            .await
            .0
            > status.height
    );
    again.shutdown().await;
}

#[tokio::test]
async fn values_are_stored_only_under_committed_matching_registrations_and_reads_are_paid() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let node = started(dir.path(), NodeMode::Shared, &[(1, 1_000)], 2).await;
    let value = b"sealed trip envelope".to_vec();
    let put = |key: &[u8], value: &[u8]| node.put_value(&address(6), key, value, None);
    assert_eq!(
        put(b"k1", &value).map_err(|e| e.code),
        Err(ErrorCode::NotRegistered)
    );
    // A new car's put is paid by the phase-1 reserve.
    commit(
        &node,
        sign(6, 0, 10 + value.len() as u64, put_body(6, b"k1", &value)),
    )
    .await;
    assert_eq!(
        put(b"k1", b"other bytes").map_err(|e| e.code),
        Err(ErrorCode::ChashMismatch)
    );
    assert_eq!(put(b"k1", &value), Ok(PutOutcome::Stored));
    assert_eq!(put(b"k1", &value), Ok(PutOutcome::AlreadyStored));

    // Reads in shared mode need a token: a transfer of 5 to the operator at 2 per read
    // buys 2 tokens, blind-signed once for the payer's request.
    let operator = node
        .status()
        .map(|s| s.operator_address)
        .unwrap_or_default();
    let get = |token: Option<&[u8]>| node.get_value(&address(6), b"k1", token);
    assert_eq!(
        get(None).map_err(|e| e.code),
        Err(ErrorCode::PaymentRequired)
    );
    let key = node.token_key().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(key.price, 2);
    let issuer = IssuerPublicKey::from_der(&key.public_key).unwrap_or_else(|e| panic!("{e}"));
    let payment = sign(1, 0, 10, transfer(&operator, 5));
    let payment_id = payment.id();
    let pending = issuer.blind(2).unwrap_or_else(|e| panic!("{e}"));
    let ask = issue_request(1, payment_id, &issuer, &pending);
    // Not committed yet: no payment.
    assert_eq!(
        node.issue_tokens(&ask).map_err(|e| e.code),
        Err(ErrorCode::PaymentRequired)
    );
    commit(&node, payment).await;
    let signed = node.issue_tokens(&ask).unwrap_or_else(|e| panic!("{e}"));
    let tokens: Vec<Vec<u8>> = pending
        .iter()
        .zip(&signed)
        .map(|(p, s)| {
            issuer
                .finalize(p, s)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes()
        })
        .collect();
    assert_eq!(get(Some(&tokens[0])), Ok(Some(value.clone())));
    let range = RangeRequest {
        address: address(6),
        start: b"k".to_vec(),
        end: b"l".to_vec(),
        limit: 10,
        after: None,
    };
    // A refused read (a bad range) spends nothing.
    let bad_range = RangeRequest {
        limit: 0,
        ..range.clone()
    };
    assert_eq!(
        node.range_values(&bad_range, Some(&tokens[1]))
            .map_err(|e| e.code),
        Err(ErrorCode::InvalidRequest)
    );
    let page = node
        .range_values(&range, Some(&tokens[1]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.items, vec![(b"k1".to_vec(), value.clone())]);
    for token in &tokens {
        assert_eq!(
            get(Some(token)).map_err(|e| e.code),
            Err(ErrorCode::TokenSpent)
        );
    }
    // A transfer to anyone else buys nothing, nor does an unknown id.
    let elsewhere = sign(1, 1, 10, transfer(&address(2), 50));
    let elsewhere_id = elsewhere.id();
    commit(&node, elsewhere).await;
    for payment in [elsewhere_id, [9; 32]] {
        let pending = issuer.blind(1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            node.issue_tokens(&issue_request(1, payment, &issuer, &pending))
                .map_err(|e| e.code),
            Err(ErrorCode::PaymentRequired)
        );
    }
    assert_eq!(
        get(Some(&[9; 40])).map_err(|e| e.code),
        Err(ErrorCode::TokenMalformed)
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_private_node_stores_only_its_own_devices_data_and_reads_free() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let node = started(dir.path(), NodeMode::Private, &[(1, 1_000)], 1).await;
    let owner = address(1);
    let pair = |vid: &str, agent: &str| {
        let commitment = [3; 32];
        TxBody::DeviceSetup(DeviceSetup {
            vid: vid.into(),
            device_pubkey: public_key_of(&secret(40)),
            owner_address: owner.clone(),
            pool_commitment: commitment,
            agent: agent.into(),
            device_signature: sign_pairing(&secret(40), vid, &owner, &commitment),
        })
    };
    commit(&node, sign(1, 0, 10, pair("VID-1", "agent-1"))).await;
    commit(&node, sign(1, 1, 10, pair("VID-2", "agent-other"))).await;
    let value = b"ciphertext".to_vec();
    commit(
        &node,
        sign(6, 0, 10 + value.len() as u64, put_body(6, b"k", &value)),
    )
    .await;
    // Credentials: issued to a device paired with this agent, signed by its key.
    let issuer = {
        let info = node.credential_key().unwrap_or_else(|e| panic!("{e}"));
        let der = hex::decode(info.public_key).unwrap_or_else(|e| panic!("{e}"));
        carchain_core::tokens::IssuerPublicKey::from_der(&der).unwrap_or_else(|e| panic!("{e}"))
    };
    let ask = |vid: &str, key: u8| {
        let pending = issuer.blind(1).unwrap_or_else(|e| panic!("{e}"));
        let blinded = vec![pending[0].blinded_message().to_vec()];
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let digest = carchain_core::protocol::credential_request_digest(
            "agent-1",
            "device",
            vid,
            &[],
            time,
            &blinded,
        );
        let request = CredentialRequest {
            holder: CredentialHolder::Device { vid: vid.into() },
            time,
            blinded,
            signature: sign_digest(&secret(key), &digest).serialize_compact(),
        };
        node.issue_credentials(&request).map(|signed| {
            WriteCredential(
                issuer
                    .finalize(&pending[0], &signed[0])
                    .unwrap_or_else(|e| panic!("{e}"))
                    .to_bytes(),
            )
        })
    };
    let refused = |vid: &str, key: u8| ask(vid, key).err().map(|e| e.code);
    assert_eq!(
        refused("VID-2", 40),
        Some(ErrorCode::ModeRefused),
        "another agent's"
    );
    assert_eq!(
        refused("VID-9", 40),
        Some(ErrorCode::ModeRefused),
        "unknown"
    );
    assert_eq!(
        refused("VID-1", 41),
        Some(ErrorCode::BadSignature),
        "not its key"
    );
    let credential = ask("VID-1", 40).unwrap_or_else(|e| panic!("{e}"));
    let put = |credential: Option<&WriteCredential>| {
        node.put_value(&address(6), b"k", &value, credential)
            .map_err(|e| e.code)
    };
    assert_eq!(put(None), Err(ErrorCode::CredentialMissing));
    assert_eq!(
        put(Some(&WriteCredential(vec![1, 2, 3]))),
        Err(ErrorCode::CredentialMalformed)
    );
    assert_eq!(put(Some(&credential)), Ok(PutOutcome::Stored));
    assert_eq!(
        put(Some(&credential)),
        Ok(PutOutcome::AlreadyStored),
        "a retry"
    );
    assert_eq!(
        node.get_value(&address(6), b"k", None),
        Ok(Some(value.clone()))
    );
    let device = node
        .query_state(&StateQuery::Device("VID-1".into()), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        device.value_json.as_ref().and_then(|j| j["agent"].as_str()),
        Some("agent-1")
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_full_mempool_answers_unavailable() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    Node::init(dir.path(), &options(&[(1, 1_000)], 1)).unwrap_or_else(|e| panic!("{e}"));
    let node = Node::start(NodeConfig {
        block_time: Duration::from_secs(3600),
        max_mempool: 1,
        ..config(dir.path(), NodeMode::Shared)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // The producer's first tick fires at once; let it pass on the empty mempool.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        node.submit(sign(1, 0, 10, transfer(&address(2), 1)), false)
            .await
            .is_ok()
    );
    let full = node
        .submit(sign(1, 1, 10, transfer(&address(2), 1)), false)
        .await;
    assert_eq!(refusal(full), Some(ErrorCode::Unavailable));
    assert_eq!(node.status().map(|s| s.mempool), Ok(1));
    node.shutdown().await;
    assert_eq!(node.status().map(|s| s.mempool), Ok(0));
}

#[tokio::test]
async fn a_ledger_whose_state_root_disagrees_with_its_header_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let node = started(dir.path(), NodeMode::Shared, &[(1, 1_000)], 1).await;
    commit(&node, sign(1, 0, 10, transfer(&address(2), 7))).await;
    node.shutdown().await;
    drop(node);
    // Rewrite the latest header's state root as if the file had been edited.
    let ledger = rusqlite::Connection::open(dir.path().join("ledger.sqlite"))
        .unwrap_or_else(|e| panic!("{e}"));
    let header_bytes: Vec<u8> = ledger
        .query_row("SELECT header FROM blocks WHERE height = 1", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut header = carchain_core::protocol::BlockHeader::from_canonical(&header_bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    header.state_root = [0xAB; 32];
    ledger
        .execute(
            "UPDATE blocks SET header = ?1 WHERE height = 1",
            [header.to_canonical()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    drop(ledger);
    let refused = Node::start(config(dir.path(), NodeMode::Shared)).await;
    assert!(
        matches!(refused, Err(NodeError::StateRootMismatch { height: 1, .. })),
        "{refused:?}"
    );
}
