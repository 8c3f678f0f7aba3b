//! Auditors: a registered auditor countersigns a completeness claim — the mileage
//! total of a car over a period, across all of its pool addresses — after checking it
//! itself against the ledger, and a provider requires that countersignature before its
//! grant completes.
//!
//! Who is an auditor (the ledger's rule): the chain's operator is the root auditor; a
//! registered provider becomes one when an auditor attests the claim [`AUDITOR_CLAIM`]
//! about its address ([`appoint_auditor`]).
//!
//! What the auditor checks ([`Auditor::audit_mileage`]):
//! - the owner disclosed the car's pool ([`PoolDisclosure`]: pool seed, branch public
//!   key and size) and it is the pool the ledger's device state commits to, so the
//!   addresses are all of the car's addresses and nothing else;
//! - every `trip-gps` record registered under any of those addresses whose trip starts
//!   in the period (found from the keys alone, through the ledger's per-address index)
//!   is in the copy the owner granted the auditor, and the copy holds nothing else;
//! - the copied trips, opened and checked against their dHash and cHash, add up to the
//!   claimed trip count and metres ([`crate::compute::mileage_native`], the same sum the
//!   shipped `Mileage.sol` computes).
//!
//! The countersignature is an `AuditorAttestation` transaction whose subject is the
//! grant it vouches for (its id in hex); the ledger records it on that grant. Since tx
//! format v3 the transaction publishes only the kind of claim ([`MILEAGE_CLAIM_TAG`])
//! and a salted commitment to the claim's text (which names the car) and the trips'
//! dHashes; the opening ([`AttestationOpening`]) reaches the requester sealed to its RSA
//! key ([`Countersignature::seal_for`]). A provider checks it with
//! [`require_attestation`]: the grant's proven state names the attestation's
//! transaction id, the signed transaction itself (handed over by the auditor, or
//! fetched from a node with [`fetch_transaction`]) carries the auditor's signature over
//! the commitment, and the opening hashes to it. Anyone holding the opening can do the
//! same check; a ledger reader learns only that the grant was countersigned.
//!
//! The scan reads each pool address through the auditor's light client: with a read
//! payer set ([`crate::light::LightClient::with_read_payer`]), each address read spends
//! a fresh blind-signed read token on a connection of its own, exactly like the
//! owner's reads, so the node cannot tell the auditor's scan from other reads or link
//! the pool's addresses through it.
//!
//! Disclosing the pool seed lets the auditor find the car's address for each day: it
//! is given only to an auditor the owner chose.

use core::fmt;
use std::collections::BTreeMap;

use bitcoin::bip32::Xpub;
use bitcoin::secp256k1::SecretKey;
use chrono::{DateTime, NaiveDate};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

use super::error::GrantsError;
use super::ledger::GrantsLedger;
use super::provider::{ReceivedCopy, ServiceProvider};
use crate::compute::{FeatureParams, mileage_native, trip_features};
use crate::crypto::{Envelope, EpochKeyCache, RecordContext, SealingEpoch, seal};
use crate::keys::{Network, SigningKey};
use crate::light::LightError;
use crate::pairing::pool_commitment;
use crate::pool::{PoolSeed, addresses_from_branch};
use crate::protocol::signing::p2wpkh_address;
use crate::protocol::{
    AttestationOpening, AttestationRef, AuditorAttestation, FeeSchedule, GrantState,
    SignedTransaction, Transaction, TxBody,
};
use crate::record::{FormatSpec, TRIP_GPS, decode_key};
use crate::sealed::StoredKeyCipher;
use crate::trip::{Trip, compact_to_unix};
use crate::wallet::Wallet;

/// The claim that makes its subject (a provider's address) an auditor.
pub const AUDITOR_CLAIM: &str = "registered-auditor";
/// First word of a mileage completeness claim.
pub const MILEAGE_CLAIM_TAG: &str = "mileage-complete/v1";

