//! Rule tests of the state machine: every acceptance and refusal code, fee payment and
//! reimbursement, and the supply invariant (balances, reserves, escrows and stake) over
//! random transaction sequences.

use std::sync::Arc;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::pairing::sign_pairing;
use carchain_core::protocol::signing::{p2wpkh_address, public_key_of, secret_key_from_bytes};
use carchain_core::protocol::{
    AccountState, DeviceSetup, DeviceState, DeviceStatus, EscrowDeliver, EscrowOpen, EscrowRef,
    HashFunc, Network, ProviderRegister, ProviderState, RecordPut, RecordRegistration, Reset,
    SetDup, SignedHeader, SignedTransaction, Transaction, Transfer, TxBody, state_key,
};
use proptest::prelude::*;

use super::*;
use crate::chain::{BlockResult, ValidatorKey, commit_genesis, produce_block};
use crate::genesis::Genesis;
use crate::service::ErrorCode;

mod grant_rules;
mod pipeline;
mod stake_rules;
mod stamp_rules;

const CHAIN: &str = "carchain-test";

pub(crate) fn secret(byte: u8) -> SecretKey {
    secret_key_from_bytes(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn address(byte: u8) -> String {
    p2wpkh_address(&public_key_of(&secret(byte)), Network::Regtest)
}

pub(crate) fn sign(byte: u8, nonce: u64, fee: u64, body: TxBody) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN.into(),
        network: Network::Regtest,
        signer: public_key_of(&secret(byte)),
        nonce,
        fee,
        body,
    }
    .sign(&secret(byte))
    .unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn transfer(to: u8, amount: u64) -> TxBody {
    TxBody::Transfer(Transfer {
        to: address(to),
        amount,
    })
}

pub(crate) fn put(address_byte: u8, key: &[u8], size: u64) -> TxBody {
    TxBody::RecordPut(RecordPut {
        address: address(address_byte),
        key: key.to_vec(),
        format: "trip-gps".into(),
        hash_func: HashFunc::Sha256,
        d_hash: [4; 32],
        c_hash: [5; 32],
        size,
        wallet: false,
        stamp: None,
    })
}

/// A device `device_byte` paired to owner `owner_byte`.
pub(crate) fn setup(owner_byte: u8, device_byte: u8, vid: &str) -> TxBody {
    let owner = address(owner_byte);
    let commitment = [9; 32];
    TxBody::DeviceSetup(DeviceSetup {
        vid: vid.into(),
        device_pubkey: public_key_of(&secret(device_byte)),
        owner_address: owner.clone(),
        pool_commitment: commitment,
        agent: "agent-1".into(),
        device_signature: sign_pairing(&secret(device_byte), vid, &owner, &commitment),
    })
}

pub(crate) const VALIDATOR: [u8; 32] = [0x77; 32];

pub(crate) fn genesis_with(total_supply: u64, balances: &[(u8, u64)]) -> Genesis {
    let key = ValidatorKey::from_bytes(&VALIDATOR).unwrap_or_else(|e| panic!("{e}"));
    Genesis {
        chain_id: CHAIN.into(),
        network: Network::Regtest,
        total_supply,
        initial_balances: balances.iter().map(|(b, a)| (address(*b), *a)).collect(),
        fees: FeeSchedule::default(),
        validator_pubkey: hex::encode(key.public_key().serialize()),
        operator_address: p2wpkh_address(&key.public_key(), Network::Regtest),
        genesis_time: 1_700_000_000_000,
        stamps: None,
        phase1_reserve: None,
        stake: Vec::new(),
        power_unit: None,
        unbonding_blocks: None,
    }
}

struct Chain {
    _dir: tempfile::TempDir,
    db: Arc<LedgerDb>,
    app: App,
    key: ValidatorKey,
    prev: SignedHeader,
    genesis: Genesis,
}

impl Chain {
    fn new(total_supply: u64, balances: &[(u8, u64)]) -> Self {
        Self::with_genesis(genesis_with(total_supply, balances))
    }

    fn with_genesis(genesis: Genesis) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Arc::new(
            LedgerDb::open(dir.path().join("ledger.sqlite")).unwrap_or_else(|e| panic!("{e}")),
        );
        let mut app = App::new(db.clone(), genesis.params()).unwrap_or_else(|e| panic!("{e}"));
        let key = ValidatorKey::from_bytes(&VALIDATOR).unwrap_or_else(|e| panic!("{e}"));
        let prev = commit_genesis(&mut app, &db, &key, &genesis).unwrap_or_else(|e| panic!("{e}"));
        Self {
            _dir: dir,
            db,
            app,
            key,
            prev,
            genesis,
        }
    }

    fn block(&mut self, txs: &[SignedTransaction]) -> BlockResult {
        let time = self.prev.header.time + 1000;
        let result = produce_block(&mut self.app, &self.db, &self.key, &self.prev, txs, time)
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(header) = &result.header {
            self.prev = header.clone();
        }
        result
    }

    /// Delivers one transaction in its own block; its refusal code, if refused.
    fn run(&mut self, tx: SignedTransaction) -> Result<TxOutcome, ErrorCode> {
        let mut result = self.block(&[tx]);
        match result.outcomes.pop() {
            Some(Ok((_, outcome))) => Ok(outcome),
            Some(Err(err)) => Err(err.code()),
            None => panic!("no outcome"),
        }
    }

    fn get<T: carchain_core::protocol::Canonical>(&self, key: jmt::KeyHash) -> Option<T> {
        let committed = Committed {
            db: &self.db,
            version: self.app.committed_height(),
        };
        Layer::new(&committed)
            .get(key)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn account(&self, byte: u8) -> AccountState {
        self.get(state_key::account(&address(byte)))
            .unwrap_or_default()
    }

    fn operator(&self) -> AccountState {
        self.get(state_key::account(&self.genesis.operator_address))
            .unwrap_or_default()
    }

    fn reserve(&self, phase: Phase) -> u64 {
        self.get(phase.key())
            .unwrap_or_else(|| panic!("no reserve"))
    }
}

#[test]
fn genesis_holds_reserves_and_initial_balances() {
    let chain = Chain::new(1_000_000, &[(1, 50_000), (2, 150_000)]);
    assert_eq!(chain.app.committed_height(), Some(0));
    assert_eq!(chain.reserve(Phase::One), 500_000);
    assert_eq!(chain.reserve(Phase::Two), 300_000);
    assert_eq!(chain.reserve(Phase::Three), 0);
    assert_eq!(
        chain.account(1),
        AccountState {
            balance: 50_000,
            nonce: 0
        }
    );
    assert_eq!(chain.account(2).balance, 150_000);
}

#[test]
fn genesis_balances_beyond_phase_three_are_refused() {
    let genesis = genesis_with(1_000, &[(1, 150), (2, 51)]);
    assert!(matches!(
        genesis.validate(),
        Err(crate::genesis::GenesisError::ExceedsPhase3 {
            requested: 201,
            available: 200
        })
    ));
}

#[test]
fn transfer_moves_tokens_and_pays_the_operator() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let outcome = chain.run(sign(1, 0, 10, transfer(2, 300)));
    assert_eq!(outcome.map(|o| o.fee_from_balance), Ok(10));
    assert_eq!(
        chain.account(1),
        AccountState {
            balance: 690,
            nonce: 1
        }
    );
    assert_eq!(
        chain.account(2),
        AccountState {
            balance: 300,
            nonce: 0
        }
    );
    assert_eq!(chain.operator().balance, 10);
    // A transfer to oneself only costs the fee.
    assert!(chain.run(sign(1, 1, 10, transfer(1, 100))).is_ok());
    assert_eq!(
        chain.account(1),
        AccountState {
            balance: 680,
            nonce: 2
        }
    );
}

