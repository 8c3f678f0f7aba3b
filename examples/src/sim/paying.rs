//! Paying for reads on a shared node, which charges every value read to a read ticket
//! (a transfer to its operator): the owner's wallet pays its reads (the car's pairing
//! accept, records, requests) from the owner identity account, and funds each car's own
//! account so the car can pay for the one read it makes, the owner's pairing offer.
//! A private node reads for free; nothing is funded there.

use bitcoin::secp256k1::{PublicKey, SecretKey};
use carchain_core::device::CAR_READ_FUNDS;
use carchain_core::keys::ecc::{master_key, owner_identity_path};
use carchain_core::keys::{KeyError, Mnemonic, derive_key};
use carchain_core::light::{LightClient, LightError};
use carchain_core::protocol::signing::p2wpkh_address;
use carchain_core::protocol::{Transfer, TxBody};
use carchain_core::store::StoreError;
use carchain_core::wallet::Wallet;

/// Reads one ticket of the owner buys (one token each at the default schedule).
pub const OWNER_READ_TICKET_TRAVERSALS: u64 = 1_000;

/// The node mode that charges for reads, as `GET /v1/status` names it.
pub const SHARED_MODE: &str = "shared";

/// Why a wallet could not pay for reads or fund a car.
#[derive(Debug, thiserror::Error)]
pub enum PayingError {
    /// The wallet store failed.
    #[error("wallet store: {0}")]
    Store(#[from] StoreError),
    /// The store's lock is poisoned.
    #[error("the wallet store lock is poisoned")]
    LockPoisoned,
    /// The store holds no identity.
    #[error("the wallet store holds no identity")]
    NoIdentity,
    /// The stored recovery words do not derive a key.
    #[error("the wallet's owner key: {0}")]
    Key(#[from] KeyError),
    /// The key derived from the stored words is not the wallet's owner.
    #[error("the stored recovery words do not derive the wallet's owner address")]
    OwnerMismatch,
    /// The node refused or could not be reached.
    #[error(transparent)]
    Light(#[from] LightError),
}

/// The owner identity's signing key, derived from the words kept (sealed) in the
/// wallet's store and checked against the wallet's owner address.
pub fn owner_secret(wallet: &Wallet) -> Result<SecretKey, PayingError> {
    let store = wallet.store();
    let identity = store
        .lock()
        .map_err(|_| PayingError::LockPoisoned)?
        .load_identity()?
        .ok_or(PayingError::NoIdentity)?;
    let mnemonic = Mnemonic::parse(identity.mnemonic.expose())?;
    let seed = mnemonic.to_seed(identity.passphrase.expose())?;
    let network = wallet.network();
    let master = master_key(&seed, network)?;
    let key = derive_key(&master, &owner_identity_path(network)?)?;
    let secret = *key.secret_key();
    if p2wpkh_address(&key.public_key().0, network) != wallet.owner_address() {
        return Err(PayingError::OwnerMismatch);
    }
    Ok(secret)
}

/// `light` buying read tickets from the owner's account when a shared node asks for one.
pub fn owner_paying_light(wallet: &Wallet, light: LightClient) -> Result<LightClient, PayingError> {
    Ok(light.with_read_payer(owner_secret(wallet)?, OWNER_READ_TICKET_TRAVERSALS))
}

/// On a shared node, tops the account of the car whose device key is `device_pubkey` up
/// to [`CAR_READ_FUNDS`] from the owner's account (one transfer, waited for). Returns the
/// amount sent: 0 on a private node or when the car holds enough already.
pub async fn fund_car_reads(
    wallet: &Wallet,
    light: &LightClient,
    device_pubkey: &PublicKey,
) -> Result<u64, PayingError> {
    if light.status().await?.mode != SHARED_MODE {
        return Ok(0);
    }
    let car_account = p2wpkh_address(device_pubkey, light.anchor().network);
    let balance = light.account(&car_account).await?.balance;
    let Some(amount) = CAR_READ_FUNDS.checked_sub(balance).filter(|a| *a > 0) else {
        return Ok(0);
    };
    let transfer = TxBody::Transfer(Transfer {
        to: car_account,
        amount,
    });
    light
        .sign_and_submit(&owner_secret(wallet)?, transfer)
        .await?;
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use carchain_core::keys::{Network, WalletKeys};
    use carchain_core::store::{InMemorySecretStore, WalletStore};

    use super::*;

    const WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn wallet(words: &str, passphrase: &str) -> Wallet {
        let store = WalletStore::open_in_memory(Arc::new(InMemorySecretStore::new()))
            .unwrap_or_else(|e| panic!("{e}"));
        Wallet::restore_in(store, Network::Regtest, words, passphrase)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_owner_secret_is_the_owner_identity_key_of_the_words_and_passphrase() {
        {
            let passphrase = "TREZOR";
            let wallet = wallet(WORDS, passphrase);
            let secret = owner_secret(&wallet).unwrap_or_else(|e| panic!("{e}"));
            let mnemonic = Mnemonic::parse(WORDS).unwrap_or_else(|e| panic!("{e}"));
            let keys = WalletKeys::from_mnemonic(
                &mnemonic,
                passphrase,
                Network::Regtest,
                Default::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&secret, keys.owner_key().secret_key());
            assert_eq!(
                keys.owner_address().to_string(),
                wallet.owner_address(),
                "the key pays from the wallet's own account"
            );
        }
    }
}
