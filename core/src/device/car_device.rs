//! `CarDevice`: the car's side of CarChain. First boot makes the device key; the car
//! shows a pairing payload, completes pairing through the sealed mailbox, then seals
//! each record for its owner under the day's pool address (registered under its stored
//! key, see [`crate::sealed::stored_key`]), signs the `RecordPut` with that address's
//! pool key and queues it; `flush` ([`super::delivery`]) delivers the queue one address
//! at a time when a node answers, naming no car (a retried put is harmless: address +
//! key is unique on the ledger).

use crate::clock::{SharedClock, system_clock};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bitcoin::bip32::{ChildNumber, Xpriv};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use chrono::NaiveDate;
use rsa::pkcs1::DecodeRsaPublicKey;
use serde_json::Value;
use zeroize::Zeroizing;

use super::delivery::DeliveryPacing;
use super::error::{DeviceError, DeviceStoreError};
use super::store::{DeviceStore, NewPut};
use crate::crypto::{EpochKey, HashFunc, SealingEpoch, WrappedKey};
use crate::light::{LightClient, LightError};
use crate::pairing::mailbox::{
    SEQ_ACCEPT, SEQ_OFFER, address_of, mailbox_key, mailbox_record_key, open_with, seal_to,
};
use crate::pairing::{PairingAccept, PairingOffer, PairingPayload};
use crate::pool::deduct_index;
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::protocol::{
    Canonical, DeviceStatus, FeeSchedule, Network, RecordPut, SignedTransaction, TxBody, TxBuilder,
    pairing::sign_pairing,
};
use crate::record::FormatSpec;
use crate::sealed::{StoredKeyCipher, seal_record_with_stored_key};
use crate::store::SecretStore;
use crate::tokens::OwnedStamp;
use crate::trip::Trip;

/// Read tokens one purchase of a car buys on a shared node (a pairing reads one value).
pub const CAR_READ_TICKET_TRAVERSALS: u64 = 4;

/// What an owner funds a car's account with before pairing it on a shared node, on a
/// chain with the default fee schedule ([`car_read_funds`] of it).
pub const CAR_READ_FUNDS: u64 = car_read_funds(&FeeSchedule::DEFAULT);

/// What an owner funds a car's account with before pairing it on a shared node of a
/// chain charging `fees`: five token purchases (each [`CAR_READ_TICKET_TRAVERSALS`]
/// tokens plus the transfer's fee), enough for a pairing and a few new pools.
pub const fn car_read_funds(fees: &FeeSchedule) -> u64 {
    5 * (CAR_READ_TICKET_TRAVERSALS + fees.base_fee)
}

/// The car. Cheap to share behind an `Arc`; methods take `&self`.
pub struct CarDevice {
    vid: String,
    device_key: SecretKey,
    store: Mutex<DeviceStore>,
    /// [`DeliveryPacing::max_delay`] in microseconds.
    max_delay_us: AtomicU64,
    /// What "now" is for pairing code expiry and the times queued records carry.
    clock: SharedClock,
}

impl std::fmt::Debug for CarDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarDevice")
            .field("vid", &self.vid)
            .field(
                "device_pubkey",
                &hex::encode(self.device_pubkey().serialize()),
            )
            .finish_non_exhaustive()
    }
}

impl CarDevice {
    /// Opens the car's store at `path`; on first boot makes and keeps the device key.
    pub fn open(
        path: &Path,
        secrets: Arc<dyn SecretStore>,
        vid: &str,
    ) -> Result<Self, DeviceError> {
        Self::with_store(DeviceStore::open(path, secrets.as_ref())?, vid)
    }

    fn with_store(store: DeviceStore, vid: &str) -> Result<Self, DeviceError> {
        let device_key = match store.device_key()? {
            Some((stored, key)) if stored == vid => key,
            Some((stored, _)) => {
                return Err(DeviceError::WrongVid {
                    stored,
                    requested: vid.to_owned(),
                });
            }
            None => {
                let key = random_secret()?;
                store.save_device_key(vid, &key)?;
                key
            }
        };
        Ok(Self {
            vid: vid.to_owned(),
            device_key,
            store: Mutex::new(store),
            max_delay_us: AtomicU64::new(micros(DeliveryPacing::default())),
            clock: system_clock(),
        })
    }