#[test]
fn transfer_beyond_balance_is_refused() {
    let mut chain = Chain::new(1_000_000, &[(1, 100)]);
    assert_eq!(
        chain.run(sign(1, 0, 10, transfer(2, 91))).err(),
        Some(ErrorCode::InsufficientBalance)
    );
    assert!(chain.run(sign(1, 0, 10, transfer(2, 90))).is_ok());
    assert_eq!(chain.account(1).balance, 0);
}

#[test]
fn wrong_chain_or_network_is_refused() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let mut other_chain = sign(1, 0, 10, transfer(2, 1)).tx;
    other_chain.chain_id = "other".into();
    let other_chain = other_chain
        .sign(&secret(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        chain.app.check_tx(&other_chain).map_err(|e| e.code()),
        Err(ErrorCode::WrongChain)
    );
    let mut other_net = sign(1, 0, 10, transfer(2, 1)).tx;
    other_net.network = Network::Testnet;
    let other_net = other_net.sign(&secret(1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        chain.app.check_tx(&other_net).map_err(|e| e.code()),
        Err(ErrorCode::WrongChain)
    );
}

#[test]
fn tampered_transaction_has_a_bad_signature() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let mut tx = sign(1, 0, 10, transfer(2, 1));
    tx.tx.fee = 11;
    assert_eq!(
        chain.app.check_tx(&tx).map_err(|e| e.code()),
        Err(ErrorCode::BadSignature)
    );
}

