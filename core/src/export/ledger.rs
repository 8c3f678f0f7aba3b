//! The archive's ledger part and its offline checks, all through the light client's
//! existing verification: the CometBFT light blocks from the trust anchor's root
//! ([`verify_recorded`], by `tendermint-light-client-verifier`), each ledger header
//! certified by one of them (its state root is the block's app hash,
//! [`check_certifies`]), each record's registration proof against its header
//! and its ciphertext against the proven cHash ([`prove_answered`]), the record opened
//! with the record key the archive ships ([`open_record_with_key`], which checks the
//! dHash and the sealed key), and each address's record index proof (a record left out
//! of the archive, or added, is caught).
//!
//! A record key opens that one record only (it is what a data grant hands a provider);
//! the archive never holds the owner's RSA key, an epoch key or the pool seed.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ExportError;
use crate::clock::SystemClock;
use crate::crypto::{RecordKey, SYMMETRIC_KEY_LEN};
use crate::light::certify::{check_certifies, verify_recorded};
use crate::light::light_block::light_height_of;
use crate::light::proofs::{decode_proven, verify_state_answer};
use crate::light::records::prove_answered;
use crate::light::wire::StateAnswerWire;
use crate::light::{LightBlock, LightError, TrustAnchor};
use crate::protocol::{AddressIndex, Canonical, SignedHeader, state_key};
use crate::record::EncodedKey;
use crate::sealed::{Opener, SealedRecord, open_record_with_key};

/// One signed header (`ledger/headers.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderEntry {
    /// Its height.
    pub height: u64,
    /// Its canonical bytes, hex.
    pub header: String,
}

impl HeaderEntry {
    /// The entry of `header`.
    pub fn of(header: &SignedHeader) -> Self {
        HeaderEntry {
            height: header.header.height,
            header: hex::encode(header.to_canonical()),
        }
    }
}

/// One record as the ledger knows it (`ledger/records.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerRecord {
    /// The data address.
    pub address: String,
    /// The key the ledger knows the record by (its stored key), hex.
    pub stored_key: String,
    /// The encrypted value as stored, base64.
    pub envelope: String,
    /// This record's key (opens this record only), hex.
    pub record_key: String,
    /// The proof of its registration at a header of `ledger/headers.json`.
    pub proof: StateAnswerWire,
}

/// One address's record index proof (`ledger/addresses.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressProof {
    /// The data address.
    pub address: String,
    /// The proof of its record index at a header of `ledger/headers.json`.
    pub proof: StateAnswerWire,
}

/// A record verified against the ledger and opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedEntry {
    /// The data address.
    pub address: String,
    /// The record format.
    pub format: String,
    /// Block height of its registration.
    pub height: u64,
    /// The stored key (as registered).
    pub stored_key: Vec<u8>,
    /// The range-ordered plaintext key sealed in the envelope.
    pub plain_key: Vec<u8>,
    /// The decrypted value.
    pub value: Value,
}

/// Verifies the light blocks from `anchor`'s root, then checks that every header is of
/// the anchor's chain and certified by one of them; the verified headers by height.
pub fn verify_headers(
    entries: &[HeaderEntry],
    light_blocks: &[LightBlock],
    anchor: &TrustAnchor,
) -> Result<BTreeMap<u64, SignedHeader>, ExportError> {
    let chain_invalid = |err: LightError| ExportError::HeaderInvalid {
        height: entries.first().map_or(0, |entry| entry.height),
        reason: err.to_string(),
    };
    verify_recorded(anchor, light_blocks, &SystemClock).map_err(chain_invalid)?;
    let mut headers = BTreeMap::new();
    for entry in entries {
        let invalid = |reason: String| ExportError::HeaderInvalid {
            height: entry.height,
            reason,
        };
        let bytes = hex::decode(&entry.header).map_err(|_| invalid("not hex".into()))?;
        let header =
            SignedHeader::from_canonical(&bytes).map_err(|err| invalid(err.to_string()))?;
        if header.header.height != entry.height {
            return Err(invalid(format!(
                "the header inside is for height {}",
                header.header.height
            )));
        }
        anchor
            .check_chain(&header)
            .map_err(|err| invalid(err.to_string()))?;
        let certifying = light_blocks
            .iter()
            .find(|block| block.height().value() == light_height_of(entry.height))
            .ok_or_else(|| invalid("no light block certifies it".into()))?;
        check_certifies(certifying, &header).map_err(|err| invalid(err.to_string()))?;
        if headers.insert(entry.height, header).is_some() {
            return Err(invalid("listed twice".into()));
        }
    }
    Ok(headers)
}

