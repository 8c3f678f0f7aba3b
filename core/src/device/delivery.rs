//! Delivery of the car's offline queue, shaped so that a node or an observer of the
//! traffic cannot link the car's pool addresses:
//!
//! - nothing in a request names the car: no VID, device key or device signature; on a
//!   private node the only proof of membership is the address's anonymous write
//!   credential (see [`super::credentials`]);
//! - one address per request and per connection: each address's queued records go out
//!   as one batch (`POST /v1/records`, one block) through a
//!   [`LightClient::with_fresh_connections`] copy that is dropped afterwards, so its
//!   nonce check and its batch never share a connection with another address;
//! - addresses leave in a shuffled order, with a random pause (uniform in
//!   `0..=`[`DeliveryPacing::max_delay`]) between two addresses.
//!
//! Per address, the queue keeps its order (a batch carries the records in queue order,
//! with consecutive nonces) and its durability (a record leaves the queue only once the
//! node answered that it holds its value). Retries are harmless: a batch sent again
//! lands on the registrations already committed (the node looks them up by transaction
//! id) and stores the same values again. Each pool address signs its own registrations
//! with its own key, from its own nonce sequence; the ledger transactions of two
//! addresses share no signer, nonce sequence or fee payer.
//!
//! Fees: while the car holds fee stamps from its owner, every put it sends carries one
//! (always, not only once the phase-1 reserve is gone: a stamped put looks like every
//! other car's), bound to that put; the stamp escrow pays the fee. Without stamps the
//! phase-1 reserve pays while it lasts. No pool address is ever funded.

use std::time::Duration;

use super::car_device::CarDevice;
use super::credentials::Showing;
use super::error::{DeviceError, DeviceStoreError};
use super::store::QueuedPut;
use crate::light::{
    ItemRefusal, LightClient, LightError, PutOutcome, RecordUpload, UploadResult, WriteCredential,
};
use crate::protocol::api::ErrorCode;
use crate::protocol::{Canonical, SignedTransaction, TxBody};
use crate::tokens::OwnedStamp;

/// Default of [`DeliveryPacing::max_delay`].
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(5);
/// Records of one address sent per request (well below the node's batch maximum).
pub const ADDRESS_BATCH_LIMIT: usize = 500;

/// The code of a queued put signed in an earlier transaction format that the car can no
/// longer sign again (see [`CarDevice::flush`]): it stays queued and is not sent.
pub const SIGNATURE_OUTDATED: &str = "signature_outdated";

/// Node codes sent again once: "this item's nonce is not the next one" (re-signed from
/// the ledger's nonce) and "this credential stored all it may" (a fresh one is shown).
const RETRY_CODES: [&str; 5] = [
    "replay",
    "bad_nonce",
    "credential_spent",
    "stamp_spent",
    "stamp_invalid",
];
/// Node codes that refuse a put's fee stamp: the put is sent again with a fresh stamp
/// (or none, when the car holds no more).
const STAMP_CODES: [&str; 2] = ["stamp_spent", "stamp_invalid"];
/// Node codes that mean "the node cannot take it now": the flush stops, the rest stays.
const TRANSIENT_CODES: [&str; 3] = ["unavailable", "internal", "timeout"];

/// How a car spaces the addresses of one flush: a random pause, uniform between zero
/// and `max_delay`, before every address but the first (and before the first too when
/// the flush just asked a private node for write credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPacing {
    /// Longest pause between two addresses.
    pub max_delay: Duration,
}

