//! Tests of `body`.

use super::*;
use crate::protocol::test_fixtures::sample_bodies;

#[test]
fn every_kind_round_trips_canonically_with_its_kind_byte() {
    let bodies = sample_bodies();
    assert_eq!(bodies.len(), 20);
    for (index, body) in bodies.iter().enumerate() {
        let bytes = body.to_canonical();
        assert_eq!(
            bytes.first().copied(),
            Some(index as u8 + 1),
            "{}",
            body.kind_name()
        );
        assert_eq!(TxBody::from_canonical(&bytes).as_ref(), Ok(body));
    }
}

#[test]
fn json_to_struct_to_canonical_round_trips_for_every_kind() {
    for body in sample_bodies() {
        let json = serde_json::to_string(&body).unwrap_or_default();
        assert!(
            json.contains(&format!("\"type\":\"{}\"", body.kind_name())),
            "{json}"
        );
        let parsed: TxBody = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(parsed.to_canonical(), body.to_canonical());
    }
}

#[test]
fn json_form_uses_hex_and_snake_case() {
    let json = r#"{"type":"record_put","address":"bcrt1qexample","key":"0001ff",
        "format":"trip-gps","hash_func":"sha256","d_hash":"5555555555555555555555555555555555555555555555555555555555555555",
        "c_hash":"6666666666666666666666666666666666666666666666666666666666666666","size":7}"#;
    let body: TxBody = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
    let TxBody::RecordPut(put) = body else {
        panic!("wrong kind")
    };
    assert_eq!(put.key, vec![0, 1, 0xff]);
    assert_eq!(put.hash_func, HashFunc::Sha256);
    assert_eq!(put.c_hash, [0x66; 32]);
    assert!(!put.wallet);
}

#[test]
fn json_with_bad_hex_or_length_is_refused() {
    let short = r#"{"type":"revoke","grant_id":"77"}"#;
    assert!(serde_json::from_str::<TxBody>(short).is_err());
    let not_hex = r#"{"type":"revoke","grant_id":"zz"}"#;
    assert!(serde_json::from_str::<TxBody>(not_hex).is_err());
    let unknown = r#"{"type":"mint","amount":1}"#;
    assert!(serde_json::from_str::<TxBody>(unknown).is_err());
}

#[test]
fn unknown_kind_bytes_are_refused() {
    for tag in [0u8, 21, 0xff] {
        assert_eq!(
            TxBody::from_canonical(&[tag]),
            Err(ProtocolError::UnknownTag {
                what: "transaction kind",
                tag
            })
        );
    }
}

#[test]
fn unknown_hash_function_and_grant_kind_are_refused() {
    assert_eq!(
        HashFunc::from_canonical(&[2]),
        Err(ProtocolError::UnknownTag {
            what: "hash function",
            tag: 2
        })
    );
    assert_eq!(
        GrantKind::from_canonical(&[3]),
        Err(ProtocolError::UnknownTag {
            what: "grant kind",
            tag: 3
        })
    );
}

#[test]
fn every_truncation_of_every_kind_is_an_error() {
    for body in sample_bodies() {
        let bytes = body.to_canonical();
        for len in 0..bytes.len() {
            assert!(
                TxBody::from_canonical(&bytes[..len]).is_err(),
                "{} at {len}",
                body.kind_name()
            );
        }
    }
}

fn chunks(count: u8) -> Vec<[u8; 32]> {
    (0..count)
        .map(|i| crate::protocol::hashing::sha256(&[&[i]]))
        .collect()
}

#[test]
fn chunk_commitment_and_challenge_indices_are_pinned() {
    let root = chunk_commitment(&chunks(5));
    assert_eq!(
        root,
        crate::protocol::hashing::sha256(&[
            CHUNK_COMMITMENT_DOMAIN,
            &5u64.to_be_bytes(),
            &crate::protocol::merkle::merkle_root(&chunks(5)),
        ])
    );
    assert_ne!(chunk_commitment(&chunks(4)), root);
    let seed = challenge_seed(&[0xbb; 32], &[0x01; 32]);
    assert_eq!(
        seed,
        crate::protocol::hashing::sha256(&[
            b"carchain/escrow-challenge/v1",
            &[0xbb; 32],
            &[0x01; 32]
        ])
    );
    let indices = challenge_indices(&seed, 1000);
    assert_eq!(indices.len(), CHALLENGE_SAMPLES);
    let first = crate::protocol::hashing::sha256(&[&seed, &0u32.to_be_bytes()]);
    let mut head = [0u8; 8];
    head.copy_from_slice(&first[..8]);
    assert_eq!(indices[0], u64::from_be_bytes(head) % 1000);
    assert_eq!(challenge_indices(&seed, 2).len(), 2);
    assert!(challenge_indices(&seed, 0).is_empty());
}

#[test]
fn possession_proof_round_trips_and_verifies() {
    let data = chunks(7);
    let root = chunk_commitment(&data);
    let seed = [0x42; 32];
    let proof = PossessionProof::build(&data, &seed).unwrap_or_else(|| panic!("proof"));
    assert_eq!(proof.openings.len(), CHALLENGE_SAMPLES);
    assert_eq!(proof.verify(&root, &seed), Ok(()));
    assert_eq!(
        PossessionProof::from_canonical(&proof.to_canonical()),
        Ok(proof)
    );
    assert_eq!(PossessionProof::build(&[], &seed), None);
    let single = chunks(1);
    let one = PossessionProof::build(&single, &seed).unwrap_or_else(|| panic!("proof"));
    assert_eq!(one.verify(&chunk_commitment(&single), &seed), Ok(()));
}

#[test]
fn possession_proof_refuses_other_seeds_roots_counts_and_chunks() {
    let data = chunks(9);
    let root = chunk_commitment(&data);
    let seed = [0x42; 32];
    let proof = PossessionProof::build(&data, &seed).unwrap_or_else(|| panic!("proof"));
    // Openings made for another seed sample other chunks.
    let other_seed = [0x43; 32];
    assert_ne!(
        challenge_indices(&seed, 9),
        challenge_indices(&other_seed, 9)
    );
    assert!(proof.verify(&root, &other_seed).is_err());
    assert!(proof.verify(&chunk_commitment(&chunks(8)), &seed).is_err());
    let mut fewer = proof.clone();
    fewer.chunk_count = 8;
    assert!(fewer.verify(&root, &seed).is_err());
    let mut wrong_chunk = proof.clone();
    wrong_chunk.openings[0].chunk_hash[0] ^= 1;
    assert!(wrong_chunk.verify(&root, &seed).is_err());
    let mut missing = proof.clone();
    missing.openings.pop();
    assert!(missing.verify(&root, &seed).is_err());
    // A seller holding another data set cannot answer for the committed one.
    let forged = PossessionProof::build(&chunks(10)[1..], &seed).unwrap_or_else(|| panic!("proof"));
    assert!(forged.verify(&root, &seed).is_err());
}

#[test]
fn device_pairing_signature_verifies_and_binds_the_owner() {
    let Some(TxBody::DeviceSetup(setup)) = sample_bodies().into_iter().nth(1) else {
        panic!("fixture order")
    };
    assert_eq!(setup.verify_device_signature(), Ok(()));
    let mut other_owner = setup.clone();
    other_owner.owner_address.push('x');
    assert_eq!(
        other_owner.verify_device_signature(),
        Err(ProtocolError::BadSignature {
            what: "device pairing"
        })
    );
    let mut other_pool = setup;
    other_pool.pool_commitment[0] ^= 1;
    assert!(other_pool.verify_device_signature().is_err());
}
