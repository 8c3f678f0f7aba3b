//! The client's side of fee stamps (see [`crate::protocol::fee_stamp`]): an owner
//! prepares stamps (a fresh one-time key each, its commitment blinded for the chain's
//! stamp issuer), finalizes the issuer's blind signatures into [`OwnedStamp`]s and hands
//! them to its car, which [`OwnedStamp::attach`]es one to a record put.
//!
//! Owned stamp bytes (version 1): `0x01 || stamp secret key (32) || token bytes`. They
//! hold a secret: keep them sealed at rest.

use std::fmt;

use bitcoin::secp256k1::{PublicKey, SecretKey};
use zeroize::Zeroizing;

use super::error::TokenError;
use super::public::IssuerPublicKey;
use super::token::{PendingToken, Token};
use crate::protocol::fee_stamp::{FeeStamp, binding_digest, stamp_message};
use crate::protocol::signing::{public_key_of, secret_key_from_bytes, sign_digest};

/// Version byte of [`OwnedStamp::to_bytes`].
pub const OWNED_STAMP_VERSION: u8 = 1;

/// A stamp ready to pay one record put: its one-time secret key and its token.
/// Debug shows nothing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedStamp {
    secret: SecretKey,
    token: Token,
}

impl fmt::Debug for OwnedStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedStamp")
            .field("key_id", &self.token.key_id)
            .finish_non_exhaustive()
    }
}

impl OwnedStamp {
    /// The stamp's spent-set id (its token's id): what the ledger records once it paid.
    pub fn stamp_id(&self) -> [u8; 32] {
        self.token.token_id()
    }

    /// The stamp for the put that `signer` signs under `record_key` on `chain_id`.
    pub fn attach(&self, chain_id: &str, signer: &PublicKey, record_key: &[u8]) -> FeeStamp {
        FeeStamp {
            token: self.token.to_bytes(),
            stamp_key: public_key_of(&self.secret),
            binding: sign_digest(&self.secret, &binding_digest(chain_id, signer, record_key)),
        }
    }

    /// The bytes to hand over or store (secret: seal them at rest).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let token = self.token.to_bytes();
        let mut out = Zeroizing::new(Vec::with_capacity(1 + 32 + token.len()));
        out.push(OWNED_STAMP_VERSION);
        out.extend_from_slice(&self.secret.secret_bytes());
        out.extend_from_slice(&token);
        out
    }

    /// Decodes [`OwnedStamp::to_bytes`], checking that the token commits to the key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenError> {
        let (version, rest) = bytes
            .split_first()
            .ok_or(TokenError::Malformed("empty stamp"))?;
        if *version != OWNED_STAMP_VERSION || rest.len() < 32 {
            return Err(TokenError::Malformed("not a stamp of version 1"));
        }
        let (secret, token) = rest.split_at(32);
        let mut secret_bytes = Zeroizing::new([0u8; 32]);
        secret_bytes.copy_from_slice(secret);
        let secret = secret_key_from_bytes(&secret_bytes)
            .map_err(|_| TokenError::Malformed("the stamp's secret key is invalid"))?;
        let token = Token::from_bytes(token)?;
        if token.message != stamp_message(&public_key_of(&secret)) {
            return Err(TokenError::Malformed(
                "the token does not commit to the key",
            ));
        }
        Ok(OwnedStamp { secret, token })
    }
}

/// A stamp waiting for the issuer's blind signature: its key and the blinded commitment.
pub struct PendingStamp {
    secret: SecretKey,
    pending: PendingToken,
}

impl fmt::Debug for PendingStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingStamp").finish_non_exhaustive()
    }
}

impl PendingStamp {
    /// The blinded message to send to the issuer.
    pub fn blinded_message(&self) -> &[u8] {
        self.pending.blinded_message()
    }

    /// Unblinds the issuer's answer into an owned stamp, checking it.
    pub fn finalize(
        &self,
        issuer: &IssuerPublicKey,
        blind_signature: &[u8],
    ) -> Result<OwnedStamp, TokenError> {
        let token = issuer.finalize(&self.pending, blind_signature)?;
        Ok(OwnedStamp {
            secret: self.secret,
            token,
        })
    }
}