#[test]
fn a_tampered_transaction_delivered_without_admission_is_still_verified() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let mut tx = sign(1, 0, 10, transfer(2, 1));
    tx.tx.fee = 11;
    assert_eq!(chain.run(tx).err(), Some(ErrorCode::BadSignature));
}

#[test]
fn prechecked_admission_is_remembered_until_delivery() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let tx = sign(1, 0, 10, transfer(2, 5));
    let prechecked =
        Prechecked::check(&chain.genesis.params(), tx.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prechecked.id(), tx.id());
    assert_eq!(chain.app.check_prechecked(&prechecked), Ok(()));
    assert_eq!(chain.app.verified_len(), 1);
    let result = chain.block(&[tx]);
    assert!(matches!(result.outcomes.as_slice(), [Ok((0, _))]));
    assert_eq!(chain.app.verified_len(), 0);
    assert_eq!(
        chain.account(2).balance,
        5,
        "the delivered transfer moved the amount"
    );
}

#[test]
fn prechecks_refuse_bad_signatures_and_other_chains() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    let mut tampered = sign(1, 0, 10, transfer(2, 1));
    tampered.tx.fee = 11;
    assert_eq!(
        Prechecked::check(&chain.genesis.params(), tampered)
            .map_err(|e| e.code())
            .err(),
        Some(ErrorCode::BadSignature)
    );
    let mut other = chain.genesis.params();
    other.chain_id = "other".into();
    let mut foreign = sign(1, 0, 10, transfer(2, 1)).tx;
    foreign.chain_id = "other".into();
    let foreign = foreign.sign(&secret(1)).unwrap_or_else(|e| panic!("{e}"));
    let checked_elsewhere = Prechecked::check(&other, foreign).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        chain
            .app
            .check_prechecked(&checked_elsewhere)
            .map_err(|e| e.code()),
        Err(ErrorCode::WrongChain)
    );
    assert_eq!(chain.app.verified_len(), 0);
}

#[test]
fn nonces_replay_and_gaps_are_refused_and_pending_nonces_chain() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000)]);
    assert!(chain.run(sign(1, 0, 10, transfer(2, 1))).is_ok());
    assert_eq!(
        chain.run(sign(1, 0, 10, transfer(2, 2))).err(),
        Some(ErrorCode::Replay)
    );
    assert_eq!(
        chain.run(sign(1, 2, 10, transfer(2, 1))).err(),
        Some(ErrorCode::BadNonce)
    );
    // The mempool admits consecutive nonces of one signer, not repeats or gaps.
    assert_eq!(chain.app.check_tx(&sign(1, 1, 10, transfer(2, 1))), Ok(()));
    assert_eq!(chain.app.check_tx(&sign(1, 2, 10, transfer(2, 1))), Ok(()));
    assert_eq!(
        chain
            .app
            .check_tx(&sign(1, 2, 10, transfer(2, 7)))
            .map_err(|e| e.code()),
        Err(ErrorCode::Replay)
    );
    assert_eq!(
        chain
            .app
            .check_tx(&sign(1, 4, 10, transfer(2, 1)))
            .map_err(|e| e.code()),
        Err(ErrorCode::BadNonce)
    );
    let result = chain.block(&[
        sign(1, 1, 10, transfer(2, 1)),
        sign(1, 2, 10, transfer(2, 1)),
    ]);
    assert!(result.outcomes.iter().all(Result::is_ok));
    assert_eq!(chain.account(1).nonce, 3);
}

