//! Opening a record read back from the network (the seed's `getKV`).

use rsa::PrivateKey;
use serde_json::Value;

use super::{SealedRecord, SealedRecordError};
use crate::crypto::{
    Envelope, EpochKey, EpochKeyCache, RecordContext, RecordKey, derive_record_key, verify_c_hash,
    verify_d_hash,
};
use crate::record::{EncodedKey, project_owned};

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

/// A record opened with its key: the range-ordered key and the projected value.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedRecord {
    /// The range-ordered plaintext key: sealed in the envelope of a record registered
    /// under a stored key, else the registered key itself.
    pub key: EncodedKey,
    /// The decrypted value, projected on the requested columns.
    pub value: Value,
}

/// Checks `record.c_hash` against the envelope, decrypts it, checks `record.d_hash`
/// against the plaintext and returns the value projected on `columns` (all fields when
/// `columns` is empty).
pub fn open_record(
    record: &SealedRecord,
    opener: Opener<'_>,
    columns: &[String],
) -> Result<Value, SealedRecordError> {
    Ok(open_record_with_key(record, opener, columns)?.value)
}

/// [`open_record`], returning the record's range-ordered key too.
pub fn open_record_with_key(
    record: &SealedRecord,
    opener: Opener<'_>,
    columns: &[String],
) -> Result<OpenedRecord, SealedRecordError> {
    verify_c_hash(record.hash_func, &record.envelope, &record.c_hash)?;
    open_c_hash_checked(record, opener, columns)
}

/// [`open_record_with_key`] for a record whose envelope its caller has already checked
/// against `record.c_hash` (a verified read checks every value against its ledger
/// registration; the offline cache finds the hash function by that digest): the
/// envelope is not hashed a second time.
pub(crate) fn open_c_hash_checked(
    record: &SealedRecord,
    opener: Opener<'_>,
    columns: &[String],
) -> Result<OpenedRecord, SealedRecordError> {
    let envelope = Envelope::from_bytes(&record.envelope)?;
    let ctx = context(record);
    let record_key = record_key_of(&envelope, &ctx, opener)?;
    let key = sealed_key(&envelope, &ctx, &record_key, record)?;
    let plaintext = envelope.open_with_record_key(&ctx, &record_key)?;
    verify_d_hash(record.hash_func, &record_key, &plaintext, &record.d_hash)?;
    let value: Value =
        serde_json::from_slice(&plaintext).map_err(|_| SealedRecordError::PlaintextNotJson)?;
    if !value.is_object() {
        return Err(SealedRecordError::PlaintextNotJson);
    }
    Ok(OpenedRecord {
        key,
        value: project_owned(value, columns)?,
    })
}

/// Only the record's range-ordered key, without decrypting its value: the key sealed in
/// the envelope (cHash checked first), or the registered key of a record that has none.
pub fn open_record_key(
    record: &SealedRecord,
    opener: Opener<'_>,
) -> Result<EncodedKey, SealedRecordError> {
    verify_c_hash(record.hash_func, &record.envelope, &record.c_hash)?;
    let envelope = Envelope::from_bytes(&record.envelope)?;
    let ctx = context(record);
    let record_key = record_key_of(&envelope, &ctx, opener)?;
    sealed_key(&envelope, &ctx, &record_key, record)
}

fn context(record: &SealedRecord) -> RecordContext<'_> {
    RecordContext {
        address: &record.address,
        key_bytes: record.key.as_bytes(),
        format: &record.format,
    }
}

fn record_key_of(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    opener: Opener<'_>,
) -> Result<RecordKey, SealedRecordError> {
    Ok(match opener {
        Opener::Owner { rsa, cache } => {
            let epoch = cache.epoch_key(envelope.wrapped_epoch_key(), rsa)?;
            derive_record_key(&epoch, ctx)?
        }
        Opener::Epoch(epoch) => derive_record_key(epoch, ctx)?,
        Opener::Record(key) => key.clone(),
    })
}

fn sealed_key(
    envelope: &Envelope,
    ctx: &RecordContext<'_>,
    record_key: &RecordKey,
    record: &SealedRecord,
) -> Result<EncodedKey, SealedRecordError> {
    Ok(match envelope.open_sealed_key(ctx, record_key)? {
        Some(plain) => EncodedKey::from_bytes(plain),
        None => record.key.clone(),
    })
}
