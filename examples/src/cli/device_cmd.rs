//! `carchain device pair|list|reset|pool`: the owner's side of pairing, the device list,
//! handing a car over, and a new address pool.

use std::time::Duration;

use carchain_core::light::LightClient;
use carchain_core::pairing::PairingPayload;
use carchain_core::protocol::signing::p2wpkh_address;
use carchain_core::wallet::{DeviceInfo, Wallet};
use serde_json::{Value, json};

use super::args::DeviceCommand;
use super::error::CliError;
use super::output::emit;
use super::session::{Session, canonical_address};

/// A device as JSON.
fn device_json(info: &DeviceInfo) -> Value {
    json!({"vid": info.vid, "name": info.name, "device_pubkey": info.device_pubkey,
           "pool_size": info.pool_size, "generation": info.generation, "agent": info.agent,
           "paired_at": info.paired_at, "last_seen": info.last_seen, "status": info.status})
}

/// A device as one line of text.
fn device_line(info: &DeviceInfo) -> String {
    format!(
        "{}  {:<16} {:<11} pool {} (generation {})  agent {}",
        info.vid, info.name, info.status, info.pool_size, info.generation, info.agent
    )
}

/// On a shared node, funds the account of the car whose pairing payload is `payload` so
/// it can pay for reading the offer (nothing on a private node or a payload that does
/// not parse: pairing then reports the bad payload itself).
async fn fund_car(wallet: &Wallet, light: &LightClient, payload: &str) -> Result<(), CliError> {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    if let Ok(parsed) = PairingPayload::parse(payload.trim(), now) {
        let car_account = p2wpkh_address(&parsed.device_pubkey, light.anchor().network);
        wallet.fund_car_reads(light, &car_account).await?;
    }
    Ok(())
}

/// Runs a `device` command.
pub async fn run(session: &Session, command: &DeviceCommand) -> Result<(), CliError> {
    let wallet = session.open_wallet()?;
    let info = match command {
        DeviceCommand::List => {
            let devices = wallet.devices()?;
            session.emit_list(&devices, device_json, device_line, "no paired cars");
            return Ok(());
        }
        DeviceCommand::Pair {
            payload,
            name,
            pool_size,
            agent,
            timeout_secs,
        } => {
            let light = session.wallet_light(&wallet).await?;
            fund_car(&wallet, &light, payload).await?;
            if !session.json {
                eprintln!(
                    "waiting up to {timeout_secs} s for the car to accept (run `carchain car pair` on it)"
                );
            }
            wallet
                .pair_device_with_timeout(
                    &light,
                    payload.trim(),
                    name,
                    *pool_size,
                    agent,
                    Duration::from_secs(*timeout_secs),
                )
                .await?
        }
        DeviceCommand::Reset { vid, to } => {
            let light = session.wallet_light(&wallet).await?;
            let to = canonical_address(to, wallet.network());
            wallet.reset_to(&light, vid, &to).await?
        }
        DeviceCommand::Pool { vid, size, payload } => {
            let light = session.wallet_light(&wallet).await?;
            fund_car(&wallet, &light, payload).await?;
            wallet.set_dup(&light, vid, *size, payload.trim()).await?
        }
    };
    emit(session.json, &device_json(&info), || device_line(&info));
    Ok(())
}