#[test]
fn fee_below_the_schedule_is_refused() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000), (6, 1_000)]);
    assert_eq!(
        chain.run(sign(1, 0, 9, transfer(2, 1))).err(),
        Some(ErrorCode::FeeTooLow)
    );
    // A put pays base + per byte: 10 + 100.
    assert_eq!(
        chain.run(sign(6, 0, 109, put(6, b"k", 100))).err(),
        Some(ErrorCode::FeeTooLow)
    );
    assert!(chain.run(sign(6, 0, 110, put(6, b"k", 100))).is_ok());
}

#[test]
fn put_fees_are_reimbursed_by_phase_one_until_it_runs_out() {
    // Supply 100: phase 1 holds 50.
    let mut chain = Chain::new(100, &[]);
    let outcome = chain.run(sign(6, 0, 30, put(6, b"a", 20)));
    assert_eq!(
        outcome.map(|o| (o.fee_reimbursed, o.fee_from_balance)),
        Ok((30, 0))
    );
    assert_eq!(chain.reserve(Phase::One), 20);
    assert_eq!(chain.operator().balance, 30);
    // 20 left in the reserve, 10 would come from an empty balance.
    assert_eq!(
        chain.run(sign(6, 1, 30, put(6, b"b", 20))).err(),
        Some(ErrorCode::InsufficientBalance)
    );
    assert_eq!(chain.reserve(Phase::One), 20);
    assert!(chain.run(sign(6, 1, 20, put(6, b"b", 10))).is_ok());
    assert_eq!(chain.reserve(Phase::One), 0);
    assert_eq!(
        chain.run(sign(6, 2, 11, put(6, b"c", 1))).err(),
        Some(ErrorCode::InsufficientBalance)
    );
}

#[test]
fn record_put_registers_once_under_its_own_address() {
    let mut chain = Chain::new(1_000_000, &[]);
    let tx = sign(6, 0, 13, put(6, b"key-1", 3));
    let id = tx.id();
    assert!(chain.run(tx).is_ok());
    let registration: Option<RecordRegistration> =
        chain.get(state_key::record(&address(6), b"key-1"));
    let registration = registration.unwrap_or_else(|| panic!("not registered"));
    assert_eq!(
        (
            registration.put.c_hash,
            registration.put.size,
            registration.tx_id
        ),
        ([5; 32], 3, id)
    );
    assert_eq!(registration.height, 1);
    assert_eq!(
        chain.run(sign(6, 1, 13, put(6, b"key-1", 3))).err(),
        Some(ErrorCode::DuplicateRecord)
    );
    assert_eq!(
        chain.run(sign(7, 0, 13, put(6, b"key-2", 3))).err(),
        Some(ErrorCode::NotAddressOwner)
    );
}

#[test]
fn record_formats_are_builtin_or_valid_custom_names() {
    let mut chain = Chain::new(1_000_000, &[]);
    let with_format = |nonce, key: &[u8], format: &str| {
        let TxBody::RecordPut(mut body) = put(6, key, 1) else {
            panic!("put body")
        };
        body.format = format.into();
        sign(6, nonce, 11, TxBody::RecordPut(body))
    };
    assert!(chain.run(with_format(0, b"a", "VIN_CODE")).is_ok());
    assert!(chain.run(with_format(1, b"b", "fuel.v1")).is_ok());
    for bad in ["", "bad name", "Trip-GPS", &"x".repeat(65)] {
        assert_eq!(
            chain.run(with_format(2, b"c", bad)).err(),
            Some(ErrorCode::UnknownFormat),
            "{bad:?}"
        );
    }
}

