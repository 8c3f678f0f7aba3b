//! `carchain provider new|register|request`: a service provider's side from the
//! command line. Its key file (see [`super::provider_key`]) holds the secp256k1 account
//! that signs and pays, and the RSA key grants are wrapped to; the trust anchor is
//! pinned next to it (`<key>.anchor.json`) like a wallet's.

use std::path::Path;

use carchain_core::grants::provider::RequestSpec;
use carchain_core::grants::{GrantsLedger, RequestTerms};
use carchain_core::keys::parse_address;
use serde_json::json;

use super::args::ProviderCommand;
use super::error::CliError;
use super::grant_input::parse_hex32;
use super::output::emit;
use super::provider_key::{self, ProviderKey};
use super::requests_cmd::{delivery_text, time_text};
use super::session::{Session, canonical_address};

/// A grants ledger for the provider keyed at `path`, anchored on its network.
async fn provider_ledger(
    session: &Session,
    path: &Path,
    key: &ProviderKey,
) -> Result<GrantsLedger, CliError> {
    let light = session.light(Some(path)).await?;
    if light.anchor().network != key.network {
        return Err(CliError::Input(format!(
            "the provider key is on {} but the chain {} is on {}",
            key.network,
            light.anchor().chain_id,
            light.anchor().network
        )));
    }
    Ok(GrantsLedger::new(light, &session.node_urls()?)?)
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Runs a `provider` command.
pub async fn run(session: &Session, command: &ProviderCommand) -> Result<(), CliError> {
    match command {
        ProviderCommand::New { key } => {
            let created = provider_key::create(key, session.network)?;
            let address = created.provider.address();
            emit(
                session.json,
                &json!({"address": address, "rsa_fingerprint": created.rsa_fingerprint,
                        "network": created.network.to_string(),
                        "key_file": key.display().to_string()}),
                || {
                    format!(
                        "provider address {address}\nRSA fingerprint  {}\nkey file         {} (mode 0600; keep it private)",
                        created.rsa_fingerprint,
                        key.display()
                    )
                },
            );
            Ok(())
        }
        ProviderCommand::Register {
            key,
            name,
            description,
            code_hashes,
        } => {
            let hashes = code_hashes
                .iter()
                .map(|text| parse_hex32("--code-hash", text))
                .collect::<Result<Vec<_>, _>>()?;
            if name.trim().is_empty() {
                return Err(CliError::Input("--name must not be empty".into()));
            }
            let loaded = provider_key::load(key)?;
            let ledger = provider_ledger(session, key, &loaded).await?;
            loaded
                .provider
                .register(&ledger, name, description, hashes.clone())
                .await?;
            let address = loaded.provider.address();
            let hashes_hex: Vec<String> = hashes.iter().map(hex::encode).collect();
            emit(
                session.json,
                &json!({"address": address, "name": name, "description": description,
                        "code_hashes": hashes_hex, "registered": true}),
                || format!("registered {name} as provider {address}"),
            );
            Ok(())
        }
        ProviderCommand::Request {
            key,
            owner,
            formats,
            from,
            to,
            fields,
            purpose,
            price,
            expires,
        } => {
            let terms = RequestTerms::parse(formats, from, to, fields)?;
            let loaded = provider_key::load(key)?;
            let owner = &canonical_address(owner, loaded.network);
            parse_address(owner, loaded.network).map_err(|e| {
                CliError::Input(format!(
                    "--owner `{owner}` is not a {} address: {e}",
                    loaded.network
                ))
            })?;
            let expires_at = expires
                .map(|secs| {
                    secs.checked_mul(1000)
                        .and_then(|ms| ms.checked_add(now_ms()))
                })
                .map(|at| at.ok_or_else(|| CliError::Input("--expires is too far away".into())))
                .transpose()?;
            let ledger = provider_ledger(session, key, &loaded).await?;
            let spec = RequestSpec {
                owner_address: owner.clone(),
                terms: terms.clone(),
                purpose: purpose.clone(),
                price: *price,
                expires_at,
            };
            let request_id = loaded.provider.request(&ledger, &spec).await?;
            let id = hex::encode(request_id);
            emit(
                session.json,
                &json!({"id": id, "owner": owner, "from": terms.from.to_string(),
                        "to": terms.to.to_string(), "formats": terms.formats,
                        "fields": terms.to_fields(), "delivery": delivery_text(&terms.delivery),
                        "purpose": purpose, "price": price, "expires_at": expires_at,
                        "expires": expires_at.map(time_text)}),
                || {
                    format!(
                        "request {id} sent to {owner} ({} .. {})",
                        terms.from, terms.to
                    )
                },
            );
            Ok(())
        }
    }
}
