//! The auditor itself: it checks a mileage claim against the ledger (every trip of
//! every pool address in the period is in the owner's copy, and they add up) and
//! countersigns it on the ledger.

use core::fmt;
use std::collections::BTreeMap;

use bitcoin::secp256k1::SecretKey;
use rsa::PrivateKey as RsaPrivateKey;

use super::claim::{MILEAGE_CLAIM_TAG, MileageClaim};
use super::countersignature::Countersignature;
use super::error::{AuditError, AuditResult};
use super::pool_disclosure::PoolDisclosure;
use crate::compute::{FeatureParams, mileage_native, trip_features};
use crate::grants::error::GrantsError;
use crate::grants::ledger::GrantsLedger;
use crate::grants::provider::{ReceivedCopy, ServiceProvider};
use crate::keys::{Network, SigningKey};
use crate::pool::PoolSeed;
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{AttestationOpening, AuditorAttestation, SignedTransaction, TxBody};
use crate::record::{FormatSpec, TRIP_GPS, decode_key};
use crate::sealed::StoredKeyCipher;
use crate::trip::{Trip, compact_to_unix};

/// A claim the auditor checked: the claim and the dHashes of the trips it counted,
/// ordered by address then key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedMileage {
    /// The claim, as checked.
    pub claim: MileageClaim,
    /// The counted trips' dHashes.
    pub d_hashes: Vec<[u8; 32]>,
    /// Pool addresses scanned.
    pub addresses: usize,
}

/// An auditor: a registered provider (it receives copies of the data it audits through
/// an ordinary request) whose account key countersigns claims. `Debug` shows only the
/// address; the key is erased on drop.
pub struct Auditor {
    provider: ServiceProvider,
    signing: SigningKey,
    network: Network,
}

impl fmt::Debug for Auditor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keys::fmt_account_holder(f, "Auditor", &self.address())
    }
}

impl Auditor {
    /// An auditor with account key `account` and RSA key `rsa` (what copies for it are
    /// wrapped to).
    pub fn new(account: SecretKey, rsa: RsaPrivateKey, network: Network) -> Self {
        Auditor {
            provider: ServiceProvider::new(account, rsa, network),
            signing: SigningKey::from_secret_key(account),
            network,
        }
    }

    /// The auditor as a provider: to register, request copies and receive them.
    pub fn provider(&self) -> &ServiceProvider {
        &self.provider
    }

    /// The auditor's account address.
    pub fn address(&self) -> String {
        p2wpkh_address(&self.signing.public_key().0, self.network)
    }

    /// Checks `claim` against the ledger (see the module documentation): the pool is
    /// the car's, the copy holds exactly the period's trips of every pool address, and
    /// they add up to the claim.
    pub async fn audit_mileage(
        &self,
        ledger: &GrantsLedger,
        pool: &PoolDisclosure,
        copy: &ReceivedCopy,
        claim: &MileageClaim,
    ) -> AuditResult<AuditedMileage> {
        claim.check()?;
        let mismatch = |reason: &str| AuditError::PoolMismatch {
            vid: claim.vid.clone(),
            reason: reason.to_owned(),
        };
        if pool.vid != claim.vid {
            return Err(mismatch("the disclosure is of another car"));
        }
        let device = ledger
            .light()
            .device(&claim.vid)
            .await?
            .ok_or_else(|| mismatch("the car is not on the ledger"))?;
        if device.pool_commitment != pool.commitment() {
            return Err(mismatch("the pool commitment differs"));
        }
        if device.owner_address != copy.grant.grantor {
            return Err(mismatch("the copy was not granted by the car's owner"));
        }
        let addresses = pool.addresses(self.network)?;
        let registered = period_trips(ledger, pool.pool_seed(), &addresses, claim).await?;
        let mut copied = BTreeMap::new();
        let mut extra = 0;
        for record in copy.records.iter().filter(|r| r.format == TRIP_GPS) {
            let place = (record.address.clone(), record.key.clone());
            if registered.contains_key(&place) {
                copied.insert(place, record);
            } else {
                extra += 1;
            }
        }
        if extra > 0 {
            return Err(AuditError::OutsideClaim { extra });
        }
        let missing = registered.len() - copied.len();
        if missing > 0 {
            return Err(AuditError::Incomplete { missing });
        }
        let spec = FormatSpec::trip_gps();
        let mut features = Vec::with_capacity(copied.len());
        for (place, record) in &copied {
            // The copy's plaintext key (sealed in the envelope) must be the one the
            // stored key on the ledger encrypts.
            let plain = registered.get(place).map(|(_, plain)| plain);
            if plain != Some(&record.plain_key) {
                return Err(mismatch("a copied record's key is not its registered key"));
            }
            let key = decode_key(&spec, &record.plain_key).map_err(GrantsError::from)?;
            let trip = Trip::decode(&key, &record.value).map_err(GrantsError::from)?;
            features
                .push(trip_features(&trip, &FeatureParams::default()).map_err(GrantsError::from)?);
        }
        let total = mileage_native(&features);
        if total.trips != claim.trips || total.total_m != claim.total_m {
            return Err(AuditError::ClaimMismatch {
                claimed_trips: claim.trips,
                claimed_m: claim.total_m,
                trips: total.trips,
                total_m: total.total_m,
            });
        }
        Ok(AuditedMileage {
            claim: claim.clone(),
            d_hashes: registered.into_values().map(|(d_hash, _)| d_hash).collect(),
            addresses: addresses.len(),
        })
    }

