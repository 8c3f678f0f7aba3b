//! Pairing a car (the seed's `setup`) and giving it a new pool (`setDup`), both through
//! the end-to-end encrypted pairing mailbox on the node.
//!
//! 1. The owner scans the car's payload (VID, device key, one-time code, expiry).
//! 2. The wallet derives the car's pool for the next generation (0 for a new car), the
//!    pool seed and the pool commitment, and leaves the [`PairingOffer`] (SEQ 1, sealed
//!    to the device key) in the mailbox derived from code and device key.
//! 3. It polls for the car's [`PairingAccept`] (SEQ 2, sealed to the owner key) and
//!    checks the device signature over `pairing_digest(vid, owner, pool_commitment)`.
//! 4. It submits `DeviceSetup` (a new car) or `SetDup` (a car this owner already holds
//!    on the ledger: a new pool, or the first pool after a `Reset` to this owner), waits
//!    for the block, and only then saves the device and its pool in the store.
//!
//! Bad input (malformed or expired payload, pool size outside 1..=10,000, a car owned by
//! someone else) fails before anything is sent or stored.

use std::time::Duration;

use bitcoin::secp256k1::PublicKey;

use super::account_payments::PaymentError;
use super::devices::DeviceInfo;
use super::error::WalletError;
use super::identity::Wallet;
use super::ledger::submit_signed;
use crate::keys::rsa_public_key_pkcs1_der;
use crate::light::{LightClient, LightError};
use crate::pairing::{
    MAILBOX_FORMAT, PairingAccept, PairingOffer, PairingPayload, SEQ_ACCEPT, SEQ_OFFER,
    mailbox_address, mailbox_key, mailbox_record_key, open_with, pool_commitment, seal_to,
};
use crate::pool::{MAX_POOL_SIZE, PoolSeed};
use crate::protocol::pairing::pairing_digest;
use crate::protocol::signing::verify_digest;
use crate::protocol::{DeviceSetup, DeviceStatus, SetDup, TxBody};
use crate::store::{DeviceRow, SecretBytes, StoreError};

/// How long [`Wallet::pair_device`] waits for the car's accept.
pub const PAIRING_TIMEOUT: Duration = Duration::from_secs(120);
/// Fee stamps a pairing brings the car when the phase-1 reserve no longer pays puts:
/// its accept, then its first records (the owner hands it more later). Each adds about
/// 780 bytes to the sealed offer, which stays well below a stamp's default value
/// (10,000, i.e. 9,990 bytes) and a private node's 16 KiB open slot.
pub const PAIRING_CAR_STAMPS: u64 = 8;
/// Interval between two looks into the mailbox.
pub const MAILBOX_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What the exchange settled on, before it is submitted and saved.
struct Exchange {
    vid: String,
    device_pubkey: PublicKey,
    generation: u32,
    pool_size: usize,
    commitment: [u8; 32],
    device_signature: bitcoin::secp256k1::ecdsa::Signature,
}

fn check_pool_size(size: usize) -> Result<(), WalletError> {
    if (1..=MAX_POOL_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(WalletError::InvalidPoolSize { size })
    }
}

impl Wallet {
    /// Pairs the car whose payload text the owner scanned, names it `name`, gives it a
    /// pool of `pool_size` addresses and `agent` as its agent node; waits up to
    /// [`PAIRING_TIMEOUT`] for the car's answer.
    pub async fn pair_device(
        &self,
        light: &LightClient,
        payload_text: &str,
        name: &str,
        pool_size: usize,
        agent: &str,
    ) -> Result<DeviceInfo, WalletError> {
        self.pair_device_with_timeout(light, payload_text, name, pool_size, agent, PAIRING_TIMEOUT)
            .await
    }

