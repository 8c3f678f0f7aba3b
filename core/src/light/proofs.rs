//! Checks of a node's state answers: the answer is for the height asked, its root is the
//! verified header's state root, the key is the one asked, and the Jellyfish proof binds
//! the canonical value bytes (or proves absence) to that root.

use jmt::KeyHash;

use super::error::{LightError, LightResult};
use super::wire::StateAnswerWire;
use crate::protocol::{Canonical, SignedHeader, decode_state_proof, verify_state_proof};

/// Verifies `answer` for `key` against the verified `header`; returns the proven
/// canonical value bytes (`None` when absence is proven). Any mismatch is
/// [`LightError::Tampered`].
pub fn verify_state_answer(
    answer: &StateAnswerWire,
    key: KeyHash,
    header: &SignedHeader,
) -> LightResult<Option<Vec<u8>>> {
    let height = header.header.height;
    if answer.height != height {
        return Err(LightError::Tampered(format!(
            "asked for state at height {height}, the answer claims height {}",
            answer.height
        )));
    }
    if answer.state_root != header.header.state_root {
        return Err(LightError::Tampered(format!(
            "state root of the answer differs from the verified header {height}"
        )));
    }
    if answer.key_hash != key.0 {
        return Err(LightError::Tampered(
            "the answer is for another state key".into(),
        ));
    }
    let value = answer
        .value
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(|_| LightError::Tampered("the state value is not hex".into()))?;
    let proof = decode_state_proof(&answer.proof)
        .map_err(|err| LightError::Tampered(format!("unreadable state proof: {err}")))?;
    verify_state_proof(&header.header.state_root, key, value.as_deref(), &proof)
        .map_err(|err| LightError::Tampered(format!("state proof at height {height}: {err}")))?;
    Ok(value)
}

/// Decodes proven canonical bytes into `T`.
pub fn decode_proven<T: Canonical>(bytes: Option<Vec<u8>>) -> LightResult<Option<T>> {
    bytes
        .map(|bytes| T::from_canonical(&bytes).map_err(LightError::from))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::headers::test_chain::{child_header, genesis, validator_secret};
    use crate::protocol::memory_tree::MemoryTree;
    use crate::protocol::{AccountState, encode_state_proof, state_key};

    fn account(i: u64) -> Vec<u8> {
        AccountState {
            balance: 1_000 + i,
            nonce: i,
        }
        .to_canonical()
    }

    /// A tree of 8 accounts, the header committing to it, and the store.
    fn fixture() -> (MemoryTree, SignedHeader) {
        let tree_store = MemoryTree::default();
        let root = tree_store
            .put((0..8u64).map(|i| (state_key::account(&format!("acct-{i}")), Some(account(i)))));
        let header = child_header(&genesis(), root)
            .sign(&validator_secret())
            .unwrap();
        (tree_store, header)
    }

    fn answer_for(store: &MemoryTree, header: &SignedHeader, key: KeyHash) -> StateAnswerWire {
        let (value, proof) = store.prove(key);
        StateAnswerWire {
            height: header.header.height,
            state_root: header.header.state_root,
            key_hash: key.0,
            value: value.map(hex::encode),
            proof: encode_state_proof(&proof).unwrap(),
        }
    }

    #[test]
    fn a_present_value_is_proven_and_decoded() {
        let (store, header) = fixture();
        let key = state_key::account("acct-3");
        let answer = answer_for(&store, &header, key);
        let proven = verify_state_answer(&answer, key, &header).unwrap();
        let state: Option<AccountState> = decode_proven(proven).unwrap();
        assert_eq!(
            state,
            Some(AccountState {
                balance: 1_003,
                nonce: 3
            })
        );
    }

    #[test]
    fn an_absent_value_is_proven_absent() {
        let (store, header) = fixture();
        let key = state_key::account("nobody");
        let answer = answer_for(&store, &header, key);
        assert_eq!(answer.value, None);
        assert_eq!(verify_state_answer(&answer, key, &header).unwrap(), None);
    }

    /// One change a lying node makes to an honest answer.
    type Forgery = fn(&mut StateAnswerWire);

    #[test]
    fn every_forgery_is_tampered() {
        let (store, header) = fixture();
        let key = state_key::account("acct-3");
        let honest = answer_for(&store, &header, key);
        let forgeries: [(&str, Forgery); 7] = [
            ("other height", |a| a.height += 1),
            ("other root", |a| a.state_root = [0x99; 32]),
            ("other key", |a| a.key_hash = state_key::account("acct-4").0),
            ("changed value", |a| {
                a.value = Some(hex::encode(account(99)));
            }),
            ("hidden value", |a| a.value = None),
            ("value not hex", |a| a.value = Some("zz".into())),
            ("proof garbage", |a| a.proof = "00ff".into()),
        ];
        for (what, forge) in forgeries {
            let mut forged = honest.clone();
            forge(&mut forged);
            let outcome = verify_state_answer(&forged, key, &header);
            assert!(
                matches!(outcome, Err(LightError::Tampered(_))),
                "{what}: {outcome:?}"
            );
        }
        // The proof of another key does not prove this one.
        let other = answer_for(&store, &header, state_key::account("acct-5"));
        let swapped = StateAnswerWire {
            key_hash: key.0,
            ..other
        };
        assert!(matches!(
            verify_state_answer(&swapped, key, &header),
            Err(LightError::Tampered(_))
        ));
        // An absence claim for a present key fails.
        let absent = answer_for(&store, &header, state_key::account("nobody"));
        let claimed_absent = StateAnswerWire {
            key_hash: key.0,
            ..absent
        };
        assert!(matches!(
            verify_state_answer(&claimed_absent, key, &header),
            Err(LightError::Tampered(_))
        ));
    }
}
