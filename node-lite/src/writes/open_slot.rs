//! The puts a private node takes without a write credential: open slots, for messages
//! that must reach a user before it holds any credential.
//!
//! - A pairing mailbox message (`carchain-pairing`, a wallet record): the owner's offer
//!   (sequence 1) or the car's accept (sequence 2), at most [`MAX_OPEN_VALUE`] bytes.
//!   The mailbox address is derived from the pairing code, so it holds at most these two
//!   records: before the car is paired, neither side can hold a credential.
//! - A data-request inbox entry (`carchain-request-inbox`, a wallet record): a 32-byte
//!   request id under a request-id key, left by a provider for an owner.
//!
//! Every open slot also takes one of the node's [`super::table::OPEN_SLOTS_PER_HOUR`]
//! hourly slots (all writers together). Abuse is thereby bounded to that many small
//! values an hour; anything else needs a credential.

use carchain_core::grants::inbox::{INBOX_FORMAT, request_id_of_entry};
use carchain_core::pairing::{MAILBOX_FORMAT, SEQ_ACCEPT, SEQ_OFFER, mailbox_record_key};
use carchain_core::protocol::RecordPut;

/// Largest value an open slot stores.
pub const MAX_OPEN_VALUE: u64 = 16 * 1024;
/// Size of a data-request inbox entry (a request id).
pub const INBOX_ENTRY_SIZE: u64 = 32;

/// Whether `put` may be stored without a credential (before the hourly quota).
pub fn is_open_slot(put: &RecordPut) -> bool {
    if !put.wallet {
        return false;
    }
    match put.format.as_str() {
        MAILBOX_FORMAT => {
            put.size <= MAX_OPEN_VALUE
                && [SEQ_OFFER, SEQ_ACCEPT]
                    .into_iter()
                    .any(|seq| mailbox_record_key(seq).is_ok_and(|key| key == put.key))
        }
        INBOX_FORMAT => put.size == INBOX_ENTRY_SIZE && request_id_of_entry(&put.key).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carchain_core::crypto::HashFunc;

    fn put(format: &str, key: Vec<u8>, size: u64, wallet: bool) -> RecordPut {
        RecordPut {
            address: "bcrt1qmailbox".into(),
            key,
            format: format.into(),
            hash_func: HashFunc::Sha256,
            d_hash: [0; 32],
            c_hash: [0; 32],
            size,
            wallet,
            stamp: None,
        }
    }

    #[test]
    fn only_mailbox_messages_and_inbox_entries_of_their_shape_are_open() {
        let offer = mailbox_record_key(SEQ_OFFER).unwrap_or_default();
        let accept = mailbox_record_key(SEQ_ACCEPT).unwrap_or_default();
        let third = mailbox_record_key(3).unwrap_or_default();
        assert!(is_open_slot(&put(MAILBOX_FORMAT, offer.clone(), 900, true)));
        assert!(is_open_slot(&put(
            MAILBOX_FORMAT,
            accept,
            MAX_OPEN_VALUE,
            true
        )));
        assert!(
            !is_open_slot(&put(MAILBOX_FORMAT, third, 900, true)),
            "a third message"
        );
        assert!(
            !is_open_slot(&put(
                MAILBOX_FORMAT,
                offer.clone(),
                MAX_OPEN_VALUE + 1,
                true
            )),
            "too large"
        );
        assert!(
            !is_open_slot(&put(MAILBOX_FORMAT, offer, 900, false)),
            "not a wallet record"
        );
        let entry = carchain_core::grants::inbox::inbox_record_key(&[7; 32]).unwrap_or_default();
        assert!(is_open_slot(&put(INBOX_FORMAT, entry.clone(), 32, true)));
        assert!(!is_open_slot(&put(INBOX_FORMAT, entry, 33, true)));
        assert!(!is_open_slot(&put(
            INBOX_FORMAT,
            b"note".to_vec(),
            32,
            true
        )));
        assert!(!is_open_slot(&put("trip-gps", b"k".to_vec(), 32, true)));
    }
}
