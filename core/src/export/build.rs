//! [`build_archive`]: an archive's bytes from what the wallet read and proved — the
//! ledger part is written as given, the derived files from the records it opens with
//! the same checks the verifier runs, and the finished archive is verified once before
//! it is handed back.

use chrono::NaiveDate;
use serde::Serialize;

use super::archive::pack;
use super::derived::derive;
use super::error::ExportError;
use super::ledger::{
    AddressProof, HeaderEntry, LedgerRecord, OpenedEntry, check_indexes, open_entry, verify_headers,
};
use super::manifest::{
    ADDRESS_INDEXES, EXPORT_FORMAT, EXPORT_VERSION, FileEntry, HEADERS, LEDGER_RECORDS,
    LIGHT_BLOCKS, MANIFEST, Manifest,
};
use super::verify::{ExportReport, anchor_entry, verify_export};
use crate::light::{LightBlock, TrustAnchor};
use crate::protocol::SignedHeader;

/// What an archive is made of.
pub struct ArchiveInput<'a> {
    /// The car as the wallet names it.
    pub vid: &'a str,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// The anchor the headers are certified under.
    pub anchor: &'a TrustAnchor,
    /// The headers the proofs are against.
    pub headers: &'a [SignedHeader],
    /// The light blocks that certify them from the anchor's root, ascending.
    pub light_blocks: &'a [LightBlock],
    /// The records, in archive order.
    pub records: Vec<LedgerRecord>,
    /// The record index proof of every address read.
    pub addresses: Vec<AddressProof>,
}

fn json_bytes<T: Serialize>(name: &str, value: &T) -> Result<Vec<u8>, ExportError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|err| ExportError::Io {
        path: name.to_owned(),
        reason: format!("encoding: {err}"),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The archive's bytes and what it holds.
pub fn build_archive(input: ArchiveInput<'_>) -> Result<(Vec<u8>, ExportReport), ExportError> {
    let header_entries: Vec<HeaderEntry> = input.headers.iter().map(HeaderEntry::of).collect();
    let headers = verify_headers(&header_entries, input.light_blocks, input.anchor)?;
    let opened = input
        .records
        .iter()
        .map(|record| open_entry(record, &headers))
        .collect::<Result<Vec<OpenedEntry>, ExportError>>()?;
    check_indexes(&input.addresses, &opened, &headers)?;
    let derived = derive(&opened)?;
    let mut files: Vec<(&str, Vec<u8>)> = derived.files;
    files.push((HEADERS, json_bytes(HEADERS, &header_entries)?));
    files.push((LEDGER_RECORDS, json_bytes(LEDGER_RECORDS, &input.records)?));
    files.push((
        ADDRESS_INDEXES,
        json_bytes(ADDRESS_INDEXES, &input.addresses)?,
    ));
    files.push((LIGHT_BLOCKS, json_bytes(LIGHT_BLOCKS, &input.light_blocks)?));
    let manifest = Manifest {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        vid: input.vid.to_owned(),
        from: input.from.to_string(),
        to: input.to.to_string(),
        anchor: anchor_entry(input.anchor),
        records: opened.len() as u64,
        trips: derived.trips,
        files: files
            .iter()
            .map(|(name, bytes)| FileEntry::of(name, bytes))
            .collect(),
    };
    files.insert(0, (MANIFEST, manifest.to_bytes()?));
    let archive = pack(&files)?;
    let report = verify_export(&archive, Some(input.anchor))?;
    Ok((archive, report))
}
