//! The owner's export across the FFI: a car's records of a period written as one tar
//! archive the host app shares or keeps, and its offline check, which needs no wallet
//! (a recipient's app can run it). Failures carry `export.*` codes: a changed archive
//! `export.file_changed`, `export.derived_mismatch`, `export.proof_invalid`,
//! `export.record_invalid`, `export.header_invalid`, `export.incomplete`,
//! `export.manifest`, `export.anchor_mismatch` (kind `RecordRejected`); a cut, foreign
//! or newer file `export.truncated`, `export.not_an_export`, `export.newer_version`
//! (`InvalidInput`); `export.unknown_car` (`Device`), `export.invalid_period`
//! (`InvalidInput`), `export.io` (`Storage`).

use std::sync::Arc;

use carchain_core::export::{ExportReport as CoreExportReport, verify_export_file};
use carchain_core::light::TrustAnchor;

use crate::error::CarChainError;
use crate::inputs::parse_date;
use crate::keys::Network;
use crate::light::LightClient;
use crate::wallet::Wallet;

/// What an export archive holds (written or verified).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportReport {
    /// The car as the exporting wallet named it.
    pub vid: String,
    /// First day (YYYY-MM-DD).
    pub from_date: String,
    /// Last day (YYYY-MM-DD).
    pub to_date: String,
    /// The chain the headers are certified on (`chain_id/network`).
    pub chain: String,
    /// The consensus root the headers are certified from, in the trust anchor's text
    /// form (the genesis validators' ed25519 keys, hex, or `<height>:<hash>`), as
    /// `LightClient` takes it: compare it with the chain's when the archive was verified
    /// without a trusted anchor.
    pub validator_pubkey_hex: String,
    /// Records, each proven and opened.
    pub records: u64,
    /// Trips among them.
    pub trips: u64,
    /// Data addresses, each proven complete.
    pub addresses: u64,
}

impl From<CoreExportReport> for ExportReport {
    fn from(report: CoreExportReport) -> Self {
        ExportReport {
            vid: report.vid,
            from_date: report.from,
            to_date: report.to,
            chain: report.chain,
            validator_pubkey_hex: report.anchor_root,
            records: report.records,
            trips: report.trips,
            addresses: report.addresses,
        }
    }
}

/// The anchor a verifier trusts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrustedAnchor {
    /// Chain id.
    pub chain_id: String,
    /// Address network.
    pub network: Network,
    /// The consensus root in the trust anchor's text form (the genesis validators'
    /// ed25519 keys, hex, or `<height>:<header hash>`), as `LightClient` takes it.
    pub validator_pubkey_hex: String,
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// Writes the records car `vid` wrote from `from_date` to `to_date` (YYYY-MM-DD,
    /// both included) to `path` as one export archive: decrypted records as JSON and
    /// CSV, trips as GeoJSON and GPX, and the ledger proofs and signed headers that let
    /// anyone verify it offline ([`verify_export`]). The file is replaced only once the
    /// new archive is complete; a failed export leaves nothing.
    pub async fn export(
        &self,
        light: Arc<LightClient>,
        vid: String,
        from_date: String,
        to_date: String,
        path: String,
    ) -> Result<ExportReport, CarChainError> {
        let from = parse_date(&from_date)?;
        let to = parse_date(&to_date)?;
        Ok(self
            .wallet
            .export(&light.client, &vid, from, to, path)
            .await?
            .into())
    }
}

/// Verifies the export archive at `path` offline, without any wallet key. With
/// `trusted`, its headers must be signed under that anchor; without, under the anchor
/// the archive names (returned in the report to compare). Any changed file is refused
/// with its `export.*` code.
#[uniffi::export]
pub fn verify_export(
    path: String,
    trusted: Option<TrustedAnchor>,
) -> Result<ExportReport, CarChainError> {
    let anchor = trusted
        .map(|t| TrustAnchor::from_hex(&t.chain_id, t.network.into(), &t.validator_pubkey_hex))
        .transpose()
        .map_err(|err| CarChainError::new("export.invalid_anchor", err.to_string()))?;
    verify_export_file(path, anchor.as_ref())
        .map(ExportReport::from)
        .map_err(CarChainError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_file_is_refused_with_a_code() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.tar").display().to_string();
        assert_eq!(
            verify_export(missing, None).unwrap_err().code(),
            "export.io"
        );
        let foreign = dir.path().join("x.zip");
        std::fs::write(&foreign, b"PK\x03\x04 not ours").unwrap();
        let err = verify_export(foreign.display().to_string(), None).unwrap_err();
        assert_eq!(err.code(), "export.not_an_export");
        let bad_anchor = TrustedAnchor {
            chain_id: "c".into(),
            network: Network::Regtest,
            validator_pubkey_hex: "zz".into(),
        };
        let err = verify_export(foreign.display().to_string(), Some(bad_anchor)).unwrap_err();
        assert_eq!(err.code(), "export.invalid_anchor");
    }
}