fn header_for<'a>(
    headers: &'a BTreeMap<u64, SignedHeader>,
    address: &str,
    proof: &StateAnswerWire,
) -> Result<&'a SignedHeader, ExportError> {
    headers
        .get(&proof.height)
        .ok_or_else(|| ExportError::ProofInvalid {
            address: address.to_owned(),
            reason: format!("no header at the proof's height {}", proof.height),
        })
}

/// Proves one record against its header, checks its ciphertext and opens it with its
/// record key.
pub fn open_entry(
    record: &LedgerRecord,
    headers: &BTreeMap<u64, SignedHeader>,
) -> Result<OpenedEntry, ExportError> {
    let address = record.address.as_str();
    let invalid = |reason: String| ExportError::RecordInvalid {
        address: address.to_owned(),
        reason,
    };
    let stored_key = hex::decode(&record.stored_key).map_err(|_| invalid("key not hex".into()))?;
    let envelope = BASE64
        .decode(&record.envelope)
        .map_err(|_| invalid("ciphertext not base64".into()))?;
    let record_key: [u8; SYMMETRIC_KEY_LEN] = hex::decode(&record.record_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| invalid("record key is not 32 bytes of hex".into()))?;
    let header = header_for(headers, address, &record.proof)?;
    let verified = prove_answered(&record.proof, header, address, stored_key.clone(), envelope)
        .map_err(|err| ExportError::ProofInvalid {
            address: address.to_owned(),
            reason: err.to_string(),
        })?
        .map_err(|rejected| invalid(rejected.reason))?;
    let put = &verified.registration.put;
    let sealed = SealedRecord {
        address: put.address.clone(),
        format: put.format.clone(),
        key: EncodedKey::from_bytes(stored_key.clone()),
        hash_func: put.hash_func,
        envelope: verified.envelope.clone(),
        d_hash: put.d_hash,
        c_hash: put.c_hash,
    };
    let key = RecordKey::from_bytes(record_key);
    let opened = open_record_with_key(&sealed, Opener::Record(&key), &[])
        .map_err(|err| invalid(err.to_string()))?;
    Ok(OpenedEntry {
        address: put.address.clone(),
        format: put.format.clone(),
        height: verified.registration.height,
        stored_key,
        plain_key: opened.key.as_bytes().to_vec(),
        value: opened.value,
    })
}

/// Checks that the records of every address are exactly the ones its proven record
/// index counts, and that every record's address has an index proof.
pub fn check_indexes(
    proofs: &[AddressProof],
    opened: &[OpenedEntry],
    headers: &BTreeMap<u64, SignedHeader>,
) -> Result<(), ExportError> {
    let mut proven = BTreeSet::new();
    for entry in proofs {
        let address = entry.address.as_str();
        let invalid = |reason: String| ExportError::ProofInvalid {
            address: address.to_owned(),
            reason,
        };
        let header = header_for(headers, address, &entry.proof)?;
        let value = verify_state_answer(&entry.proof, state_key::address_index(address), header)
            .map_err(|err| invalid(err.to_string()))?;
        let index: AddressIndex = decode_proven(value)
            .map_err(|err| invalid(err.to_string()))?
            .unwrap_or_default();
        let served = AddressIndex::of_keys(
            opened
                .iter()
                .filter(|r| r.address == address)
                .map(|r| r.stored_key.as_slice()),
        );
        if served != index {
            return Err(ExportError::Incomplete {
                address: address.to_owned(),
                reason: format!(
                    "the ledger indexes {} record(s) there, the archive holds {}",
                    index.count, served.count
                ),
            });
        }
        if !proven.insert(address) {
            return Err(invalid("two index proofs".into()));
        }
    }
    if let Some(record) = opened.iter().find(|r| !proven.contains(r.address.as_str())) {
        return Err(ExportError::Incomplete {
            address: record.address.clone(),
            reason: "no record index proof for this address".into(),
        });
    }
    Ok(())
}
