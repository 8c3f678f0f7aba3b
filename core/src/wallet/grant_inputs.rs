//! What an approved grant delivers, gathered on the owner's device: the inputs and
//! signed result of a computation, or the re-wrapped record keys of a copy.
//!
//! Only records of the approved days are delivered (see [`crate::grants::period`]): a
//! pool address can serve several days, so the addresses of the approved days can
//! hold other days' records too.
//!
//! A plain copy never opens a payload: the records are listed from the ledger through
//! the light client (each envelope checked against its registered cHash, each address
//! checked complete), and each record key is re-wrapped for the provider, which costs
//! one RSA encryption per record plus one RSA decryption per epoch. A copy narrowed by
//! privacy zones has to decrypt the trips to see which ones enter a zone.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rsa::PublicKey as RsaPublicKey;

use super::identity::Wallet;
use super::reading::{KvRecord, pool_set};
use crate::compute::{FeatureParams, ShippedProgram, compute_on_trips};
use crate::crypto::{Envelope, RecordContext, owner_copy_tag, rewrap_registered_record_key};
use crate::grants::delivery::{DeliveredRecord, DeliveryContent};
use crate::grants::period::{record_in_period, superseded};
use crate::grants::terms::ApprovedScope;
use crate::grants::{GrantsError, GrantsResult};
use crate::keys::p2wpkh_address;
use crate::light::{LightClient, VerifiedRecord};
use crate::protocol::{GrantKind, RecordRef};
use crate::record::{TRIP_GPS, VIN_CODE};
use crate::trip::{Trip, TripError};

use super::requests::COMPUTE_GAS_LIMIT;

/// The records a copy delivers, their registered dHashes and their copy tags
/// (sorted, distinct) alongside.
pub(super) type CopyInputs = (Vec<DeliveredRecord>, Vec<[u8; 32]>, Vec<[u8; 32]>);
/// A computation's input records, their dHashes and the signed result's bytes.
pub(super) type ComputeOutputs = (Vec<RecordRef>, Vec<[u8; 32]>, Vec<u8>);
/// What a grant delivers: its kind, the records it covers, its copy tags and the
/// delivery's content.
pub(super) type GrantDelivery = (GrantKind, Vec<RecordRef>, Vec<[u8; 32]>, DeliveryContent);

/// The delivery of computation `code_hash`: a usage grant over its inputs, no copy
/// tags, the signed result.
pub(super) fn usage_delivery(
    code_hash: [u8; 32],
    inputs: Vec<RecordRef>,
    signed_result: Vec<u8>,
) -> GrantDelivery {
    (
        GrantKind::Usage { code_hash },
        inputs.clone(),
        Vec::new(),
        DeliveryContent::Result {
            inputs,
            signed_result,
        },
    )
}

/// The delivery of copies `records` with their copy `tags`: a copy grant (neither
/// resold nor duplicated) over them.
pub(super) fn copy_delivery(records: Vec<DeliveredRecord>, tags: Vec<[u8; 32]>) -> GrantDelivery {
    let refs = records.iter().map(DeliveredRecord::reference).collect();
    (
        GrantKind::Copy {
            resell: false,
            dup: false,
        },
        refs,
        tags,
        DeliveryContent::Copy { records },
    )
}

impl Wallet {
    /// Runs the granted computation over the car's trips of the scope: decrypted here,
    /// privacy zones trimmed (trips wholly inside a zone left out), positions rounded
    /// if asked. Returns the inputs, their registered dHashes and the signed result's
    /// delivery bytes.
    pub(super) async fn compute_for(
        &self,
        light: &LightClient,
        vid: &str,
        scope: &ApprovedScope,
        code_hash: &[u8; 32],
    ) -> GrantsResult<ComputeOutputs> {
        let program = ShippedProgram::from_hash(code_hash)
            .ok_or_else(|| GrantsError::UnsupportedComputation(hex::encode(code_hash)))?;
        let (mut trips, mut inputs, mut d_hashes) = (Vec::new(), Vec::new(), Vec::new());
        for (record, trip) in self.trips_of_scope(light, vid, scope).await? {
            let trip = if scope.privacy_zones.is_empty() {
                trip
            } else {
                match trip.trim_privacy_zones(&scope.privacy_zones) {
                    Ok(trimmed) => trimmed,
                    Err(TripError::EntirelyPrivate) => continue,
                    Err(err) => return Err(err.into()),
                }
            };
            let trip = match scope.approximate_decimals {
                Some(decimals) => trip.approximate(decimals)?,
                None => trip,
            };
            trips.push(trip);
            d_hashes.push(record.d_hash);
            inputs.push(RecordRef {
                address: record.address,
                key: record.stored_key,
            });
        }
        if trips.is_empty() {
            return Err(GrantsError::NothingToDeliver);
        }
        let result = compute_on_trips(
            program,
            &trips,
            d_hashes.clone(),
            &FeatureParams::default(),
            COMPUTE_GAS_LIMIT,
        )?;
        let signed = result.sign_result(self.keys().owner_key())?;
        Ok((inputs, d_hashes, signed.to_bytes()?))
    }

