//! Tests of `escrow_client`.

use super::*;
use crate::protocol::{challenge_indices, chunk_commitment};

const DAY: u64 = 24 * 3600 * 1000;

fn chunks(count: u8) -> Vec<[u8; 32]> {
    (0..count)
        .map(|i| crate::protocol::hashing::sha256(&[b"chunk", &[i]]))
        .collect()
}

fn escrow(status: EscrowStatus) -> EscrowState {
    EscrowState {
        escrow_id: [1; 32],
        buyer: "bcrt1qbuyer".into(),
        seller: "bcrt1qseller".into(),
        amount: 500,
        request_id: None,
        d_hash_root: None,
        status,
        height: 2,
        deliver_by: 3 * DAY,
        delivered_at: None,
        challenge_seed: None,
        challenge_deadline: None,
    }
}

fn disputed(held_at_delivery: &[[u8; 32]]) -> EscrowState {
    EscrowState {
        d_hash_root: Some(chunk_commitment(held_at_delivery)),
        delivered_at: Some(DAY),
        challenge_seed: Some([0x42; 32]),
        challenge_deadline: Some(3 * DAY),
        ..escrow(EscrowStatus::Disputed)
    }
}

#[test]
fn the_seller_holding_the_committed_chunks_answers_the_challenge() {
    let data = chunks(9);
    let escrow = disputed(&data);
    let proof = challenge_answer(&escrow, &data).expect("answer");
    assert_eq!(proof.chunk_count, 9);
    assert_eq!(
        proof.openings.len(),
        challenge_indices(&[0x42; 32], 9).len()
    );
    assert!(proof.verify(&chunk_commitment(&data), &[0x42; 32]).is_ok());
}

#[test]
fn a_seller_without_the_committed_data_cannot_answer() {
    let committed = chunks(9);
    let escrow = disputed(&committed);
    for held in [chunks(8), chunks(10), vec![[0u8; 32]; 9]] {
        assert!(matches!(
            challenge_answer(&escrow, &held),
            Err(EscrowError::PossessionNotProven(_))
        ));
    }
    assert!(matches!(
        challenge_answer(&escrow, &[]),
        Err(EscrowError::PossessionNotProven(_))
    ));
    // No dispute, no challenge.
    assert!(matches!(
        challenge_answer(&escrow_delivered(&committed), &committed),
        Err(EscrowError::WrongStatus { .. })
    ));
}

fn escrow_delivered(data: &[[u8; 32]]) -> EscrowState {
    EscrowState {
        d_hash_root: Some(chunk_commitment(data)),
        delivered_at: Some(DAY),
        ..escrow(EscrowStatus::Delivered)
    }
}

#[test]
fn the_steps_follow_the_ledger_windows() {
    let open = escrow(EscrowStatus::Open);
    assert_eq!(open_steps(&open, 0), vec![EscrowStep::Declare]);
    assert_eq!(open_steps(&open, 3 * DAY - 1), vec![EscrowStep::Declare]);
    assert_eq!(open_steps(&open, 3 * DAY), vec![EscrowStep::Refund]);

    let delivered = escrow_delivered(&chunks(2));
    assert_eq!(
        open_steps(&delivered, 4 * DAY - 1),
        vec![EscrowStep::Accept, EscrowStep::Dispute]
    );
    assert_eq!(
        open_steps(&delivered, 4 * DAY),
        vec![EscrowStep::Accept, EscrowStep::Release]
    );

    let disputed = disputed(&chunks(2));
    assert_eq!(
        open_steps(&disputed, 3 * DAY - 1),
        vec![EscrowStep::Accept, EscrowStep::AnswerChallenge]
    );
    assert_eq!(
        open_steps(&disputed, 3 * DAY),
        vec![EscrowStep::Accept, EscrowStep::Refund]
    );
    for done in [EscrowStatus::Released, EscrowStatus::Refunded] {
        assert!(open_steps(&escrow(done), 0).is_empty());
    }
}

#[test]
fn refusals_name_the_window_or_the_status() {
    let open = escrow(EscrowStatus::Open);
    match why_not(&open, EscrowStep::Refund, DAY) {
        EscrowError::TooEarly { what, until, now } => {
            assert_eq!((what, until, now), ("delivery window", 3 * DAY, DAY));
        }
        other => panic!("{other:?}"),
    }
    match why_not(&open, EscrowStep::Declare, 5 * DAY) {
        EscrowError::TooLate { what, deadline, .. } => {
            assert_eq!((what, deadline), ("delivery window", 3 * DAY));
        }
        other => panic!("{other:?}"),
    }
    let delivered = escrow_delivered(&chunks(2));
    match why_not(&delivered, EscrowStep::Dispute, 9 * DAY) {
        EscrowError::TooLate { what, deadline, .. } => {
            assert_eq!((what, deadline), ("review window", 4 * DAY));
        }
        other => panic!("{other:?}"),
    }
    match why_not(&escrow(EscrowStatus::Released), EscrowStep::Accept, 0) {
        EscrowError::WrongStatus { status, .. } => assert_eq!(status, "released"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        why_not(&disputed(&chunks(2)), EscrowStep::Refund, DAY),
        EscrowError::TooEarly {
            what: "possession challenge",
            ..
        }
    ));
}

#[test]
fn a_party_shows_only_its_address() {
    let party = EscrowParty::new(
        SecretKey::from_slice(&[0x21; 32]).expect("secret"),
        Network::Regtest,
    );
    let debug = format!("{party:?}");
    assert!(debug.contains(&party.address()), "{debug}");
    assert!(!debug.contains(&hex::encode([0x21u8; 32])), "{debug}");
    assert!(party.address().starts_with("bcrt1q"));
}
