//! Pairing a car with the owner's wallet: the car shows its code, the wallet scans it
//! and offers a pool through the mailbox, the car accepts, both sides see it on chain.

use std::time::Duration;

use anyhow::{Result, bail};
use carchain_core::device::CarDevice;
use carchain_core::light::LightClient;
use carchain_core::wallet::Wallet;

/// Runs both sides of a pairing of `car` to `owner` (pool of `pool_size` addresses,
/// stored by the node serving as `agent`).
pub async fn pair_car(
    owner: &Wallet,
    light: &LightClient,
    car: &CarDevice,
    name: &str,
    pool_size: usize,
    agent: &str,
) -> Result<()> {
    let text = car.pairing_payload(600)?.to_text();
    let car_side = async {
        for _ in 0..300 {
            if car.complete_pairing(light).await? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("car {} never saw the owner's offer", car.vid())
    };
    let owner_side = owner.pair_device_with_timeout(
        light,
        &text,
        name,
        pool_size,
        agent,
        Duration::from_secs(30),
    );
    let (info, car_done) = tokio::join!(owner_side, car_side);
    let info = info?;
    car_done?;
    if info.vid != car.vid() {
        bail!("paired {} instead of {}", info.vid, car.vid());
    }
    for _ in 0..100 {
        if car.is_paired(light).await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("car {} never saw itself paired on chain", car.vid())
}
