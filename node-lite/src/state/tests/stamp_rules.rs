//! Fee stamp rules: a stamped put's fee comes from the stamp escrow and never from its
//! signer, a stamp pays once (also across addresses), a stamp copied onto another put
//! pays nothing, and the spent set sits in the proven state.

use carchain_core::tokens::{IssuerKeyPair, OwnedStamp, prepare_stamps};

use super::*;
use crate::genesis::StampGenesis;

const PRICE: u64 = 1_000;

fn stamp_chain(issuer: &IssuerKeyPair, balances: &[(u8, u64)]) -> Chain {
    let mut genesis = genesis_with(1_000_000, balances);
    genesis.stamps = Some(StampGenesis {
        public_key: hex::encode(issuer.public().der()),
        price: PRICE,
    });
    // The phase-1 reserve is gone from the start.
    genesis.phase1_reserve = Some(0);
    Chain::with_genesis(genesis)
}

fn stamps(issuer: &IssuerKeyPair, count: usize) -> Vec<OwnedStamp> {
    prepare_stamps(issuer.public(), count)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|pending| {
            let blind = issuer
                .blind_sign(pending.blinded_message())
                .unwrap_or_else(|e| panic!("{e}"));
            pending
                .finalize(issuer.public(), &blind)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// A put by `byte` under `key` paying with `stamp` (attached for this very put).
fn stamped(byte: u8, nonce: u64, key: &[u8], stamp: &OwnedStamp) -> SignedTransaction {
    let TxBody::RecordPut(mut body) = put(byte, key, 100) else {
        panic!("a put")
    };
    body.stamp = Some(stamp.attach(CHAIN, &public_key_of(&secret(byte)), key));
    sign(byte, nonce, 110, TxBody::RecordPut(body))
}

fn escrow(chain: &Chain) -> (String, AccountState) {
    let rules = chain
        .genesis
        .stamp_rules()
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no stamps"));
    let account = chain
        .get(state_key::account(&rules.escrow_address))
        .unwrap_or_default();
    (rules.escrow_address, account)
}

#[test]
fn a_stamp_pays_a_put_from_the_escrow_once_and_nothing_else() {
    let issuer = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut chain = stamp_chain(&issuer, &[(1, 10_000)]);
    assert_eq!(chain.reserve(Phase::One), 0);
    let (escrow_address, _) = escrow(&chain);
    let payment = TxBody::Transfer(Transfer {
        to: escrow_address,
        amount: 3 * PRICE,
    });
    assert!(chain.run(sign(1, 0, 10, payment)).is_ok());
    let bought = stamps(&issuer, 3);

    // Without a stamp, an unfunded pool address cannot put once phase 1 is gone.
    assert_eq!(
        chain.run(sign(6, 0, 110, put(6, b"a", 100))).err(),
        Some(ErrorCode::InsufficientBalance)
    );
    // With one, the escrow pays: the address never holds or receives anything.
    let outcome = chain
        .run(stamped(6, 0, b"a", &bought[0]))
        .unwrap_or_else(|code| panic!("{code:?}"));
    assert_eq!(
        (
            outcome.fee_from_stamp,
            outcome.fee_from_balance,
            outcome.fee_reimbursed
        ),
        (110, 0, 0)
    );
    assert_eq!(
        chain.account(6),
        AccountState {
            balance: 0,
            nonce: 1
        }
    );
    assert_eq!(escrow(&chain).1.balance, 3 * PRICE - 110);
    let spent: Option<u64> = chain.get(state_key::spent_stamp(&bought[0].stamp_id()));
    assert!(spent.is_some(), "the spent set holds the stamp");

    // The same stamp again: bound afresh by its holder to another put of this address
    // or of another address, it is spent.
    assert_eq!(
        chain.run(stamped(6, 1, b"b", &bought[0])).err(),
        Some(ErrorCode::StampSpent)
    );
    assert_eq!(
        chain.run(stamped(7, 0, b"a", &bought[0])).err(),
        Some(ErrorCode::StampSpent)
    );

    // A stamp copied in transit from address 6's put onto a thief's put: refused, and
    // it stays good for its owner.
    let victim = stamped(6, 1, b"c", &bought[1]);
    let TxBody::RecordPut(victim_put) = &victim.tx.body else {
        panic!("a put")
    };
    let TxBody::RecordPut(mut thief_put) = put(7, b"c", 100) else {
        panic!("a put")
    };
    thief_put.stamp = victim_put.stamp.clone();
    assert_eq!(
        chain
            .run(sign(7, 0, 110, TxBody::RecordPut(thief_put)))
            .err(),
        Some(ErrorCode::StampInvalid)
    );
    assert!(chain.run(victim).is_ok());

    // A fee above a stamp's value, or a stamp of another issuer: refused.
    let TxBody::RecordPut(mut dear) = put(8, b"a", 100) else {
        panic!("a put")
    };
    dear.stamp = Some(bought[2].attach(CHAIN, &public_key_of(&secret(8)), b"a"));
    assert_eq!(
        chain
            .run(sign(8, 0, PRICE + 1, TxBody::RecordPut(dear)))
            .err(),
        Some(ErrorCode::StampInvalid)
    );
    let forger = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let forged = stamps(&forger, 1);
    assert_eq!(
        chain.run(stamped(8, 0, b"a", &forged[0])).err(),
        Some(ErrorCode::StampInvalid)
    );
    assert!(chain.run(stamped(8, 0, b"a", &bought[2])).is_ok());
    assert_eq!(escrow(&chain).1.balance, 3 * PRICE - 3 * 110);
    // Nothing ever reached a pool address.
    for byte in [6, 7, 8] {
        assert_eq!(chain.account(byte).balance, 0);
    }
}

#[test]
fn an_empty_escrow_and_a_chain_without_stamps_refuse_stamped_puts() {
    let issuer = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut chain = stamp_chain(&issuer, &[]);
    let bought = stamps(&issuer, 1);
    assert_eq!(
        chain.run(stamped(6, 0, b"a", &bought[0])).err(),
        Some(ErrorCode::StampEscrowEmpty)
    );
    let mut plain = Chain::new(1_000_000, &[]);
    assert_eq!(
        plain.run(stamped(6, 0, b"a", &bought[0])).err(),
        Some(ErrorCode::StampInvalid)
    );
}

#[test]
fn a_genesis_names_a_usable_issuer_and_caps_phase_one() {
    let issuer = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut genesis = genesis_with(1_000, &[]);
    genesis.phase1_reserve = Some(7);
    assert_eq!(genesis.reserves(), [7, 793, 200]);
    genesis.stamps = Some(StampGenesis {
        public_key: "00".into(),
        price: 1,
    });
    assert!(genesis.validate().is_err());
    genesis.stamps = Some(StampGenesis {
        public_key: hex::encode(issuer.public().der()),
        price: 0,
    });
    assert!(genesis.validate().is_err());
    genesis.stamps = Some(StampGenesis {
        public_key: hex::encode(issuer.public().der()),
        price: 5,
    });
    assert!(genesis.validate().is_ok());
    let json = serde_json::to_string(&genesis).unwrap_or_default();
    let back: Genesis = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, genesis);
    // A genesis file written before stamps still loads (no issuer, no cap).
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    if let Some(object) = old.as_object_mut() {
        object.remove("stamps");
        object.remove("phase1_reserve");
    }
    let old: Genesis = serde_json::from_value(old).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((old.stamps, old.phase1_reserve), (None, None));
}
