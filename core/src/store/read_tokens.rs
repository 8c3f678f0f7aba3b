//! Unspent read tokens, by issuer key id: added after a purchase, taken (and so deleted)
//! for reads (a few at a time, one durable commit). Taking is one `DELETE ... RETURNING`
//! statement, so a token is handed out once even to concurrent readers. Tokens are kept
//! as their canonical bytes; the store does not decode them.

use rusqlite::{Row, Transaction, params};

use super::error::StoreResult;
use super::rows::from_columns;
use super::validate;
use super::wallet_store::WalletStore;

/// A token as the store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's id (its spent-table key at the node).
    pub token_id: Vec<u8>,
    /// The issuer key it was signed under.
    pub key_id: Vec<u8>,
    /// Its canonical bytes.
    pub token: Vec<u8>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("key_id", &hex::encode(&self.key_id))
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// [`WalletStore::add_read_tokens`] inside the caller's transaction.
pub(super) fn add_read_tokens_in(tx: &Transaction<'_>, tokens: &[StoredToken]) -> StoreResult<()> {
    for token in tokens {
        validate::non_empty_bytes("token_id", &token.token_id)?;
        validate::non_empty_bytes("key_id", &token.key_id)?;
        validate::non_empty_bytes("token", &token.token)?;
    }
    for token in tokens {
        tx.execute(
            "INSERT OR IGNORE INTO read_tokens (token_id, key_id, token) VALUES (?1, ?2, ?3)",
            params![token.token_id, token.key_id, token.token],
        )?;
    }
    Ok(())
}

impl WalletStore {
    /// Adds unspent tokens in one transaction (a token already held is kept once).
    pub fn add_read_tokens(&self, tokens: &[StoredToken]) -> StoreResult<()> {
        self.write(|tx| add_read_tokens_in(tx, tokens))
    }

    /// Every unspent token held, of every issuer key (for a backup).
    pub fn all_read_tokens(&self) -> StoreResult<Vec<StoredToken>> {
        self.read(|conn| {
            let mut statement =
                conn.prepare("SELECT token_id, key_id, token FROM read_tokens ORDER BY token_id")?;
            let rows = statement.query_map([], stored_token)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Takes one unspent token of `key_id` out of the store, if any.
    pub fn take_read_token(&self, key_id: &[u8]) -> StoreResult<Option<StoredToken>> {
        Ok(self.take_read_tokens(key_id, 1)?.pop())
    }

    /// Takes up to `count` unspent tokens of `key_id` out of the store in one durable
    /// transaction (a reader about to read several addresses pays one commit).
    pub fn take_read_tokens(&self, key_id: &[u8], count: u32) -> StoreResult<Vec<StoredToken>> {
        self.write(|tx| {
            let mut statement = tx.prepare(
                "DELETE FROM read_tokens WHERE token_id IN
                     (SELECT token_id FROM read_tokens WHERE key_id = ?1 LIMIT ?2)
                 RETURNING token_id, key_id, token",
            )?;
            let rows = statement.query_map(params![key_id, count], stored_token)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// How many unspent tokens of `key_id` the store holds.
    pub fn read_token_count(&self, key_id: &[u8]) -> StoreResult<u64> {
        self.read(|conn| {
            let count: i64 = conn.query_row(
                "SELECT COUNT(*) FROM read_tokens WHERE key_id = ?1",
                [key_id],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }
}

/// A token from a row of `(token_id, key_id, token)`.
fn stored_token(row: &Row<'_>) -> rusqlite::Result<StoredToken> {
    Ok(from_columns!(
        row,
        StoredToken {
            token_id,
            key_id,
            token,
        }
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::InMemorySecretStore;

    fn token(id: u8, key: u8) -> StoredToken {
        StoredToken {
            token_id: vec![id; 32],
            key_id: vec![key; 32],
            token: vec![id ^ key; 100],
        }
    }

    #[test]
    fn tokens_are_taken_once_per_key() {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        store
            .add_read_tokens(&[token(1, 7), token(2, 7), token(3, 8), token(1, 7)])
            .unwrap();
        assert_eq!(store.read_token_count(&[7; 32]).unwrap(), 2);
        assert_eq!(store.read_token_count(&[8; 32]).unwrap(), 1);
        let mut taken = vec![
            store.take_read_token(&[7; 32]).unwrap().unwrap(),
            store.take_read_token(&[7; 32]).unwrap().unwrap(),
        ];
        taken.sort_by(|a, b| a.token_id.cmp(&b.token_id));
        assert_eq!(taken, vec![token(1, 7), token(2, 7)]);
        assert_eq!(store.take_read_token(&[7; 32]).unwrap(), None);
        store.add_read_tokens(&[token(5, 8), token(6, 8)]).unwrap();
        assert_eq!(store.take_read_tokens(&[8; 32], 2).unwrap().len(), 2);
        assert_eq!(store.take_read_tokens(&[8; 32], 5).unwrap().len(), 1);
        assert!(store.take_read_tokens(&[8; 32], 5).unwrap().is_empty());
        assert_eq!(store.read_token_count(&[8; 32]).unwrap(), 0);
        assert!(
            store
                .add_read_tokens(&[StoredToken {
                    token: Vec::new(),
                    ..token(4, 7)
                }])
                .is_err()
        );
        assert!(!format!("{:?}", token(5, 7)).contains(&hex::encode([5 ^ 7; 10])));
    }
}
