//! The issuer's public key: its [`KeyId`], blinding fresh token messages for it,
//! finalizing the issuer's blind signatures into tokens, and verifying tokens.

use std::fmt;

use blind_rsa_signatures::{
    BlindSignature, DefaultRng, MessageRandomizer, PublicKeySha384PSSRandomized, Signature,
};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use super::error::{TokenError, check_batch};
use super::token::{PendingToken, TOKEN_MESSAGE_LEN, Token};

/// Domain of [`batch_digest`].
const BATCH_DOMAIN: &[u8] = b"carchain/token-batch/v1";

/// An issuer key's name: SHA-256 of its public key's DER (SubjectPublicKeyInfo).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The issuer's public key, as clients and verifiers hold it.
#[derive(Clone)]
pub struct IssuerPublicKey {
    raw: PublicKeySha384PSSRandomized,
    der: Vec<u8>,
    id: KeyId,
}

impl fmt::Debug for IssuerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerPublicKey")
            .field("key_id", &self.id)
            .finish()
    }
}

impl PartialEq for IssuerPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for IssuerPublicKey {}

impl IssuerPublicKey {
    pub(super) fn from_raw(raw: PublicKeySha384PSSRandomized) -> Result<Self, TokenError> {
        let der = raw
            .to_der()
            .map_err(|_| TokenError::BadKey("the public key does not encode"))?;
        let id = KeyId(Sha256::digest(&der).into());
        Ok(IssuerPublicKey { raw, der, id })
    }

    /// Decodes a public key from DER (SubjectPublicKeyInfo, or PKCS#1). The key id is
    /// always over the SubjectPublicKeyInfo form.
    pub fn from_der(der: &[u8]) -> Result<Self, TokenError> {
        let raw = PublicKeySha384PSSRandomized::from_der(der)
            .map_err(|_| TokenError::BadKey("not an RSA public key of 2048 to 4096 bits"))?;
        Self::from_raw(raw)
    }

    /// The key as DER (SubjectPublicKeyInfo).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Bytes of a blinded message, a blind signature and a signature under this key.
    pub fn modulus_len(&self) -> usize {
        self.raw.as_ref().size()
    }

    /// Draws `count` fresh random token messages and blinds each for this key.
    pub fn blind(&self, count: usize) -> Result<Vec<PendingToken>, TokenError> {
        check_batch(count)?;
        (0..count)
            .map(|_| {
                let mut message = [0u8; TOKEN_MESSAGE_LEN];
                getrandom::fill(&mut message)
                    .map_err(|_| TokenError::Internal("no system randomness"))?;
                self.blind_message(message)
            })
            .collect()
    }

    /// Blinds one given token message for this key (a message the client derived, e.g.
    /// a fee stamp's commitment to its one-time key).
    pub fn blind_message(
        &self,
        message: [u8; TOKEN_MESSAGE_LEN],
    ) -> Result<PendingToken, TokenError> {
        let blinding = self
            .raw
            .blind(&mut DefaultRng, message)
            .map_err(|_| TokenError::Internal("blinding failed"))?;
        Ok(PendingToken::new(self.id, message, blinding))
    }

    /// Unblinds the issuer's `blind_signature` of `pending` into a token, checking it.
    pub fn finalize(
        &self,
        pending: &PendingToken,
        blind_signature: &[u8],
    ) -> Result<Token, TokenError> {
        if pending.key_id() != self.id {
            return Err(TokenError::WrongKey);
        }
        let blinding = pending.blinding();
        let randomizer = blinding.msg_randomizer.ok_or(TokenError::Internal(
            "a randomized blinding has no randomizer",
        ))?;
        let signature = self
            .raw
            .finalize(
                &BlindSignature(blind_signature.to_vec()),
                blinding,
                pending.message(),
            )
            .map_err(|_| TokenError::BadBlindSignature)?;
        Ok(Token {
            key_id: self.id,
            message: *pending.message(),
            randomizer: randomizer.0,
            signature: signature.0,
        })
    }

    /// Checks that `token` was issued under this key.
    pub fn verify(&self, token: &Token) -> Result<(), TokenError> {
        if token.key_id != self.id {
            return Err(TokenError::WrongKey);
        }
        if token.signature.len() != self.modulus_len() {
            return Err(TokenError::Malformed("signature size is not the key's"));
        }
        self.raw
            .verify(
                &Signature(token.signature.clone()),
                Some(MessageRandomizer(token.randomizer)),
                token.message,
            )
            .map_err(|_| TokenError::BadSignature)
    }
}

/// Digest of a batch of blinded messages, in order: what a payer signs to bind its
/// payment to exactly these messages.
pub fn batch_digest<B: AsRef<[u8]>>(blinded: &[B]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(BATCH_DOMAIN);
    hash.update((blinded.len() as u64).to_be_bytes());
    for message in blinded {
        let message = message.as_ref();
        hash.update((message.len() as u64).to_be_bytes());
        hash.update(message);
    }
    hash.finalize().into()
}
