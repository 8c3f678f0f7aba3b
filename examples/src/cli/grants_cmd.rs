//! `carchain grants list|revoke|sync`: the grants this wallet made, as it remembers
//! them, revoking one on the ledger (what was already delivered stays delivered), and
//! the standing grants' sync that delivers each newly complete day and late uploads.

use carchain_core::grants::GrantsLedger;
use carchain_core::wallet::{GrantInfo, StandingSync};
use serde_json::{Value, json};

use super::args::GrantsCommand;
use super::error::CliError;
use super::grant_input::parse_hex32;
use super::output::emit;
use super::session::{Session, parse_date};

/// A grant as JSON.
fn grant_json(info: &GrantInfo) -> Value {
    json!({"grant_id": info.grant_id, "request_id": info.request_id,
           "provider": info.provider, "provider_name": info.provider_name,
           "kind": info.kind, "records": info.records, "status": info.status})
}

/// A grant as one line of text.
fn grant_line(info: &GrantInfo) -> String {
    format!(
        "{}  {:<8} {:<7} {} records  to {} ({})",
        info.grant_id, info.status, info.kind, info.records, info.provider_name, info.provider
    )
}

/// One standing grant's sync as JSON.
fn sync_json(sync: &StandingSync) -> Value {
    json!({"grant_id": hex::encode(sync.grant_id),
           "delivered_periods": sync.delivered.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
           "late_periods": sync.late,
           "records": sync.delivered.iter().map(|(_, r)| r.len()).sum::<usize>(),
           "next_period": sync.next_period, "state": sync.state,
           "error": sync.error.as_ref().map(|(code, message)| json!({"code": code, "message": message}))})
}

/// One standing grant's sync as one line of text.
fn sync_line(sync: &StandingSync) -> String {
    let records: usize = sync.delivered.iter().map(|(_, r)| r.len()).sum();
    let mut line = format!(
        "{}  {:<8} {} periods ({} late), {} records delivered; next period {}",
        hex::encode(sync.grant_id),
        sync.state,
        sync.delivered.len(),
        sync.late.len(),
        records,
        sync.next_period
    );
    if let Some((code, message)) = &sync.error {
        line.push_str(&format!("  (retried next time: {code}: {message})"));
    }
    line
}

/// Runs a `grants` command.
pub async fn run(session: &Session, command: &GrantsCommand) -> Result<(), CliError> {
    match command {
        GrantsCommand::List => {
            let wallet = session.open_wallet()?;
            let grants = wallet.grants()?;
            session.emit_list(&grants, grant_json, grant_line, "no grants");
            Ok(())
        }
        GrantsCommand::Revoke { id } => {
            let grant_id = parse_hex32("--id", id)?;
            let wallet = session.open_wallet()?;
            let canonical = hex::encode(grant_id);
            if !wallet.grants()?.iter().any(|g| g.grant_id == canonical) {
                return Err(CliError::Input(format!(
                    "grant {id} is not one this wallet made (see `carchain grants list`)"
                )));
            }
            let light = session.wallet_light(&wallet).await?;
            let ledger = GrantsLedger::new(light, &session.node_urls()?)?;
            wallet.revoke(&ledger, &grant_id).await?;
            emit(
                session.json,
                &json!({"grant_id": canonical, "status": "revoked"}),
                || format!("revoked grant {canonical}"),
            );
            Ok(())
        }
        GrantsCommand::Sync { today } => {
            let today = match today {
                Some(text) => parse_date("--today", text)?,
                None => chrono::Utc::now().date_naive(),
            };
            let wallet = session.open_wallet()?;
            let light = session.wallet_light(&wallet).await?;
            let ledger = GrantsLedger::new(light, &session.node_urls()?)?;
            let report = wallet.sync_standing_grants(&ledger, today).await?;
            session.emit_list(&report, sync_json, sync_line, "no active standing grants");
            Ok(())
        }
    }
}