/// Why an audit or an attestation check failed. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A claim's text or fields are not usable.
    #[error("invalid claim: {0}")]
    InvalidClaim(String),
    /// The disclosed pool is not the one the ledger commits for the car.
    #[error("the disclosed pool of {vid} does not match the ledger: {reason}")]
    PoolMismatch {
        /// The car.
        vid: String,
        /// What differs.
        reason: String,
    },
    /// A node did not serve every record the ledger registers under an address.
    #[error("address {address}: {missing} registered records were not served")]
    ScanIncomplete {
        /// The pool address.
        address: String,
        /// Records registered but not served or failing verification.
        missing: u64,
    },
    /// The copy lacks trips the ledger registers for the period.
    #[error("{missing} trips of the period are not in the copy")]
    Incomplete {
        /// How many.
        missing: usize,
    },
    /// The copy holds trips outside the car's pool or the period.
    #[error("{extra} copied trips are outside the car's pool or the period")]
    OutsideClaim {
        /// How many.
        extra: usize,
    },
    /// The trips do not add up to the claim.
    #[error(
        "the claim says {claimed_trips} trips, {claimed_m} m; the ledger's trips give {trips}, {total_m} m"
    )]
    ClaimMismatch {
        /// Trips claimed.
        claimed_trips: u64,
        /// Metres claimed.
        claimed_m: u64,
        /// Trips found.
        trips: u64,
        /// Metres found.
        total_m: u64,
    },
    /// The signer is not a registered auditor.
    #[error("{0} is not a registered auditor")]
    NotAnAuditor(String),
    /// No countersignature of the claim is recorded on the grant.
    #[error("grant {grant} carries no attestation of the claim by {auditor}")]
    AttestationMissing {
        /// The grant id, hex.
        grant: String,
        /// The auditor's address.
        auditor: String,
    },
    /// The attestation transaction is not a valid countersignature of the claim.
    #[error("attestation refused: {0}")]
    AttestationInvalid(String),
    /// Reading the ledger, opening records or submitting failed.
    #[error(transparent)]
    Grants(#[from] GrantsError),
}

impl From<LightError> for AuditError {
    fn from(err: LightError) -> Self {
        AuditError::Grants(err.into())
    }
}

/// Result of auditor operations.
pub type AuditResult<T> = Result<T, AuditError>;

/// A mileage completeness claim: car `vid` drove `trips` trips totalling `total_m`
/// metres between `from` and `to` (inclusive, by trip start, UTC), counting every trip
/// under every pool address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MileageClaim {
    /// The car.
    pub vid: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Number of trips.
    pub trips: u64,
    /// Total distance, metres.
    pub total_m: u64,
}

impl MileageClaim {
    /// The canonical claim text:
    /// `mileage-complete/v1 vid=<vid> from=<YYYY-MM-DD> to=<YYYY-MM-DD> trips=<n> metres=<m>`.
    pub fn to_text(&self) -> AuditResult<String> {
        self.check()?;
        Ok(format!(
            "{MILEAGE_CLAIM_TAG} vid={} from={} to={} trips={} metres={}",
            self.vid,
            self.from.format("%Y-%m-%d"),
            self.to.format("%Y-%m-%d"),
            self.trips,
            self.total_m
        ))
    }

    /// Parses [`Self::to_text`]'s form.
    pub fn parse(text: &str) -> AuditResult<Self> {
        let bad = |why: &str| AuditError::InvalidClaim(why.to_owned());
        let mut words = text.split(' ');
        if words.next() != Some(MILEAGE_CLAIM_TAG) {
            return Err(bad("not a mileage claim"));
        }
        let mut fields = BTreeMap::new();
        for word in words {
            let (name, value) = word
                .split_once('=')
                .ok_or_else(|| bad("a field without '='"))?;
            if fields.insert(name, value).is_some() {
                return Err(bad("a repeated field"));
            }
        }
        let field = |name: &str| {
            fields
                .get(name)
                .copied()
                .ok_or_else(|| bad("a missing field"))
        };
        let date = |name: &str| {
            NaiveDate::parse_from_str(field(name)?, "%Y-%m-%d").map_err(|_| bad("a bad date"))
        };
        let number = |name: &str| field(name)?.parse::<u64>().map_err(|_| bad("a bad number"));
        if fields.len() != 5 {
            return Err(bad("unknown fields"));
        }
        let claim = MileageClaim {
            vid: field("vid")?.to_owned(),
            from: date("from")?,
            to: date("to")?,
            trips: number("trips")?,
            total_m: number("metres")?,
        };
        claim.check()?;
        Ok(claim)
    }

