//! The manifest (`manifest.json`, the archive's first file): what the archive is (format
//! name and version), whose it is (the car as the wallet names it, the period, the trust
//! anchor its headers are certified under) and every other file with its size and SHA-256.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ExportError;

/// The manifest's `format` value.
pub const EXPORT_FORMAT: &str = "carchain-export";
/// The archive layout version this build writes and reads.
pub const EXPORT_VERSION: u32 = 2;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The decrypted records, as JSON.
pub const RECORDS_JSON: &str = "records.json";
/// The decrypted records, one CSV row each.
pub const RECORDS_CSV: &str = "records.csv";
/// The trips, one GeoJSON FeatureCollection.
pub const TRIPS_GEOJSON: &str = "trips.geojson";
/// The trips, one GPX 1.1 document.
pub const TRIPS_GPX: &str = "trips.gpx";
/// The signed headers the proofs are against.
pub const HEADERS: &str = "ledger/headers.json";
/// Each record's ciphertext, record key and registration proof.
pub const LEDGER_RECORDS: &str = "ledger/records.json";
/// Each address's record index proof (completeness).
pub const ADDRESS_INDEXES: &str = "ledger/addresses.json";
/// The CometBFT light blocks that certify the headers from the trust anchor's root.
pub const LIGHT_BLOCKS: &str = "ledger/light_blocks.json";

/// Every file an archive holds, in archive order.
pub const FILES: [&str; 9] = [
    MANIFEST,
    RECORDS_JSON,
    RECORDS_CSV,
    TRIPS_GEOJSON,
    TRIPS_GPX,
    HEADERS,
    LEDGER_RECORDS,
    ADDRESS_INDEXES,
    LIGHT_BLOCKS,
];

/// The trust anchor as the archive states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorEntry {
    /// Chain id.
    pub chain_id: String,
    /// `mainnet`, `testnet` or `regtest`.
    pub network: String,
    /// The consensus root in the anchor's text form (the genesis validators' ed25519
    /// keys, or `<height>:<header hash>`).
    pub root: String,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Its name in the archive.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl FileEntry {
    /// The entry of `bytes` named `name`.
    pub fn of(name: &str, bytes: &[u8]) -> Self {
        FileEntry {
            name: name.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// The manifest document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The layout version ([`EXPORT_VERSION`]).
    pub version: u32,
    /// The car as the exporting wallet names it (its VID): the exporter's label.
    pub vid: String,
    /// First day of the period (YYYY-MM-DD).
    pub from: String,
    /// Last day of the period (YYYY-MM-DD).
    pub to: String,
    /// The chain the headers are signed under.
    pub anchor: AnchorEntry,
    /// Number of records.
    pub records: u64,
    /// Number of trips.
    pub trips: u64,
    /// Every other file, in archive order.
    pub files: Vec<FileEntry>,
}

/// Only the format and version, read before the rest so a newer layout is named as such.
#[derive(Deserialize)]
struct Versioned {
    format: String,
    version: u32,
}

impl Manifest {
    /// Reads a manifest: another document is `NotAnExport`, a newer layout
    /// `NewerVersion`, anything else malformed `Manifest`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ExportError> {
        let versioned: Versioned =
            serde_json::from_slice(bytes).map_err(|_| ExportError::NotAnExport {
                reason: "the manifest names no format and version".into(),
            })?;
        if versioned.format != EXPORT_FORMAT {
            return Err(ExportError::NotAnExport {
                reason: format!("the manifest's format is `{}`", versioned.format),
            });
        }
        if versioned.version > EXPORT_VERSION {
            return Err(ExportError::NewerVersion {
                found: versioned.version,
                supported: EXPORT_VERSION,
            });
        }
        if versioned.version == 0 {
            return Err(ExportError::NotAnExport {
                reason: "version 0".into(),
            });
        }
        if versioned.version < EXPORT_VERSION {
            return Err(ExportError::Manifest {
                reason: format!(
                    "version {} archives name a secp256k1 header key, which is no longer a \
                     trust anchor: export the period again",
                    versioned.version
                ),
            });
        }
        serde_json::from_slice(bytes).map_err(|err| ExportError::Manifest {
            reason: format!("unreadable manifest: {err}"),
        })
    }

    /// The manifest's bytes (pretty JSON, trailing newline).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ExportError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|err| ExportError::Manifest {
            reason: format!("encoding: {err}"),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Checks that `files` (every file after the manifest, in archive order) are exactly
    /// the listed ones with their sizes and hashes.
    pub fn check_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), ExportError> {
        let listed: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
        let present: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        if listed != present {
            return Err(ExportError::Manifest {
                reason: format!("it lists {listed:?}, the archive holds {present:?}"),
            });
        }
        for (entry, (name, bytes)) in self.files.iter().zip(files) {
            if entry.size != bytes.len() as u64 || entry.sha256 != sha256_hex(bytes) {
                return Err(ExportError::FileChanged { file: name.clone() });
            }
        }
        Ok(())
    }
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            vid: "VIN-1".into(),
            from: "2024-05-01".into(),
            to: "2024-05-03".into(),
            anchor: AnchorEntry {
                chain_id: "carchain-test".into(),
                network: "regtest".into(),
                root: "1:00".into(),
            },
            records: 1,
            trips: 0,
            files: vec![FileEntry::of(RECORDS_JSON, b"[]")],
        }
    }

    #[test]
    fn a_manifest_round_trips_and_newer_or_foreign_ones_are_named() {
        let bytes = manifest().to_bytes().unwrap();
        assert_eq!(Manifest::parse(&bytes).unwrap(), manifest());
        let text = String::from_utf8(bytes).unwrap();
        let version = format!("\"version\": {EXPORT_VERSION}");
        let edited = |from: &str, to: &str| Manifest::parse(text.replace(from, to).as_bytes());
        assert_eq!(
            edited(&version, "\"version\": 7"),
            Err(ExportError::NewerVersion {
                found: 7,
                supported: EXPORT_VERSION
            })
        );
        for (from, to, code) in [
            (version.as_str(), "\"version\": 0", "export.not_an_export"),
            (version.as_str(), "\"version\": 1", "export.manifest"),
            (EXPORT_FORMAT, "carchain-backup", "export.not_an_export"),
            (
                "\"records\": 1",
                "\"records\": 1, \"signed\": true",
                "export.manifest",
            ),
        ] {
            assert_eq!(edited(from, to).unwrap_err().code(), code, "{from} -> {to}");
        }
        assert_eq!(
            Manifest::parse(b"[1,2]").unwrap_err().code(),
            "export.not_an_export"
        );
    }

    #[test]
    fn files_must_be_the_listed_ones_with_their_hashes() {
        let m = manifest();
        assert!(
            m.check_files(&[(RECORDS_JSON.into(), b"[]".to_vec())])
                .is_ok()
        );
        assert_eq!(
            m.check_files(&[(RECORDS_JSON.into(), b"[ ]".to_vec())]),
            Err(ExportError::FileChanged {
                file: RECORDS_JSON.into()
            })
        );
        assert_eq!(m.check_files(&[]).unwrap_err().code(), "export.manifest");
        assert_eq!(
            m.check_files(&[
                (RECORDS_JSON.into(), b"[]".to_vec()),
                (RECORDS_CSV.into(), Vec::new())
            ])
            .unwrap_err()
            .code(),
            "export.manifest"
        );
    }
}
