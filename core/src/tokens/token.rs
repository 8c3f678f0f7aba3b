//! A finalized [`Token`] with its canonical bytes and id, and a client's
//! [`PendingToken`] (a blinded message waiting for the issuer's signature).
//!
//! Token bytes (version 1): `0x01 || key_id (32) || message (32) || randomizer (32) ||
//! signature length (u16, big-endian) || signature`.

use std::fmt;

use blind_rsa_signatures::{BlindMessage, BlindingResult, MessageRandomizer, Secret};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::error::TokenError;
use super::public::KeyId;

/// Length of a token message: 32 fresh random bytes.
pub const TOKEN_MESSAGE_LEN: usize = 32;
/// Version byte of the token encoding.
pub const TOKEN_VERSION: u8 = 1;
/// Version byte of the pending-token encoding.
pub const PENDING_VERSION: u8 = 1;
/// Domain of [`Token::token_id`].
const TOKEN_ID_DOMAIN: &[u8] = b"carchain/token-id/v1";
/// Smallest and largest signature sizes (2048- to 4096-bit keys).
const SIGNATURE_SIZES: std::ops::RangeInclusive<usize> = 256..=512;
/// Bytes before the signature: version, key id, message, randomizer, length.
const HEADER_LEN: usize = 1 + 32 + TOKEN_MESSAGE_LEN + 32 + 2;

/// A token: a random message, the randomizer the signature covers, and the issuer's
/// (unblinded) signature. Good once at its issuer. Debug shows only the key id: the
/// token is a bearer credential until spent.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The issuer key it was signed under.
    pub key_id: KeyId,
    /// The random token message.
    pub message: [u8; TOKEN_MESSAGE_LEN],
    /// The RFC 9474 message randomizer.
    pub randomizer: [u8; 32],
    /// The RSA-PSS signature over randomizer || message.
    pub signature: Vec<u8>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("key_id", &self.key_id)
            .field("message", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Token {
    /// The token's id in a spent table: SHA-256 over a domain, the key id and the
    /// message (the signature is not part of it, so a re-signed message is the same
    /// token).
    pub fn token_id(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(TOKEN_ID_DOMAIN);
        hash.update(self.key_id.0);
        hash.update(self.message);
        hash.finalize().into()
    }

    /// The canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.signature.len());
        out.push(TOKEN_VERSION);
        out.extend_from_slice(&self.key_id.0);
        out.extend_from_slice(&self.message);
        out.extend_from_slice(&self.randomizer);
        // Signatures are at most 512 bytes (checked on decode; issued ones are the key's).
        out.extend_from_slice(&(self.signature.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes canonical bytes; anything else is [`TokenError::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenError> {
        let mut reader = Reader(bytes);
        let (key_id, message, randomizer) = reader.head(TOKEN_VERSION, "unknown token version")?;
        let length = usize::from(u16::from_be_bytes(reader.array()?));
        if !SIGNATURE_SIZES.contains(&length) {
            return Err(TokenError::Malformed("signature size out of range"));
        }
        let signature = reader.take(length)?.to_vec();
        if !reader.0.is_empty() {
            return Err(TokenError::Malformed("trailing bytes"));
        }
        Ok(Token {
            key_id,
            message,
            randomizer,
            signature,
        })
    }
}

/// A blinded token message waiting for the issuer's signature: the message, the
/// blinded form sent to the issuer, and the blinding secret that unblinds the answer.
/// Debug hides everything but the key id; the secret is wiped on drop.
#[derive(Clone)]
pub struct PendingToken {
    key_id: KeyId,
    message: [u8; TOKEN_MESSAGE_LEN],
    blinding: BlindingResult,
}

impl fmt::Debug for PendingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingToken")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Drop for PendingToken {
    fn drop(&mut self) {
        self.blinding.secret.0.zeroize();
        self.message.zeroize();
    }
}

impl PendingToken {
    pub(super) fn new(
        key_id: KeyId,
        message: [u8; TOKEN_MESSAGE_LEN],
        blinding: BlindingResult,
    ) -> Self {
        PendingToken {
            key_id,
            message,
            blinding,
        }
    }

    /// The issuer key it was blinded for.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The blinded message to send to the issuer.
    pub fn blinded_message(&self) -> &[u8] {
        &self.blinding.blind_message.0
    }

    pub(super) fn message(&self) -> &[u8; TOKEN_MESSAGE_LEN] {
        &self.message
    }

    pub(super) fn blinding(&self) -> &BlindingResult {
        &self.blinding
    }

    /// Bytes to keep a pending token across a restart (they hold the blinding secret:
    /// store them encrypted): `0x01 || key_id || message || randomizer || u16 blinded
    /// length || blinded || u16 secret length || secret`.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let randomizer = self.blinding.msg_randomizer.ok_or(TokenError::Internal(
            "a randomized blinding has no randomizer",
        ))?;
        let blinded = &self.blinding.blind_message.0;
        let secret = &self.blinding.secret.0;
        let mut out = Zeroizing::new(Vec::with_capacity(
            1 + 32 + 32 + 32 + 4 + blinded.len() + secret.len(),
        ));
        out.push(PENDING_VERSION);
        out.extend_from_slice(&self.key_id.0);
        out.extend_from_slice(&self.message);
        out.extend_from_slice(&randomizer.0);
        for part in [blinded, secret] {
            let length = u16::try_from(part.len())
                .map_err(|_| TokenError::Internal("blinding larger than any key"))?;
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(part);
        }
        Ok(out)
    }

    /// Decodes [`PendingToken::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenError> {
        let mut reader = Reader(bytes);
        let (key_id, message, randomizer) =
            reader.head(PENDING_VERSION, "unknown pending token version")?;
        let mut part = || -> Result<Vec<u8>, TokenError> {
            let length = usize::from(u16::from_be_bytes(reader.array()?));
            Ok(reader.take(length)?.to_vec())
        };
        let blinded = part()?;
        let secret = part()?;
        if !reader.0.is_empty() {
            return Err(TokenError::Malformed("trailing bytes"));
        }
        Ok(PendingToken {
            key_id,
            message,
            blinding: BlindingResult {
                blind_message: BlindMessage(blinded),
                secret: Secret(secret),
                msg_randomizer: Some(MessageRandomizer(randomizer)),
            },
        })
    }
}

/// A cursor over bytes being decoded.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let bytes = self.take(N)?;
        bytes
            .try_into()
            .map_err(|_| TokenError::Malformed("truncated"))
    }

    /// The head that tokens and pending tokens share: the `version` byte (anything
    /// else is `Malformed(unknown)`), the key id, the message and its randomizer.
    fn head<const M: usize, const R: usize>(
        &mut self,
        version: u8,
        unknown: &'static str,
    ) -> Result<(KeyId, [u8; M], [u8; R]), TokenError> {
        if self.take(1)?[0] != version {
            return Err(TokenError::Malformed(unknown));
        }
        Ok((KeyId(self.array()?), self.array()?, self.array()?))
    }
}
