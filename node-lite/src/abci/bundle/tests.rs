use super::*;
use crate::state::tests::{put, sign, transfer};

fn txs(n: u64) -> Vec<SignedTransaction> {
    (0..n)
        .map(|nonce| sign(7, nonce, 1, put(7, &nonce.to_be_bytes(), 10)))
        .collect()
}

#[test]
fn a_bundle_round_trips_in_order_and_counts_without_decoding() {
    let txs = txs(3);
    let refs: Vec<&SignedTransaction> = txs.iter().collect();
    let bytes = encode(&refs);
    assert!(is_bundle(&bytes));
    assert_eq!(count(&bytes), 3);
    assert_eq!(decode(&bytes), Ok(txs));
}

#[test]
fn one_transaction_is_sent_as_itself() {
    let tx = sign(7, 0, 1, transfer(8, 5));
    let bytes = encode(&[&tx]);
    assert_eq!(bytes, tx.to_canonical());
    assert!(!is_bundle(&bytes));
    assert_eq!(count(&bytes), 1);
    assert_eq!(decode(&bytes), Ok(vec![tx]));
}

#[test]
fn malformed_bundles_are_refused_with_their_reason() {
    let txs = txs(2);
    let good = encode(&[&txs[0], &txs[1]]);

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(decode(&trailing), Err(BundleError::Trailing));

    assert_eq!(decode(&good[..good.len() - 1]), Err(BundleError::Truncated));
    assert_eq!(decode(&BUNDLE_TAG), Err(BundleError::Truncated));

    let mut empty = BUNDLE_TAG.to_vec();
    empty.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(decode(&empty), Err(BundleError::Count(0)));

    let mut too_many = BUNDLE_TAG.to_vec();
    too_many.extend_from_slice(&(MAX_BUNDLE_ITEMS as u32 + 1).to_be_bytes());
    assert_eq!(
        decode(&too_many),
        Err(BundleError::Count(MAX_BUNDLE_ITEMS as u32 + 1))
    );

    // The second item's last byte cut off, the length kept: it no longer decodes.
    let mut broken = good.clone();
    let last = broken.len() - 1;
    broken.truncate(last);
    let second_len_at = 8 + 4 + txs[0].to_canonical().len();
    let len = txs[1].to_canonical().len() as u32 - 1;
    broken[second_len_at..second_len_at + 4].copy_from_slice(&len.to_be_bytes());
    assert!(matches!(
        decode(&broken),
        Err(BundleError::Item { index: 1, .. })
    ));

    let mut huge = BUNDLE_TAG.to_vec();
    huge.resize(MAX_BUNDLE_BYTES + 1, 0);
    assert_eq!(
        decode(&huge),
        Err(BundleError::TooLarge(MAX_BUNDLE_BYTES + 1))
    );
    assert!(matches!(
        decode(b"not a transaction"),
        Err(BundleError::Item { index: 0, .. })
    ));
}