#[test]
fn device_setup_pairs_once_and_needs_the_device_signature() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000), (2, 1_000)]);
    assert!(chain.run(sign(1, 0, 10, setup(1, 40, "VID-1"))).is_ok());
    let device: Option<DeviceState> = chain.get(state_key::device("VID-1"));
    let device = device.unwrap_or_else(|| panic!("not paired"));
    assert_eq!(
        (device.owner_address.as_str(), device.status),
        (address(1).as_str(), DeviceStatus::Active)
    );
    assert_eq!(device.device_pubkey, public_key_of(&secret(40)));
    assert_eq!(
        chain.run(sign(2, 0, 10, setup(2, 40, "VID-1"))).err(),
        Some(ErrorCode::DeviceExists)
    );
    // Signed by someone other than the owner it names.
    assert_eq!(
        chain.run(sign(2, 0, 10, setup(1, 41, "VID-2"))).err(),
        Some(ErrorCode::NotOwner)
    );
    // A pairing signature by another device key.
    let TxBody::DeviceSetup(mut forged) = setup(2, 41, "VID-2") else {
        panic!("setup body")
    };
    forged.device_pubkey = public_key_of(&secret(42));
    assert_eq!(
        chain.run(sign(2, 0, 10, TxBody::DeviceSetup(forged))).err(),
        Some(ErrorCode::BadSignature)
    );
}

fn set_dup(vid: &str, generation: u32) -> TxBody {
    TxBody::SetDup(SetDup {
        vid: vid.into(),
        generation,
        pool_commitment: [generation as u8; 32],
    })
}

fn reset(vid: &str, new_owner: u8) -> TxBody {
    TxBody::Reset(Reset {
        vid: vid.into(),
        new_owner_address: address(new_owner),
        new_device_pubkey: Some(public_key_of(&secret(43))),
        new_pool_commitment: [8; 32],
        agent: "agent-2".into(),
    })
}

#[test]
fn set_dup_needs_the_owner_an_existing_device_and_a_higher_generation() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000), (2, 1_000)]);
    assert!(chain.run(sign(1, 0, 10, setup(1, 40, "VID-1"))).is_ok());
    assert!(chain.run(sign(1, 1, 10, set_dup("VID-1", 3))).is_ok());
    let device: Option<DeviceState> = chain.get(state_key::device("VID-1"));
    assert_eq!(
        device.map(|d| (d.generation, d.pool_commitment)),
        Some((3, [3; 32]))
    );
    assert_eq!(
        chain.run(sign(1, 2, 10, set_dup("VID-1", 3))).err(),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        chain.run(sign(2, 0, 10, set_dup("VID-1", 4))).err(),
        Some(ErrorCode::NotOwner)
    );
    assert_eq!(
        chain.run(sign(1, 2, 10, set_dup("VID-9", 1))).err(),
        Some(ErrorCode::UnknownDevice)
    );
}

#[test]
fn reset_is_signed_by_the_current_owner_and_transfers_the_device() {
    let mut chain = Chain::new(1_000_000, &[(1, 1_000), (2, 1_000)]);
    assert!(chain.run(sign(1, 0, 10, setup(1, 40, "VID-1"))).is_ok());
    // The new owner cannot take the device by themself.
    assert_eq!(
        chain.run(sign(2, 0, 10, reset("VID-1", 2))).err(),
        Some(ErrorCode::NotOwner)
    );
    assert_eq!(
        chain.run(sign(1, 1, 10, reset("VID-9", 2))).err(),
        Some(ErrorCode::UnknownDevice)
    );
    assert!(chain.run(sign(1, 1, 10, reset("VID-1", 2))).is_ok());
    let device: Option<DeviceState> = chain.get(state_key::device("VID-1"));
    let device = device.unwrap_or_else(|| panic!("gone"));
    assert_eq!(device.owner_address, address(2));
    assert_eq!(device.device_pubkey, public_key_of(&secret(43)));
    assert_eq!(
        (device.pool_commitment, device.agent.as_str()),
        ([8; 32], "agent-2")
    );
    assert_eq!(device.status, DeviceStatus::Active);
    // The previous owner no longer controls it; the new one does.
    assert_eq!(
        chain.run(sign(1, 2, 10, set_dup("VID-1", 1))).err(),
        Some(ErrorCode::NotOwner)
    );
    assert!(chain.run(sign(2, 0, 10, set_dup("VID-1", 1))).is_ok());
}

