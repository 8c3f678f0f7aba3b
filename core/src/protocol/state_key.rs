//! Keys of the authenticated state tree (a Jellyfish Merkle tree keyed by SHA-256).
//!
//! key hash = SHA-256(`"carchain/state/v1"` || bytes(tag) || bytes(part) ...), where
//! `bytes(x)` is a `u32` big-endian length followed by `x`, so no two (tag, parts)
//! sequences share a preimage.

use jmt::KeyHash;

use super::codec::Writer;
use super::hashing::sha256;

/// Domain tag of state keys.
pub const STATE_DOMAIN: &[u8] = b"carchain/state/v1";

fn key(tag: &str, parts: &[&[u8]]) -> KeyHash {
    let mut w = Writer::new();
    w.raw(STATE_DOMAIN);
    w.bytes(tag.as_bytes());
    for part in parts {
        w.bytes(part);
    }
    KeyHash(sha256(&[&w.into_bytes()]))
}

/// An account's balance and nonce, by P2WPKH address.
pub fn account(address: &str) -> KeyHash {
    key("account", &[address.as_bytes()])
}

/// The chain's fee schedule ([`super::FeeSchedule`]), set at genesis; absent on a chain
/// that uses the default schedule.
pub fn fee_schedule() -> KeyHash {
    key("fee-schedule", &[])
}

/// A paired device, by VID.
pub fn device(vid: &str) -> KeyHash {
    key("device", &[vid.as_bytes()])
}

/// A record registration, by address and key bytes.
pub fn record(address: &str, record_key: &[u8]) -> KeyHash {
    key("record", &[address.as_bytes(), record_key])
}

/// The index of the records under a data address (count and key digest), by address:
/// lets a reader check that a node returned every record of the address.
pub fn address_index(address: &str) -> KeyHash {
    key("address-index", &[address.as_bytes()])
}

/// A grant, by id.
pub fn grant(grant_id: &[u8; 32]) -> KeyHash {
    key("grant", &[grant_id])
}

/// A registered provider, by address.
pub fn provider(address: &str) -> KeyHash {
    key("provider", &[address.as_bytes()])
}

/// A data request, by id.
pub fn request(request_id: &[u8; 32]) -> KeyHash {
    key("request", &[request_id])
}

/// An escrow, by id.
pub fn escrow(escrow_id: &[u8; 32]) -> KeyHash {
    key("escrow", &[escrow_id])
}

/// A spent fee stamp, by its token id (see [`super::fee_stamp`]): present once the
/// stamp paid a put, so a stamp pays once and a proof of absence shows it unspent.
pub fn spent_stamp(stamp_id: &[u8; 32]) -> KeyHash {
    key("spent-stamp", &[stamp_id])
}

/// One account's stake with one validator ([`super::stake::Delegation`]), by the
/// validator's ed25519 key and the account's address.
pub fn delegation(validator: &[u8; 32], delegator: &str) -> KeyHash {
    key("delegation", &[validator, delegator.as_bytes()])
}

/// A validator's total stake and power ([`super::stake::ValidatorStake`]), by its
/// ed25519 consensus key.
pub fn validator_stake(validator: &[u8; 32]) -> KeyHash {
    key("validator-stake", &[validator])
}

/// The unbondings released by the block at `height` ([`super::stake::UnbondingQueue`]).
pub fn unbonding_queue(height: u64) -> KeyHash {
    key("unbonding", &[&height.to_be_bytes()])
}

/// Chain-wide values (issuance counters, parameters), by name.
pub fn meta(name: &str) -> KeyHash {
    key("meta", &[name.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_key_is_pinned() {
        // SHA-256("carchain/state/v1" || 00000007 "account" || 0000000a "bcrt1qtest")
        assert_eq!(
            hex::encode(account("bcrt1qtest").0),
            hex::encode(sha256(&[
                b"carchain/state/v1\0\0\0\x07account\0\0\0\x0abcrt1qtest"
            ]))
        );
    }

    #[test]
    fn kinds_and_part_boundaries_do_not_collide() {
        let keys = [
            account("a"),
            provider("a"),
            device("a"),
            meta("a"),
            record("ab", b"c"),
            record("a", b"bc"),
            grant(&[1; 32]),
            request(&[1; 32]),
            escrow(&[1; 32]),
            validator_stake(&[1; 32]),
            delegation(&[1; 32], "a"),
            unbonding_queue(1),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in keys.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
    }
}
