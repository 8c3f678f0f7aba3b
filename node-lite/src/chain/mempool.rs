//! The bounded mempool: admitted transactions waiting for a block, each with the
//! submitter's optional waiter, told the block position or the refusal once the block
//! is committed.

use std::collections::VecDeque;

use carchain_core::protocol::SignedTransaction;
use tokio::sync::oneshot;

use crate::service::ServiceError;
use crate::state::Derived;

/// Where a committed transaction landed: `(height, index)`.
pub type Landing = Result<(u64, u32), ServiceError>;

/// An admitted transaction and who waits for its commit.
#[derive(Debug)]
pub struct Pending {
    /// The transaction.
    pub tx: SignedTransaction,
    /// Told the outcome after the block commits.
    pub waiter: Option<oneshot::Sender<Landing>>,
    /// The id and signer address derived when it was admitted, so that the block does
    /// not derive them again (`None`: the block derives them).
    pub derived: Option<Derived>,
}

/// A first-in first-out queue holding at most `capacity` transactions.
#[derive(Debug)]
pub struct Mempool {
    queue: VecDeque<Pending>,
    capacity: usize,
}

impl Mempool {
    /// An empty mempool for at most `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            capacity,
        }
    }

    /// Whether another transaction fits.
    pub fn has_room(&self) -> bool {
        self.queue.len() < self.capacity
    }

    /// How many more transactions fit.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.queue.len())
    }

    /// Queues an admitted transaction; gives it back when full.
    pub fn push(&mut self, pending: Pending) -> Result<(), Box<Pending>> {
        if !self.has_room() {
            return Err(Box::new(pending));
        }
        self.queue.push_back(pending);
        Ok(())
    }

    /// Takes up to `count` transactions, oldest first.
    pub fn take(&mut self, count: usize) -> Vec<Pending> {
        let count = count.min(self.queue.len());
        self.queue.drain(..count).collect()
    }

    /// Takes everything (shutdown).
    pub fn drain(&mut self) -> Vec<Pending> {
        self.queue.drain(..).collect()
    }

    /// The waiting transactions, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &SignedTransaction> {
        self.queue.iter().map(|pending| &pending.tx)
    }

    /// Number of waiting transactions.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{sign, transfer};

    #[test]
    fn mempool_is_bounded_and_first_in_first_out() {
        let mut pool = Mempool::new(2);
        for nonce in 0..2 {
            let pending = Pending {
                tx: sign(1, nonce, 10, transfer(2, 1)),
                waiter: None,
                derived: None,
            };
            assert!(pool.push(pending).is_ok());
        }
        let refused = pool.push(Pending {
            tx: sign(1, 2, 10, transfer(2, 1)),
            waiter: None,
            derived: None,
        });
        assert_eq!(refused.err().map(|p| p.tx.tx.nonce), Some(2));
        assert_eq!(pool.room(), 0);
        let taken = pool.take(1);
        assert_eq!(
            taken.iter().map(|p| p.tx.tx.nonce).collect::<Vec<_>>(),
            vec![0]
        );
        assert_eq!(
            pool.transactions().map(|t| t.tx.nonce).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(pool.room(), 1);
        assert_eq!(pool.take(10).len(), 1);
        assert!(pool.is_empty());
    }
}
