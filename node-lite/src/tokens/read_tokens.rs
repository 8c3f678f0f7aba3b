//! Read payments of a shared node, with unlinkable tokens: a payer's committed Transfer
//! to the operator buys `amount / read_per_address` tokens, which the node blind-signs
//! (RFC 9474) once per payment; each address read (a get or one range page) spends one
//! token. Two tables in `tokens.sqlite` (WAL, `synchronous = FULL`, so a commit is on
//! disk before the answer leaves):
//!
//! - `token_payments`: each payment's issue request digest. A retried identical request
//!   gets the same signatures again (blind RSA signing is deterministic); any other
//!   request on that payment is refused.
//! - `spent_tokens`: the id of every spent token. A token is spent, durably, before the
//!   value it pays for is served; a second spend is refused.

use std::path::Path;
use std::sync::Mutex;

use carchain_core::protocol::signing::{signature_from_compact, verify_digest};
use carchain_core::protocol::token_issue_digest;
use carchain_core::tokens::{IssuerKeyPair, IssuerPublicKey, MAX_BATCH, Token, batch_digest};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::service::{ErrorCode, IssueRequest, ServiceError};

/// File name of the token tables in the data directory.
pub const TOKENS_FILE: &str = "tokens.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spent_tokens (
    token_id BLOB PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS token_payments (
    payment BLOB PRIMARY KEY,
    request BLOB NOT NULL,
    tokens INTEGER NOT NULL
) WITHOUT ROWID;
";

/// What a payment is: who signed it and how many tokens it bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentTerms {
    /// The payer's public key (the Transfer's signer).
    pub payer: bitcoin::secp256k1::PublicKey,
    /// Tokens bought.
    pub tokens: u64,
}

/// The issuer key and the payment and spent-token tables.
pub struct ReadTokens {
    issuer: IssuerKeyPair,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for ReadTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTokens")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, format!("read tokens: {err}"))
}

fn refused(code: ErrorCode, message: impl Into<String>) -> ServiceError {
    ServiceError::new(code, message)
}

impl ReadTokens {
    /// Opens (creating if needed) the token tables at `path`, issuing under `issuer`.
    pub fn open(path: &Path, issuer: IssuerKeyPair) -> Result<Self, rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            issuer,
            connection: Mutex::new(connection),
        })
    }

    /// The public key clients blind their tokens for.
    pub fn public(&self) -> &IssuerPublicKey {
        self.issuer.public()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, ServiceError> {
        self.connection
            .lock()
            .map_err(|_| internal("lock poisoned"))
    }

    /// Blind-signs `request`'s messages. `terms` is asked what the payment is (it refuses
    /// anything that is not a committed Transfer to the operator). The payer's signature
    /// must cover this payment, this key and exactly these messages, and their number
    /// must be what the payment bought. A payment issues once: the identical request
    /// again gets the same signatures, any other is `payment_used`.
    pub fn issue(
        &self,
        request: &IssueRequest,
        terms: impl FnOnce(&[u8; 32]) -> Result<PaymentTerms, ServiceError>,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let count = request.blinded.len();
        if count == 0 || count > MAX_BATCH {
            return Err(refused(
                ErrorCode::InvalidRequest,
                format!("a token request holds 1 to {MAX_BATCH} blinded messages, not {count}"),
            ));
        }
        let terms = terms(&request.payment)?;
        let key_id = self.public().key_id();
        let digest =
            token_issue_digest(&request.payment, &key_id.0, &batch_digest(&request.blinded));
        let compact: [u8; 64] = request.signature.as_slice().try_into().map_err(|_| {
            refused(
                ErrorCode::BadSignature,
                "the payer signature is not 64 bytes",
            )
        })?;
        let signature = signature_from_compact(&compact)
            .map_err(|_| refused(ErrorCode::BadSignature, "the payer signature is malformed"))?;
        verify_digest(&terms.payer, &digest, &signature, "token issue").map_err(|_| {
            refused(
                ErrorCode::BadSignature,
                "the request is not signed by the payment's payer",
            )
        })?;
        if terms.tokens != count as u64 {
            return Err(refused(
                ErrorCode::InvalidRequest,
                format!(
                    "the payment bought {} token(s), the request asks for {count}",
                    terms.tokens
                ),
            ));
        }
        // Sign first: a bad message refuses the request before the payment is recorded.
        let signatures = self
            .issuer
            .blind_sign_batch(&request.blinded)
            .map_err(|err| {
                refused(
                    ErrorCode::InvalidRequest,
                    format!("blinded messages: {err}"),
                )
            })?;
        let mut connection = self.lock()?;
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        let recorded: Option<Vec<u8>> = tx
            .query_row(
                "SELECT request FROM token_payments WHERE payment = ?1",
                [request.payment.as_slice()],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)?;
        match recorded {
            Some(recorded) if recorded == digest => {}
            Some(_) => {
                return Err(refused(
                    ErrorCode::PaymentUsed,
                    "this payment already bought other tokens",
                ));
            }
            None => {
                tx.execute(
                    "INSERT INTO token_payments (payment, request, tokens) VALUES (?1, ?2, ?3)",
                    params![request.payment.as_slice(), digest.as_slice(), count as i64],
                )
                .map_err(internal)?;
            }
        }
        tx.commit().map_err(internal)?;
        Ok(signatures)
    }

    /// Decodes and verifies a token sent with a read (not yet spent).
    pub fn check(&self, bytes: &[u8]) -> Result<Token, ServiceError> {
        let token = Token::from_bytes(bytes)
            .map_err(|err| refused(ErrorCode::TokenMalformed, err.to_string()))?;
        self.public().verify(&token).map_err(|err| {
            let code = match err {
                carchain_core::tokens::TokenError::WrongKey => ErrorCode::TokenWrongKey,
                carchain_core::tokens::TokenError::Malformed(_) => ErrorCode::TokenMalformed,
                _ => ErrorCode::TokenInvalid,
            };
            refused(code, err.to_string())
        })?;
        Ok(token)
    }

    /// Spends a checked token, durably; `token_spent` when it was spent before.
    pub fn spend(&self, token: &Token) -> Result<(), ServiceError> {
        let connection = self.lock()?;
        let inserted = connection
            .execute(
                "INSERT OR IGNORE INTO spent_tokens (token_id) VALUES (?1)",
                [token.token_id().as_slice()],
            )
            .map_err(internal)?;
        if inserted == 0 {
            return Err(refused(
                ErrorCode::TokenSpent,
                "this token was spent already",
            ));
        }
        Ok(())
    }

    /// How many tokens were spent (for operators and tests).
    pub fn spent_count(&self) -> Result<u64, ServiceError> {
        let count: i64 = self
            .lock()?
            .query_row("SELECT COUNT(*) FROM spent_tokens", [], |row| row.get(0))
            .map_err(internal)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;
