//! Read payments on shared nodes with unlinkable tokens (RFC 9474 blind RSA, see
//! [`crate::tokens`]). A payer key buys a batch of tokens with one Transfer to the node's
//! operator, signs which blinded messages that payment buys, and keeps the finalized
//! tokens in a [`TokenPocket`] (the wallet store when the client has one); each address
//! read (a get or a range page) spends one fresh token, and a token is never sent twice.
//!
//! A token names neither the payer nor the batch it came from: the node that signed the
//! blinded messages cannot tell which of them a token is, and the tokens of one batch
//! share no bytes but the node's key id.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use bitcoin::secp256k1::SecretKey;

use super::error::{LightError, LightResult};
use crate::store::{StoredToken, WalletStore};
use crate::tokens::{IssuerPublicKey, KeyId, Token};

/// The Transfer paying for a batch of blind-signed tokens or fee stamps: `amount` to
/// `to` (the operator, or the stamp escrow), signed by `payer` with `nonce` under the
/// chain's fee schedule (`builder`).
pub(crate) fn purchase_payment(
    builder: &crate::protocol::TxBuilder,
    payer: &SecretKey,
    nonce: u64,
    to: String,
    amount: u64,
) -> LightResult<crate::protocol::SignedTransaction> {
    let body = crate::protocol::TxBody::Transfer(crate::protocol::Transfer { to, amount });
    Ok(builder.sign(payer, nonce, body)?)
}

/// The payer's signature over an issue request: the payment `tx_id`, the issuer's
/// `key_id` and exactly the `blinded` messages to sign.
pub(crate) fn issue_request_signature(
    payer: &SecretKey,
    tx_id: &[u8; 32],
    key_id: &[u8; 32],
    blinded: &[&[u8]],
) -> [u8; 64] {
    let digest =
        crate::protocol::token_issue_digest(tx_id, key_id, &crate::tokens::batch_digest(blinded));
    crate::protocol::signing::sign_digest(payer, &digest).serialize_compact()
}

/// The key that pays for reads and how many tokens each purchase buys.
#[derive(Clone)]
pub struct ReadPayer {
    /// The paying account's key.
    pub secret: SecretKey,
    /// Tokens per purchase (one address read each).
    pub batch: u64,
}

impl ReadPayer {
    /// Below this many held tokens a read first buys a new batch: a purchase waits for
    /// its block, so it is done before the pocket runs dry in the middle of a read.
    pub fn low_water(&self) -> u64 {
        (self.batch / 8).max(1)
    }
}

impl fmt::Debug for ReadPayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadPayer")
            .field("secret", &"<redacted>")
            .field("batch", &self.batch)
            .finish()
    }
}

