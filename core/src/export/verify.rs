//! [`verify_export`]: checks an export archive offline, without the wallet's keys —
//! the container, the manifest (every file's size and SHA-256), the light blocks from
//! the trust anchor's root and the headers they certify, every record against its ledger proof and ciphertext,
//! each address's records against its proven index, and every derived file against the
//! verified records.

use std::path::Path;

use serde::Deserialize;

use super::archive::unpack;
use super::derived::derive;
use super::error::ExportError;
use super::ledger::{
    AddressProof, HeaderEntry, LedgerRecord, OpenedEntry, check_indexes, open_entry, verify_headers,
};
use super::manifest::{
    ADDRESS_INDEXES, AnchorEntry, FILES, HEADERS, LEDGER_RECORDS, LIGHT_BLOCKS, MANIFEST, Manifest,
};
use crate::light::anchor::network_name;
use crate::light::{LightBlock, TrustAnchor};
use crate::protocol::Network;

/// What a verified archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// The car as the exporting wallet named it (the exporter's label).
    pub vid: String,
    /// First day of the period.
    pub from: String,
    /// Last day of the period.
    pub to: String,
    /// The chain the archive was verified against (`chain_id/network`).
    pub chain: String,
    /// The consensus root its headers are certified from (the anchor's text form).
    pub anchor_root: String,
    /// Records, each proven and opened.
    pub records: u64,
    /// Trips among them.
    pub trips: u64,
    /// Data addresses, each proven complete.
    pub addresses: u64,
    /// Signed headers the proofs are against.
    pub headers: u64,
}

/// Reads and verifies the archive at `path` (see [`verify_export`]).
pub fn verify_export_file(
    path: impl AsRef<Path>,
    trusted: Option<&TrustAnchor>,
) -> Result<ExportReport, ExportError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|err| ExportError::Io {
        path: path.display().to_string(),
        reason: err.kind().to_string(),
    })?;
    verify_export(&bytes, trusted)
}

/// Verifies an export archive. With `trusted`, the archive's trust anchor must be that
/// one; without, the archive's own anchor is used and returned in the report (compare
/// its root with the chain's before relying on the archive).
pub fn verify_export(
    archive: &[u8],
    trusted: Option<&TrustAnchor>,
) -> Result<ExportReport, ExportError> {
    let mut files = unpack(archive, &FILES)?;
    if files.first().map(|(name, _)| name.as_str()) != Some(MANIFEST) {
        return Err(ExportError::NotAnExport {
            reason: "the manifest is not the first file".into(),
        });
    }
    let (_, manifest_bytes) = files.remove(0);
    let manifest = Manifest::parse(&manifest_bytes)?;
    manifest.check_files(&files)?;
    let anchor = anchor_of(&manifest.anchor)?;
    if let Some(trusted) = trusted
        && trusted != &anchor
    {
        return Err(ExportError::AnchorMismatch {
            expected: describe(trusted),
            found: describe(&anchor),
        });
    }
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| bytes.as_slice())
            .ok_or_else(|| ExportError::Manifest {
                reason: format!("{name} is missing"),
            })
    };
    let header_entries: Vec<HeaderEntry> = parse(HEADERS, file(HEADERS)?)?;
    let ledger_records: Vec<LedgerRecord> = parse(LEDGER_RECORDS, file(LEDGER_RECORDS)?)?;
    let address_proofs: Vec<AddressProof> = parse(ADDRESS_INDEXES, file(ADDRESS_INDEXES)?)?;
    let light_blocks: Vec<LightBlock> = parse(LIGHT_BLOCKS, file(LIGHT_BLOCKS)?)?;
    let headers = verify_headers(&header_entries, &light_blocks, &anchor)?;
    let opened = ledger_records
        .iter()
        .map(|record| open_entry(record, &headers))
        .collect::<Result<Vec<OpenedEntry>, ExportError>>()?;
    check_indexes(&address_proofs, &opened, &headers)?;
    let derived = derive(&opened)?;
    for (name, bytes) in &derived.files {
        if file(name)? != bytes.as_slice() {
            return Err(ExportError::DerivedMismatch {
                file: (*name).to_owned(),
            });
        }
    }
    if manifest.records != opened.len() as u64 || manifest.trips != derived.trips {
        return Err(ExportError::Manifest {
            reason: format!(
                "it counts {} record(s) and {} trip(s), the archive holds {} and {}",
                manifest.records,
                manifest.trips,
                opened.len(),
                derived.trips
            ),
        });
    }
    Ok(ExportReport {
        vid: manifest.vid,
        from: manifest.from,
        to: manifest.to,
        chain: anchor.label(),
        anchor_root: anchor.root_text(),
        records: opened.len() as u64,
        trips: derived.trips,
        addresses: address_proofs.len() as u64,
        headers: headers.len() as u64,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, bytes: &[u8]) -> Result<T, ExportError> {
    serde_json::from_slice(bytes).map_err(|err| ExportError::Manifest {
        reason: format!("{name} is unreadable: {err}"),
    })
}

/// The manifest's anchor as a [`TrustAnchor`].
fn anchor_of(entry: &AnchorEntry) -> Result<TrustAnchor, ExportError> {
    let network = [Network::Mainnet, Network::Testnet, Network::Regtest]
        .into_iter()
        .find(|n| network_name(*n) == entry.network)
        .ok_or_else(|| ExportError::Manifest {
            reason: format!("unknown network `{}`", entry.network),
        })?;
    TrustAnchor::from_hex(&entry.chain_id, network, &entry.root).map_err(|err| {
        ExportError::Manifest {
            reason: format!("trust anchor: {err}"),
        }
    })
}

/// The manifest's entry for `anchor`.
pub fn anchor_entry(anchor: &TrustAnchor) -> AnchorEntry {
    AnchorEntry {
        chain_id: anchor.chain_id.clone(),
        network: network_name(anchor.network).to_owned(),
        root: anchor.root_text(),
    }
}

fn describe(anchor: &TrustAnchor) -> String {
    format!("{} (root {})", anchor.label(), anchor.root_text())
}
