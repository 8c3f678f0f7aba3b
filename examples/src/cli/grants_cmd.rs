//! `carchain grants list|revoke`: the grants this wallet made, as it remembers them,
//! and revoking one on the ledger (what was already delivered stays delivered).

use carchain_core::grants::GrantsLedger;
use carchain_core::wallet::GrantInfo;
use serde_json::{Value, json};

use super::args::GrantsCommand;
use super::error::CliError;
use super::grant_input::parse_hex32;
use super::output::emit;
use super::session::Session;

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

/// Runs a `grants` command.
pub async fn run(session: &Session, command: &GrantsCommand) -> Result<(), CliError> {
    match command {
        GrantsCommand::List => {
            let wallet = session.open_wallet()?;
            let grants = wallet.grants()?;
            let doc = Value::Array(grants.iter().map(grant_json).collect());
            emit(session.json, &doc, || {
                if grants.is_empty() {
                    "no grants".to_owned()
                } else {
                    grants.iter().map(grant_line).collect::<Vec<_>>().join("\n")
                }
            });
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
    }
}