/// `count` fresh stamps blinded for `issuer`: each a new random secp256k1 key whose
/// commitment is the token message.
pub fn prepare_stamps(
    issuer: &IssuerPublicKey,
    count: usize,
) -> Result<Vec<PendingStamp>, TokenError> {
    super::error::check_batch(count)?;
    (0..count)
        .map(|_| {
            let mut bytes = Zeroizing::new([0u8; 32]);
            let secret = loop {
                getrandom::fill(bytes.as_mut_slice())
                    .map_err(|_| TokenError::Internal("no system randomness"))?;
                if let Ok(secret) = secret_key_from_bytes(&bytes) {
                    break secret;
                }
            };
            let pending = issuer.blind_message(stamp_message(&public_key_of(&secret)))?;
            Ok(PendingStamp { secret, pending })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::IssuerKeyPair;

    fn issued(count: usize) -> (IssuerKeyPair, Vec<OwnedStamp>) {
        let issuer = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let pending = prepare_stamps(issuer.public(), count).unwrap_or_else(|e| panic!("{e}"));
        let stamps = pending
            .iter()
            .map(|p| {
                let blind = issuer
                    .blind_sign(p.blinded_message())
                    .unwrap_or_else(|e| panic!("{e}"));
                p.finalize(issuer.public(), &blind)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        (issuer, stamps)
    }

    fn key(byte: u8) -> PublicKey {
        public_key_of(&secret_key_from_bytes(&[byte; 32]).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn a_stamp_verifies_for_its_put_only_and_round_trips() {
        let (issuer, stamps) = issued(2);
        let stamp = &stamps[0];
        let attached = stamp.attach("chain", &key(1), b"k");
        let token = attached
            .verify(issuer.public(), "chain", &key(1), b"k")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(token.token_id(), stamp.stamp_id());
        assert_eq!(attached.stamp_id(), Ok(stamp.stamp_id()));
        // Copied onto another signer's put, another record or chain: refused.
        use crate::protocol::StampFault;
        assert_eq!(
            attached.verify(issuer.public(), "chain", &key(2), b"k"),
            Err(StampFault::WrongBinding)
        );
        assert_eq!(
            attached.verify(issuer.public(), "chain", &key(1), b"j"),
            Err(StampFault::WrongBinding)
        );
        assert_eq!(
            attached.verify(issuer.public(), "other", &key(1), b"k"),
            Err(StampFault::WrongBinding)
        );
        // A thief's own key cannot re-bind it: the token commits to the stamp key.
        let mut rebound = stamps[1].attach("chain", &key(2), b"k");
        rebound.token = attached.token.clone();
        assert_eq!(
            rebound.verify(issuer.public(), "chain", &key(2), b"k"),
            Err(StampFault::WrongMessage)
        );
        let other = IssuerKeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            attached.verify(other.public(), "chain", &key(1), b"k"),
            Err(StampFault::Token(TokenError::WrongKey))
        ));
        let bytes = stamp.to_bytes();
        assert_eq!(OwnedStamp::from_bytes(&bytes).as_ref(), Ok(stamp));
        assert!(OwnedStamp::from_bytes(&bytes[..40]).is_err());
        let mut swapped = stamps[1].to_bytes().to_vec();
        swapped.truncate(33);
        swapped.extend_from_slice(&stamp.token.to_bytes());
        assert!(OwnedStamp::from_bytes(&swapped).is_err());
        assert!(!format!("{stamp:?}").contains(&hex::encode(stamp.secret.secret_bytes())));
    }

    #[test]
    fn stamps_of_one_batch_share_nothing_but_the_key_id() {
        let (_, stamps) = issued(2);
        let a = stamps[0].attach("chain", &key(1), b"k");
        let b = stamps[1].attach("chain", &key(1), b"k");
        assert_ne!(a.stamp_key, b.stamp_key);
        assert_ne!(a.token[33..], b.token[33..]);
    }
}