    fn check(&self) -> AuditResult<()> {
        let vid_ok =
            !self.vid.is_empty() && self.vid.chars().all(|c| c.is_ascii_graphic() && c != '=');
        if !vid_ok {
            return Err(AuditError::InvalidClaim(
                "a VID is printable ASCII without spaces or '='".into(),
            ));
        }
        if self.to < self.from {
            return Err(AuditError::InvalidClaim(
                "the period ends before it starts".into(),
            ));
        }
        Ok(())
    }

    fn covers(&self, start_unix: i64) -> bool {
        DateTime::from_timestamp(start_unix, 0)
            .map(|t| t.date_naive())
            .is_some_and(|day| self.from <= day && day <= self.to)
    }
}

/// A car's pool as its owner discloses it to an auditor: enough to recompute the
/// ledger's pool commitment and every pool address. Secret (the pool seed): `Debug`
/// redacts it, and it is erased on drop.
#[derive(Clone)]
pub struct PoolDisclosure {
    /// The car.
    pub vid: String,
    /// Addresses in the pool.
    pub size: u32,
    /// The pool branch public key the addresses derive from.
    pub branch_xpub: Xpub,
    pool_seed: PoolSeed,
}

impl fmt::Debug for PoolDisclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolDisclosure")
            .field("vid", &self.vid)
            .field("size", &self.size)
            .field("pool_seed", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl PoolDisclosure {
    /// The disclosure of car `vid`'s pool from its owner's wallet (the car must still
    /// be paired with it).
    pub fn from_wallet(wallet: &Wallet, vid: &str) -> AuditResult<Self> {
        let row = wallet.owned_device(vid).map_err(GrantsError::from)?;
        let seed: [u8; 32] =
            row.pool_seed
                .expose()
                .try_into()
                .map_err(|_| AuditError::PoolMismatch {
                    vid: vid.to_owned(),
                    reason: "the stored pool seed has the wrong length".into(),
                })?;
        let branch_xpub = wallet
            .keys()
            .pool_branch_xpub(vid, row.pool_generation)
            .map_err(GrantsError::from)?;
        Ok(PoolDisclosure {
            vid: vid.to_owned(),
            size: row.pool_size,
            branch_xpub,
            pool_seed: PoolSeed::from_bytes(seed),
        })
    }

    /// A disclosure from its parts.
    pub fn new(vid: &str, size: u32, branch_xpub: Xpub, pool_seed: PoolSeed) -> Self {
        PoolDisclosure {
            vid: vid.to_owned(),
            size,
            branch_xpub,
            pool_seed,
        }
    }

    /// The commitment the ledger keeps for this pool.
    pub fn commitment(&self) -> [u8; 32] {
        pool_commitment(&self.pool_seed, &self.branch_xpub)
    }

    /// Every pool address, index order.
    pub fn addresses(&self, network: Network) -> AuditResult<Vec<String>> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let addresses = addresses_from_branch(&self.branch_xpub, network, size).map_err(|e| {
            AuditError::PoolMismatch {
                vid: self.vid.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(addresses.iter().map(ToString::to_string).collect())
    }
}

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

/// Format name bound into a sealed countersignature.
pub const COUNTERSIGNATURE_FORMAT: &str = "carchain-countersignature";

/// A countersignature as the auditor hands it over: the signed attestation
/// transaction and the opening of its commitment. Seal it to the requester with
/// [`Self::seal_for`]; nothing of it but the transaction is on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Countersignature {
    /// The signed `AuditorAttestation` (also on the ledger).
    pub tx: SignedTransaction,
    /// The claim and dHashes behind its commitment.
    pub opening: AttestationOpening,
}

impl Countersignature {
    fn context(tx_id: &[u8; 32]) -> ([u8; 32], &'static str) {
        (*tx_id, COUNTERSIGNATURE_FORMAT)
    }

    /// The countersignature sealed to `requester`'s RSA key (envelope bound to the
    /// transaction id): only the requester opens it.
    pub fn seal_for(&self, requester: &RsaPublicKey) -> AuditResult<Vec<u8>> {
        let plaintext =
            serde_json::to_vec(self).map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        let (key, format) = Self::context(&self.tx.id());
        let subject = attestation_subject(&self.tx)?;
        let ctx = RecordContext {
            address: &subject,
            key_bytes: &key,
            format,
        };
        let epoch = SealingEpoch::new(requester).map_err(GrantsError::from)?;
        Ok(seal(&plaintext, &ctx, &epoch)
            .and_then(|envelope| envelope.to_bytes())
            .map_err(GrantsError::from)?)
    }

    /// Opens a countersignature sealed to `requester` for the attestation about grant
    /// `grant_id` with transaction id `tx_id` (as recorded on the grant).
    pub fn open_sealed(
        sealed: &[u8],
        grant_id: &[u8; 32],
        tx_id: &[u8; 32],
        requester: &RsaPrivateKey,
    ) -> AuditResult<Self> {
        let (key, format) = Self::context(tx_id);
        let subject = hex::encode(grant_id);
        let ctx = RecordContext {
            address: &subject,
            key_bytes: &key,
            format,
        };
        let plaintext = Envelope::from_bytes(sealed)
            .and_then(|envelope| {
                envelope.open_with_owner_key(&ctx, requester, &mut EpochKeyCache::new())
            })
            .map_err(GrantsError::from)?;
        let opened: Countersignature = serde_json::from_slice(&plaintext)
            .map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        if opened.tx.id() != *tx_id {
            return Err(AuditError::AttestationInvalid(
                "the sealed countersignature is of another transaction".into(),
            ));
        }
        Ok(opened)
    }
}

fn attestation_subject(tx: &SignedTransaction) -> AuditResult<String> {
    match &tx.tx.body {
        TxBody::AuditorAttestation(body) => Ok(body.subject.clone()),
        _ => Err(AuditError::AttestationInvalid(
            "not an auditor attestation".into(),
        )),
    }
}

/// A countersignature checked by a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAttestation {
    /// The auditor's address.
    pub auditor: String,
    /// The claim.
    pub claim: MileageClaim,
    /// The dHashes the auditor signed.
    pub d_hashes: Vec<[u8; 32]>,
    /// The attestation transaction's id, as recorded on the grant.
    pub tx_id: [u8; 32],
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
        f.debug_struct("Auditor")
            .field("address", &self.address())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Drop for Auditor {
    fn drop(&mut self) {
        let mut secret = *self.signing.secret_key();
        secret.non_secure_erase();
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
        let registered = period_trips(ledger, &pool.pool_seed, &addresses, claim).await?;
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
        let light = ledger.light();
        let anchor = light.anchor();
        let nonce = light.account(&self.address()).await?.nonce;
        let fee = FeeSchedule::DEFAULT.required(&body).unwrap_or(u64::MAX);
        let signed = Transaction {
            chain_id: anchor.chain_id.clone(),
            network: anchor.network,
            signer: self.signing.public_key().0,
            nonce,
            fee,
            body,
        }
        .sign(self.signing.secret_key())
        .map_err(GrantsError::from)?;
        light.submit(&signed, true).await?;
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

/// Makes `auditor_address` (a registered provider) an auditor: an attestation of
/// [`AUDITOR_CLAIM`] signed by an existing auditor (`appointer`, at first the chain's
/// operator).
pub async fn appoint_auditor(
    ledger: &GrantsLedger,
    appointer: &SecretKey,
    auditor_address: &str,
) -> AuditResult<()> {
    ledger
        .submit(
            appointer,
            TxBody::AuditorAttestation(AuditorAttestation {
                subject: auditor_address.to_owned(),
                claim: AUDITOR_CLAIM.to_owned(),
                commitment: [0; 32],
            }),
        )
        .await?;
    Ok(())
}

/// Whether `address` is a registered auditor on the ledger (its proven provider
/// registration carries the auditor flag).
pub async fn is_auditor(ledger: &GrantsLedger, address: &str) -> AuditResult<bool> {
    Ok(ledger
        .provider(address)
        .await?
        .is_some_and(|provider| provider.auditor))
}

/// The mileage countersignatures recorded on grant `grant_id` (proven), for a
/// provider waiting for one; fetch each transaction with [`fetch_transaction`] (or take
/// it from the auditor's sealed [`Countersignature`]) and check it against `claim` with
/// [`require_attestation`]. The ledger names only the kind of claim: which claim each
/// one countersigns is in its opening.
pub async fn recorded_attestations(
    ledger: &GrantsLedger,
    grant_id: &[u8; 32],
    claim: &MileageClaim,
) -> AuditResult<Vec<AttestationRef>> {
    claim.check()?;
    let grant = ledger
        .grant(grant_id)
        .await?
        .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
    Ok(grant
        .attestations
        .into_iter()
        .filter(|a| a.claim == MILEAGE_CLAIM_TAG)
        .collect())
}

/// What a provider requires before its grant `grant_id` completes: `attestation` is a
/// valid countersignature of `claim` about that grant, signed by a registered auditor,
/// its opening hashes to the transaction's commitment, and the grant's proven state
/// records exactly that transaction. Returns the countersigned dHashes.
/// [`AuditError::AttestationMissing`] until the auditor has countersigned on the ledger.
pub async fn require_attestation(
    ledger: &GrantsLedger,
    grant_id: &[u8; 32],
    claim: &MileageClaim,
    attestation: &SignedTransaction,
    opening: &AttestationOpening,
) -> AuditResult<VerifiedAttestation> {
    let grant = ledger
        .grant(grant_id)
        .await?
        .ok_or_else(|| GrantsError::GrantRefused("the grant is not on the ledger".into()))?;
    let verified = check_attestation_tx(&grant, claim, attestation, opening)?;
    if !is_auditor(ledger, &verified.auditor).await? {
        return Err(AuditError::NotAnAuditor(verified.auditor));
    }
    Ok(verified)
}

/// The offline part of [`require_attestation`]: the transaction's signature, body and
/// subject, the opening against its commitment, and its id among the grant's recorded
/// attestations.
pub fn check_attestation_tx(
    grant: &GrantState,
    claim: &MileageClaim,
    attestation: &SignedTransaction,
    opening: &AttestationOpening,
) -> AuditResult<VerifiedAttestation> {
    let refuse = |why: &str| Err(AuditError::AttestationInvalid(why.to_owned()));
    if attestation.verify_signature().is_err() {
        return refuse("the signature does not verify");
    }
    let TxBody::AuditorAttestation(body) = &attestation.tx.body else {
        return refuse("not an auditor attestation");
    };
    if body.subject != hex::encode(grant.grant_id) {
        return refuse("the attestation is about another subject");
    }
    if body.claim != MILEAGE_CLAIM_TAG {
        return refuse("the attestation is not a mileage claim");
    }
    if opening.commitment() != body.commitment {
        return refuse("the opening does not match the attestation's commitment");
    }
    let text = claim.to_text()?;
    if opening.claim != text {
        return refuse("the attestation countersigns another claim");
    }
    let auditor = attestation.tx.signer_address();
    let tx_id = attestation.id();
    let recorded = grant
        .attestations
        .iter()
        .any(|a| a.auditor == auditor && a.claim == body.claim && a.tx_id == tx_id);
    if !recorded {
        return Err(AuditError::AttestationMissing {
            grant: hex::encode(grant.grant_id),
            auditor,
        });
    }
    Ok(VerifiedAttestation {
        auditor,
        claim: claim.clone(),
        d_hashes: opening.d_hashes.clone(),
        tx_id,
    })
}

/// Fetches the committed transaction `tx_id` from the node at `base` (`GET
/// /v1/tx/{id}`). The answer is trusted only as far as its id: a transaction whose id
/// is not `tx_id` is refused, and an id recorded in proven state binds the rest.
pub async fn fetch_transaction(base: &str, tx_id: &[u8; 32]) -> AuditResult<SignedTransaction> {
    #[derive(serde::Deserialize)]
    struct Lookup {
        tx: SignedTransaction,
    }
    let url = format!(
        "{}/v1/tx/{}",
        base.trim_end_matches('/'),
        hex::encode(tx_id)
    );
    let failed = |e: reqwest::Error| AuditError::from(LightError::InvalidInput(e.to_string()));
    let lookup: Lookup = reqwest::get(&url)
        .await
        .map_err(failed)?
        .error_for_status()
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    if lookup.tx.id() != *tx_id {
        return Err(AuditError::AttestationInvalid(
            "the node answered another transaction".into(),
        ));
    }
    Ok(lookup.tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::public_key_of;

    fn claim() -> MileageClaim {
        MileageClaim {
            vid: "VIN-GRANTS-1".into(),
            from: NaiveDate::from_ymd_opt(2024, 5, 1).expect("date"),
            to: NaiveDate::from_ymd_opt(2024, 5, 5).expect("date"),
            trips: 5,
            total_m: 12_345,
        }
    }

    #[test]
    fn the_claim_text_is_pinned_and_round_trips() {
        let text = claim().to_text().expect("text");
        assert_eq!(
            text,
            "mileage-complete/v1 vid=VIN-GRANTS-1 from=2024-05-01 to=2024-05-05 trips=5 metres=12345"
        );
        assert_eq!(MileageClaim::parse(&text).expect("parse"), claim());
    }

    #[test]
    fn malformed_claims_are_refused() {
        let good = claim().to_text().expect("text");
        for bad in [
            "",
            "registered-auditor",
            &good.replace("mileage-complete/v1", "mileage/v0"),
            &good.replace("trips=5", "trips=five"),
            &good.replace("from=2024-05-01", "from=2024-13-01"),
            &good.replace(" metres=12345", ""),
            &format!("{good} extra=1"),
            &format!("{good} trips=6"),
            &good.replace("trips=5", "trips5"),
            &good.replace("from=2024-05-01", "from=2024-06-01"),
        ] {
            assert!(
                matches!(MileageClaim::parse(bad), Err(AuditError::InvalidClaim(_))),
                "{bad}"
            );
        }
        for vid in ["", "two words", "a=b"] {
            let claim = MileageClaim {
                vid: vid.into(),
                ..claim()
            };
            assert!(matches!(claim.to_text(), Err(AuditError::InvalidClaim(_))));
        }
    }

    #[test]
    fn the_period_is_inclusive_by_utc_start_day() {
        let start = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|day| day.and_hms_opt(h, 0, 0))
                .expect("time")
                .and_utc()
                .timestamp()
        };
        assert!(claim().covers(start(2024, 5, 1, 0)));
        assert!(claim().covers(start(2024, 5, 5, 23)));
        assert!(!claim().covers(start(2024, 4, 30, 23)));
        assert!(!claim().covers(start(2024, 5, 6, 0)));
    }

    fn disclosure(seed: u8) -> PoolDisclosure {
        let master = bitcoin::bip32::Xpriv::new_master(bitcoin::NetworkKind::Test, &[7; 32])
            .expect("master");
        let xpub = Xpub::from_priv(&bitcoin::secp256k1::Secp256k1::new(), &master);
        PoolDisclosure::new("VIN-1", 3, xpub, PoolSeed::from_bytes([seed; 32]))
    }

    #[test]
    fn a_disclosure_recomputes_the_commitment_and_hides_the_seed() {
        let pool = disclosure(0x5e);
        assert_eq!(
            pool.commitment(),
            pool_commitment(&PoolSeed::from_bytes([0x5e; 32]), &pool.branch_xpub)
        );
        assert_ne!(pool.commitment(), disclosure(0x5f).commitment());
        let addresses = pool.addresses(Network::Regtest).expect("addresses");
        assert_eq!(addresses.len(), 3);
        assert!(addresses.iter().all(|a| a.starts_with("bcrt1q")));
        let debug = format!("{pool:?}");
        assert!(!debug.contains(&hex::encode([0x5eu8; 32])), "{debug}");
        assert!(debug.contains("<redacted>"));
        let empty = PoolDisclosure { size: 0, ..pool };
        assert!(matches!(
            empty.addresses(Network::Regtest),
            Err(AuditError::PoolMismatch { .. })
        ));
    }

    fn opening(claim_text: &str) -> AttestationOpening {
        AttestationOpening {
            salt: [0x5a; 32],
            claim: claim_text.into(),
            d_hashes: vec![[4; 32], [5; 32]],
        }
    }

    fn attestation(
        secret_byte: u8,
        subject: &str,
        opening: &AttestationOpening,
    ) -> SignedTransaction {
        let secret = SecretKey::from_slice(&[secret_byte; 32]).expect("secret");
        Transaction {
            chain_id: "carchain-test".into(),
            network: Network::Regtest,
            signer: public_key_of(&secret),
            nonce: 0,
            fee: 10,
            body: TxBody::AuditorAttestation(AuditorAttestation {
                subject: subject.into(),
                claim: MILEAGE_CLAIM_TAG.into(),
                commitment: opening.commitment(),
            }),
        }
        .sign(&secret)
        .expect("sign")
    }

    fn grant_with(attestations: Vec<AttestationRef>) -> GrantState {
        serde_json::from_value(serde_json::json!({
            "grant_id": hex::encode([9u8; 32]),
            "grantor": "bcrt1qowner",
            "grantee_address": "bcrt1qdealer",
            "records_commitment": hex::encode([1u8; 32]),
            "copy_tags": [hex::encode([2u8; 32])],
            "kind": {"type": "copy", "resell": false, "dup": false},
            "expires_at": null,
            "status": "active",
            "height": 4,
        }))
        .map(|grant: GrantState| GrantState {
            attestations,
            ..grant
        })
        .expect("grant")
    }

    #[test]
    fn an_attestation_must_be_signed_about_the_grant_opened_and_recorded_on_it() {
        let text = claim().to_text().expect("text");
        let subject = hex::encode([9u8; 32]);
        let open = opening(&text);
        let tx = attestation(0x31, &subject, &open);
        // The ledger sees no VID and no dHash.
        let json = serde_json::to_string(&tx).expect("json");
        assert!(!json.contains("VIN-GRANTS-1"), "{json}");
        assert!(!json.contains(&hex::encode([4u8; 32])), "{json}");
        let recorded = AttestationRef {
            auditor: tx.tx.signer_address(),
            claim: MILEAGE_CLAIM_TAG.into(),
            tx_id: tx.id(),
        };
        let grant = grant_with(vec![recorded.clone()]);
        let verified = check_attestation_tx(&grant, &claim(), &tx, &open).expect("verified");
        assert_eq!(verified.auditor, tx.tx.signer_address());
        assert_eq!(verified.d_hashes, vec![[4; 32], [5; 32]]);
        assert_eq!(verified.tx_id, tx.id());

        // Not yet on the ledger.
        assert!(matches!(
            check_attestation_tx(&grant_with(vec![]), &claim(), &tx, &open),
            Err(AuditError::AttestationMissing { .. })
        ));
        // Recorded for another transaction (another signer).
        let other = attestation(0x32, &subject, &open);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &other, &open),
            Err(AuditError::AttestationMissing { .. })
        ));
        // Another claim, an opening of other dHashes or another salt, another subject,
        // a broken signature, another kind.
        let more = MileageClaim {
            total_m: 99_999,
            ..claim()
        };
        assert!(matches!(
            check_attestation_tx(&grant, &more, &tx, &open),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut padded = open.clone();
        padded.d_hashes.push([6; 32]);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &tx, &padded),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut resalted = open.clone();
        resalted.salt[0] ^= 1;
        assert!(check_attestation_tx(&grant, &claim(), &tx, &resalted).is_err());
        let elsewhere = attestation(0x31, &hex::encode([8u8; 32]), &open);
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &elsewhere, &open),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut forged = tx.clone();
        if let TxBody::AuditorAttestation(body) = &mut forged.tx.body {
            body.commitment = padded.commitment();
        }
        assert!(matches!(
            check_attestation_tx(&grant, &claim(), &forged, &padded),
            Err(AuditError::AttestationInvalid(_))
        ));
        let mut transfer = tx;
        transfer.tx.body = TxBody::Transfer(crate::protocol::Transfer {
            to: "bcrt1qx".into(),
            amount: 1,
        });
        assert!(check_attestation_tx(&grant, &claim(), &transfer, &open).is_err());
    }

    #[test]
    fn a_sealed_countersignature_opens_only_for_its_requester_and_transaction() {
        use crate::grants::test_keys::{outsider_rsa, provider_rsa};
        let text = claim().to_text().expect("text");
        let open = opening(&text);
        let tx = attestation(0x31, &hex::encode([9u8; 32]), &open);
        let countersignature = Countersignature {
            tx: tx.clone(),
            opening: open,
        };
        let sealed = countersignature
            .seal_for(provider_rsa().as_public_key())
            .expect("seal");
        let sealed_text = String::from_utf8_lossy(&sealed);
        assert!(!sealed_text.contains("VIN-GRANTS-1"));
        let opened = Countersignature::open_sealed(&sealed, &[9; 32], &tx.id(), provider_rsa())
            .expect("open");
        assert_eq!(opened, countersignature);
        assert!(
            Countersignature::open_sealed(&sealed, &[9; 32], &tx.id(), outsider_rsa()).is_err()
        );
        assert!(
            Countersignature::open_sealed(&sealed, &[8; 32], &tx.id(), provider_rsa()).is_err()
        );
        assert!(
            Countersignature::open_sealed(&sealed, &[9; 32], &[1; 32], provider_rsa()).is_err()
        );
    }
}
