//! The owner's wallet paying with its own account: read tokens on a shared node, token
//! transfers, and funding a car's account so the car can pay its pairing read.
//!
//! Everything is signed by the owner identity key inside the wallet; the key never
//! leaves it. A shared node charges every value read (a get or one range page) one read
//! token; the owner buys them in batches with one Transfer to its operator each, and the
//! node signs them blindly, so the tokens spent on a car's addresses link neither to the
//! owner nor to each other (see [`crate::light::read_payment`]). A private node reads for free,
//! and nothing is bought or funded there.

use thiserror::Error;

use super::identity::Wallet;
use crate::device::car_read_funds;
use crate::light::{LightClient, LightError, Receipt};
use crate::protocol::{Transfer, TxBody, check_account_address};

/// Read tokens one purchase of the owner buys: 100 address reads, costing 100 at the
/// default `read_per_address` of 1, plus the transfer's fee. A month of a car's records
/// is about 30 address reads, so one purchase serves some three month views; tokens are
/// good at one node only, so a much larger batch would strand them there when the
/// client fails over, and a node signs a batch in one request (about 2 ms a token).
pub const OWNER_READ_TOKEN_BATCH: u64 = 100;

/// The node mode that charges for reads, as `GET /v1/status` names it.
pub const SHARED_NODE_MODE: &str = "shared";

/// Why the wallet could not pay.
#[derive(Debug, Error)]
pub enum PaymentError {
    /// The recipient is not a P2WPKH account address of the wallet's network.
    #[error("`{address}` is not an account address of this wallet's network")]
    InvalidRecipient {
        /// The address given.
        address: String,
    },
    /// A transfer of nothing.
    #[error("a transfer must move at least 1 token")]
    ZeroAmount,
    /// A transfer from the owner's account to itself.
    #[error("the recipient is the wallet's own account")]
    SelfTransfer,
    /// The amount plus its fee does not fit in a u64.
    #[error("the amount {amount} plus its fee overflows")]
    AmountTooLarge {
        /// The amount asked for.
        amount: u64,
    },
    /// The owner's proven balance does not cover the amount and its fee.
    #[error("the owner's balance {balance} does not cover {needed} (amount and fee)")]
    InsufficientFunds {
        /// The owner's proven balance.
        balance: u64,
        /// Amount plus fee.
        needed: u64,
    },
    /// The node refused or could not be reached, or its answer failed verification.
    #[error("light client: {0}")]
    Light(#[from] LightError),
}

crate::error_code::error_codes!(PaymentError {
    InvalidRecipient => "payment.invalid_recipient",
    ZeroAmount => "payment.zero_amount",
    SelfTransfer => "payment.self_transfer",
    AmountTooLarge => "payment.amount_too_large",
    InsufficientFunds => "payment.insufficient_funds",
    Light => inner,
});

impl Wallet {
    /// `light` paying each address read on a shared node with one read token, bought
    /// from the owner's account [`OWNER_READ_TOKEN_BATCH`] at a time when few are left,
    /// and kept in the wallet's store. Reads on a private node stay free. The owner key
    /// stays in the wallet's client.
    pub fn paying_reads(&self, light: LightClient) -> LightClient {
        light
            .with_read_payer(
                *self.keys().owner_key().secret_key(),
                OWNER_READ_TOKEN_BATCH,
            )
            .with_token_store(self.store())
    }

    /// Sends `amount` tokens from the owner's account to `to` (a P2WPKH address of the
    /// wallet's network), signed by the owner key, paying the default fee; waits until
    /// a block commits it. The owner's proven balance is checked first.
    pub async fn transfer(
        &self,
        light: &LightClient,
        to: &str,
        amount: u64,
    ) -> Result<Receipt, PaymentError> {
        self.check_recipient(to)?;
        if amount == 0 {
            return Err(PaymentError::ZeroAmount);
        }
        let body = TxBody::Transfer(Transfer {
            to: to.to_owned(),
            amount,
        });
        let needed = amount
            .checked_add(light.fee_schedule().await?.fee_for(&body))
            .ok_or(PaymentError::AmountTooLarge { amount })?;
        self.submit_if_covered(light, body, needed)
            .await?
            .map_err(|balance| PaymentError::InsufficientFunds { balance, needed })
    }

    /// Signs `body` with the owner key and submits it, waiting for its block, when the
    /// owner's proven balance covers `needed`; `Ok(Err(balance))` when it does not.
    pub(crate) async fn submit_if_covered(
        &self,
        light: &LightClient,
        body: TxBody,
        needed: u64,
    ) -> Result<Result<Receipt, u64>, LightError> {
        let balance = light.account(&self.owner_address()).await?.balance;
        if balance < needed {
            return Ok(Err(balance));
        }
        Ok(Ok(light
            .sign_and_submit(self.keys().owner_key().secret_key(), body)
            .await?))
    }

