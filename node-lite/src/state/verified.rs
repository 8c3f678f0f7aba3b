//! Stateless checks (chain, network, signatures, address forms) done once per
//! transaction, outside the ledger lock.
//!
//! [`Prechecked`] is a transaction whose stateless checks passed, built only by
//! [`Prechecked::check`]; the admission path runs it on any core before taking the ledger
//! lock. [`VerifiedTxs`] remembers (bounded, oldest forgotten first) the ids of admitted
//! transactions so that delivering them in a block does not verify their signatures a
//! second time. That is safe because a transaction id is the hash of its whole canonical
//! encoding, signature included: the same id is the same signed bytes.

use std::collections::{HashSet, VecDeque};

use carchain_core::protocol::SignedTransaction;

use super::error::TxError;
use super::rules::ChainParams;

/// Ids remembered by default: well above one block's transactions.
pub const DEFAULT_VERIFIED_CAPACITY: usize = 65_536;

/// A transaction whose stateless checks passed for one chain id and network.
#[derive(Debug, Clone)]
pub struct Prechecked {
    tx: SignedTransaction,
    id: [u8; 32],
    signer: String,
    chain_id: String,
    network: carchain_core::protocol::Network,
}

impl Prechecked {
    /// Runs the stateless checks of `tx` against `params` (no state is read).
    pub fn check(params: &ChainParams, tx: SignedTransaction) -> Result<Self, TxError> {
        let signer = tx
            .check_stateless_signer(&params.chain_id, params.network)
            .map_err(TxError::from_protocol)?;
        Ok(Prechecked {
            id: tx.id(),
            signer,
            tx,
            chain_id: params.chain_id.clone(),
            network: params.network,
        })
    }

    /// A transaction whose exact bytes passed [`Prechecked::check`] against `params` on
    /// this node before (the engine's recheck of its mempool, or a transaction this node
    /// checked on its API and now sees in its own CheckTx): the stateless checks are a
    /// function of those bytes and the chain's parameters alone, so they are not run
    /// again; only the id and the signer's address are derived.
    pub(crate) fn checked_before(params: &ChainParams, tx: SignedTransaction) -> Self {
        Prechecked {
            id: tx.id(),
            signer: tx.tx.signer_address(),
            tx,
            chain_id: params.chain_id.clone(),
            network: params.network,
        }
    }

    /// Whether the checks were made for `params`' chain.
    pub(crate) fn is_for(&self, params: &ChainParams) -> bool {
        self.chain_id == params.chain_id && self.network == params.network
    }

    /// The transaction.
    pub fn tx(&self) -> &SignedTransaction {
        &self.tx
    }

    /// The transaction id.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// The id and signer address, derived once here.
    pub fn derived(&self) -> super::rules::Derived {
        super::rules::Derived {
            id: self.id,
            signer: self.signer.clone(),
        }
    }

    /// Gives the transaction back with its id and signer address.
    pub fn into_parts(self) -> (SignedTransaction, super::rules::Derived) {
        let derived = super::rules::Derived {
            id: self.id,
            signer: self.signer,
        };
        (self.tx, derived)
    }
}

/// A bounded set of transaction ids whose stateless checks passed.
#[derive(Debug)]
pub struct VerifiedTxs {
    ids: HashSet<[u8; 32]>,
    /// Insertion order for eviction; may still hold ids already taken.
    order: VecDeque<[u8; 32]>,
    capacity: usize,
}

impl VerifiedTxs {
    /// An empty set holding at most `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `id`, forgetting the oldest ids beyond the capacity.
    pub fn insert(&mut self, id: [u8; 32]) {
        if !self.ids.insert(id) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
    }

    /// Whether `id` is remembered.
    pub fn contains(&self, id: &[u8; 32]) -> bool {
        self.ids.contains(id)
    }

    /// Forgets `id`; returns whether it was remembered. (Its slot in the eviction order
    /// is reclaimed when it comes up: forgetting costs O(1).)
    pub fn take(&mut self, id: &[u8; 32]) -> bool {
        self.ids.remove(id)
    }

    /// Number of remembered ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> [u8; 32] {
        [byte; 32]
    }

    #[test]
    fn remembers_up_to_capacity_forgetting_the_oldest() {
        let mut set = VerifiedTxs::new(2);
        set.insert(id(1));
        set.insert(id(2));
        set.insert(id(1));
        assert_eq!(set.len(), 2);
        set.insert(id(3));
        assert!(!set.contains(&id(1)));
        assert!(set.contains(&id(2)));
        assert!(set.contains(&id(3)));
        assert!(set.take(&id(2)));
        assert!(!set.take(&id(2)));
        assert_eq!(set.len(), 1);
        set.insert(id(4));
        set.insert(id(5));
        assert!(!set.contains(&id(3)));
        assert!(set.contains(&id(4)) && set.contains(&id(5)));
        assert!(set.len() <= 2);
    }

    #[test]
    fn zero_capacity_still_holds_one() {
        let mut set = VerifiedTxs::new(0);
        set.insert(id(7));
        assert!(set.contains(&id(7)));
        set.insert(id(8));
        assert!(!set.contains(&id(7)));
        assert!(!set.is_empty());
    }
}
