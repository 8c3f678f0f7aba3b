//! Opening a record read back from the network (the seed's `getKV`).

use rsa::PrivateKey;
use serde_json::Value;

use super::{SealedRecord, SealedRecordError};
use crate::crypto::{
    Envelope, EpochKey, EpochKeyCache, RecordContext, RecordKey, derive_record_key, verify_c_hash,
    verify_d_hash,
};
use crate::record::project;

/// Which key opens the record.
pub enum Opener<'a> {
    /// The owner: the epoch key is unwrapped with the RSA key once per epoch and cached.
    Owner {
        /// The owner's RSA private key.
        rsa: &'a PrivateKey,
        /// Epoch keys already unwrapped.
        cache: &'a mut EpochKeyCache,
    },
    /// A subscriber or the car itself, holding the epoch key.
    Epoch(&'a EpochKey),
    /// A grantee, holding this one record's key.
    Record(&'a RecordKey),
}

/// Checks `record.c_hash` against the envelope, decrypts it, checks `record.d_hash`
/// against the plaintext and returns the value projected on `columns` (all fields when
/// `columns` is empty).
pub fn open_record(
    record: &SealedRecord,
    opener: Opener<'_>,
    columns: &[String],
) -> Result<Value, SealedRecordError> {
    verify_c_hash(record.hash_func, &record.envelope, &record.c_hash)?;
    let envelope = Envelope::from_bytes(&record.envelope)?;
    let ctx = RecordContext {
        address: &record.address,
        key_bytes: record.key.as_bytes(),
        format: &record.format,
    };
    let record_key = match opener {
        Opener::Owner { rsa, cache } => {
            let epoch = cache.epoch_key(envelope.wrapped_epoch_key(), rsa)?;
            derive_record_key(&epoch, &ctx)?
        }
        Opener::Epoch(epoch) => derive_record_key(epoch, &ctx)?,
        Opener::Record(key) => key.clone(),
    };
    let plaintext = envelope.open_with_record_key(&ctx, &record_key)?;
    verify_d_hash(record.hash_func, &record_key, &plaintext, &record.d_hash)?;
    let value: Value =
        serde_json::from_slice(&plaintext).map_err(|_| SealedRecordError::PlaintextNotJson)?;
    if !value.is_object() {
        return Err(SealedRecordError::PlaintextNotJson);
    }
    Ok(project(&value, columns)?)
}
