//! One signer's transactions in nonce order, several to a block: a signer's submissions
//! take turns (one at a time picks its nonce and has the node admit it), but once the
//! node admitted one the next may follow without waiting for its block, with the next
//! nonce. The node keeps each signer's pending nonces, so a wallet pairing many cars at
//! once puts many of its own transactions into one block instead of one per block.
//!
//! The cursor only guesses ahead of the ledger: a node that lost its mempool (a restart)
//! refuses the guess, and the turn starts again from the committed nonce.

use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

use super::client::LightClient;
use super::error::{LightError, LightResult};
use super::types::Receipt;
use crate::protocol::SignedTransaction;
use crate::protocol::api::ErrorCode;

/// Longest wait for the block of an admitted transaction (the node's own wait for a
/// submission is ten block times plus 30 s).
pub const COMMIT_PATIENCE: Duration = Duration::from_secs(60);
/// First and longest pause between two looks for an admitted transaction's block (a
/// block is some 200 ms; many transactions wait at once when a wallet pairs a fleet).
const FIRST_LOOK: Duration = Duration::from_millis(25);
const LONGEST_LOOK: Duration = Duration::from_millis(200);
/// How long an admitted transaction may stay uncommitted before it is offered to the node
/// again: a block that refused it (its check passed at admission but not in the block)
/// left no trace, and the node answers the offer with the reason it refuses it now, or
/// `replay` while it still holds it or committed it.
const OFFER_AGAIN: Duration = Duration::from_secs(2);

/// The nonce after a signer's last admitted transaction, while its block may be pending.
#[derive(Debug, Default)]
pub(crate) struct NonceCursor {
    next: Option<u64>,
}

/// A signer's turn: held while one transaction picks its nonce and is admitted.
pub(crate) struct SignerTurn {
    cursor: OwnedMutexGuard<NonceCursor>,
    committed: u64,
}

impl SignerTurn {
    /// Waits for `address`'s turn; reads its committed nonce (proven) unless the turn
    /// follows an admitted one, whose next nonce it guesses without a read (the node
    /// refuses a wrong guess, and the caller starts again from the ledger).
    pub(crate) async fn take(light: &LightClient, address: &str) -> LightResult<Self> {
        let mut turn = Self::wait(light, address).await;
        if turn.cursor.next.is_none() {
            turn.set_committed(light.account(address).await?.nonce);
        }
        Ok(turn)
    }

    /// Waits for `address`'s turn; the caller reads the committed nonce
    /// ([`SignerTurn::set_committed`]).
    pub(crate) async fn wait(light: &LightClient, address: &str) -> Self {
        let cursor = light.signer_lock(address).lock_owned().await;
        SignerTurn {
            cursor,
            committed: 0,
        }
    }

    /// The signer's nonce as the ledger has it.
    pub(crate) fn set_committed(&mut self, committed: u64) {
        self.committed = committed;
    }

    /// The nonce to sign with: the committed one, or past the still pending ones.
    pub(crate) fn nonce(&self) -> u64 {
        self.cursor
            .next
            .map_or(self.committed, |next| next.max(self.committed))
    }

    /// Whether [`SignerTurn::nonce`] is a guess past the signer's pending transactions
    /// rather than the ledger's nonce.
    pub(crate) fn guessed(&self) -> bool {
        self.cursor.next.is_some_and(|next| next > self.committed)
    }

    /// The node admitted `nonce`: the next transaction takes the one after.
    pub(crate) fn admitted(mut self, nonce: u64) {
        self.cursor.next = Some(nonce.saturating_add(1));
    }

    /// The node refused or did not answer: the next turn starts from the ledger.
    pub(crate) fn refused(mut self) {
        self.cursor.next = None;
    }

    /// Records the node's `answer` to the transaction signed with `nonce` (admitted or
    /// refused) and passes it on.
    pub(crate) fn answered<T>(self, nonce: u64, answer: LightResult<T>) -> LightResult<T> {
        match &answer {
            Ok(_) => self.admitted(nonce),
            Err(_) => self.refused(),
        }
        answer
    }
}

