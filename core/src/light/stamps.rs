//! Buying fee stamps (see [`crate::protocol::fee_stamp`]): the owner's key pays one
//! Transfer to the stamp escrow for a batch, signs which blinded stamps that payment
//! buys, and unblinds the issuer's answers into [`OwnedStamp`]s for its car. The payment
//! names the owner; the stamps name no one, and the issuer cannot tell which of the
//! stamps it signed a put spends.

use super::http::Issuer;
use bitcoin::secp256k1::SecretKey;

use super::client::LightClient;
use super::error::{LightError, LightResult};
use super::read_payment::{issue_request_signature, purchase_payment};
use super::sequence::SignerTurn;
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::protocol::stamp_escrow_address;
use crate::tokens::{IssuerPublicKey, OwnedStamp, prepare_stamps};

/// The chain's stamp issuer as a buyer sees it.
#[derive(Debug, Clone)]
pub struct StampOffer {
    /// The issuer's public key.
    pub key: IssuerPublicKey,
    /// Price of one stamp.
    pub price: u64,
    /// Most stamps one payment buys.
    pub max_batch: u64,
    /// Where stamp payments go: the escrow of this key on the client's network.
    pub escrow_address: String,
}

impl LightClient {
    /// The chain's stamp issuer key, its price and escrow, from the first endpoint that
    /// issues stamps.
    pub async fn stamp_offer(&self) -> LightResult<StampOffer> {
        let wire = self.stamp_key().await?;
        let key = wire.issuer_key("stamps", Issuer::FeeStamps)?;
        if wire.price == 0 {
            return Err(LightError::BadAnswer {
                endpoint: "stamps".into(),
                reason: "a stamp's price is zero".into(),
            });
        }
        Ok(StampOffer {
            escrow_address: stamp_escrow_address(&key.key_id().0, self.anchor().network),
            key,
            price: wire.price,
            max_batch: wire.max_batch.max(1),
        })
    }

    /// Buys `count` fee stamps (at most the issuer's batch limit) paid by `payer`: one
    /// committed Transfer of `count x price` to the stamp escrow, then the issue request
    /// signed by `payer` over this payment and exactly these blinded stamps.
    pub async fn buy_fee_stamps(
        &self,
        payer: &SecretKey,
        count: u64,
    ) -> LightResult<Vec<OwnedStamp>> {
        let offer = self.stamp_offer().await?;
        if count == 0 || count > offer.max_batch {
            return Err(LightError::InvalidInput(format!(
                "a stamp purchase buys 1 to {} stamps, not {count}",
                offer.max_batch
            )));
        }
        let amount = count.checked_mul(offer.price).ok_or_else(|| {
            LightError::InvalidInput("the stamp purchase amount overflows".into())
        })?;
        let pending = prepare_stamps(&offer.key, usize::try_from(count).unwrap_or(1))?;
        let anchor = self.anchor();
        let builder = self.tx_builder().await?;
        let signer = public_key_of(payer);
        let payer_address = p2wpkh_address(&signer, anchor.network);
        // In the payer's turn, after its pending transactions ([`super::sequence`]).
        let turn = SignerTurn::take(self, &payer_address).await?;
        let nonce = turn.nonce();
        let tx = purchase_payment(&builder, payer, nonce, offer.escrow_address.clone(), amount)?;
        let receipt = turn.answered(nonce, self.submit(&tx, true).await)?;
        let blinded: Vec<&[u8]> = pending.iter().map(|p| p.blinded_message()).collect();
        let signature =
            issue_request_signature(payer, &receipt.tx_id, &offer.key.key_id().0, &blinded);
        let (key_id, signatures) = self
            .issue_stamps(&receipt.tx_id, &blinded, &signature)
            .await?;
        if key_id != offer.key.key_id().0 || signatures.len() != pending.len() {
            return Err(LightError::Tampered(
                "the stamp issuer signed under another key or another count".into(),
            ));
        }
        pending
            .iter()
            .zip(&signatures)
            .map(|(p, s)| p.finalize(&offer.key, s).map_err(LightError::from))
            .collect()
    }
}
