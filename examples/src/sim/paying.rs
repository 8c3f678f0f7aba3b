//! Paying for reads on a shared node, which charges every value read one read token
//! (bought in batches with a transfer to its operator): the owner's wallet pays its reads (the car's pairing
//! accept, records, requests) from the owner identity account
//! ([`Wallet::paying_reads`]), and funds each car's own account
//! ([`Wallet::fund_car_reads`]) so the car can pay for the one read it makes, the owner's
//! pairing offer. A private node reads for free; nothing is funded there. The owner key
//! never leaves the wallet: these are the simulator's names for the wallet's calls.

use bitcoin::secp256k1::PublicKey;
use carchain_core::light::LightClient;
use carchain_core::protocol::signing::p2wpkh_address;
use carchain_core::wallet::Wallet;

pub use carchain_core::wallet::{
    OWNER_READ_TOKEN_BATCH, PaymentError as PayingError, SHARED_NODE_MODE as SHARED_MODE,
};

/// `light` paying its reads with tokens bought from the owner's account on a shared node
/// ([`Wallet::paying_reads`]). Never fails; the `Result` keeps the simulator's callers'
/// shape.
pub fn owner_paying_light(wallet: &Wallet, light: LightClient) -> Result<LightClient, PayingError> {
    Ok(wallet.paying_reads(light))
}

/// On a shared node, tops the account of the car whose device key is `device_pubkey` up
/// to [`carchain_core::device::CAR_READ_FUNDS`] from the owner's account (one transfer,
/// waited for). Returns the amount sent: 0 on a private node or when the car holds
/// enough already.
pub async fn fund_car_reads(
    wallet: &Wallet,
    light: &LightClient,
    device_pubkey: &PublicKey,
) -> Result<u64, PayingError> {
    let car_account = p2wpkh_address(device_pubkey, light.anchor().network);
    wallet.fund_car_reads(light, &car_account).await
}
