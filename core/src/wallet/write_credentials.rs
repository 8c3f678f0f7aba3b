//! The owner's records on a private node (`putWalKV` under an address the owner holds:
//! a subscriber channel entry under its one-day address, a grant delivery under the
//! owner's address, an owner record under a pool address of the car): a private node stores a value only with
//! a write credential ([`crate::light::write_credentials`]). When the node asks for one
//! (`credential_missing`), the wallet obtains one as the owner of one of its cars paired
//! with that node — issuance is authenticated, the credential itself names no one — and
//! shows it. One credential is asked for per such put (owner records are few); a shared
//! node never asks.

use bitcoin::secp256k1::SecretKey;

use super::error::WalletError;
use super::identity::Wallet;
use crate::light::write_credentials::CredentialHolder;
use crate::light::{LightClient, LightError, PutOutcome, WriteCredential};
use crate::protocol::signing::{p2wpkh_address, public_key_of};

impl Wallet {
    /// Registers and stores a wallet record under `secret`'s address, showing an owner
    /// write credential when a private node asks for one.
    pub(crate) async fn put_wallet_entry(
        &self,
        light: &LightClient,
        secret: &SecretKey,
        format: &str,
        key: Vec<u8>,
        value: &[u8],
    ) -> Result<PutOutcome, WalletError> {
        match light
            .put_wallet_record(secret, format, key.clone(), value)
            .await
        {
            Err(e) if e.node_code() == Some("credential_missing") => {}
            other => return Ok(other?),
        }
        // The credential request names a car of this wallet: it goes on a connection
        // of its own, never on the one that then carries the record's address.
        let credential = self
            .owner_credential(&light.with_fresh_connections()?)
            .await?;
        let address = p2wpkh_address(&public_key_of(secret), light.anchor().network);
        Ok(light
            .put_value(&address, &key, value, Some(&credential))
            .await?)
    }

    /// Stores the value of a record registered already under `address`, showing an
    /// owner write credential when a private node asks for one.
    pub(super) async fn store_owner_value(
        &self,
        light: &LightClient,
        address: &str,
        key: &[u8],
        value: &[u8],
    ) -> Result<PutOutcome, WalletError> {
        match light.put_value(address, key, value, None).await {
            Err(e) if e.node_code() == Some("credential_missing") => {}
            other => return Ok(other?),
        }
        let credential = self
            .owner_credential(&light.with_fresh_connections()?)
            .await?;
        Ok(light
            .put_value(address, key, value, Some(&credential))
            .await?)
    }

    /// One write credential from a private node, asked as the owner of the first of
    /// this wallet's paired cars the node serves.
    async fn owner_credential(&self, light: &LightClient) -> Result<WriteCredential, WalletError> {
        let issuer = light.credential_issuer().await?;
        let owner_key = *self.keys().owner_key().secret_key();
        let mut last = None;
        for device in self.devices()? {
            if device.status != "paired" {
                continue;
            }
            let holder = CredentialHolder::Owner {
                vid: &device.vid,
                owner_key: &owner_key,
            };
            match light
                .obtain_credentials(&issuer, &device.agent, holder, 1)
                .await
            {
                Ok(issued) => {
                    if let Some(token) = issued.tokens.into_iter().next() {
                        return Ok(WriteCredential(token));
                    }
                }
                Err(e) if e.node_code() == Some("mode_refused") => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last
            .unwrap_or_else(|| LightError::Node {
                code: "credential_missing".into(),
                message: "no car of this wallet is paired with this private node".into(),
            })
            .into())
    }
}
