//! The owner's wallet paying with its own account across the FFI: a light client whose
//! reads on a shared node are paid with read tokens bought from the owner's account
//! (`Wallet.payingReads`, `LightClient.readTokensHeld`, `LightClient.buyReadTokens`),
//! token transfers (`Wallet.transfer`) and funding a car's account for its pairing read
//! (`Wallet.fundCarReads`). The owner key stays in Rust. Errors are `CarChainError`
//! (`InvalidInput` with `payment.*` codes for refused payments).
//!
//! Cancellation: `transfer` is one transaction; cancelled after it was sent, it may
//! still commit (check the balance). `fund_car_reads` is at most one transfer.

use std::sync::Arc;

use crate::error::CarChainError;
use crate::light::LightClient;
use crate::wallet::Wallet;

/// A committed transfer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransferReceipt {
    /// The transaction id, hex.
    pub tx_id: String,
    /// The block that committed it.
    pub height: Option<u64>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// A copy of `light` that pays each address read on a shared node with one
    /// unlinkable read token (RFC 9474 blind RSA), bought from the owner's account 100 at
    /// a time (a transfer of 100 plus its fee) when few are left and kept in the
    /// wallet's store. Reads on a private node stay free. No network.
    pub fn paying_reads(&self, light: Arc<LightClient>) -> Arc<LightClient> {
        Arc::new(LightClient {
            client: self.wallet.paying_reads(light.client.clone()),
        })
    }

    /// Sends `amount` tokens from the owner's account to `to` (a P2WPKH address of the
    /// wallet's network), the default fee added; returns once a block commits it.
    /// Refused: `payment.invalid_recipient`, `payment.zero_amount`,
    /// `payment.self_transfer`, `payment.amount_too_large`, `payment.insufficient_funds`.
    pub async fn transfer(
        &self,
        light: Arc<LightClient>,
        to: String,
        amount: u64,
    ) -> Result<TransferReceipt, CarChainError> {
        let receipt = self.wallet.transfer(&light.client, &to, amount).await?;
        Ok(TransferReceipt {
            tx_id: hex::encode(receipt.tx_id),
            height: receipt.height,
        })
    }

    /// Buys `count` fee stamps (1 to the issuer's batch limit) with one payment from the
    /// owner's account to the chain's stamp escrow; returns each stamp's bytes, secret,
    /// to hand to the car (`CarDevice.add_fee_stamps`), whose puts then pay their fees
    /// with them: no pool address is ever funded. Refused as `transfer` is, and
    /// `payment.insufficient_funds` when the balance cannot cover `count x price` and the
    /// fee.
    pub async fn buy_fee_stamps(
        &self,
        light: Arc<LightClient>,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, CarChainError> {
        let stamps = self.wallet.buy_fee_stamps(&light.client, count).await?;
        Ok(stamps.iter().map(|s| s.to_bytes().to_vec()).collect())
    }

    /// On a shared node, tops the car account `car_account` (the car's device key
    /// address) up to what its pairing read needs, from the owner's account. Returns
    /// the amount sent: 0 on a private node or when the car holds enough already.
    pub async fn fund_car_reads(
        &self,
        light: Arc<LightClient>,
        car_account: String,
    ) -> Result<u64, CarChainError> {
        Ok(self
            .wallet
            .fund_car_reads(&light.client, &car_account)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::tests::{error_of, offline_client as offline_light};
    use crate::wallet::tests::restored_wallet as wallet;
    use carchain_core::protocol::signing::{p2wpkh_address, public_key_of, secret_key_from_bytes};

    #[test]
    fn refused_payments_are_invalid_input_with_payment_codes() {
        let dir = tempfile::tempdir().unwrap();
        let wallet = wallet(&dir);
        let light = offline_light();
        let bad = error_of(wallet.transfer(light.clone(), "nope".into(), 5));
        assert!(matches!(bad, CarChainError::InvalidInput { .. }));
        assert_eq!(bad.code(), "payment.invalid_recipient");
        let own = wallet.owner_address();
        let to_self = error_of(wallet.transfer(light.clone(), own, 5));
        assert_eq!(to_self.code(), "payment.self_transfer");
        let car = error_of(wallet.fund_car_reads(light, "bc1qnope".into()));
        assert_eq!(car.code(), "payment.invalid_recipient");
    }

    #[test]
    fn an_unreachable_node_is_a_network_error_and_the_paying_client_keeps_its_endpoints() {
        let dir = tempfile::tempdir().unwrap();
        let wallet = wallet(&dir);
        let paying = wallet.paying_reads(offline_light());
        assert_eq!(paying.verified_height(), 0);
        let secret = secret_key_from_bytes(&[7; 32]).unwrap();
        let other = p2wpkh_address(
            &public_key_of(&secret),
            carchain_core::keys::Network::Regtest,
        );
        let err = error_of(wallet.transfer(paying, other, 5));
        assert!(matches!(err, CarChainError::Unavailable { .. }), "{err:?}");
        assert_eq!(err.code(), "light.network");
    }
}
