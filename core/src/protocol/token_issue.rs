//! A payer's authorisation of a token issue: after its Transfer to a node's operator is
//! committed, the payer signs which blinded messages that payment buys, so a payment
//! seen on the ledger (or a request seen in transit) buys nothing for anyone else.
//!
//! Digest = SHA256(`"carchain/token-issue/v1"` || payment tx id || issuer key id ||
//! batch digest), the batch digest being [`crate::tokens::batch_digest`] of the blinded
//! messages in order. It never reaches the ledger; only the issuing node sees it.

use super::codec::Writer;
use super::hashing::sha256;

/// Domain tag of a payer's token-issue authorisation digest.
pub const TOKEN_ISSUE_DOMAIN: &[u8] = b"carchain/token-issue/v1";

/// The digest a payer signs to spend `payment` on the blinded messages whose batch
/// digest is `batch`, under the issuer key `key_id`.
pub fn token_issue_digest(payment: &[u8; 32], key_id: &[u8; 32], batch: &[u8; 32]) -> [u8; 32] {
    let mut w = Writer::new();
    w.raw(TOKEN_ISSUE_DOMAIN);
    w.raw(payment);
    w.raw(key_id);
    w.raw(batch);
    sha256(&[&w.into_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_binds_payment_key_and_batch() {
        let base = token_issue_digest(&[1; 32], &[2; 32], &[3; 32]);
        assert_ne!(base, token_issue_digest(&[9; 32], &[2; 32], &[3; 32]));
        assert_ne!(base, token_issue_digest(&[1; 32], &[9; 32], &[3; 32]));
        assert_ne!(base, token_issue_digest(&[1; 32], &[2; 32], &[9; 32]));
        assert_eq!(base, token_issue_digest(&[1; 32], &[2; 32], &[3; 32]));
    }
}