impl Default for DeliveryPacing {
    fn default() -> Self {
        DeliveryPacing {
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

impl DeliveryPacing {
    /// No pause (tests, tools).
    pub const NONE: DeliveryPacing = DeliveryPacing {
        max_delay: Duration::ZERO,
    };

    /// A random pause in `0..=max_delay`.
    fn pause(&self) -> Result<Duration, DeviceError> {
        let max = u64::try_from(self.max_delay.as_micros()).unwrap_or(u64::MAX);
        if max == 0 {
            return Ok(Duration::ZERO);
        }
        let micros = random_below(max.saturating_add(1))?;
        Ok(Duration::from_micros(micros))
    }
}

/// A queued put the node refused for good (it stays queued; the reason is the node's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedPut {
    /// Its queue position.
    pub seq: i64,
    /// The node's stable code (`credential_spent`, `duplicate_value`, ...).
    pub code: String,
    /// The node's message.
    pub message: String,
}

/// What a `flush` achieved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlushReport {
    /// Puts whose value was stored by this flush.
    pub delivered: u64,
    /// Puts the node already held (an earlier, interrupted delivery).
    pub already_there: u64,
    /// Puts still queued: the node became unreachable, or it refused them.
    pub remaining: u64,
    /// Puts the node refused, each with its reason (they are among `remaining`).
    pub refused: Vec<RefusedPut>,
}

impl CarDevice {
    /// Delivers the queue: one address at a time, in shuffled order with random pauses
    /// ([`DeliveryPacing`]), each address's records as one batch on connections of its
    /// own. Stops at the first unreachable node and keeps the rest queued. A record the
    /// node refuses stays queued and is reported in [`FlushReport::refused`]; the others
    /// of its batch are delivered. Puts queued by an older build in an earlier
    /// transaction format are signed again in the current one first.
    pub async fn flush(&self, light: &LightClient) -> Result<FlushReport, DeviceError> {
        let mut report = FlushReport::default();
        let mut addresses = self.store()?.queued_addresses()?;
        if addresses.is_empty() {
            return Ok(report);
        }
        shuffle(&mut addresses)?;
        let showing = match self.prepare_credentials(light).await {
            Ok(showing) => showing,
            Err(DeviceError::Light(e)) if e.is_failover() => {
                report.remaining = self.queue_len()?;
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        let refilled = matches!(showing, Showing::Credentials { refilled: true, .. });
        for (index, address) in addresses.iter().enumerate() {
            if index > 0 || refilled {
                tokio::time::sleep(self.pacing().pause()?).await;
            }
            let own = light.with_fresh_connections()?;
            match self
                .deliver_address(&own, &showing, address, &mut report)
                .await
            {
                Ok(()) => {}
                Err(DeviceError::Light(e)) if e.is_failover() => break,
                Err(e) => return Err(e),
            }
        }
        report.remaining = self.queue_len()?;
        Ok(report)
    }

    /// Every queued record of `address`, in batches of [`ADDRESS_BATCH_LIMIT`].
    async fn deliver_address(
        &self,
        light: &LightClient,
        showing: &Showing,
        address: &str,
        report: &mut FlushReport,
    ) -> Result<(), DeviceError> {
        let mut after = 0_i64;
        loop {
            let queued = self
                .store()?
                .queued_for(address, after, ADDRESS_BATCH_LIMIT)?;
            let Some(last) = queued.last() else {
                return Ok(());
            };
            after = last.seq;
            self.deliver_batch(light, showing, address, queued, report)
                .await?;
        }
    }

    /// One batch of one address: sent, and each item settled; items refused for their
    /// nonce are re-signed from the ledger's nonce and sent once more.
    async fn deliver_batch(
        &self,
        light: &LightClient,
        showing: &Showing,
        address: &str,
        queued: Vec<QueuedPut>,
        report: &mut FlushReport,
    ) -> Result<(), DeviceError> {
        let batch = queued
            .into_iter()
            .map(|put| Ok((SignedTransaction::from_canonical(&put.tx)?, put)))
            .collect::<Result<Vec<_>, DeviceError>>()?;
        let mut batch = self.renew_outdated(batch, report)?;
        if batch.is_empty() {
            return Ok(());
        }
        self.attach_stamps(batch.iter_mut())?;
        // Sent as queued, without reading the address's nonce first: the node checks
        // every nonce, and a queue that counts from a nonce the ledger never reached (a
        // registration refused earlier) or behind it is refused item by item
        // (`bad_nonce`, `replay`), re-signed below from the ledger's nonce and sent once
        // more. The common flush is thus one request per address.
        let mut retry = self.send(light, showing, address, batch, report).await?;
        if retry.is_empty() {
            return Ok(());
        }
        let ledger_nonce = light.account(address).await?.nonce;
        let mut items: Vec<_> = retry.iter_mut().map(|(item, _)| item).collect();
        items.sort_by_key(|(_, put)| put.seq);
        self.resign_from(address, ledger_nonce, items)?;
        self.attach_stamps(retry.iter_mut().map(|(item, _)| item))?;
        let refused = self
            .send(
                light,
                showing,
                address,
                retry.into_iter().map(|(item, _)| item).collect(),
                report,
            )
            .await?;
        for (_, put, refusal) in refused.into_iter().map(|((tx, put), r)| (tx, put, r)) {
            report.refused.push(RefusedPut {
                seq: put.seq,
                code: refusal.code,
                message: refusal.message,
            });
        }
        Ok(())
    }

    /// Sends one batch and settles each item; returns the items to send once more
    /// ([`RETRY_CODES`]) with their refusal.
    async fn send(
        &self,
        light: &LightClient,
        showing: &Showing,
        address: &str,
        batch: Vec<(SignedTransaction, QueuedPut)>,
        report: &mut FlushReport,
    ) -> Result<Vec<Retry>, DeviceError> {
        let shown = self.credential_for(showing, address)?;
        if shown.is_none() && *showing != Showing::Nothing {
            for (_, put) in batch {
                report.refused.push(RefusedPut {
                    seq: put.seq,
                    code: "credential_missing".into(),
                    message: "no write credential is left for this private node".into(),
                });
            }
            return Ok(Vec::new());
        }
        let credential = shown.as_ref().map(|(_, credential)| credential.clone());
        let uploads: Vec<RecordUpload> = batch
            .iter()
            .map(|(tx, put)| RecordUpload {
                tx: tx.clone(),
                value: put.envelope.clone(),
                credential: credential.clone(),
            })
            .collect();
        let results = light.put_records(&uploads).await?;
        let mut delivered = Vec::with_capacity(batch.len());
        let settled = self
            .settle_each(light, &shown, batch, results, report, &mut delivered)
            .await;
        // What was delivered leaves the queue even when a later item stopped the flush.
        self.store()?.settle_delivered(address, &delivered)?;
        settled
    }

    /// Settles each item of a sent batch against the node's answer: the delivered ones
    /// are added to `delivered` (queue position, nonce) for one commit; returns the items
    /// to send once more ([`RETRY_CODES`]) with their refusal, or stops at a transient
    /// refusal.
    async fn settle_each(
        &self,
        light: &LightClient,
        shown: &Option<(i64, WriteCredential)>,
        batch: Vec<(SignedTransaction, QueuedPut)>,
        results: Vec<UploadResult>,
        report: &mut FlushReport,
        delivered: &mut Vec<(i64, u64)>,
    ) -> Result<Vec<Retry>, DeviceError> {
        let credential = shown.as_ref().map(|(_, credential)| credential);
        let mut retry = Vec::new();
        for ((tx, put), result) in batch.into_iter().zip(results) {
            let settled = match result {
                Err(refusal) if refusal.code == ErrorCode::DuplicateRecord.as_str() => {
                    // Registered by an earlier signature of the same record: only the
                    // value is missing.
                    self.put_value_again(light, &put, credential).await?
                }
                other => other,
            };
            match settled {
                Ok(PutOutcome::Stored) => report.delivered += 1,
                Ok(PutOutcome::AlreadyStored) => report.already_there += 1,
                Err(refusal) if RETRY_CODES.contains(&refusal.code.as_str()) => {
                    if refusal.code == ErrorCode::CredentialSpent.as_str()
                        && let Some((id, _)) = &shown
                    {
                        self.store()?.spend_credential(*id)?;
                    }
                    let mut item = (tx, put);
                    if STAMP_CODES.contains(&refusal.code.as_str()) {
                        self.drop_stamp(&mut item)?;
                    }
                    retry.push((item, refusal));
                    continue;
                }
                Err(refusal) if TRANSIENT_CODES.contains(&refusal.code.as_str()) => {
                    return Err(DeviceError::Light(LightError::Node {
                        code: refusal.code,
                        message: refusal.message,
                    }));
                }
                Err(refusal) => {
                    report.refused.push(RefusedPut {
                        seq: put.seq,
                        code: refusal.code,
                        message: refusal.message,
                    });
                    continue;
                }
            }
            delivered.push((put.seq, tx.tx.nonce));
        }
        Ok(retry)
    }

    /// The value of a record whose registration is on the ledger already.
    async fn put_value_again(
        &self,
        light: &LightClient,
        put: &QueuedPut,
        credential: Option<&WriteCredential>,
    ) -> Result<UploadResult, DeviceError> {
        match light
            .put_value(&put.address, &put.key, &put.envelope, credential)
            .await
        {
            Ok(outcome) => Ok(Ok(outcome)),
            Err(LightError::Node { code, message })
                if !TRANSIENT_CODES.contains(&code.as_str()) =>
            {
                Ok(Err(ItemRefusal { code, message }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Puts queued by an earlier build, signed in an earlier transaction format (before
    /// tx format v2): their signature no longer verifies, so every node would refuse
    /// them. Each is signed again in the current format (same record, same nonce, the
    /// pool key of its address) and kept in the queue as pending before it is sent (its
    /// earlier submission, if any, was in the old format). One the car can no longer
    /// sign (queued before a reset: the current pool does not hold its address) is not
    /// sent: it stays queued and is reported refused with the code
    /// [`SIGNATURE_OUTDATED`].
    fn renew_outdated(
        &self,
        batch: Vec<(SignedTransaction, QueuedPut)>,
        report: &mut FlushReport,
    ) -> Result<Vec<(SignedTransaction, QueuedPut)>, DeviceError> {
        let mut current = Vec::with_capacity(batch.len());
        for (tx, mut put) in batch {
            if tx.verify_signature().is_ok() {
                current.push((tx, put));
                continue;
            }
            match self.resign(&tx, put.key_index, tx.tx.nonce)? {
                Some(renewed) => {
                    self.store()?.update_tx(put.seq, &renewed.to_canonical())?;
                    put.submitted = false;
                    current.push((renewed, put));
                }
                None => report.refused.push(RefusedPut {
                    seq: put.seq,
                    code: SIGNATURE_OUTDATED.into(),
                    message: "queued in an earlier transaction format by a key this car \
                              no longer holds"
                        .into(),
                }),
            }
        }
        Ok(current)
    }

    /// Gives every unsent put of `items` that carries no fee stamp one of the car's
    /// stamps (bound to that put, re-signed with the same nonce), each attachment one
    /// store commit. Stops quietly when the car holds no more stamps.
    fn attach_stamps<'a>(
        &self,
        items: impl Iterator<Item = &'a mut (SignedTransaction, QueuedPut)>,
    ) -> Result<(), DeviceError> {
        for (tx, put) in items {
            let TxBody::RecordPut(body) = &tx.tx.body else {
                continue;
            };
            if put.submitted || body.stamp.is_some() {
                continue;
            }
            let mut store = self.store()?;
            let Some((stamp_row, bytes)) = store.next_fee_stamp()? else {
                return Ok(());
            };
            let Ok(stamp) = OwnedStamp::from_bytes(&bytes) else {
                // A row that does not decode pays nothing: drop it and go on.
                store.attach_fee_stamp(stamp_row, put.seq, &put.tx)?;
                continue;
            };
            drop(store);
            let mut stamped = tx.clone();
            if let TxBody::RecordPut(body) = &mut stamped.tx.body {
                body.stamp = Some(stamp.attach(&tx.tx.chain_id, &tx.tx.signer, &body.key));
            }
            let Some(resigned) = self.resign(&stamped, put.key_index, tx.tx.nonce)? else {
                continue;
            };
            let bytes = resigned.to_canonical();
            self.store()?.attach_fee_stamp(stamp_row, put.seq, &bytes)?;
            *tx = resigned;
            put.tx = bytes;
        }
        Ok(())
    }

    /// Takes a refused fee stamp off a queued put (re-signed with the same nonce).
    fn drop_stamp(&self, item: &mut (SignedTransaction, QueuedPut)) -> Result<(), DeviceError> {
        let (tx, put) = item;
        let mut plain = tx.clone();
        if let TxBody::RecordPut(body) = &mut plain.tx.body {
            body.stamp = None;
        }
        if let Some(resigned) = self.resign(&plain, put.key_index, tx.tx.nonce)? {
            let bytes = resigned.to_canonical();
            self.store()?.update_tx(put.seq, &bytes)?;
            *tx = resigned;
            put.tx = bytes;
        }
        Ok(())
    }

    /// Re-signs `items` (queue order) with consecutive nonces from `nonce`, keeping each
    /// new signature in the queue before it is sent (a crash re-sends the same bytes).
    fn resign_from(
        &self,
        address: &str,
        nonce: u64,
        items: Vec<&mut (SignedTransaction, QueuedPut)>,
    ) -> Result<(), DeviceError> {
        let mut next = nonce;
        for (tx, put) in items {
            if !matches!(tx.tx.body, TxBody::RecordPut(_)) {
                return Err(DeviceError::Store(DeviceStoreError::Invalid {
                    what: "queued tx",
                }));
            }
            if tx.tx.nonce != next
                && let Some(resigned) = self.resign(tx, put.key_index, next)?
            {
                *tx = resigned;
                self.store()?.update_tx(put.seq, &tx.to_canonical())?;
            }
            next = tx.tx.nonce.max(next).saturating_add(1);
        }
        let store = self.store()?;
        if store.next_nonce(address)?.is_none_or(|n| n < next) {
            store.set_next_nonce(address, next)?;
        }
        Ok(())
    }
}

/// An item to send once more, with why it was refused.
type Retry = ((SignedTransaction, QueuedPut), ItemRefusal);

/// Shuffles `items` in place (Fisher–Yates, operating-system randomness).
fn shuffle<T>(items: &mut [T]) -> Result<(), DeviceError> {
    for last in (1..items.len()).rev() {
        let bound = u64::try_from(last + 1).unwrap_or(u64::MAX);
        let pick = usize::try_from(random_below(bound)?).unwrap_or(0);
        items.swap(last, pick);
    }
    Ok(())
}

/// A uniform random number in `0..bound` (`bound > 0`), by rejection sampling.
fn random_below(bound: u64) -> Result<u64, DeviceError> {
    if bound <= 1 {
        return Ok(0);
    }
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|_| DeviceError::Store(DeviceStoreError::Random))?;
        let value = u64::from_le_bytes(bytes);
        if value < zone {
            return Ok(value % bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffle_keeps_every_item_and_changes_the_order() {
        let original: Vec<u32> = (0..32).collect();
        let mut orders = std::collections::HashSet::new();
        for _ in 0..8 {
            let mut items = original.clone();
            shuffle(&mut items).unwrap_or_else(|e| panic!("{e}"));
            let mut sorted = items.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, original);
            orders.insert(items);
        }
        assert!(orders.len() > 1, "eight shuffles of 32 items all agreed");
    }

    #[test]
    fn pauses_stay_within_the_setting() {
        assert_eq!(DeliveryPacing::NONE.pause().ok(), Some(Duration::ZERO));
        let pacing = DeliveryPacing {
            max_delay: Duration::from_millis(20),
        };
        let pauses: Vec<Duration> = (0..64)
            .map(|_| pacing.pause().unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert!(pauses.iter().all(|p| *p <= pacing.max_delay));
        assert!(pauses.iter().any(|p| *p != pauses[0]), "pauses vary");
        assert_eq!(DeliveryPacing::default().max_delay, DEFAULT_MAX_DELAY);
    }

    #[test]
    fn random_below_stays_below() {
        for bound in [1_u64, 2, 3, 7, 1000] {
            for _ in 0..50 {
                let v = random_below(bound).unwrap_or_else(|e| panic!("{e}"));
                assert!(v < bound);
            }
        }
    }
}
