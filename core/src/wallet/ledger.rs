//! Signing and submitting the wallet's own transactions: owner-signed device operations
//! and wallet-written records (pairing mailbox, subscriber channel), with the fee the
//! chain's proven schedule asks ([`crate::light::LightClient::fee_schedule`]).

use bitcoin::secp256k1::SecretKey;

use super::error::WalletError;
use crate::light::{LightClient, Receipt};
use crate::protocol::TxBody;

/// Signs `body` with `secret` (nonce from the signer's proven account) and submits it,
/// waiting until a block commits it.
pub(crate) async fn submit_signed(
    light: &LightClient,
    secret: &SecretKey,
    body: TxBody,
) -> Result<Receipt, WalletError> {
    Ok(light.sign_and_submit(secret, body).await?)
}
