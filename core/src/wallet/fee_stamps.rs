//! The owner buying fee stamps for its cars (see [`crate::protocol::fee_stamp`]): one
//! Transfer from the owner's account to the chain's stamp escrow pays a batch, which the
//! stamp issuer blind-signs. The owner hands the stamps to its car
//! ([`crate::device::CarDevice::add_fee_stamps`]); each pays one record put. The payment
//! names the owner; no stamp names the owner, the car or the payment, and no pool
//! address ever receives anything.

use super::account_payments::PaymentError;
use super::identity::Wallet;
use crate::light::LightClient;
use crate::tokens::OwnedStamp;

/// Stamps one purchase buys by default: about a month of a car's records.
pub const OWNER_FEE_STAMP_BATCH: u64 = 64;

impl Wallet {
    /// Buys `count` fee stamps from the chain's stamp issuer, paid from the owner's
    /// account (its proven balance must cover `count x price` and the transfer's fee).
    pub async fn buy_fee_stamps(
        &self,
        light: &LightClient,
        count: u64,
    ) -> Result<Vec<OwnedStamp>, PaymentError> {
        let offer = light.stamp_offer().await?;
        let fee = light.fee_schedule().await?.base_fee;
        let needed = count
            .checked_mul(offer.price)
            .and_then(|amount| amount.checked_add(fee))
            .ok_or(PaymentError::AmountTooLarge { amount: count })?;
        let balance = light.account(&self.owner_address()).await?.balance;
        if balance < needed {
            return Err(PaymentError::InsufficientFunds { balance, needed });
        }
        Ok(light
            .buy_fee_stamps(self.keys().owner_key().secret_key(), count)
            .await?)
    }
}
