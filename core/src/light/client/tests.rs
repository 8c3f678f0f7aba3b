//! Tests of the client's constants.

use super::ALL_KEYS_END;

/// A stored key is random bytes: one in 256 starts with 0xFF, and a whole-address
/// read must still include it (a bound of `[0xFF]` left such records out).
#[test]
fn stored_keys_starting_with_0xff_are_inside_the_whole_address_bound() {
    let mut key = vec![0xFF];
    key.extend_from_slice(&[0xA5; 40]);
    assert!(key.as_slice() <= ALL_KEYS_END);
    assert!([0xFF; 63].as_slice() <= ALL_KEYS_END);
    assert!([0x00].as_slice() <= ALL_KEYS_END);
}