impl Drop for ReadPayer {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

/// A node's token issuer key and a token's price there.
#[derive(Debug, Clone)]
pub struct NodeTokenKey {
    /// The issuer's public key.
    pub key: IssuerPublicKey,
    /// Amount a payment transfers per token (0: reads are free there).
    pub price: u64,
    /// Most tokens one payment buys.
    pub max_batch: u64,
}

/// Tokens taken out of the store at once: one durable commit serves this many reads.
pub const TOKENS_IN_HAND: u32 = 16;

/// Unspent tokens by issuer key: in the wallet store when there is one (they survive a
/// restart), in memory otherwise. Taking a token removes it: it is never used twice,
/// not even for a retry of the same read (a retry spends a fresh token). With a store,
/// tokens are taken out [`TOKENS_IN_HAND`] at a time (durably, before any is sent) and
/// handed out from memory; those still in hand go back to the store when the pocket is
/// dropped, and are lost (never reused) if the app dies first.
#[derive(Debug)]
pub struct TokenPocket {
    store: Option<Arc<Mutex<WalletStore>>>,
    /// Without a store, every token; with one, the tokens in hand.
    memory: Mutex<HashMap<KeyId, Vec<Token>>>,
}

impl Drop for TokenPocket {
    fn drop(&mut self) {
        let Some(store) = &self.store else {
            return;
        };
        let Ok(memory) = self.memory.get_mut() else {
            return;
        };
        let rows: Vec<StoredToken> = memory
            .drain()
            .flat_map(|(_, tokens)| tokens)
            .map(|t| stored(&t))
            .collect();
        if !rows.is_empty()
            && let Ok(store) = store.lock()
        {
            // Best effort: a failed write loses these tokens, it never reuses one.
            let _ = store.add_read_tokens(&rows);
        }
    }
}

fn stored(token: &Token) -> StoredToken {
    StoredToken {
        token_id: token.token_id().to_vec(),
        key_id: token.key_id.0.to_vec(),
        token: token.to_bytes(),
    }
}

fn poisoned() -> LightError {
    LightError::InvalidInput("a token pocket lock is poisoned".into())
}

impl TokenPocket {
    /// A pocket in `store`, or in memory when `None`.
    pub fn new(store: Option<Arc<Mutex<WalletStore>>>) -> Self {
        TokenPocket {
            store,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `tokens`.
    pub fn add(&self, tokens: Vec<Token>) -> LightResult<()> {
        match &self.store {
            Some(store) => {
                let rows: Vec<StoredToken> = tokens
                    .iter()
                    .map(|t| StoredToken {
                        token_id: t.token_id().to_vec(),
                        key_id: t.key_id.0.to_vec(),
                        token: t.to_bytes(),
                    })
                    .collect();
                store
                    .lock()
                    .map_err(|_| poisoned())?
                    .add_read_tokens(&rows)?;
            }
            None => {
                let mut memory = self.memory.lock().map_err(|_| poisoned())?;
                for token in tokens {
                    memory.entry(token.key_id).or_default().push(token);
                }
            }
        }
        Ok(())
    }

    /// Takes one token of `key_id` out of the pocket.
    pub fn take(&self, key_id: KeyId) -> LightResult<Option<Token>> {
        let mut memory = self.memory.lock().map_err(|_| poisoned())?;
        let hand = memory.entry(key_id).or_default();
        if hand.is_empty()
            && let Some(store) = &self.store
        {
            let rows = store
                .lock()
                .map_err(|_| poisoned())?
                .take_read_tokens(&key_id.0, TOKENS_IN_HAND)?;
            // A row that no longer decodes is dropped (it was taken).
            hand.extend(
                rows.iter()
                    .filter_map(|row| Token::from_bytes(&row.token).ok()),
            );
        }
        Ok(hand.pop())
    }

    /// How many tokens of `key_id` the pocket holds (in the store and in hand).
    pub fn count(&self, key_id: KeyId) -> LightResult<u64> {
        let in_hand = self
            .memory
            .lock()
            .map_err(|_| poisoned())?
            .get(&key_id)
            .map_or(0, |t| t.len() as u64);
        let stored = match &self.store {
            Some(store) => store
                .lock()
                .map_err(|_| poisoned())?
                .read_token_count(&key_id.0)?,
            None => 0,
        };
        Ok(in_hand + stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InMemorySecretStore;
    use crate::tokens::IssuerKeyPair;

    #[test]
    fn the_payer_key_never_shows_in_debug() {
        let secret = SecretKey::from_slice(&[0x42; 32]).unwrap();
        let payer = ReadPayer { secret, batch: 50 };
        let shown = format!("{payer:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("4242"));
        assert_eq!(payer.low_water(), 6);
        let small = ReadPayer { secret, batch: 4 };
        assert_eq!(small.low_water(), 1);
    }

    fn tokens(issuer: &IssuerKeyPair, count: usize) -> Vec<Token> {
        let pending = issuer.public().blind(count).unwrap();
        pending
            .iter()
            .map(|p| {
                let signed = issuer.blind_sign(p.blinded_message()).unwrap();
                issuer.public().finalize(p, &signed).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_pocket_hands_each_token_out_once_in_memory_and_in_the_store() {
        let issuer = IssuerKeyPair::generate().unwrap();
        let key_id = issuer.public().key_id();
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        for pocket in [
            TokenPocket::new(None),
            TokenPocket::new(Some(Arc::new(Mutex::new(store)))),
        ] {
            let batch = tokens(&issuer, 3);
            pocket.add(batch.clone()).unwrap();
            assert_eq!(pocket.count(key_id).unwrap(), 3);
            assert_eq!(pocket.count(KeyId([0; 32])).unwrap(), 0);
            let mut taken = Vec::new();
            while let Some(token) = pocket.take(key_id).unwrap() {
                issuer.public().verify(&token).unwrap();
                taken.push(token.token_id());
            }
            taken.sort();
            let mut expected: Vec<[u8; 32]> = batch.iter().map(Token::token_id).collect();
            expected.sort();
            assert_eq!(taken, expected);
            assert_eq!(pocket.count(key_id).unwrap(), 0);
        }
    }

    #[test]
    fn tokens_in_hand_go_back_to_the_store_when_the_pocket_is_dropped() {
        let issuer = IssuerKeyPair::generate().unwrap();
        let key_id = issuer.public().key_id();
        let store = Arc::new(Mutex::new(
            WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap(),
        ));
        let pocket = TokenPocket::new(Some(Arc::clone(&store)));
        pocket.add(tokens(&issuer, 20)).unwrap();
        let first = pocket.take(key_id).unwrap().unwrap();
        // One durable take moved a hand's worth out of the store.
        let held = store.lock().unwrap().read_token_count(&key_id.0).unwrap();
        assert_eq!(held, 20 - u64::from(TOKENS_IN_HAND));
        assert_eq!(pocket.count(key_id).unwrap(), 19);
        drop(pocket);
        let again = TokenPocket::new(Some(Arc::clone(&store)));
        assert_eq!(again.count(key_id).unwrap(), 19);
        let mut seen = std::collections::BTreeSet::new();
        while let Some(token) = again.take(key_id).unwrap() {
            assert_ne!(
                token.token_id(),
                first.token_id(),
                "a spent token came back"
            );
            assert!(seen.insert(token.token_id()));
        }
        assert_eq!(seen.len(), 19);
    }
}