    /// This car judging time (pairing code expiry, queued records' times) by `clock`
    /// instead of the device's clock.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// This car spacing the addresses of a flush with `pacing` (default: a random pause
    /// of up to [`super::delivery::DEFAULT_MAX_DELAY`] between two addresses).
    pub fn with_delivery_pacing(self, pacing: DeliveryPacing) -> Self {
        self.set_delivery_pacing(pacing);
        self
    }

    /// Changes how the addresses of later flushes are spaced.
    pub fn set_delivery_pacing(&self, pacing: DeliveryPacing) {
        self.max_delay_us.store(micros(pacing), Ordering::Relaxed);
    }

    /// How this car spaces the addresses of a flush.
    pub fn pacing(&self) -> DeliveryPacing {
        DeliveryPacing {
            max_delay: std::time::Duration::from_micros(self.max_delay_us.load(Ordering::Relaxed)),
        }
    }

    /// The car's VID.
    pub fn vid(&self) -> &str {
        &self.vid
    }

    /// The device key (signs pairing and write-credential requests, never a put).
    pub(super) fn device_secret(&self) -> &SecretKey {
        &self.device_key
    }

    /// The device's public signing key.
    pub fn device_pubkey(&self) -> PublicKey {
        public_key_of(&self.device_key)
    }

    /// The car's own account: the P2WPKH address of its device key on `network`. A
    /// shared node charges for reads, and the one read a car makes (the owner's pairing
    /// offer in the mailbox) is paid from this account, so the owner funds it (at least
    /// [`CAR_READ_FUNDS`]) before pairing on a shared node.
    pub fn account_address(&self, network: Network) -> String {
        p2wpkh_address(&self.device_pubkey(), network)
    }

    /// `light` buying its read tokens from the car's own account
    /// ([`CarDevice::account_address`]), [`CAR_READ_TICKET_TRAVERSALS`] a purchase.
    /// Reads on a private node stay free; a shared node needs this for pairing.
    pub fn paying_reads(&self, light: LightClient) -> LightClient {
        light.with_read_payer(self.device_key, CAR_READ_TICKET_TRAVERSALS)
    }

