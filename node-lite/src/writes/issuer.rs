//! The private node's write-credential issuer key (`writes.key`, 0600, the RSA secret
//! key's PKCS#8 DER): blind-signs holders' blinded token messages and verifies the
//! finished credentials shown with puts (RFC 9474 blind RSA, [`carchain_core::tokens`]).
//! A key of its own: read tokens and write credentials never stand for each other.
//!
//! Created on the first start in private mode, written to a temporary file, synced and
//! renamed into place, so a crash leaves either no key or a whole one.

use std::path::Path;

use carchain_core::tokens::{IssuerKeyPair, Token, TokenError};

use crate::error::NodeError;
use crate::service::{CredentialKeyInfo, ErrorCode, ServiceError};

/// The issuer key.
#[derive(Debug)]
pub struct IssuerKey {
    pair: IssuerKeyPair,
}

fn key_error(path: &Path, why: impl std::fmt::Display) -> NodeError {
    NodeError::WriteKey(format!("{}: {why}", path.display()))
}

impl IssuerKey {
    /// Loads `path`, creating the key on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, NodeError> {
        let pair = crate::tokens::load_or_create_key_file(path).map_err(|e| key_error(path, e))?;
        Ok(IssuerKey { pair })
    }

    /// The public key (DER, hex) and its id.
    pub fn info(&self) -> CredentialKeyInfo {
        let public = self.pair.public();
        CredentialKeyInfo {
            key_id: public.key_id().to_string(),
            public_key: hex::encode(public.der()),
        }
    }

    /// A blind signature of `blinded`.
    pub fn sign_blinded(&self, blinded: &[u8]) -> Result<Vec<u8>, ServiceError> {
        self.pair.blind_sign(blinded).map_err(|err| match err {
            TokenError::BadBlindedMessage(_) => {
                ServiceError::new(ErrorCode::InvalidRequest, err.to_string())
            }
            other => ServiceError::new(ErrorCode::Internal, other.to_string()),
        })
    }

    /// Verifies a finished credential; returns its id (what the binding table keys on).
    pub fn verify(&self, credential: &[u8]) -> Result<[u8; 32], ServiceError> {
        let token = Token::from_bytes(credential)
            .map_err(|err| ServiceError::new(ErrorCode::CredentialMalformed, err.to_string()))?;
        self.pair
            .public()
            .verify(&token)
            .map_err(|err| ServiceError::new(ErrorCode::CredentialInvalid, err.to_string()))?;
        Ok(token.token_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_verifies_what_it_signed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("writes.key");
        let key = IssuerKey::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        let again = IssuerKey::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.info(), again.info(), "loaded, not made again");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        let public = key.pair.public().clone();
        let pending = public.blind(2).unwrap_or_else(|e| panic!("{e}"));
        let tokens: Vec<Token> = pending
            .iter()
            .map(|p| {
                let signed = key
                    .sign_blinded(p.blinded_message())
                    .unwrap_or_else(|e| panic!("{e}"));
                public
                    .finalize(p, &signed)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        let id = key
            .verify(&tokens[0].to_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, tokens[0].token_id());
        assert_ne!(id, tokens[1].token_id());
        let code = |bytes: &[u8]| key.verify(bytes).err().map(|e| e.code);
        assert_eq!(code(b"junk"), Some(ErrorCode::CredentialMalformed));
        let mut forged = tokens[0].clone();
        forged.message[0] ^= 1;
        assert_eq!(code(&forged.to_bytes()), Some(ErrorCode::CredentialInvalid));
        let other = IssuerKey::load_or_create(&dir.path().join("other.key"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            other.verify(&tokens[0].to_bytes()).err().map(|e| e.code),
            Some(ErrorCode::CredentialInvalid),
            "another node's credential"
        );
        assert_eq!(
            key.sign_blinded(b"short").err().map(|e| e.code),
            Some(ErrorCode::InvalidRequest)
        );
    }
}