#[test]
fn provider_registration_is_stored() {
    let mut chain = Chain::new(1_000_000, &[(3, 1_000)]);
    let body = TxBody::ProviderRegister(ProviderRegister {
        name: "Insurer".into(),
        description: "pay as you drive".into(),
        rsa_public_der: vec![0x30, 0x82],
        code_hashes: vec![[7; 32]],
    });
    assert!(chain.run(sign(3, 0, 10, body)).is_ok());
    let provider: Option<ProviderState> = chain.get(state_key::provider(&address(3)));
    assert_eq!(
        provider.map(|p| (p.name, p.code_hashes, p.height)),
        Some(("Insurer".to_string(), vec![[7; 32]], 1))
    );
    let nameless = TxBody::ProviderRegister(ProviderRegister {
        name: String::new(),
        description: String::new(),
        rsa_public_der: vec![1],
        code_hashes: vec![],
    });
    assert_eq!(
        chain.run(sign(3, 1, 10, nameless)).err(),
        Some(ErrorCode::InvalidRequest)
    );
}

#[test]
fn a_transaction_failing_at_delivery_is_dropped_and_the_rest_commit() {
    let mut chain = Chain::new(1_000_000, &[(1, 100)]);
    let result = chain.block(&[
        sign(1, 0, 10, transfer(2, 50)),
        sign(1, 1, 10, transfer(2, 50)), // only 40 left
        sign(6, 0, 11, put(6, b"k", 1)),
    ]);
    let codes: Vec<_> = result
        .outcomes
        .iter()
        .map(|o| o.as_ref().map(|(index, _)| *index).map_err(TxError::code))
        .collect();
    assert_eq!(
        codes,
        vec![Ok(0), Err(ErrorCode::InsufficientBalance), Ok(1)]
    );
    assert_eq!(result.header.map(|h| h.header.tx_count), Some(2));
    assert_eq!(
        chain.account(1),
        AccountState {
            balance: 40,
            nonce: 1
        }
    );
}

#[test]
fn a_block_of_refused_transactions_is_not_made() {
    let mut chain = Chain::new(1_000_000, &[]);
    let result = chain.block(&[sign(1, 0, 10, transfer(2, 5))]);
    assert!(result.header.is_none());
    assert_eq!(chain.db.latest_height().ok().flatten(), Some(0));
}

