//! Batch record puts (`POST /v1/records`, what a car's offline queue sends): every item's
//! value is checked against its registration's cHash and its signatures verified before
//! the ledger lock is taken, all registrations are admitted under one lock, and once
//! their blocks are committed every value is stored in one KV transaction.

use super::producer;
use super::*;
use crate::kv::{KvError, KvPut};
use crate::service::{RecordItem, RecordReceipt};
use carchain_core::protocol::RecordPut;

/// Most items one batch may carry.
pub const MAX_BATCH_ITEMS: usize = 2_000;

/// Where one batch item stands between the phases.
enum Slot {
    /// Refused (or failed) for good.
    Done(Result<RecordReceipt, ServiceError>),
    /// Refused admission: answered `err` unless the transaction is already committed.
    Refused { tx_id: [u8; 32], err: ServiceError },
    /// Admitted: waits for its block.
    Waiting {
        tx_id: [u8; 32],
        landing: oneshot::Receiver<crate::chain::Landing>,
    },
    /// Its registration is committed: the value is to be stored.
    Landed {
        tx_id: [u8; 32],
        height: u64,
        index: u32,
        /// Committed while this batch waited for it (not a retry of a committed one).
        fresh: bool,
    },
}

/// One item between the phases: its slot, its value and where the value goes.
struct Entry {
    slot: Slot,
    value: Vec<u8>,
    /// `(address, key)` of a record put; `None` for an item refused before that is known.
    target: Option<(String, Vec<u8>)>,
    /// The write credential to count the stored value against (private mode).
    counted: super::writers::Counted,
}

impl Entry {
    fn refused(err: ServiceError) -> Self {
        Entry {
            slot: Slot::Done(Err(err)),
            value: Vec::new(),
            target: None,
            counted: None,
        }
    }
}

fn record_put(tx: &SignedTransaction) -> Result<&RecordPut, ServiceError> {
    match &tx.tx.body {
        TxBody::RecordPut(put) => Ok(put),
        other => Err(ServiceError::new(
            ErrorCode::InvalidRequest,
            format!(
                "a batch item must be a record put, not a {}",
                other.kind_name()
            ),
        )),
    }
}

