//! Property tests: decoders never panic on arbitrary bytes, and mutated valid encodings
//! either fail to decode or re-encode to exactly the bytes they came from.

use proptest::prelude::*;

use super::body::TxBody;
use super::codec::Canonical;
use super::header::SignedHeader;
use super::merkle::InclusionProof;
use super::state::{DeviceState, EscrowState, GrantState, RecordRegistration, RequestState};
use super::state_proof::decode_state_proof;
use super::test_fixtures::{sample_bodies, sample_tx, secret};
use super::tx::SignedTransaction;

fn decoders_survive(bytes: &[u8]) {
    let _ = SignedTransaction::from_canonical(bytes);
    let _ = TxBody::from_canonical(bytes);
    let _ = SignedHeader::from_canonical(bytes);
    let _ = InclusionProof::from_canonical(bytes);
    let _ = DeviceState::from_canonical(bytes);
    let _ = RecordRegistration::from_canonical(bytes);
    let _ = GrantState::from_canonical(bytes);
    let _ = RequestState::from_canonical(bytes);
    let _ = EscrowState::from_canonical(bytes);
    let _ = decode_state_proof(&hex::encode(bytes));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decoders_survive(&bytes);
    }

    #[test]
    fn mutated_transactions_decode_canonically_or_fail(
        kind in 0usize..20,
        position in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let body = sample_bodies().swap_remove(kind);
        let signed = sample_tx(body).sign(&secret(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = signed.to_canonical();
        let at = position.index(bytes.len());
        bytes[at] = value;
        decoders_survive(&bytes);
        if let Ok(decoded) = SignedTransaction::from_canonical(&bytes) {
            // One value, one encoding: whatever decodes re-encodes to the same bytes.
            prop_assert_eq!(decoded.to_canonical(), bytes.clone());
            if bytes != signed.to_canonical() {
                prop_assert!(decoded.verify_signature().is_err());
            }
        }
    }
}
