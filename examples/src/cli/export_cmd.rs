//! `carchain export` and `carchain verify-export`: a car's records of a period as one
//! archive, and its offline check (no wallet, no node). The verifier trusts the anchor
//! given with `--chain-id`/`--validator`; without them it checks the archive against the
//! anchor the archive names and prints that anchor to compare with the chain's.

use carchain_core::export::verify_export_file;
use carchain_core::light::TrustAnchor;
use serde_json::json;

use super::args::{ExportArgs, VerifyExportArgs};
use super::error::CliError;
use super::output::emit;
use super::session::{Session, parse_date};

/// `carchain export`.
pub async fn export(session: &Session, args: &ExportArgs) -> Result<(), CliError> {
    let from = parse_date("--from", &args.from)?;
    let to = parse_date("--to", &args.to)?;
    let wallet = session.open_wallet()?;
    let light = session.wallet_light(&wallet).await?;
    let report = wallet
        .export(&light, &args.vid, from, to, &args.out)
        .await?;
    let out = args.out.display().to_string();
    emit(
        session.json,
        &json!({"export": out, "vid": report.vid, "from": report.from, "to": report.to,
                "records": report.records, "trips": report.trips,
                "addresses": report.addresses, "chain": report.chain}),
        || {
            format!(
                "{} record(s), {} trip(s) of {} from {} to {} written to {out}",
                report.records, report.trips, report.vid, report.from, report.to
            )
        },
    );
    Ok(())
}

/// `carchain verify-export FILE`.
pub fn verify(session: &Session, args: &VerifyExportArgs) -> Result<(), CliError> {
    let trusted = match (&session.chain_id, &session.validator) {
        (Some(chain_id), Some(validator)) => {
            Some(TrustAnchor::from_hex(chain_id, session.network, validator)?)
        }
        (None, None) => None,
        _ => {
            return Err(CliError::Usage(
                "--chain-id and --validator go together".into(),
            ));
        }
    };
    let report = verify_export_file(&args.file, trusted.as_ref())?;
    emit(
        session.json,
        &json!({"verified": true, "vid": report.vid, "from": report.from, "to": report.to,
                "records": report.records, "trips": report.trips,
                "addresses": report.addresses, "headers": report.headers,
                "chain": report.chain, "anchor_root": report.anchor_root,
                "anchor_trusted": trusted.is_some()}),
        || {
            let mut text = format!(
                "verified: {} record(s), {} trip(s) of {} from {} to {}, proven on {} \
                 (anchor root {})",
                report.records,
                report.trips,
                report.vid,
                report.from,
                report.to,
                report.chain,
                report.anchor_root
            );
            if trusted.is_none() {
                text.push_str(
                    "\nnote: checked against the trust anchor the archive names; pass \
                     --chain-id and --validator to require your chain's",
                );
            }
            text
        },
    );
    Ok(())
}