    /// [`Wallet::pair_device`] with a chosen wait for the car's answer.
    pub async fn pair_device_with_timeout(
        &self,
        light: &LightClient,
        payload_text: &str,
        name: &str,
        pool_size: usize,
        agent: &str,
        timeout: Duration,
    ) -> Result<DeviceInfo, WalletError> {
        check_pool_size(pool_size)?;
        let payload = PairingPayload::parse(payload_text, self.clock().now_secs())?;
        let vid = payload.vid.clone();
        match self.locked_store()?.device(&vid) {
            Ok(row) if row.status == "paired" => return Err(WalletError::AlreadyPaired { vid }),
            Ok(_) | Err(StoreError::UnknownDevice { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let generation = match light.device(&vid).await? {
            Some(state) if state.status == DeviceStatus::Active => {
                if state.owner_address != self.owner_address() {
                    return Err(WalletError::DeviceOwnedByOther { vid });
                }
                if state.device_pubkey != payload.device_pubkey {
                    return Err(WalletError::BadPairingAccept {
                        vid,
                        reason: "the payload's device key is not the ledger's",
                    });
                }
                state.generation.saturating_add(1)
            }
            _ => 0,
        };
        let exchange = self
            .exchange(light, &payload, generation, pool_size, agent, timeout)
            .await?;
        let body = if generation == 0 {
            TxBody::DeviceSetup(DeviceSetup {
                vid: vid.clone(),
                device_pubkey: exchange.device_pubkey,
                owner_address: self.owner_address(),
                pool_commitment: exchange.commitment,
                agent: agent.to_owned(),
                device_signature: exchange.device_signature,
            })
        } else {
            TxBody::SetDup(SetDup {
                vid: vid.clone(),
                generation,
                pool_commitment: exchange.commitment,
            })
        };
        submit_signed(light, self.keys().owner_key().secret_key(), body).await?;
        self.save_device(&exchange, name, agent)
    }

    /// Gives a paired car a new pool of `new_size` addresses (the seed's `setDup`): the
    /// car shows a fresh pairing payload, the new pool goes to it through the mailbox,
    /// and a `SetDup` with the next generation's commitment goes on the ledger. Records
    /// already written stay readable under the older generations' pools.
    pub async fn set_dup(
        &self,
        light: &LightClient,
        vid: &str,
        new_size: usize,
        payload_text: &str,
    ) -> Result<DeviceInfo, WalletError> {
        check_pool_size(new_size)?;
        let row = self.owned_device(vid)?;
        let payload = PairingPayload::parse(payload_text, self.clock().now_secs())?;
        if payload.vid != vid {
            return Err(WalletError::BadPairingAccept {
                vid: vid.to_owned(),
                reason: "the payload names another VID",
            });
        }
        let state = self.ledger_device_of_mine(light, vid).await?;
        let generation = state.generation.max(row.pool_generation).saturating_add(1);
        let exchange = self
            .exchange(
                light,
                &payload,
                generation,
                new_size,
                &row.agent,
                PAIRING_TIMEOUT,
            )
            .await?;
        submit_signed(
            light,
            self.keys().owner_key().secret_key(),
            TxBody::SetDup(SetDup {
                vid: vid.to_owned(),
                generation,
                pool_commitment: exchange.commitment,
            }),
        )
        .await?;
        self.save_device(&exchange, &row.name, &row.agent)
    }

    /// Steps 2 and 3: the offer into the mailbox, the checked accept out of it.
    async fn exchange(
        &self,
        light: &LightClient,
        payload: &PairingPayload,
        generation: u32,
        pool_size: usize,
        agent: &str,
        timeout: Duration,
    ) -> Result<Exchange, WalletError> {
        let keys = self.keys();
        let vid = payload.vid.clone();
        let pool_seed = keys.pool_seed(&vid, generation)?;
        let branch = keys.pool_branch_xpriv(&vid, generation)?;
        let commitment = pool_commitment(&pool_seed, &keys.pool_branch_xpub(&vid, generation)?);
        let owner_address = self.owner_address();
        let mut offer = PairingOffer {
            code: payload.code.clone(),
            owner_address: owner_address.clone(),
            owner_rsa_public_der: rsa_public_key_pkcs1_der(&keys.rsa_public())?,
            pool_branch_xpriv: branch,
            generation,
            pool_size: u32::try_from(pool_size)
                .map_err(|_| WalletError::InvalidPoolSize { size: pool_size })?,
            pool_seed: PoolSeed::from_bytes(*pool_seed.as_bytes()),
            agent: agent.to_owned(),
            owner_pubkey: keys.owner_key().public_key().0,
            fee_stamps: Vec::new(),
        };
        offer.validate()?;
        let sealed = seal_to(&payload.device_pubkey, &offer.to_json()?)?;
        let mailbox = mailbox_key(&payload.code, &payload.device_pubkey)?;
        let key = mailbox_record_key(SEQ_OFFER)?;
        match light
            .put_wallet_record(&mailbox, MAILBOX_FORMAT, key.clone(), &sealed)
            .await
        {
            Ok(_) => {}
            Err(e) if e.node_code() == Some("insufficient_balance") => {
                // The phase-1 reserve no longer pays puts and nobody funds the mailbox:
                // the offer pays with a fee stamp and brings the car stamps of its own
                // (its accept, then its first records).
                let mut stamps = self
                    .buy_fee_stamps(light, 1 + PAIRING_CAR_STAMPS)
                    .await
                    .map_err(|err| match err {
                        PaymentError::Light(light) => WalletError::Light(light),
                        other => WalletError::Light(LightError::InvalidInput(other.to_string())),
                    })?;
                let own = stamps.remove(0);
                offer.fee_stamps = stamps;
                let sealed = seal_to(&payload.device_pubkey, &offer.to_json()?)?;
                light
                    .put_wallet_record_stamped(&mailbox, MAILBOX_FORMAT, key, &sealed, Some(&own))
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        let accept = self.wait_for_accept(light, payload, timeout).await?;
        if accept.vid != vid {
            return Err(WalletError::BadPairingAccept {
                vid,
                reason: "the accept names another VID",
            });
        }
        let digest = pairing_digest(&vid, &owner_address, &commitment);
        verify_digest(
            &payload.device_pubkey,
            &digest,
            &accept.device_signature,
            "device pairing",
        )
        .map_err(|_| WalletError::BadPairingAccept {
            vid: vid.clone(),
            reason: "the device signature does not verify",
        })?;
        Ok(Exchange {
            vid,
            device_pubkey: payload.device_pubkey,
            generation,
            pool_size,
            commitment,
            device_signature: accept.device_signature,
        })
    }

    /// Polls the mailbox for the car's accept until `timeout`.
    async fn wait_for_accept(
        &self,
        light: &LightClient,
        payload: &PairingPayload,
        timeout: Duration,
    ) -> Result<PairingAccept, WalletError> {
        let network = light.anchor().network;
        let address = mailbox_address(&payload.code, &payload.device_pubkey, network)?;
        let key = mailbox_record_key(SEQ_ACCEPT)?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match light.record(&address, &key).await {
                Ok(Some(record)) => {
                    let plain = open_with(self.keys().owner_key().secret_key(), &record.envelope)?;
                    return Ok(PairingAccept::from_json(&plain)?);
                }
                Ok(None) => {}
                Err(e) if e.is_failover() || e.node_code() == Some("not_found") => {}
                Err(e) => return Err(e.into()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(WalletError::PairingTimeout {
                    vid: payload.vid.clone(),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(MAILBOX_POLL_INTERVAL).await;
        }
    }

    /// Step 4's local half: the device row and its pool, written once the ledger agreed.
    fn save_device(
        &self,
        exchange: &Exchange,
        name: &str,
        agent: &str,
    ) -> Result<DeviceInfo, WalletError> {
        let keys = self.keys();
        let vid = &exchange.vid;
        let addresses: Vec<String> = keys
            .pool_addresses(vid, exchange.generation, exchange.pool_size)?
            .iter()
            .map(ToString::to_string)
            .collect();
        let pool_seed = keys.pool_seed(vid, exchange.generation)?;
        let row = DeviceRow {
            vid: vid.clone(),
            name: name.to_owned(),
            device_pubkey: hex::encode(exchange.device_pubkey.serialize()),
            pool_account: keys.pool_account(vid)?,
            pool_generation: exchange.generation,
            pool_size: u32::try_from(exchange.pool_size).map_err(|_| {
                WalletError::InvalidPoolSize {
                    size: exchange.pool_size,
                }
            })?,
            pool_seed: SecretBytes::from_slice(pool_seed.as_bytes()),
            delivery_secret: None,
            agent: agent.to_owned(),
            paired_at: self.unix_now(),
            last_seen: None,
            status: "paired".to_owned(),
        };
        let store = self.locked_store()?;
        store.upsert_device(&row)?;
        store.save_pool(vid, exchange.generation, &addresses)?;
        Ok(DeviceInfo::from_row(&row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Network;
    use crate::light::TrustAnchor;
    use crate::pairing::PairingPayloadError;
    use crate::protocol::signing::public_key_of;
    use crate::store::{InMemorySecretStore, WalletStore};
    use std::sync::Arc;

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn wallet() -> Wallet {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        Wallet::restore_in(store, Network::Regtest, WORDS, "").unwrap()
    }

    /// A client whose only endpoint refuses connections: bad input must fail before any
    /// request is made.
    fn unreachable_light() -> LightClient {
        let validator = crate::light::ConsensusSigner::from_seed(&[7; 32]).public_hex();
        let anchor = TrustAnchor::from_hex("carchain-test", Network::Regtest, &validator).unwrap();
        LightClient::new(vec!["http://127.0.0.1:9".into()], anchor).unwrap()
    }

    fn payload(now: u64, ttl: u64) -> String {
        let device = public_key_of(&SecretKey::from_slice(&[9; 32]).unwrap());
        PairingPayload::generate("VIN-TEST-1", device, now, ttl)
            .unwrap()
            .to_text()
    }

    fn now() -> u64 {
        crate::clock::Clock::now_secs(&crate::clock::SystemClock)
    }

    /// Pairs from `text` with an 8-address pool through an unreachable node; the error.
    async fn pairing_error(wallet: &Wallet, text: &str) -> WalletError {
        wallet
            .pair_device(&unreachable_light(), text, "car", 8, "agent")
            .await
            .unwrap_err()
    }

    fn is_expired(err: &WalletError) -> bool {
        matches!(
            err,
            WalletError::PairingPayload(PairingPayloadError::Expired { .. })
        )
    }

    use bitcoin::secp256k1::SecretKey;

    #[tokio::test(flavor = "current_thread")]
    async fn pool_size_zero_and_too_large_are_refused_and_store_nothing() {
        let wallet = wallet();
        let light = unreachable_light();
        let text = payload(now(), 600);
        for size in [0, MAX_POOL_SIZE + 1] {
            let err = wallet
                .pair_device(&light, &text, "car", size, "agent")
                .await
                .unwrap_err();
            assert!(matches!(err, WalletError::InvalidPoolSize { size: s } if s == size));
        }
        assert!(wallet.devices().unwrap().is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn malformed_payload_is_refused() {
        let wallet = wallet();
        let light = unreachable_light();
        let err = wallet
            .pair_device(&light, "carchain:pair?v=1&vid=X", "car", 8, "agent")
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            WalletError::PairingPayload(PairingPayloadError::Malformed { .. })
        ));
        assert!(wallet.devices().unwrap().is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn expired_code_is_refused() {
        let wallet = wallet();
        let err = pairing_error(&wallet, &payload(now() - 1_000, 60)).await;
        assert!(is_expired(&err), "{err}");
        assert!(wallet.devices().unwrap().is_empty());
    }

    /// Expiry is judged by the wallet's clock: a code issued at a fixed time is refused
    /// as expired once that clock is past its lifetime, and gets past the expiry check
    /// (to the unreachable node) while it is not.
    #[tokio::test(flavor = "current_thread")]
    async fn expiry_follows_the_wallets_clock() {
        let issued = 1_800_000_000;
        let clock = Arc::new(crate::clock::ManualClock::at_millis(issued * 1000));
        let wallet = wallet().with_clock(clock.clone());
        let text = payload(issued, 60);
        let err = pairing_error(&wallet, &text).await;
        assert!(
            !matches!(err, WalletError::PairingPayload(_)),
            "refused a fresh code: {err}"
        );
        clock.advance(std::time::Duration::from_secs(61));
        let err = pairing_error(&wallet, &text).await;
        assert!(is_expired(&err), "{err}");
        assert!(wallet.devices().unwrap().is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unknown_vid_is_refused_by_set_dup_reset_and_reads() {
        let wallet = wallet();
        let light = unreachable_light();
        let text = payload(now(), 600);
        let unknown =
            |e: WalletError| matches!(e, WalletError::UnknownDevice { vid } if vid == "NOPE");
        assert!(unknown(
            wallet.set_dup(&light, "NOPE", 8, &text).await.unwrap_err()
        ));
        let other = wallet.owner_address();
        assert!(unknown(
            wallet.reset_to(&light, "NOPE", &other).await.unwrap_err()
        ));
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let spec = crate::record::FormatSpec::trip_gps();
        let key = serde_json::json!({"SESSION_ID": 1, "START_TIME": 20240501080000_i64, "END_TIME": 20240501090000_i64});
        assert!(unknown(
            wallet
                .get_kv(&light, "NOPE", day, &spec, &key, &[])
                .await
                .unwrap_err()
        ));
        let all = serde_json::json!({});
        assert!(unknown(
            wallet
                .get_kv_range(&light, "NOPE", day, day, &spec, &all, &all, &[], None)
                .await
                .unwrap_err()
        ));
        assert!(unknown(
            wallet.device_status(&light, "NOPE", day).await.unwrap_err()
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reversed_dates_and_bounds_are_refused() {
        let wallet = wallet();
        let light = unreachable_light();
        let spec = crate::record::FormatSpec::trip_gps();
        let all = serde_json::json!({});
        let d1 = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let d2 = chrono::NaiveDate::from_ymd_opt(2024, 5, 7).unwrap();
        let err = wallet
            .get_kv_range(&light, "VIN", d2, d1, &spec, &all, &all, &[], None)
            .await
            .unwrap_err();
        assert!(matches!(err, WalletError::InvalidDateRange { .. }));
        let start = serde_json::json!({"SESSION_ID": 9});
        let end = serde_json::json!({"SESSION_ID": 2});
        let err = wallet
            .get_kv_range(&light, "VIN", d1, d2, &spec, &start, &end, &[], None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            WalletError::Record(crate::record::RecordError::StartAfterEnd)
        ));
        let err = wallet
            .get_kv_range(&light, "VIN", d1, d2, &spec, &all, &all, &[], Some((0, 0)))
            .await
            .unwrap_err();
        assert!(matches!(err, WalletError::InvalidPage));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reset_to_an_address_of_another_network_is_refused() {
        let wallet = wallet();
        let light = unreachable_light();
        let err = wallet
            .reset_to(&light, "VIN", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            WalletError::Keys(crate::keys::KeyError::WrongNetwork { .. })
        ));
    }
}
