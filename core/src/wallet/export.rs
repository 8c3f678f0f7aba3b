//! `Wallet::export`: one car's records of a period written as one archive anyone can
//! verify offline (see [`crate::export`]). Every address of the car's days is read whole
//! through the light client (checked complete against the ledger's index), each record's
//! signer checked against the car's pool, its record key derived with the owner's key,
//! then the registration and index proofs fetched at one verified header and the
//! archive built, verified and written through a temp file. Anything refused leaves no
//! file behind.
//!
//! Like a range read, an address that serves several days (a pool smaller than the days
//! it covers) brings all its records: the index proof covers the whole address, so the
//! archive holds them all. The archive names the car and links its addresses of the
//! period: it is the owner's to share with whom they choose.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::NaiveDate;

use super::error::WalletError;
use super::identity::Wallet;
use super::reading::{check_dates, pool_set};
use crate::crypto::{Envelope, RecordContext, derive_record_key};
use crate::export::file::{check_target, write_atomically};
use crate::export::ledger::{AddressProof, LedgerRecord};
use crate::export::{ArchiveInput, ExportError, ExportReport, build_archive};
use crate::keys::p2wpkh_address;
use crate::light::{LightClient, VerifiedRecord};
use crate::protocol::state_key;
use crate::sealed::StoredKeyCipher;

/// Reads tried when the ledger's index moves during an export (the car is writing).
const ATTEMPTS: usize = 3;

/// One record read for the archive, before its proof is fetched.
struct Read {
    plain_key: Vec<u8>,
    address: String,
    stored_key: Vec<u8>,
    envelope: Vec<u8>,
    record_key: String,
}