    /// On a shared node, tops the car account `car_account` (the car's
    /// `CarDevice::account_address`) up to [`car_read_funds`] of the chain's fee schedule
    /// from the owner's account,
    /// so the car can pay for reading the owner's pairing offer. Returns the amount
    /// sent: 0 on a private node or when the car holds enough already.
    pub async fn fund_car_reads(
        &self,
        light: &LightClient,
        car_account: &str,
    ) -> Result<u64, PaymentError> {
        self.check_recipient(car_account)?;
        if light.status().await?.mode != SHARED_NODE_MODE {
            return Ok(0);
        }
        let balance = light.account(car_account).await?.balance;
        let amount = car_read_funds(&light.fee_schedule().await?).saturating_sub(balance);
        if amount == 0 {
            return Ok(0);
        }
        self.transfer(light, car_account, amount).await?;
        Ok(amount)
    }

    /// Checks that `to` is another account of the wallet's network.
    fn check_recipient(&self, to: &str) -> Result<(), PaymentError> {
        check_account_address(to, self.network(), "to").map_err(|_| {
            PaymentError::InvalidRecipient {
                address: to.to_owned(),
            }
        })?;
        if to == self.owner_address() {
            return Err(PaymentError::SelfTransfer);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keys::Network;
    use crate::light::TrustAnchor;
    use crate::protocol::signing::{p2wpkh_address, public_key_of};
    use crate::store::{InMemorySecretStore, WalletStore};

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    /// Another regtest account (of the key 0x07..07).
    fn other_account() -> String {
        let secret = bitcoin::secp256k1::SecretKey::from_slice(&[7; 32]).unwrap();
        p2wpkh_address(&public_key_of(&secret), Network::Regtest)
    }

    /// A regtest P2WSH address: a valid address, but not an account.
    fn script_address() -> String {
        let script = bitcoin::ScriptBuf::from_bytes(vec![0x51]);
        bitcoin::Address::p2wsh(&script, bitcoin::Network::Regtest).to_string()
    }

    fn wallet() -> Wallet {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new())).unwrap();
        Wallet::restore_in(store, Network::Regtest, WORDS, "").unwrap()
    }

    /// A client of a port nothing listens on: any network call fails.
    fn offline_light() -> LightClient {
        let anchor = TrustAnchor::from_hex(
            "carchain-dev",
            Network::Regtest,
            &crate::light::ConsensusSigner::from_seed(&[1; 32]).public_hex(),
        )
        .unwrap();
        LightClient::new(vec!["http://127.0.0.1:9".to_owned()], anchor).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn bad_recipients_are_refused_before_any_network_call() {
        let wallet = wallet();
        let light = offline_light();
        let runtime = runtime();
        let other = other_account();
        let secret = bitcoin::secp256k1::SecretKey::from_slice(&[7; 32]).unwrap();
        let mainnet = p2wpkh_address(&public_key_of(&secret), Network::Mainnet);
        for bad in [
            String::new(),
            "not-an-address".to_owned(),
            mainnet,
            other.to_uppercase(),
            script_address(),
        ] {
            let bad = bad.as_str();
            let err = runtime
                .block_on(wallet.transfer(&light, bad, 5))
                .unwrap_err();
            assert!(
                matches!(&err, PaymentError::InvalidRecipient { address } if address == bad),
                "{bad}: {err:?}"
            );
            let err = runtime
                .block_on(wallet.fund_car_reads(&light, bad))
                .unwrap_err();
            assert!(
                matches!(err, PaymentError::InvalidRecipient { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_zero_transfer_and_one_to_itself_are_refused() {
        let wallet = wallet();
        let light = offline_light();
        let runtime = runtime();
        let zero = runtime.block_on(wallet.transfer(&light, &other_account(), 0));
        assert!(matches!(zero, Err(PaymentError::ZeroAmount)));
        let own = wallet.owner_address();
        let to_self = runtime.block_on(wallet.transfer(&light, &own, 5));
        assert!(matches!(to_self, Err(PaymentError::SelfTransfer)));
    }

    #[test]
    fn an_unreachable_node_is_a_light_error() {
        let wallet = wallet();
        let light = offline_light();
        let err = runtime()
            .block_on(wallet.transfer(&light, &other_account(), 5))
            .unwrap_err();
        match err {
            PaymentError::Light(light) => assert!(light.is_unreachable(), "{light}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_owner_key_shows_in_no_debug_or_error_text() {
        let wallet = wallet();
        let shown = format!("{wallet:?}");
        let paying = wallet.paying_reads(offline_light());
        let light_shown = format!("{paying:?}");
        let secret = hex::encode(wallet.keys().owner_key().secret_key().secret_bytes());
        assert!(!shown.contains(&secret));
        assert!(!light_shown.contains(&secret), "{light_shown}");
        let err = PaymentError::InsufficientFunds {
            balance: 3,
            needed: 15,
        };
        assert_eq!(
            err.to_string(),
            "the owner's balance 3 does not cover 15 (amount and fee)"
        );
    }
}
