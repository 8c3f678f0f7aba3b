//! Pairing a simulated car with its owner on any node, each side with its own light
//! client as a phone and a head unit have: on a shared node the owner first funds the
//! car's account ([`super::paying::fund_car_reads`]), the owner's client pays its reads
//! from the owner account and the car's from its own account.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use carchain_core::device::CarDevice;
use carchain_core::light::LightClient;
use carchain_core::wallet::Wallet;

use super::paying::fund_car_reads;

/// Pause between two looks of the car into the mailbox or at the ledger.
const CAR_POLL: Duration = Duration::from_millis(250);
/// Looks a car makes before it gives up on the offer, or on seeing itself paired (two
/// minutes: a node pairing a fleet of cars at once on a loaded machine is slow).
const CAR_POLLS: u32 = 480;
/// How long the owner waits for the car's accept.
const OWNER_WAIT: Duration = Duration::from_secs(120);

/// Funds `car`'s reads if the node charges for them, then runs both sides of its pairing
/// to `owner` (pool of `pool_size` addresses, stored by the node serving as `agent`).
/// `owner_light` should pay reads from the owner's account and `car_light` from the
/// car's ([`CarDevice::paying_reads`]). Returns what was funded (0 on a private node).
pub async fn pair_sim_car(
    owner: &Wallet,
    owner_light: &LightClient,
    car: &CarDevice,
    car_light: &LightClient,
    pool_size: usize,
    agent: &str,
) -> Result<u64> {
    let funded = fund_car_reads(owner, owner_light, &car.device_pubkey())
        .await
        .with_context(|| format!("funding the reads of car {}", car.vid()))?;
    let text = car.pairing_payload(600)?.to_text();
    let car_side = async {
        for _ in 0..CAR_POLLS {
            if car.complete_pairing(car_light).await? {
                return Ok(());
            }
            tokio::time::sleep(CAR_POLL).await;
        }
        bail!("car {} never saw the owner's offer", car.vid())
    };
    let owner_side =
        owner.pair_device_with_timeout(owner_light, &text, car.vid(), pool_size, agent, OWNER_WAIT);
    let (info, car_done) = tokio::join!(owner_side, car_side);
    car_done.with_context(|| format!("car {} accepting the pairing", car.vid()))?;
    let info = info?;
    if info.vid != car.vid() {
        bail!("paired {} instead of {}", info.vid, car.vid());
    }
    for _ in 0..CAR_POLLS {
        if car.is_paired(car_light).await? {
            return Ok(funded);
        }
        tokio::time::sleep(CAR_POLL).await;
    }
    bail!("car {} never saw itself paired on chain", car.vid())
}
