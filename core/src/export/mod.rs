//! A car's records of a period as one archive anyone can check offline.
//!
//! The archive is a plain tar file (any `tar` tool opens it):
//! - `manifest.json` (first): format `carchain-export`, version [`EXPORT_VERSION`], the
//!   car and period as the exporting wallet names them, the trust anchor, and every
//!   other file with its size and SHA-256;
//! - `records.json`, `records.csv`: the decrypted records; `trips.geojson`,
//!   `trips.gpx`: the `trip-gps` records as tracks;
//! - `ledger/headers.json`, `ledger/records.json`, `ledger/addresses.json`: the signed
//!   headers, each record's ciphertext, record key and registration proof, and each
//!   address's record index proof.
//!
//! [`verify_export`] needs no wallet key: it re-checks everything (see [`verify`]), and
//! every failure is an [`ExportError`] with a stable `export.*` code. The car label and
//! period in the manifest are the exporter's statement; every record is proven.
//!
//! - [`archive`]: the tar container. [`manifest`]: the manifest and file names.
//! - [`ledger`]: the ledger part and its proofs. [`derived`]: the files people open.
//! - [`build`]: an archive from what a wallet read. [`verify`]: the offline check.
//! - [`mod@file`]: temp-file-then-rename writing. [`error`]: [`ExportError`].

pub mod archive;
pub mod build;
pub mod derived;
pub mod error;
pub mod file;
pub mod ledger;
pub mod manifest;
pub mod verify;

pub use build::{ArchiveInput, build_archive};
pub use error::ExportError;
pub use manifest::{EXPORT_FORMAT, EXPORT_VERSION};
pub use verify::{ExportReport, verify_export, verify_export_file};
