//! Record checks: a value must hash to its proven registration's cHash, and a range
//! answer's items must lie inside the asked range in strictly ascending key order.
//!
//! Limit: a range read verifies every item the node returns, but a node can silently
//! omit items — the client cannot list registrations by range. Completeness is checked
//! where the expected keys are known (the wallet's per-day record indexes, or
//! [`super::LightClient::record`] for one key, which reports a registered record without
//! value as [`super::LightError::ValueMissing`]).

use super::error::{LightError, LightResult};
use super::http::NodeHttp;
use super::proofs::{decode_proven, verify_state_answer};
use super::types::{RejectedRecord, VerifiedRecord};
use super::wire::StateAnswerWire;
use crate::protocol::{RecordRegistration, SignedHeader, state_key};

/// Checks that `value` is the registered ciphertext: same address and key, and
/// `hash_func(value) == c_hash`.
pub fn check_value(
    registration: &RecordRegistration,
    address: &str,
    key: &[u8],
    value: &[u8],
) -> Result<(), String> {
    if registration.put.address != address || registration.put.key != key {
        return Err("the registration is for another address or key".into());
    }
    if registration.put.hash_func.digest(value) != registration.put.c_hash {
        return Err(format!(
            "value does not match the registered cHash ({})",
            registration.put.hash_func
        ));
    }
    Ok(())
}

/// One record of a range page: its key and value, and its registration's proof when
/// the node served a proven page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeItem {
    /// Record key.
    pub key: Vec<u8>,
    /// Stored value (the envelope).
    pub value: Vec<u8>,
    /// The registration with its state proof (a proven page), or `None` (to be fetched).
    pub registration: Option<StateAnswerWire>,
}

/// The records of a range answer.
pub type RangeItems = Vec<RangeItem>;

/// Splits a range answer into items worth proving and items rejected outright: keys
/// outside `start..=end`, or not strictly after the previous key.
pub fn screen_range_items(
    address: &str,
    start: &[u8],
    end: &[u8],
    items: RangeItems,
) -> (RangeItems, Vec<RejectedRecord>) {
    let mut accepted: RangeItems = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for item in items {
        let key = item.key.as_slice();
        let reason = if key < start || key > end {
            Some("key outside the asked range")
        } else if accepted
            .last()
            .is_some_and(|previous| previous.key.as_slice() >= key)
        {
            Some("key out of order or repeated")
        } else {
            None
        };
        match reason {
            Some(reason) => rejected.push(RejectedRecord {
                address: address.to_owned(),
                key: item.key,
                reason: reason.into(),
            }),
            None => accepted.push(item),
        }
    }
    (accepted, rejected)
}

/// Why an item is rejected when the ledger (at the header read) has no registration for
/// it: a value put after that header, or not a ledger record at all.
pub const NOT_REGISTERED: &str = "not registered on the ledger";

/// Proves one range item: its registration against `header` (the proof the page carried,
/// or one fetched from `node` when it carried none), then its value's cHash. A proof that
/// fails verification is `Err(Tampered)` (the node lies about the ledger); an
/// unregistered item or a value that fails its cHash is `Ok(Err(rejected))`.
pub async fn prove_item(
    node: NodeHttp,
    header: SignedHeader,
    address: String,
    item: RangeItem,
) -> LightResult<Result<VerifiedRecord, RejectedRecord>> {
    let answer = match item.registration {
        Some(answer) => answer,
        None => {
            let key_hex = hex::encode(&item.key);
            node.state(&["record", &address, &key_hex], header.header.height)
                .await?
        }
    };
    prove_answered(&answer, &header, &address, item.key, item.value)
}

/// Checks one record against `answer`, the proof of its registration at `header`: see
/// [`prove_item`].
pub fn prove_answered(
    answer: &StateAnswerWire,
    header: &SignedHeader,
    address: &str,
    key: Vec<u8>,
    value: Vec<u8>,
) -> LightResult<Result<VerifiedRecord, RejectedRecord>> {
    let proven = verify_state_answer(answer, state_key::record(address, &key), header)?;
    let registration: Option<RecordRegistration> = decode_proven(proven)?;
    let rejected = |reason: String| RejectedRecord {
        address: address.to_owned(),
        key: key.clone(),
        reason,
    };
    let Some(registration) = registration else {
        return Ok(Err(rejected(NOT_REGISTERED.into())));
    };
    match check_value(&registration, address, &key, &value) {
        Ok(()) => Ok(Ok(VerifiedRecord {
            registration,
            envelope: value,
        })),
        Err(reason) => Ok(Err(rejected(reason))),
    }
}

