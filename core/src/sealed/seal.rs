//! Sealing one record for the network.

use serde_json::Value;

use super::SealedRecordError;
use super::stored_key::StoredKeyCipher;
use crate::crypto::{
    HashFunc, RecordContext, SealingEpoch, c_hash, d_hash_for_record, derive_record_key, seal,
    seal_with_record_key,
};
use crate::record::{EncodedKey, FormatSpec, check_value_format, encode_key};

/// A record ready to be registered on the ledger and stored under its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The data address the record is stored under.
    pub address: String,
    /// The format name (`trip-gps`, `carvio`, `VIN_CODE` or a custom one).
    pub format: String,
    /// The key the ledger registers and the node stores the record under: the stored
    /// key (see [`super::stored_key`]) of a car's record, else the range-ordered key.
    pub key: EncodedKey,
    /// Which hash the commitments use.
    pub hash_func: HashFunc,
    /// The serialized envelope (the value stored in the KV network).
    pub envelope: Vec<u8>,
    /// Salted commitment to the plaintext.
    pub d_hash: [u8; 32],
    /// Commitment to `envelope`.
    pub c_hash: [u8; 32],
}

impl SealedRecord {
    /// The record a ledger registration `put` names, with the `envelope` a node served
    /// for it: what a reader opens after checking the registration.
    pub fn registered(put: &crate::protocol::RecordPut, envelope: Vec<u8>) -> SealedRecord {
        SealedRecord {
            address: put.address.clone(),
            format: put.format.clone(),
            key: EncodedKey::from_bytes(put.key.clone()),
            hash_func: put.hash_func,
            envelope,
            d_hash: put.d_hash,
            c_hash: put.c_hash,
        }
    }

    /// Bytes stored in the KV network (what storage fees are charged on).
    pub fn size(&self) -> u64 {
        self.envelope.len() as u64
    }
}

/// Seals `value` under `key` at `address` with the day's `epoch`, registered under its
/// range-ordered key (records that are not a car's: mailbox, wallet entries).
///
/// The value's optional `"format"` field must agree with `spec`; the key must carry
/// exactly the format's key fields.
pub fn seal_record(
    spec: &FormatSpec,
    address: &str,
    key: &Value,
    value: &Value,
    hash_func: HashFunc,
    epoch: &SealingEpoch,
) -> Result<SealedRecord, SealedRecordError> {
    seal_inner(spec, address, key, value, hash_func, epoch, None)
}

/// Seals `value` under `key` at the car's pool `address`: registered under the stored
/// key `stored_keys` makes of the range-ordered key, which itself travels sealed in the
/// envelope. The dHash salt is the record key's (bound to the stored key, a function of
/// the plaintext key at this address).
pub fn seal_record_with_stored_key(
    spec: &FormatSpec,
    address: &str,
    key: &Value,
    value: &Value,
    hash_func: HashFunc,
    epoch: &SealingEpoch,
    stored_keys: &StoredKeyCipher,
) -> Result<SealedRecord, SealedRecordError> {
    seal_inner(
        spec,
        address,
        key,
        value,
        hash_func,
        epoch,
        Some(stored_keys),
    )
}

fn seal_inner(
    spec: &FormatSpec,
    address: &str,
    key: &Value,
    value: &Value,
    hash_func: HashFunc,
    epoch: &SealingEpoch,
    stored_keys: Option<&StoredKeyCipher>,
) -> Result<SealedRecord, SealedRecordError> {
    let encoded_key = encode_key(spec, key)?;
    check_value_format(spec.name(), value)?;
    if !value.is_object() {
        return Err(SealedRecordError::PlaintextNotJson);
    }
    let plaintext = serde_json::to_vec(value).map_err(|_| SealedRecordError::PlaintextNotJson)?;
    let ledger_key = match stored_keys {
        Some(cipher) => EncodedKey::from_bytes(cipher.seal(encoded_key.as_bytes())?),
        None => encoded_key.clone(),
    };
    let ctx = RecordContext {
        address,
        key_bytes: ledger_key.as_bytes(),
        format: spec.name(),
    };
    let record_key = derive_record_key(epoch.epoch_key(), &ctx)?;
    let envelope = match stored_keys {
        Some(_) => seal_with_record_key(&plaintext, encoded_key.as_bytes(), &ctx, epoch)?,
        None => seal(&plaintext, &ctx, epoch)?,
    }
    .to_bytes()?;
    let d_hash = d_hash_for_record(hash_func, &record_key, &plaintext)?;
    let c_hash = c_hash(hash_func, &envelope);
    Ok(SealedRecord {
        address: address.to_owned(),
        format: spec.name().to_owned(),
        key: ledger_key,
        hash_func,
        envelope,
        d_hash,
        c_hash,
    })
}