impl Node {
    /// The checks of one item that need no lock: the transaction is a record put whose
    /// cHash and size the value matches, its signatures verify, this node's mode accepts
    /// it (a private node: its write credential, bound to the address here). The item comes back with its prechecked transaction, to admit.
    fn check_item(&self, item: RecordItem) -> Result<(Entry, Prechecked), ServiceError> {
        let put = record_put(&item.tx)?;
        if put.hash_func.digest(&item.value) != put.c_hash {
            return Err(ServiceError::new(
                ErrorCode::ChashMismatch,
                "the value's hash is not the transaction's cHash",
            ));
        }
        if u64::try_from(item.value.len()).ok() != Some(put.size) {
            return Err(ServiceError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "the value is {} bytes, the transaction registers {}",
                    item.value.len(),
                    put.size
                ),
            ));
        }
        let target = Some((put.address.clone(), put.key.clone()));
        let put = put.clone();
        let prechecked = self.precheck(item.tx)?;
        let counted = self.check_writer(&put, item.credential.as_ref())?;
        let entry = Entry {
            slot: Slot::Done(Err(internal("not admitted"))),
            value: item.value,
            target,
            counted,
        };
        Ok((entry, prechecked))
    }

    /// Phase 1 (blocking): checks every item, then admits the new registrations under one
    /// ledger lock. An item refused there whose transaction is already committed (a
    /// retried batch) lands directly.
    fn admit_records(&self, items: Vec<RecordItem>) -> Vec<Entry> {
        let mut entries = self.admit_new(items);
        self.land_committed(&mut entries);
        entries
    }

    /// Lands the refused items whose transaction is already committed (a retried batch).
    fn land_committed(&self, entries: &mut [Entry]) {
        for entry in entries.iter_mut() {
            if let Slot::Refused { tx_id, err } = &entry.slot {
                let landed = self.db.tx(tx_id).map_err(internal);
                entry.slot = match landed {
                    Ok(Some(stored)) => Slot::Landed {
                        tx_id: *tx_id,
                        height: stored.height,
                        index: stored.index,
                        fresh: false,
                    },
                    Ok(None) => Slot::Done(Err(err.clone())),
                    Err(lookup) => Slot::Done(Err(lookup)),
                };
            }
        }
    }

    /// Phase 1 on a consensus node: checks every item, then hands the registrations to
    /// the engine's mempool in their order, in batched round trips (one signer's nonces
    /// stay in sequence).
    async fn admit_records_through_engine(
        &self,
        link: &super::consensus::CometLink,
        items: Vec<RecordItem>,
    ) -> Vec<Entry> {
        let mut entries = Vec::with_capacity(items.len());
        let mut checked = Vec::with_capacity(items.len());
        for item in items {
            match self.check_item(item) {
                Ok((entry, prechecked)) => {
                    let landing = link.wait_for(prechecked.id());
                    checked.push((entries.len(), prechecked, landing));
                    entries.push(entry);
                }
                Err(err) => entries.push(Entry::refused(err)),
            }
        }
        let txs: Vec<&Prechecked> = checked.iter().map(|(_, p, _)| p).collect();
        let answers = link.broadcast_all(&txs).await;
        for ((at, prechecked, landing), answer) in checked.into_iter().zip(answers) {
            let tx_id = prechecked.id();
            let settled = match answer {
                Ok(()) => match self.db.tx(&tx_id) {
                    Ok(Some(stored)) => Some(Slot::Landed {
                        tx_id,
                        height: stored.height,
                        index: stored.index,
                        fresh: false,
                    }),
                    Ok(None) => None,
                    Err(err) => Some(Slot::Done(Err(internal(err)))),
                },
                Err(err) => Some(Slot::Refused { tx_id, err }),
            };
            let slot = match settled {
                None => Slot::Waiting { tx_id, landing },
                Some(slot) => {
                    drop(landing);
                    link.forget(&tx_id);
                    slot
                }
            };
            if let Some(entry) = entries.get_mut(at) {
                entry.slot = slot;
            }
        }
        self.land_committed(&mut entries);
        entries
    }

    /// [`Node::admit_records`] without the look-up of refused items.
    fn admit_new(&self, items: Vec<RecordItem>) -> Vec<Entry> {
        let mut entries = Vec::with_capacity(items.len());
        let mut to_admit = Vec::new();
        for item in items {
            match self.check_item(item) {
                Err(err) => entries.push(Entry::refused(err)),
                Ok((entry, prechecked)) => {
                    to_admit.push((entries.len(), prechecked));
                    entries.push(entry);
                }
            }
        }
        if to_admit.is_empty() {
            return entries;
        }
        let (places, prechecked): (Vec<usize>, Vec<Prechecked>) = to_admit.into_iter().unzip();
        let mut ledger = lock(&self.ledger);
        let answers = if let Err(err) = self.check_running() {
            Err(err)
        } else {
            let room = ledger.mempool.room();
            ledger
                .app
                .check_prechecked_all(&prechecked, room)
                .map_err(ServiceError::from)
        };
        let answers = match answers {
            Ok(answers) => answers,
            Err(err) => {
                drop(ledger);
                for (at, prechecked) in places.into_iter().zip(prechecked) {
                    if let Some(entry) = entries.get_mut(at) {
                        entry.slot = Slot::Refused {
                            tx_id: prechecked.id(),
                            err: err.clone(),
                        };
                    }
                }
                return entries;
            }
        };
        let full = || ServiceError::new(ErrorCode::Unavailable, "the mempool is full");
        for ((at, prechecked), answer) in places.into_iter().zip(prechecked).zip(answers) {
            let tx_id = prechecked.id();
            let slot = match answer {
                None => Slot::Refused { tx_id, err: full() },
                Some(Err(err)) => Slot::Refused {
                    tx_id,
                    err: ServiceError::from(err),
                },
                Some(Ok(())) => {
                    let (sender, landing) = oneshot::channel();
                    let (tx, derived) = prechecked.into_parts();
                    let pending = Pending {
                        tx,
                        waiter: Some(sender),
                        derived: Some(derived),
                    };
                    match ledger.mempool.push(pending) {
                        Ok(()) => Slot::Waiting { tx_id, landing },
                        Err(_) => Slot::Refused { tx_id, err: full() },
                    }
                }
            };
            if let Some(entry) = entries.get_mut(at) {
                entry.slot = slot;
            }
        }
        let backlog = producer::has_backlog(&ledger);
        drop(ledger);
        if backlog {
            self.backlog.notify_one();
        }
        entries
    }

    /// Phase 3 (blocking): stores the values of landed items in one KV transaction (one
    /// at a time if the batch as a whole is refused, so each item gets its own answer).
    /// When every registration was committed while the batch waited, the store need not
    /// read the keys first ([`crate::kv::KvStore::put_batch_registered`]).
    fn store_landed(&self, entries: Vec<Entry>) -> Vec<Result<RecordReceipt, ServiceError>> {
        let mut results = Vec::with_capacity(entries.len());
        let mut landed = Vec::new();
        let mut all_fresh = true;
        for entry in &entries {
            match (&entry.slot, &entry.target) {
                (
                    Slot::Landed {
                        tx_id,
                        height,
                        index,
                        fresh,
                    },
                    Some((address, key)),
                ) => {
                    all_fresh &= *fresh;
                    let receipt = (*tx_id, *height, *index, entry.counted);
                    let put = KvPut {
                        address,
                        key,
                        value: &entry.value,
                    };
                    landed.push((results.len(), receipt, put));
                    results.push(Err(internal("not stored")));
                }
                (Slot::Done(result), _) => results.push(result.clone()),
                _ => results.push(Err(internal("a batch item lost its place"))),
            }
        }
        let puts: Vec<KvPut<'_>> = landed.iter().map(|(_, _, put)| *put).collect();
        let stored = if all_fresh {
            self.kv.put_batch_registered(&puts)
        } else {
            self.kv.put_batch_verified(&puts)
        };
        let outcomes = match stored {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // The backend is atomic only within one address: one batch per address.
            Err(KvError::BatchSpansAddresses) => self.put_per_address(&puts),
            Err(_) => self.put_one_by_one(&puts),
        };
        for ((at, (tx_id, height, index, counted), _), outcome) in landed.iter().zip(outcomes) {
            if let Ok(outcome) = &outcome {
                self.count_stored(*counted, *outcome);
            }
            if let Some(result) = results.get_mut(*at) {
                *result = outcome.map(|outcome| RecordReceipt {
                    tx_id: *tx_id,
                    height: *height,
                    index: *index,
                    outcome,
                });
            }
        }
        results
    }

    /// Stores `puts` with one batch per data address (in their order), each batch that
    /// is refused one put at a time.
    fn put_per_address(&self, puts: &[KvPut<'_>]) -> Vec<Result<PutOutcome, ServiceError>> {
        let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (at, put) in puts.iter().enumerate() {
            groups.entry(put.address).or_default().push(at);
        }
        let mut outcomes: Vec<Result<PutOutcome, ServiceError>> =
            vec![Err(internal("not stored")); puts.len()];
        for positions in groups.values() {
            let group: Vec<KvPut<'_>> = positions.iter().map(|&at| puts[at]).collect();
            let stored = match self.kv.put_batch_verified(&group) {
                Ok(stored) => stored.into_iter().map(Ok).collect(),
                Err(_) => self.put_one_by_one(&group),
            };
            for (&at, outcome) in positions.iter().zip(stored) {
                outcomes[at] = outcome;
            }
        }
        outcomes
    }

    /// Stores `puts` one at a time, each with its own answer.
    fn put_one_by_one(&self, puts: &[KvPut<'_>]) -> Vec<Result<PutOutcome, ServiceError>> {
        puts.iter()
            .map(|p| {
                self.kv
                    .put(p.address, p.key, p.value)
                    .map_err(ServiceError::from)
            })
            .collect()
    }

    /// The whole batch: see [`LedgerService::put_records`].
    pub(super) async fn put_records_batched(
        &self,
        items: Vec<RecordItem>,
    ) -> Vec<Result<RecordReceipt, ServiceError>> {
        let count = items.len();
        let unavailable = |message: &str| {
            (0..count)
                .map(|_| Err(ServiceError::new(ErrorCode::Unavailable, message)))
                .collect()
        };
        if count > MAX_BATCH_ITEMS {
            return (0..count)
                .map(|_| {
                    Err(ServiceError::new(
                        ErrorCode::InvalidRequest,
                        format!("a batch holds at most {MAX_BATCH_ITEMS} items"),
                    ))
                })
                .collect();
        }
        let Some(node) = self.this.upgrade() else {
            return unavailable("the node stopped");
        };
        // A KV store that cannot reach its quorum could not store the values: refuse
        // before the registrations cost fees.
        let kv = self.kv.health();
        if !kv.available {
            let message = format!(
                "the {} key-value store cannot reach its quorum: {}",
                kv.backend,
                kv.detail.unwrap_or_default()
            );
            return (0..count)
                .map(|_| Err(ServiceError::new(ErrorCode::KvUnavailable, message.clone())))
                .collect();
        }
        let started = std::time::Instant::now();
        let entries = if let Some(link) = self.comet() {
            if let Err(err) = self.check_running() {
                return (0..count).map(|_| Err(err.clone())).collect();
            }
            self.admit_records_through_engine(link, items).await
        } else {
            let admitting = node.clone();
            let Ok(entries) =
                tokio::task::spawn_blocking(move || admitting.admit_records(items)).await
            else {
                return unavailable("a node task stopped unexpectedly");
            };
            entries
        };
        let admitted = started.elapsed();
        let patience = self.config.block_time.saturating_mul(10) + Duration::from_secs(30);
        let deadline = tokio::time::Instant::now() + patience;
        let mut settled = Vec::with_capacity(entries.len());
        for mut entry in entries {
            entry.slot = match entry.slot {
                Slot::Waiting { tx_id, landing } => {
                    match tokio::time::timeout_at(deadline, landing).await {
                        Ok(Ok(Ok((height, index)))) => Slot::Landed {
                            tx_id,
                            height,
                            index,
                            fresh: true,
                        },
                        Ok(Ok(Err(err))) => Slot::Done(Err(err)),
                        Ok(Err(_)) => Slot::Done(Err(ServiceError::new(
                            ErrorCode::Unavailable,
                            "the node stopped before the registration was committed",
                        ))),
                        Err(_) => Slot::Done(Err(ServiceError::new(
                            ErrorCode::Timeout,
                            "no block committed the registration in time; it may still commit",
                        ))),
                    }
                }
                other => other,
            };
            settled.push(entry);
        }
        let landed = started.elapsed();
        let results = match tokio::task::spawn_blocking(move || node.store_landed(settled)).await {
            Ok(results) => results,
            Err(_) => unavailable("a node task stopped unexpectedly"),
        };
        tracing::debug!(
            items = count,
            admit_us = admitted.as_micros(),
            land_us = landed.as_micros(),
            total_us = started.elapsed().as_micros(),
            "record batch"
        );
        results
    }
}
