//! The issuer's key pair: generated once, kept as DER, signing blinded messages.

use std::fmt;

use blind_rsa_signatures::{DefaultRng, KeyPairSha384PSSRandomized, SecretKeySha384PSSRandomized};
use zeroize::Zeroizing;

use super::error::{TokenError, check_batch};
use super::public::IssuerPublicKey;

/// The issuer's RSA key pair. Debug shows only the key id.
#[derive(Clone)]
pub struct IssuerKeyPair {
    secret: SecretKeySha384PSSRandomized,
    public: IssuerPublicKey,
}

impl fmt::Debug for IssuerKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKeyPair")
            .field("key_id", &self.public.key_id())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl IssuerKeyPair {
    /// A fresh key pair of [`super::ISSUER_KEY_BITS`] bits.
    pub fn generate() -> Result<Self, TokenError> {
        let pair = KeyPairSha384PSSRandomized::generate(&mut DefaultRng, super::ISSUER_KEY_BITS)
            .map_err(|_| TokenError::Internal("key generation failed"))?;
        Ok(IssuerKeyPair {
            public: IssuerPublicKey::from_raw(pair.pk)?,
            secret: pair.sk,
        })
    }

    /// Decodes a key pair from its secret key's DER (PKCS#8 or PKCS#1).
    pub fn from_der(der: &[u8]) -> Result<Self, TokenError> {
        let secret = SecretKeySha384PSSRandomized::from_der(der)
            .map_err(|_| TokenError::BadKey("not a valid RSA secret key"))?;
        let public = secret
            .public_key()
            .map_err(|_| TokenError::BadKey("unfit RSA parameters"))?;
        Ok(IssuerKeyPair {
            public: IssuerPublicKey::from_raw(public)?,
            secret,
        })
    }

    /// The secret key as PKCS#8 DER, wiped from memory when dropped.
    pub fn to_der(&self) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.secret
            .to_der()
            .map(Zeroizing::new)
            .map_err(|_| TokenError::Internal("the secret key does not encode"))
    }

    /// The public key clients blind for.
    pub fn public(&self) -> &IssuerPublicKey {
        &self.public
    }

    /// Signs one blinded message (it must be exactly [`IssuerPublicKey::modulus_len`]
    /// bytes, below the modulus).
    pub fn blind_sign(&self, blinded: &[u8]) -> Result<Vec<u8>, TokenError> {
        if blinded.len() != self.public.modulus_len() {
            return Err(TokenError::BadBlindedMessage("size is not the key's"));
        }
        self.secret
            .blind_sign(blinded)
            .map(|signature| signature.0)
            .map_err(|err| match err {
                blind_rsa_signatures::Error::UnsupportedParameters => {
                    TokenError::BadBlindedMessage("not below the modulus")
                }
                _ => TokenError::Internal("blind signing failed"),
            })
    }

    /// Signs a batch of blinded messages (1 to [`super::MAX_BATCH`]), in order; all or
    /// nothing.
    pub fn blind_sign_batch<B: AsRef<[u8]>>(
        &self,
        blinded: &[B],
    ) -> Result<Vec<Vec<u8>>, TokenError> {
        check_batch(blinded.len())?;
        blinded
            .iter()
            .map(|b| self.blind_sign(b.as_ref()))
            .collect()
    }
}
