//! Proofs of the authenticated state: a value (or its absence) under a state key, checked
//! against the `state_root` of a verified header.
//!
//! The state tree is a Jellyfish Merkle tree (`jmt` 0.12) hashed with SHA-256. Proofs cross
//! the HTTP API as lowercase hex of their borsh bytes ([`encode_state_proof`],
//! [`decode_state_proof`]).

use jmt::KeyHash;
use jmt::proof::SparseMerkleProof;

use super::error::{ProtocolError, Result};

/// The hash function of the state tree (SHA-256, as the `sha2` 0.10 type `jmt` expects).
pub type StateHasher = sha2_10::Sha256;

/// A proof of presence or absence of one key in the state tree.
pub type StateProof = SparseMerkleProof<StateHasher>;

/// Checks `proof` against `state_root`: with `Some(value)`, that `key_hash` maps to exactly
/// `value`; with `None`, that `key_hash` is absent.
pub fn verify_state_proof(
    state_root: &[u8; 32],
    key_hash: KeyHash,
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<()> {
    proof
        .verify(jmt::RootHash(*state_root), key_hash, value)
        .map_err(|err| ProtocolError::StateProof {
            reason: err.to_string(),
        })
}

/// Hex of the proof's borsh bytes, for the HTTP API.
pub fn encode_state_proof(proof: &StateProof) -> Result<String> {
    borsh::to_vec(proof)
        .map(hex::encode)
        .map_err(|err| ProtocolError::StateProof {
            reason: format!("encoding failed: {err}"),
        })
}

/// Parses a proof from hex of its borsh bytes; bad hex, truncation and trailing bytes are
/// errors.
pub fn decode_state_proof(text: &str) -> Result<StateProof> {
    let bytes = hex::decode(text).map_err(|_| ProtocolError::InvalidHex {
        field: "state proof",
    })?;
    borsh::from_slice(&bytes).map_err(|err| ProtocolError::StateProof {
        reason: format!("malformed proof: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::Canonical;
    use crate::protocol::memory_tree::MemoryTree;
    use crate::protocol::state::AccountState;
    use crate::protocol::state_key;

    fn tree_with_accounts(store: &MemoryTree) -> [u8; 32] {
        store.put((0..20u64).map(|i| {
            let value = AccountState {
                balance: i * 100,
                nonce: i,
            }
            .to_canonical();
            (state_key::account(&format!("account-{i}")), Some(value))
        }))
    }

    #[test]
    fn presence_proofs_verify_and_bind_the_value() {
        let store = MemoryTree::default();
        let root = tree_with_accounts(&store);
        let key = state_key::account("account-7");
        let (value, proof) = store.prove(key);
        let expected = AccountState {
            balance: 700,
            nonce: 7,
        }
        .to_canonical();
        assert_eq!(value.as_deref(), Some(expected.as_slice()));
        assert_eq!(
            verify_state_proof(&root, key, Some(&expected), &proof),
            Ok(())
        );

        let forged = AccountState {
            balance: 7_000,
            nonce: 7,
        }
        .to_canonical();
        assert!(verify_state_proof(&root, key, Some(&forged), &proof).is_err());
        assert!(verify_state_proof(&root, key, None, &proof).is_err());
        let mut other_root = root;
        other_root[0] ^= 1;
        assert!(verify_state_proof(&other_root, key, Some(&expected), &proof).is_err());
        let other_key = state_key::account("account-8");
        assert!(verify_state_proof(&root, other_key, Some(&expected), &proof).is_err());
    }

    #[test]
    fn absence_proofs_verify() {
        let store = MemoryTree::default();
        let root = tree_with_accounts(&store);
        let key = state_key::account("nobody");
        let (value, proof) = store.prove(key);
        assert_eq!(value, None);
        assert_eq!(verify_state_proof(&root, key, None, &proof), Ok(()));
        assert!(verify_state_proof(&root, key, Some(b"anything"), &proof).is_err());
    }

    #[test]
    fn proofs_round_trip_through_hex() {
        let store = MemoryTree::default();
        let root = tree_with_accounts(&store);
        let key = state_key::account("account-3");
        let (value, proof) = store.prove(key);
        let text = encode_state_proof(&proof).unwrap_or_else(|e| panic!("{e}"));
        let decoded = decode_state_proof(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded, proof);
        assert_eq!(
            verify_state_proof(&root, key, value.as_deref(), &decoded),
            Ok(())
        );
    }

    #[test]
    fn malformed_proof_text_is_refused() {
        let store = MemoryTree::default();
        tree_with_accounts(&store);
        let (_, proof) = store.prove(state_key::account("account-1"));
        let text = encode_state_proof(&proof).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            decode_state_proof("zz").err(),
            Some(ProtocolError::InvalidHex {
                field: "state proof"
            })
        );
        assert!(
            decode_state_proof(&text[..text.len() - 2]).is_err(),
            "truncated"
        );
        assert!(
            decode_state_proof(&format!("{text}00")).is_err(),
            "trailing byte"
        );
        assert!(decode_state_proof("ffffffff").is_err(), "garbage");
    }
}
