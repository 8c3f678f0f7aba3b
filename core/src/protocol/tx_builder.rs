//! The one place a transaction's fee is chosen and the transaction signed: a
//! [`TxBuilder`] knows the chain (id, network) and the chain's fee schedule, and turns a
//! body, the signer's key and a nonce into a [`SignedTransaction`] that pays what that
//! schedule asks.

use bitcoin::secp256k1::SecretKey;

use super::body::TxBody;
use super::error::Result;
use super::fees::FeeSchedule;
use super::network::Network;
use super::signing::public_key_of;
use super::tx::{SignedTransaction, Transaction};

/// Builds and signs transactions for one chain under its fee schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxBuilder {
    chain_id: String,
    network: Network,
    fees: FeeSchedule,
}

impl TxBuilder {
    /// A builder for the chain `chain_id` on `network` whose fees are `fees`.
    pub fn new(chain_id: impl Into<String>, network: Network, fees: FeeSchedule) -> Self {
        Self {
            chain_id: chain_id.into(),
            network,
            fees,
        }
    }

    /// The fee `body` pays under the chain's schedule.
    pub fn fee_for(&self, body: &TxBody) -> u64 {
        self.fees.fee_for(body)
    }

    /// The unsigned transaction of `body` by the key `secret` at `nonce`, with the fee
    /// the chain's schedule asks.
    pub fn unsigned(&self, secret: &SecretKey, nonce: u64, body: TxBody) -> Transaction {
        Transaction {
            chain_id: self.chain_id.clone(),
            network: self.network,
            signer: public_key_of(secret),
            nonce,
            fee: self.fee_for(&body),
            body,
        }
    }

    /// [`Self::unsigned`], signed by `secret`.
    pub fn sign(&self, secret: &SecretKey, nonce: u64, body: TxBody) -> Result<SignedTransaction> {
        self.unsigned(secret, nonce, body).sign(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Transfer;
    use crate::protocol::test_fixtures::{address, secret};

    fn transfer() -> TxBody {
        TxBody::Transfer(Transfer {
            to: address(3),
            amount: 5,
        })
    }

    #[test]
    fn pays_the_chains_schedule_and_verifies() {
        let fees = FeeSchedule {
            base_fee: 77,
            ..FeeSchedule::DEFAULT
        };
        let builder = TxBuilder::new("carchain-test", Network::Regtest, fees);
        let signed = builder.sign(&secret(1), 4, transfer()).unwrap();
        assert_eq!(signed.tx.fee, 77);
        assert_eq!(signed.tx.nonce, 4);
        assert_eq!(signed.tx.chain_id, "carchain-test");
        assert_eq!(signed.verify_signature(), Ok(()));
    }

    #[test]
    fn default_schedule_pays_the_default_fee() {
        let builder = TxBuilder::new("c", Network::Regtest, FeeSchedule::DEFAULT);
        let tx = builder.unsigned(&secret(2), 0, transfer());
        assert_eq!(tx.fee, FeeSchedule::DEFAULT.fee_for(&transfer()));
    }
}