    /// Re-wraps the key of every record of the scope for `provider`. Trips that enter a
    /// privacy zone are left out (a copy cannot be edited), which needs them decrypted;
    /// without zones no payload is opened. Returns the delivered records and their
    /// registered dHashes. Records in `skip` (delivered before) are left out.
    pub(super) async fn copy_for(
        &self,
        light: &LightClient,
        vid: &str,
        scope: &ApprovedScope,
        provider: &RsaPublicKey,
        skip: &[RecordRef],
    ) -> GrantsResult<CopyInputs> {
        let mut delivered = Vec::new();
        let mut d_hashes = Vec::new();
        let mut tags = Vec::new();
        for format in &scope.formats {
            if format != TRIP_GPS && format != VIN_CODE {
                continue;
            }
            let records = if format == TRIP_GPS && !scope.privacy_zones.is_empty() {
                self.trips_outside_zones(light, vid, scope).await?
            } else {
                self.sealed_records_in(light, vid, scope.from, scope.to, format)
                    .await?
            };
            for stored in records {
                let put = &stored.registration.put;
                if skip
                    .iter()
                    .any(|r| r.address == put.address && r.key == put.key)
                {
                    continue;
                }
                let ctx = RecordContext {
                    address: &put.address,
                    key_bytes: &put.key,
                    format,
                };
                let envelope = Envelope::from_bytes(&stored.envelope)?;
                let grant = {
                    let mut cache = self.epoch_cache()?;
                    tags.push(owner_copy_tag(
                        &envelope,
                        &ctx,
                        self.keys().rsa_private(),
                        &mut cache,
                    )?);
                    rewrap_registered_record_key(
                        &envelope,
                        &ctx,
                        self.keys().rsa_private(),
                        &mut cache,
                        provider,
                    )?
                };
                d_hashes.push(put.d_hash);
                delivered.push(DeliveredRecord {
                    address: put.address.clone(),
                    key: put.key.clone(),
                    format: format.clone(),
                    grant: grant.to_bytes()?,
                });
            }
        }
        if delivered.is_empty() {
            return Err(GrantsError::NothingToDeliver);
        }
        tags.sort_unstable();
        tags.dedup();
        Ok((delivered, d_hashes, tags))
    }

    /// The car's records of `format` from `from` to `to`, listed from the ledger and
    /// proven, payloads still sealed: each at an address of the car's pool, put by a key
    /// of that pool, inside the period; in (plaintext key, address) order. This is what a plain
    /// copy of the period delivers (each record's key re-wrapped, nothing decrypted).
    pub async fn sealed_records_in(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
        format: &str,
    ) -> GrantsResult<Vec<VerifiedRecord>> {
        let generations = self.pool_generations(vid)?;
        let pool = pool_set(&generations);
        let network = self.network();
        let mut addresses = std::collections::BTreeMap::new();
        let mut day = from;
        while day <= to {
            addresses.extend(Self::keyed_day_addresses(&generations, vid, day)?);
            day = day.succ_opt().ok_or_else(|| {
                GrantsError::InvalidTerms("the period runs past the calendar".into())
            })?;
        }
        let mut records = Vec::new();
        for (address, cipher) in &addresses {
            let read = light.records_at(address).await?;
            // The period is in the plaintext key: the stored key opens with the pool
            // seed, nothing is decrypted with the RSA key.
            records.extend(read.records.into_iter().filter(|r| {
                let put = &r.registration.put;
                let signer = p2wpkh_address(
                    &bitcoin::CompressedPublicKey(r.registration.signer),
                    network,
                )
                .to_string();
                put.format == format
                    && pool.contains(&put.address)
                    && pool.contains(&signer)
                    && record_in_period(format, &cipher.plain_key(&put.key), from, to)
            }));
        }
        let plain = |r: &VerifiedRecord| {
            let put = &r.registration.put;
            let key = addresses
                .get(&put.address)
                .map_or_else(|| put.key.clone(), |cipher| cipher.plain_key(&put.key));
            (key, put.address.clone())
        };
        records.sort_by_cached_key(plain);
        // An owner record is granted in its latest version only.
        let places: Vec<_> = records.iter().map(plain).collect();
        let mut keep = places
            .iter()
            .enumerate()
            .map(|(i, here)| !superseded(format, here, places.get(i + 1)))
            .collect::<Vec<_>>()
            .into_iter();
        records.retain(|_| keep.next().unwrap_or(true));
        Ok(records)
    }

    /// The trips of the scope that never enter one of its privacy zones, decrypted to
    /// tell, returned as the proven sealed records to re-wrap (listed once per address,
    /// not fetched again one by one).
    async fn trips_outside_zones(
        &self,
        light: &LightClient,
        vid: &str,
        scope: &ApprovedScope,
    ) -> GrantsResult<Vec<VerifiedRecord>> {
        let mut outside = BTreeSet::new();
        for (record, trip) in self.trips_of_scope(light, vid, scope).await? {
            let private = trip
                .points
                .iter()
                .any(|p| scope.privacy_zones.iter().any(|z| z.contains(p)));
            if !private {
                outside.insert((record.address, record.stored_key));
            }
        }
        let mut sealed = self
            .sealed_records_in(light, vid, scope.from, scope.to, TRIP_GPS)
            .await?;
        sealed.retain(|r| {
            let put = &r.registration.put;
            outside.contains(&(put.address.clone(), put.key.clone()))
        });
        Ok(sealed)
    }

    /// The car's trips of the scope's days, decrypted and decoded, with their records.
    async fn trips_of_scope(
        &self,
        light: &LightClient,
        vid: &str,
        scope: &ApprovedScope,
    ) -> GrantsResult<Vec<(KvRecord, Trip)>> {
        let read = self.trip_records(light, vid, scope.from, scope.to).await?;
        let mut trips = Vec::new();
        for record in read.records {
            if record_in_period(TRIP_GPS, &record.key_bytes, scope.from, scope.to) {
                let trip = Trip::decode(&record.key, &record.value)?;
                trips.push((record, trip));
            }
        }
        Ok(trips)
    }
}