    /// Countersigns an audited claim about `subject` (a grant id in hex; the ledger
    /// records it on that grant): submits the `AuditorAttestation`, which publishes only
    /// [`MILEAGE_CLAIM_TAG`] and a salted commitment to the claim and its dHashes, and
    /// returns the signed transaction with the commitment's opening, which the auditor
    /// hands, sealed ([`Countersignature::seal_for`]), to whoever relies on it.
    pub async fn countersign(
        &self,
        ledger: &GrantsLedger,
        subject: &str,
        audited: &AuditedMileage,
    ) -> AuditResult<Countersignature> {
        let opening = AttestationOpening::new(audited.claim.to_text()?, audited.d_hashes.clone())
            .map_err(GrantsError::from)?;
        let body = TxBody::AuditorAttestation(AuditorAttestation {
            subject: subject.to_owned(),
            claim: MILEAGE_CLAIM_TAG.to_owned(),
            commitment: opening.commitment(),
        });
        let tx = self.sign_and_submit(ledger, body).await?;
        Ok(Countersignature { tx, opening })
    }

    async fn sign_and_submit(
        &self,
        ledger: &GrantsLedger,
        body: TxBody,
    ) -> AuditResult<SignedTransaction> {
        let (signed, _) = ledger
            .light()
            .sign_and_submit_signed(self.signing.secret_key(), body)
            .await?;
        Ok(signed)
    }
}

/// The `trip-gps` records registered under `addresses` whose trip starts in the claim's
/// period, keyed by (address, stored key), with their dHashes and plaintext keys. Only
/// keys are read: the period is in the key, which the disclosed pool seed decrypts from
/// the stored key.
async fn period_trips(
    ledger: &GrantsLedger,
    pool_seed: &PoolSeed,
    addresses: &[String],
    claim: &MileageClaim,
) -> AuditResult<BTreeMap<(String, Vec<u8>), ([u8; 32], Vec<u8>)>> {
    let spec = FormatSpec::trip_gps();
    let mut found = BTreeMap::new();
    for address in addresses {
        let read = ledger.light().records_at(address).await?;
        let unserved = read.missing + read.rejected.len() as u64;
        if unserved > 0 {
            return Err(AuditError::ScanIncomplete {
                address: address.clone(),
                missing: unserved,
            });
        }
        let cipher = StoredKeyCipher::new(pool_seed, address).map_err(GrantsError::from)?;
        for record in read.records {
            let put = record.registration.put;
            if put.format != TRIP_GPS {
                continue;
            }
            let plain = cipher.plain_key(&put.key);
            let key = decode_key(&spec, &plain).map_err(GrantsError::from)?;
            let start = key
                .get("START_TIME")
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| AuditError::InvalidClaim("a trip key without a start".into()))?;
            let start = compact_to_unix("START_TIME", start).map_err(GrantsError::from)?;
            if claim.covers(start) {
                found.insert((put.address, put.key), (put.d_hash, plain));
            }
        }
    }
    Ok(found)
}