    pub(super) fn store(&self) -> Result<MutexGuard<'_, DeviceStore>, DeviceError> {
        self.store.lock().map_err(|_| {
            DeviceError::Store(DeviceStoreError::Invalid {
                what: "store lock poisoned",
            })
        })
    }

    /// A fresh pairing payload valid for `ttl_secs`; its code replaces any pending one.
    /// Refused while paired: [`CarDevice::reset`] first.
    pub fn pairing_payload(&self, ttl_secs: u64) -> Result<PairingPayload, DeviceError> {
        let store = self.store()?;
        if store.offer()?.is_some() {
            return Err(DeviceError::AlreadyPaired);
        }
        let payload = PairingPayload::generate(
            &self.vid,
            self.device_pubkey(),
            self.clock.now_secs(),
            ttl_secs,
        )?;
        store.save_pending_code(&payload.code, payload.expires_at)?;
        Ok(payload)
    }

    /// Forgets the pairing (after a transfer or re-pairing) and shows a new code.
    pub fn reset(&self, ttl_secs: u64) -> Result<PairingPayload, DeviceError> {
        self.store()?.clear_pairing()?;
        self.pairing_payload(ttl_secs)
    }

    /// Looks into the mailbox for the owner's offer. When it is there: checks the code,
    /// signs the pairing digest, leaves the sealed accept for the owner and keeps the
    /// offer. Returns `false` while no offer has arrived yet (also while its registration
    /// is on the ledger but its value is not yet on the node).
    pub async fn complete_pairing(&self, light: &LightClient) -> Result<bool, DeviceError> {
        let (code, expires_at) = {
            let store = self.store()?;
            if store.offer()?.is_some() {
                return Ok(true);
            }
            store
                .pending_code()?
                .ok_or(DeviceError::NoPairingInProgress)?
        };
        let mailbox = mailbox_key(&code, &self.device_pubkey())?;
        let network = light.anchor().network;
        let mailbox_address = address_of(&mailbox, network);
        let record = match light
            .record(&mailbox_address, &mailbox_record_key(SEQ_OFFER)?)
            .await
        {
            Ok(record) => record,
            // The owner registers the offer, then stores its value: between the two the
            // offer is still on its way, as when it is not registered yet.
            Err(LightError::ValueMissing { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(record) = record else {
            if self.clock.now_secs() >= expires_at {
                return Err(DeviceError::CodeExpired { expires_at });
            }
            return Ok(false);
        };
        let plain = open_with(&self.device_key, &record.envelope)?;
        let mut offer = PairingOffer::from_json(&plain)?;
        if offer.code.as_bytes() != code.as_bytes() {
            return Err(DeviceError::CodeMismatch);
        }
        if offer.pool_branch_xpriv.network != network.to_bitcoin().into() {
            return Err(DeviceError::WrongNetwork);
        }
        let signature = sign_pairing(
            &self.device_key,
            &self.vid,
            &offer.owner_address,
            &offer.pool_commitment(),
        );
        let accept = PairingAccept {
            vid: self.vid.clone(),
            device_signature: signature,
        };
        let sealed = seal_to(&offer.owner_pubkey, &accept.to_json()?)?;
        // Stamps the owner sent (the reserve no longer pays puts): the accept pays with
        // one, the car keeps the rest for its records; the stored offer holds none.
        let stamps = std::mem::take(&mut offer.fee_stamps);
        self.add_fee_stamps(&stamps)?;
        let stamp = self.store()?.next_fee_stamp()?;
        let owned = match &stamp {
            Some((_, bytes)) => OwnedStamp::from_bytes(bytes).ok(),
            None => None,
        };
        let accepted = put_mailbox_value(
            light,
            &mailbox,
            mailbox_record_key(SEQ_ACCEPT)?,
            &sealed,
            owned.as_ref(),
        )
        .await;
        if let (Some((row, _)), Some(_)) = (&stamp, &owned) {
            match &accepted {
                Err(DeviceError::Light(e)) if e.is_failover() => {}
                _ => self.store()?.remove_fee_stamp(*row)?,
            }
        }
        accepted?;
        // The chain's fee schedule, kept for the puts the car signs offline.
        let fees = light.fee_schedule().await?;
        let mut store = self.store()?;
        store.save_fee_schedule(&fees)?;
        store.save_offer(&offer, &light.anchor().chain_id, network.as_str())?;
        Ok(true)
    }

    /// Whether the ledger names this car's device key, pool and owner as paired.
    pub async fn is_paired(&self, light: &LightClient) -> Result<bool, DeviceError> {
        let Some(offer) = self.store()?.offer()? else {
            return Ok(false);
        };
        Ok(match light.device(&self.vid).await? {
            Some(state) => {
                state.owner_address == offer.owner_address
                    && state.device_pubkey == self.device_pubkey()
                    && state.pool_commitment == offer.pool_commitment()
                    && state.status == DeviceStatus::Active
            }
            None => false,
        })
    }

    /// Seals a record of any format for the owner under `date`'s pool address, signs
    /// its `RecordPut` and queues it. Returns its queue position.
    pub fn put(
        &self,
        spec: &FormatSpec,
        key: &Value,
        value: &Value,
        date: NaiveDate,
    ) -> Result<i64, DeviceError> {
        self.put_record(spec, key, value, date, false)
    }

    /// Queues a `trip-gps` record of `trip` (`vehicle_data` names the car's VIN record).
    pub fn put_trip(
        &self,
        trip: &Trip,
        vehicle_data: i64,
        date: NaiveDate,
    ) -> Result<i64, DeviceError> {
        let key = Value::Object(trip.to_key()?);
        let value = trip.to_value(vehicle_data)?;
        self.put_record(&FormatSpec::trip_gps(), &key, &value, date, false)
    }

    /// Queues a wallet record (putWalKV, e.g. the car's `VIN_CODE`), flagged `wallet`.
    pub fn put_wallet_record(
        &self,
        spec: &FormatSpec,
        key: &Value,
        value: &Value,
        date: NaiveDate,
    ) -> Result<i64, DeviceError> {
        self.put_record(spec, key, value, date, true)
    }

    fn put_record(
        &self,
        spec: &FormatSpec,
        key: &Value,
        value: &Value,
        date: NaiveDate,
        wallet: bool,
    ) -> Result<i64, DeviceError> {
        let mut store = self.store()?;
        let offer = store.offer()?.ok_or(DeviceError::NotPaired)?;
        let (chain_id, network) = chain_of(&store)?;
        let pool_len = usize::try_from(offer.pool_size).map_err(|_| DeviceError::NotPaired)?;
        let index = deduct_index(pool_len, date, &self.vid, &offer.pool_seed)
            .map_err(|e| DeviceError::Pool(e.to_string()))?;
        let index = u32::try_from(index).map_err(|e| DeviceError::Pool(e.to_string()))?;
        let signer = pool_key(&offer.pool_branch_xpriv, index)?;
        let address = p2wpkh_address(&public_key_of(&signer), network);
        let epoch = epoch_for(&store, &offer, &address, date)?;
        // The ledger and the node see the record under its stored key, never its
        // plaintext key (session counters, times).
        let stored_keys = StoredKeyCipher::new(&offer.pool_seed, &address)?;
        let sealed = seal_record_with_stored_key(
            spec,
            &address,
            key,
            value,
            HashFunc::Sha256,
            &epoch,
            &stored_keys,
        )?;
        let nonce = store.next_nonce(&address)?.unwrap_or(0);
        let put = RecordPut {
            address: address.clone(),
            key: sealed.key.as_bytes().to_vec(),
            format: sealed.format.clone(),
            hash_func: sealed.hash_func,
            d_hash: sealed.d_hash,
            c_hash: sealed.c_hash,
            size: sealed.size(),
            wallet,
            stamp: None,
        };
        // Signed offline, under the chain's schedule kept at pairing (a car paired
        // before schedules were kept pays the default one).
        let fees = store.fee_schedule()?.unwrap_or_default();
        let tx = sign_put((&chain_id, network, fees), &signer, nonce, put)?;
        let seq = store.enqueue(
            &NewPut {
                address: &address,
                key: sealed.key.as_bytes(),
                format: &sealed.format,
                envelope: &sealed.envelope,
                tx: &tx.to_canonical(),
                key_index: index,
                created_at: self.clock.now_secs(),
            },
            nonce.saturating_add(1),
        )?;
        Ok(seq)
    }

    /// Keeps fee stamps from the owner (see [`crate::tokens::OwnedStamp`]): from now on
    /// every put the car sends carries one, until they run out.
    pub fn add_fee_stamps(&self, stamps: &[crate::tokens::OwnedStamp]) -> Result<(), DeviceError> {
        let bytes: Vec<_> = stamps
            .iter()
            .map(|s| (s.stamp_id(), s.to_bytes()))
            .collect();
        let rows: Vec<([u8; 32], &[u8])> =
            bytes.iter().map(|(id, b)| (*id, b.as_slice())).collect();
        Ok(self.store()?.add_fee_stamps(&rows)?)
    }

    /// Fee stamps the car holds, not yet attached to a put.
    pub fn fee_stamps_held(&self) -> Result<u64, DeviceError> {
        Ok(self.store()?.fee_stamp_count()?)
    }

    /// Number of puts waiting for a node.
    pub fn queue_len(&self) -> Result<u64, DeviceError> {
        Ok(self.store()?.queue_len()?)
    }

    /// The queued transaction signed again with `nonce`, when the current pool still
    /// holds its address (a put queued before a reset keeps its signature).
    pub(super) fn resign(
        &self,
        tx: &SignedTransaction,
        key_index: u32,
        nonce: u64,
    ) -> Result<Option<SignedTransaction>, DeviceError> {
        let Some(offer) = self.store()?.offer()? else {
            return Ok(None);
        };
        let signer = pool_key(&offer.pool_branch_xpriv, key_index)?;
        if public_key_of(&signer) != tx.tx.signer {
            return Ok(None);
        }
        let TxBody::RecordPut(put) = tx.tx.body.clone() else {
            return Ok(None);
        };
        let fees = self.store()?.fee_schedule()?.unwrap_or_default();
        Ok(Some(sign_put(
            (&tx.tx.chain_id, tx.tx.network, fees),
            &signer,
            nonce,
            put,
        )?))
    }
}

/// `put` signed by `signer` at `nonce` for the chain `chain_id`, paying what `fees` asks.
fn sign_put(
    (chain_id, network, fees): (&str, Network, FeeSchedule),
    signer: &SecretKey,
    nonce: u64,
    put: RecordPut,
) -> Result<SignedTransaction, DeviceError> {
    Ok(TxBuilder::new(chain_id, network, fees).sign(signer, nonce, TxBody::RecordPut(put))?)
}

/// Registers and stores a mailbox message under the mailbox key's address.
async fn put_mailbox_value(
    light: &LightClient,
    mailbox: &SecretKey,
    key: Vec<u8>,
    value: &[u8],
    stamp: Option<&OwnedStamp>,
) -> Result<(), DeviceError> {
    let anchor = light.anchor();
    let address = p2wpkh_address(&public_key_of(mailbox), anchor.network);
    let hash = HashFunc::Sha256.digest(value);
    let put = RecordPut {
        address: address.clone(),
        key: key.clone(),
        format: crate::pairing::MAILBOX_FORMAT.to_owned(),
        hash_func: HashFunc::Sha256,
        d_hash: hash,
        c_hash: hash,
        size: u64::try_from(value.len()).unwrap_or(u64::MAX),
        wallet: true,
        stamp: stamp.map(|s| s.attach(&anchor.chain_id, &public_key_of(mailbox), &key)),
    };
    let nonce = light.account(&address).await?.nonce;
    let fees = light.fee_schedule().await?;
    let tx = sign_put(
        (&anchor.chain_id, anchor.network, fees),
        mailbox,
        nonce,
        put,
    )?;
    match light.submit(&tx, true).await {
        Ok(_) => {}
        Err(e) if e.node_code() == Some("duplicate_record") => {}
        Err(e) => return Err(e.into()),
    }
    light.put_value(&address, &key, value, None).await?;
    Ok(())
}

/// The key of pool address `index` under the branch key (non-hardened child).
fn pool_key(branch: &Xpriv, index: u32) -> Result<SecretKey, DeviceError> {
    let child =
        ChildNumber::from_normal_idx(index).map_err(|e| DeviceError::Pool(e.to_string()))?;
    branch
        .derive_priv(&Secp256k1::new(), &[child])
        .map(|x| x.private_key)
        .map_err(|e| DeviceError::Pool(e.to_string()))
}

/// The sealing epoch of (`address`, `date`): from the store, or fresh (one RSA wrap).
fn epoch_for(
    store: &DeviceStore,
    offer: &PairingOffer,
    address: &str,
    date: NaiveDate,
) -> Result<SealingEpoch, DeviceError> {
    let day = date.to_string();
    let owner = rsa::PublicKey::from_pkcs1_der(&offer.owner_rsa_public_der).map_err(|_| {
        DeviceError::Message(crate::pairing::PairingMessageError::InvalidField {
            field: "owner_rsa_public_der",
            reason: "not a PKCS#1 RSA public key".into(),
        })
    })?;
    if let Some((key, wrapped)) = store.epoch(address, &day)? {
        let mut bytes = Zeroizing::new([0u8; 32]);
        if key.len() != 32 {
            return Err(DeviceError::Store(DeviceStoreError::Invalid {
                what: "epoch key",
            }));
        }
        bytes.copy_from_slice(&key);
        // An epoch stored before envelope v2 keeps its wrapped key in the legacy
        // encoding (with the owner's fingerprint); the fingerprint is dropped here.
        return Ok(SealingEpoch::from_parts(
            EpochKey::from_bytes(*bytes),
            WrappedKey::from_stored_bytes_for(&wrapped, &owner)?,
        ));
    }
    let epoch = SealingEpoch::new(&owner)?;
    store.save_epoch(
        address,
        &day,
        epoch.epoch_key().as_bytes(),
        &epoch.wrapped_key().to_bytes()?,
    )?;
    Ok(epoch)
}

fn chain_of(store: &DeviceStore) -> Result<(String, Network), DeviceError> {
    let (chain_id, network) = store.chain()?.ok_or(DeviceError::NotPaired)?;
    let network = Network::from_str(&network)
        .map_err(|_| DeviceError::Store(DeviceStoreError::Invalid { what: "network" }))?;
    Ok((chain_id, network))
}

fn micros(pacing: DeliveryPacing) -> u64 {
    u64::try_from(pacing.max_delay.as_micros()).unwrap_or(u64::MAX)
}

fn random_secret() -> Result<SecretKey, DeviceError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    loop {
        getrandom::fill(bytes.as_mut_slice())
            .map_err(|_| DeviceError::Store(DeviceStoreError::Random))?;
        if let Ok(key) = SecretKey::from_slice(bytes.as_slice()) {
            return Ok(key);
        }
    }
}

#[cfg(test)]
mod tests;
