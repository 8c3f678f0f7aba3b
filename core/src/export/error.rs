//! [`ExportError`]: why an export could not be written or an archive does not verify,
//! each with a stable `export.*` code. Messages name files, addresses and heights, never
//! a record's content or a key.

use thiserror::Error;

/// Why an export failed or an export archive was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The file is not a CarChain export archive (not a tar archive, no manifest first,
    /// or another document's manifest).
    #[error("the file is not a CarChain export: {reason}")]
    NotAnExport {
        /// What is missing.
        reason: String,
    },
    /// The archive was written by a newer CarChain.
    #[error("the export's format version {found} is newer than this app's ({supported})")]
    NewerVersion {
        /// The version in the manifest.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The archive stops before its end-of-archive marker (cut short) or is malformed
    /// as a tar stream.
    #[error("the export archive is truncated ({found} bytes): {reason}")]
    Truncated {
        /// The archive's size.
        found: usize,
        /// What shows it.
        reason: String,
    },
    /// The manifest does not describe the archive: a file listed but missing, a file
    /// not listed, a duplicate, an unreadable manifest.
    #[error("the export's manifest does not match the archive: {reason}")]
    Manifest {
        /// The mismatch.
        reason: String,
    },
    /// A file's bytes are not the ones its manifest entry hashes.
    #[error("{file} was changed: its SHA-256 is not the manifest's")]
    FileChanged {
        /// The file in the archive.
        file: String,
    },
    /// A signed header in the archive is not vouched for by the trust anchor (altered,
    /// or signed by another key or for another chain).
    #[error("header {height} does not verify: {reason}")]
    HeaderInvalid {
        /// The header's height as the archive states it.
        height: u64,
        /// Why.
        reason: String,
    },
    /// A ledger proof does not bind its record or address index to a verified header.
    #[error("a ledger proof of {address} does not verify: {reason}")]
    ProofInvalid {
        /// The data address the proof is about.
        address: String,
        /// Why.
        reason: String,
    },
    /// A record's ciphertext does not match its proven registration, or does not open
    /// with the record key the archive ships.
    #[error("a record of {address} does not match the ledger: {reason}")]
    RecordInvalid {
        /// The data address.
        address: String,
        /// Why.
        reason: String,
    },
    /// A derived file (records JSON/CSV, trips GeoJSON/GPX) is not what the verified
    /// records give.
    #[error("{file} is not what the verified records give")]
    DerivedMismatch {
        /// The file in the archive.
        file: String,
    },
    /// The records of an address are not all the ledger indexes there (one left out or
    /// added), or a node did not serve them all when exporting.
    #[error("the records of {address} are incomplete: {reason}")]
    Incomplete {
        /// The data address.
        address: String,
        /// What is missing.
        reason: String,
    },
    /// The archive's trust anchor is not the one the verifier was told to trust.
    #[error("the export is for chain {found}, not the trusted {expected}")]
    AnchorMismatch {
        /// The anchor asked for (chain/network and consensus root).
        expected: String,
        /// The archive's.
        found: String,
    },
    /// The car is not paired with this wallet.
    #[error("car {vid} is not paired with this wallet")]
    UnknownCar {
        /// The VID asked for.
        vid: String,
    },
    /// The period is not a valid day range.
    #[error("invalid period {from}..{to}: {reason}")]
    InvalidPeriod {
        /// First day asked.
        from: String,
        /// Last day asked.
        to: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing the archive file failed (nothing was left half-written).
    #[error("export file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

crate::error_code::error_codes!(ExportError {
    NotAnExport => "export.not_an_export",
    NewerVersion => "export.newer_version",
    Truncated => "export.truncated",
    Manifest => "export.manifest",
    FileChanged => "export.file_changed",
    HeaderInvalid => "export.header_invalid",
    ProofInvalid => "export.proof_invalid",
    RecordInvalid => "export.record_invalid",
    DerivedMismatch => "export.derived_mismatch",
    Incomplete => "export.incomplete",
    AnchorMismatch => "export.anchor_mismatch",
    UnknownCar => "export.unknown_car",
    InvalidPeriod => "export.invalid_period",
    Io => "export.io",
});

impl ExportError {
    /// Whether the archive failed verification (as opposed to being unreadable, or a
    /// local or input failure).
    pub fn is_tampering(&self) -> bool {
        matches!(
            self,
            ExportError::FileChanged { .. }
                | ExportError::HeaderInvalid { .. }
                | ExportError::ProofInvalid { .. }
                | ExportError::RecordInvalid { .. }
                | ExportError::DerivedMismatch { .. }
                | ExportError::Incomplete { .. }
                | ExportError::AnchorMismatch { .. }
                | ExportError::Manifest { .. }
        )
    }
}
