//! `carchain requests list|approve|reject`: the owner's side of data requests. Every
//! request shown or acted on is proven on the ledger with its provider's registration;
//! an approval delivers a copy or a computation's signed result (see the wallet).

use carchain_core::grants::{Delivery, GrantsLedger, Privilege};
use carchain_core::wallet::{PendingRequest, Wallet};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::args::RequestsCommand;
use super::data_cmd::known_vid;
use super::error::CliError;
use super::grant_input::{NarrowingFlags, parse_hex32};
use super::output::emit;
use super::session::Session;

/// A unix-ms time as RFC 3339 (UTC), or the number when out of range.
pub fn time_text(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(|| ms.to_string(), |at| at.to_rfc3339())
}

/// `copy`, or `compute:<code hash>`.
pub fn delivery_text(delivery: &Delivery) -> String {
    match delivery {
        Delivery::Copy => "copy".into(),
        Delivery::Compute { code_hash } => format!("compute:{}", hex::encode(code_hash)),
    }
}

fn privilege_names(privileges: &[Privilege]) -> Vec<&'static str> {
    privileges.iter().map(|p| p.as_str()).collect()
}

/// A pending request as JSON.
fn pending_json(pending: &PendingRequest) -> Value {
    let request = &pending.request;
    json!({"id": hex::encode(request.request_id),
           "provider": {"address": pending.provider.address, "name": pending.provider.name,
                        "description": pending.provider.description},
           "purpose": request.purpose, "from": pending.terms.from.to_string(),
           "to": pending.terms.to.to_string(), "formats": pending.terms.formats,
           "privileges": privilege_names(&pending.terms.privileges),
           "delivery": delivery_text(&pending.terms.delivery), "price": request.price,
           "expires_at": request.expires_at, "expires": request.expires_at.map(time_text)})
}

/// A pending request as a few lines of text.
fn pending_text(pending: &PendingRequest) -> String {
    let request = &pending.request;
    format!(
        "request  {}\nprovider {} ({})\npurpose  {}\nperiod   {} .. {}\nformats  {}\nasks     {} ({})\nprice    {}\nexpires  {}",
        hex::encode(request.request_id),
        pending.provider.name,
        pending.provider.address,
        request.purpose,
        pending.terms.from,
        pending.terms.to,
        pending.terms.formats.join(", "),
        privilege_names(&pending.terms.privileges).join(", "),
        delivery_text(&pending.terms.delivery),
        request.price,
        request
            .expires_at
            .map_or_else(|| "never".to_owned(), time_text),
    )
}

/// The owner's wallet and a grants ledger over its light client.
async fn owner_ledger(session: &Session) -> Result<(Wallet, GrantsLedger), CliError> {
    let wallet = session.open_wallet()?;
    let light = session.wallet_light(&wallet).await?;
    let ledger = GrantsLedger::new(light, &session.node_urls()?)?;
    Ok((wallet, ledger))
}

/// Runs a `requests` command.
pub async fn run(session: &Session, command: &RequestsCommand) -> Result<(), CliError> {
    match command {
        RequestsCommand::List => {
            let (wallet, ledger) = owner_ledger(session).await?;
            let pending = wallet.pending_requests(&ledger).await?;
            let doc = Value::Array(pending.iter().map(pending_json).collect());
            emit(session.json, &doc, || {
                if pending.is_empty() {
                    "no pending requests".to_owned()
                } else {
                    pending
                        .iter()
                        .map(pending_text)
                        .collect::<Vec<_>>()
                        .join("\n\n")
                }
            });
            Ok(())
        }
        RequestsCommand::Approve {
            id,
            vid,
            days,
            fields,
            privacy_zones,
            approximate,
        } => {
            let request_id = parse_hex32("--id", id)?;
            let flags = NarrowingFlags::parse(*days, fields, privacy_zones, *approximate)?;
            let (wallet, ledger) = owner_ledger(session).await?;
            known_vid(&wallet, vid)?;
            let pending = wallet
                .pending_requests(&ledger)
                .await?
                .into_iter()
                .find(|p| p.request.request_id == request_id)
                .ok_or_else(|| {
                    CliError::Input(format!(
                        "request {id} is not pending for this wallet (see `carchain requests list`)"
                    ))
                })?;
            let narrowing = flags.narrowing(&pending.terms)?;
            let approval = wallet
                .approve(&ledger, &request_id, vid, &narrowing)
                .await?;
            let scope = &approval.scope;
            let doc = json!({"id": hex::encode(request_id),
                             "grant_id": hex::encode(approval.grant_id),
                             "vid": vid, "provider": pending.provider.name,
                             "records": approval.records.len(),
                             "from": scope.from.to_string(), "to": scope.to.to_string(),
                             "privileges": privilege_names(&scope.privileges),
                             "formats": scope.formats,
                             "privacy_zones": scope.privacy_zones.len(),
                             "approximate": scope.approximate_decimals.is_some(),
                             "delivery": delivery_text(&scope.delivery)});
            emit(session.json, &doc, || {
                format!(
                    "approved: grant {} to {} ({} records of {} from {} to {}, {})",
                    hex::encode(approval.grant_id),
                    pending.provider.name,
                    approval.records.len(),
                    vid,
                    scope.from,
                    scope.to,
                    delivery_text(&scope.delivery)
                )
            });
            Ok(())
        }
        RequestsCommand::Reject { id } => {
            let request_id = parse_hex32("--id", id)?;
            let (wallet, ledger) = owner_ledger(session).await?;
            wallet.reject(&ledger, &request_id).await?;
            let id = hex::encode(request_id);
            emit(session.json, &json!({"id": id, "rejected": true}), || {
                format!("rejected request {id}")
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_deliveries_read_plainly() {
        assert_eq!(time_text(1_714_953_600_000), "2024-05-06T00:00:00+00:00");
        assert_eq!(time_text(u64::MAX), u64::MAX.to_string());
        assert_eq!(delivery_text(&Delivery::Copy), "copy");
        assert_eq!(
            delivery_text(&Delivery::Compute {
                code_hash: [0x0F; 32]
            }),
            format!("compute:{}", "0f".repeat(32))
        );
    }
}