impl LightClient {
    /// Waits until a block commits `signed` (admitted by a node), looking it up by id;
    /// its receipt with the committing height. A transaction a block refused is refused
    /// with the node's reason (found by offering it again after [`OFFER_AGAIN`]). Gives
    /// up after [`COMMIT_PATIENCE`] with the node code `timeout` (it may still commit).
    pub(crate) async fn await_commit(&self, signed: &SignedTransaction) -> LightResult<Receipt> {
        let tx_id = signed.id();
        let deadline = tokio::time::Instant::now() + COMMIT_PATIENCE;
        let mut offer_again = tokio::time::Instant::now() + OFFER_AGAIN;
        let mut pause = FIRST_LOOK;
        loop {
            match self.committed_height(&tx_id).await {
                Ok(Some(height)) => {
                    return Ok(Receipt {
                        tx_id,
                        height: Some(height),
                    });
                }
                Ok(None) => {}
                Err(e) if e.is_failover() => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() >= offer_again {
                offer_again = tokio::time::Instant::now() + OFFER_AGAIN;
                match self.submit(signed, false).await {
                    // Held, or committed since the look: keep looking, unless the
                    // ledger's nonce moved past it without it (another transaction of
                    // the signer took its nonce after a block refused it).
                    Err(LightError::Node { code, .. }) if code == ErrorCode::Replay.as_str() => {
                        if self.nonce_taken(signed, &tx_id).await? {
                            return Err(nonce_taken());
                        }
                    }
                    Err(e) if e.is_failover() => {}
                    Err(e) => return Err(e),
                    // The node had dropped it and took it again.
                    Ok(_) => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LightError::Node {
                    code: "timeout".into(),
                    message: "no block committed the transaction in time; it may still commit"
                        .into(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_LOOK);
        }
    }
}

/// The refusal of a transaction a block refused and whose nonce another transaction of
/// its signer took since: it can never commit.
pub(crate) fn nonce_taken() -> LightError {
    LightError::Node {
        code: NONCE_TAKEN.into(),
        message: "a block refused the transaction and another transaction of the signer \
                  took its nonce; it will never commit"
            .into(),
    }
}

/// The code of [`nonce_taken`]: the node's own code for a nonce already used.
pub const NONCE_TAKEN: &str = "replay";

impl LightClient {
    /// Whether `signed` can no longer commit: the signer's proven nonce is past it and no
    /// block committed it (looked up after the nonce read, so a commit of `signed`
    /// itself up to that header is seen).
    async fn nonce_taken(&self, signed: &SignedTransaction, tx_id: &[u8; 32]) -> LightResult<bool> {
        let address =
            crate::protocol::signing::p2wpkh_address(&signed.tx.signer, signed.tx.network);
        let committed = match self.account(&address).await {
            Ok(account) => account.nonce,
            Err(e) if e.is_failover() => return Ok(false),
            Err(e) => return Err(e),
        };
        if committed <= signed.tx.nonce {
            return Ok(false);
        }
        match self.committed_height(tx_id).await {
            Ok(None) => Ok(true),
            Ok(Some(_)) => Ok(false),
            Err(e) if e.is_failover() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    async fn turn(lock: &Arc<tokio::sync::Mutex<NonceCursor>>, committed: u64) -> SignerTurn {
        SignerTurn {
            cursor: Arc::clone(lock).lock_owned().await,
            committed,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn turns_run_ahead_of_the_ledger_never_behind_it_and_restart_from_it() {
        let lock = Arc::new(tokio::sync::Mutex::new(NonceCursor::default()));
        let first = turn(&lock, 5).await;
        assert_eq!((first.nonce(), first.guessed()), (5, false));
        first.admitted(5);
        let second = turn(&lock, 5).await;
        assert_eq!(
            (second.nonce(), second.guessed()),
            (6, true),
            "5 is pending: the next takes 6 without waiting for its block"
        );
        second.admitted(6);
        let third = turn(&lock, 9).await;
        assert_eq!(third.nonce(), 9, "the ledger moved past the guess");
        third.refused();
        let fourth = turn(&lock, 5).await;
        assert_eq!(
            (fourth.nonce(), fourth.guessed()),
            (5, false),
            "after a refusal the ledger's nonce again"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_turn_at_a_time() {
        let lock = Arc::new(tokio::sync::Mutex::new(NonceCursor::default()));
        let held = turn(&lock, 0).await;
        assert!(Arc::clone(&lock).try_lock_owned().is_err());
        held.admitted(0);
        assert!(Arc::clone(&lock).try_lock_owned().is_ok());
    }
}