impl Wallet {
    /// Writes the records the car `vid` wrote from `from` to `to` (both included) to
    /// `out` as one export archive (see [`crate::export`]): decrypted records as JSON
    /// and CSV, trips as GeoJSON and GPX, and the signed headers and ledger proofs that
    /// let anyone verify it offline with [`crate::export::verify_export`].
    ///
    /// The file at `out` is replaced only once the new archive is complete and
    /// verified. Refused with [`ExportError`] (inside [`WalletError::Export`]): a car
    /// not paired with this wallet, a bad period or path, a record a node did not serve
    /// or that failed verification; node failures are [`WalletError::Light`].
    pub async fn export(
        &self,
        light: &LightClient,
        vid: &str,
        from: NaiveDate,
        to: NaiveDate,
        out: impl AsRef<Path>,
    ) -> Result<ExportReport, WalletError> {
        let out = out.as_ref();
        if let Err(err) = check_dates(from, to) {
            let reason = match err {
                WalletError::InvalidDateRange { reason, .. } => reason.to_owned(),
                other => other.to_string(),
            };
            return Err(ExportError::InvalidPeriod {
                from: from.to_string(),
                to: to.to_string(),
                reason,
            }
            .into());
        }
        check_target(out)?;
        let generations = match self.pool_generations(vid) {
            Err(WalletError::UnknownDevice { .. }) => {
                return Err(ExportError::UnknownCar {
                    vid: vid.to_owned(),
                }
                .into());
            }
            other => other?,
        };
        let mut addresses = BTreeMap::new();
        let mut day = from;
        while day <= to {
            addresses.extend(Self::keyed_day_addresses(&generations, vid, day)?);
            day = day.succ_opt().ok_or_else(|| ExportError::InvalidPeriod {
                from: from.to_string(),
                to: to.to_string(),
                reason: "the range runs past the last representable date".into(),
            })?;
        }
        let pool = pool_set(&generations);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .export_once(light, vid, (from, to), &addresses, &pool)
                .await
            {
                Err(WalletError::Export(ExportError::Incomplete { .. })) if attempt < ATTEMPTS => {}
                Err(err) => return Err(err),
                Ok((archive, report)) => {
                    write_atomically(out, &archive)?;
                    return Ok(report);
                }
            }
        }
    }

    async fn export_once(
        &self,
        light: &LightClient,
        vid: &str,
        (from, to): (NaiveDate, NaiveDate),
        addresses: &BTreeMap<String, StoredKeyCipher>,
        pool: &std::collections::BTreeSet<String>,
    ) -> Result<(Vec<u8>, ExportReport), WalletError> {
        let network = self.network();
        let mut reads = Vec::new();
        for (address, cipher) in addresses {
            let read = light.records_at(address).await?;
            if read.missing > 0 || !read.rejected.is_empty() {
                return Err(ExportError::Incomplete {
                    address: address.clone(),
                    reason: format!(
                        "{} record(s) not served by any node, {} failed verification",
                        read.missing,
                        read.rejected.len()
                    ),
                }
                .into());
            }
            for record in read.records {
                let signer = p2wpkh_address(
                    &bitcoin::CompressedPublicKey(record.registration.signer),
                    network,
                )
                .to_string();
                if !pool.contains(&signer) {
                    return Err(ExportError::Incomplete {
                        address: address.clone(),
                        reason: "a record there was not put by this car".into(),
                    }
                    .into());
                }
                let record_key = self.record_key_hex(&record)?;
                let put = record.registration.put;
                reads.push(Read {
                    plain_key: cipher.plain_key(&put.key),
                    address: put.address,
                    stored_key: put.key,
                    envelope: record.envelope,
                    record_key,
                });
            }
        }
        reads.sort_by(|a, b| (&a.plain_key, &a.address).cmp(&(&b.plain_key, &b.address)));
        let mut queries: Vec<(Vec<String>, jmt::KeyHash)> = addresses
            .keys()
            .map(|address| {
                (
                    vec!["address-index".to_owned(), address.clone()],
                    state_key::address_index(address),
                )
            })
            .collect();
        queries.extend(reads.iter().map(|read| {
            (
                vec![
                    "record".to_owned(),
                    read.address.clone(),
                    hex::encode(&read.stored_key),
                ],
                state_key::record(&read.address, &read.stored_key),
            )
        }));
        let proven = light.proven_answers(&queries).await?;
        let mut answers = proven.answers;
        let record_answers = answers.split_off(addresses.len());
        let address_proofs = addresses
            .keys()
            .zip(answers)
            .map(|(address, proof)| AddressProof {
                address: address.clone(),
                proof,
            })
            .collect();
        let records = reads
            .into_iter()
            .zip(record_answers)
            .map(|(read, proof)| LedgerRecord {
                address: read.address,
                stored_key: hex::encode(read.stored_key),
                envelope: BASE64.encode(read.envelope),
                record_key: read.record_key,
                proof,
            })
            .collect();
        Ok(build_archive(ArchiveInput {
            vid,
            from,
            to,
            anchor: light.anchor(),
            headers: std::slice::from_ref(&proven.header),
            light_blocks: &proven.light_blocks,
            records,
            addresses: address_proofs,
        })?)
    }

    /// The record key of `record` (hex), from the owner's epoch key.
    fn record_key_hex(&self, record: &VerifiedRecord) -> Result<String, WalletError> {
        let put = &record.registration.put;
        let refused = |reason: String| ExportError::RecordInvalid {
            address: put.address.clone(),
            reason,
        };
        let envelope =
            Envelope::from_bytes(&record.envelope).map_err(|err| refused(err.to_string()))?;
        let epoch = self
            .epoch_cache()?
            .epoch_key(envelope.wrapped_epoch_key(), self.keys().rsa_private())
            .map_err(|err| refused(err.to_string()))?;
        let ctx = RecordContext {
            address: &put.address,
            key_bytes: &put.key,
            format: &put.format,
        };
        let key = derive_record_key(&epoch, &ctx).map_err(|err| refused(err.to_string()))?;
        Ok(hex::encode(key.as_bytes()))
    }
}