/// Turns a value check failure of a single-record read into [`LightError::Tampered`].
pub fn tampered_value(address: &str, key: &[u8], reason: String) -> LightError {
    LightError::Tampered(format!(
        "record {} of {address}: {reason}",
        hex::encode(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::{public_key_of, secret_key_from_bytes};
    use crate::protocol::{HashFunc, RecordPut};

    fn item(key: &[u8], value: &[u8]) -> RangeItem {
        RangeItem {
            key: key.to_vec(),
            value: value.to_vec(),
            registration: None,
        }
    }

    fn registration(value: &[u8], hash_func: HashFunc) -> RecordRegistration {
        RecordRegistration {
            put: RecordPut {
                address: "bcrt1qdata".into(),
                key: vec![1, 2, 3],
                format: "carvio".into(),
                hash_func,
                d_hash: [0x44; 32],
                c_hash: hash_func.digest(value),
                size: value.len() as u64,
                wallet: false,
                stamp: None,
            },
            height: 5,
            tx_id: [0x55; 32],
            signer: public_key_of(&secret_key_from_bytes(&[3; 32]).unwrap()),
        }
    }

    #[test]
    fn a_value_must_match_its_chash_under_the_named_function() {
        for func in [HashFunc::Sha256, HashFunc::DoubleSha256] {
            let reg = registration(b"envelope bytes", func);
            assert_eq!(
                check_value(&reg, "bcrt1qdata", &[1, 2, 3], b"envelope bytes"),
                Ok(())
            );
            let flipped = check_value(&reg, "bcrt1qdata", &[1, 2, 3], b"envelope bytez");
            assert!(flipped.unwrap_err().contains("cHash"));
        }
        let reg = registration(b"v", HashFunc::Sha256);
        assert!(check_value(&reg, "bcrt1qother", &[1, 2, 3], b"v").is_err());
        assert!(check_value(&reg, "bcrt1qdata", &[1, 2], b"v").is_err());
    }

    proptest::proptest! {
        #[test]
        fn screened_items_are_in_range_strictly_ascending_and_none_is_lost(
            keys in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..3), 0..24),
            start in proptest::collection::vec(0u8..4, 0..2),
            end in proptest::collection::vec(0u8..4, 0..3),
        ) {
            let items: RangeItems = keys.iter().map(|k| item(k, k)).collect();
            let (accepted, rejected) = screen_range_items("bcrt1qdata", &start, &end, items);
            proptest::prop_assert_eq!(accepted.len() + rejected.len(), keys.len());
            for accepted in &accepted {
                let key = accepted.key.as_slice();
                proptest::prop_assert!(key >= start.as_slice() && key <= end.as_slice());
            }
            for pair in accepted.windows(2) {
                proptest::prop_assert!(pair[0].key < pair[1].key);
            }
        }
    }

    #[test]
    fn range_items_outside_the_range_or_out_of_order_are_rejected() {
        let items = vec![
            item(&[0x01], b"below"),
            item(&[0x10], b"a"),
            item(&[0x20], b"b"),
            item(&[0x20], b"again"),
            item(&[0x15], b"back"),
            item(&[0x30], b"c"),
            item(&[0x31], b"above"),
        ];
        let (accepted, rejected) = screen_range_items("bcrt1qdata", &[0x10], &[0x30], items);
        let keys: Vec<Vec<u8>> = accepted.into_iter().map(|i| i.key).collect();
        assert_eq!(keys, vec![vec![0x10], vec![0x20], vec![0x30]]);
        let rejected: Vec<(Vec<u8>, &str)> = rejected
            .iter()
            .map(|r| (r.key.clone(), r.reason.as_str()))
            .collect();
        assert_eq!(
            rejected,
            vec![
                (vec![0x01], "key outside the asked range"),
                (vec![0x20], "key out of order or repeated"),
                (vec![0x15], "key out of order or repeated"),
                (vec![0x31], "key outside the asked range"),
            ]
        );
    }
}