#[derive(Debug, Clone)]
enum Step {
    Transfer {
        from: u8,
        to: u8,
        amount: u64,
        fee: u64,
    },
    Put {
        from: u8,
        size: u64,
        fee: u64,
    },
    /// `from` locks `amount` for seller `to`; with `settle`, `to` delivers and `from`
    /// accepts (funds to the seller), else the escrow stays open and locked.
    Escrow {
        from: u8,
        to: u8,
        amount: u64,
        settle: bool,
    },
    /// `from` bonds `amount` to validator `validator`.
    Bond {
        from: u8,
        validator: u8,
        amount: u64,
    },
    /// `from` unbonds `amount` from validator `validator`.
    Unbond {
        from: u8,
        validator: u8,
        amount: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u8..5, 1u8..6, 0u64..400, 0u64..30).prop_map(|(from, to, amount, fee)| Step::Transfer {
            from,
            to,
            amount,
            fee
        }),
        (1u8..6, 0u64..40, 0u64..80).prop_map(|(from, size, fee)| Step::Put { from, size, fee }),
        (1u8..5, 1u8..6, 0u64..300, any::<bool>()).prop_map(|(from, to, amount, settle)| {
            Step::Escrow {
                from,
                to,
                amount,
                settle,
            }
        }),
        (1u8..5, 1u8..4, 0u64..200).prop_map(|(from, validator, amount)| Step::Bond {
            from,
            validator,
            amount
        }),
        (1u8..5, 1u8..4, 0u64..150).prop_map(|(from, validator, amount)| Step::Unbond {
            from,
            validator,
            amount
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn balances_plus_reserves_plus_escrows_plus_stake_always_equal_the_supply(
        blocks in proptest::collection::vec(proptest::collection::vec(step(), 1..8), 1..7)
    ) {
        let total = 2_000;
        let mut genesis = genesis_with(total, &[(1, 100), (2, 100), (3, 100)]);
        genesis.power_unit = Some(7);
        genesis.unbonding_blocks = Some(2);
        let mut chain = Chain::with_genesis(genesis);
        let mut count = 0u32;
        for steps in blocks {
            // Nonces as the ledger has them, advanced per transaction built.
            let mut nonces: Vec<u64> = (0u8..6)
                .map(|b| if b == 0 { 0 } else { chain.account(b).nonce })
                .collect();
            let mut next = |b: u8| {
                let nonce = nonces[usize::from(b)];
                nonces[usize::from(b)] += 1;
                nonce
            };
            let mut txs: Vec<SignedTransaction> = Vec::new();
            for s in &steps {
                count += 1;
                match s {
                    Step::Transfer { from, to, amount, fee } => {
                        txs.push(sign(*from, next(*from), *fee, transfer(*to, *amount)));
                    }
                    Step::Put { from, size, fee } => {
                        let key = count.to_be_bytes();
                        txs.push(sign(*from, next(*from), *fee, put(*from, &key, *size)));
                    }
                    Step::Escrow { from, to, amount, settle } => {
                        let mut id = [0u8; 32];
                        id[..4].copy_from_slice(&count.to_be_bytes());
                        txs.push(sign(*from, next(*from), 10, TxBody::EscrowOpen(EscrowOpen {
                            escrow_id: id,
                            seller: address(*to),
                            amount: *amount,
                            request_id: None,
                        })));
                        if *settle {
                            txs.push(sign(*to, next(*to), 10, TxBody::EscrowDeliver(
                                EscrowDeliver { escrow_id: id, d_hash_root: [1; 32] },
                            )));
                            txs.push(sign(*from, next(*from), 10, TxBody::EscrowAccept(
                                EscrowRef { escrow_id: id },
                            )));
                        }
                    }
                    Step::Bond { from, validator, amount } => {
                        let body = stake_rules::bond(*validator, *amount);
                        txs.push(sign(*from, next(*from), 10, body));
                    }
                    Step::Unbond { from, validator, amount } => {
                        let body = stake_rules::unbond(*validator, *amount);
                        txs.push(sign(*from, next(*from), 10, body));
                    }
                }
            }
            chain.block(&txs);
            let balances: u64 = (1u8..6).map(|b| chain.account(b).balance).sum::<u64>()
                + chain.operator().balance;
            let reserves: u64 = Phase::ALL.iter().map(|p| chain.reserve(*p)).sum();
            let locked: u64 = chain
                .get(state_key::meta(escrow::LOCKED_META))
                .unwrap_or(0);
            let bonded: u64 = chain.get(state_key::meta(stake::BONDED_META)).unwrap_or(0);
            let unbonding: u64 = chain.get(state_key::meta(stake::UNBONDING_META)).unwrap_or(0);
            prop_assert_eq!(balances + reserves + locked + bonded + unbonding, total);
            // The totals are the sums of what each account and validator holds.
            let mut sum = carchain_core::protocol::Delegation::default();
            let mut power = 0u64;
            for validator in 1u8..4 {
                let key = stake_rules::validator_key(validator);
                let stake: carchain_core::protocol::ValidatorStake = chain
                    .get(state_key::validator_stake(&key))
                    .unwrap_or_default();
                let mut of_validator = 0u64;
                for byte in 1u8..6 {
                    let d: carchain_core::protocol::Delegation = chain
                        .get(state_key::delegation(&key, &address(byte)))
                        .unwrap_or_default();
                    sum.bonded += d.bonded;
                    sum.unbonding += d.unbonding;
                    of_validator += d.bonded;
                }
                prop_assert_eq!(stake.bonded, of_validator);
                prop_assert_eq!(stake.power, of_validator / 7);
                power += stake.power;
            }
            prop_assert_eq!((sum.bonded, sum.unbonding), (bonded, unbonding));
            prop_assert_eq!(chain.get::<u64>(state_key::meta(stake::POWER_META)).unwrap_or(0), power);
        }
    }
}
