//! Signing and submitting the wallet's own transactions: owner-signed device operations
//! and wallet-written records (pairing mailbox, subscriber channel), with the fee the
//! chain's default schedule asks ([`FeeSchedule::DEFAULT`]).

use bitcoin::secp256k1::SecretKey;

use super::error::WalletError;
use crate::crypto::HashFunc;
use crate::light::{LightClient, PutOutcome, Receipt};
use crate::protocol::signing::{p2wpkh_address, public_key_of};
use crate::protocol::{FeeSchedule, RecordPut, Transaction, TxBody};

/// The fee `body` pays under the chain's default schedule.
pub fn fee_for(body: &TxBody) -> u64 {
    FeeSchedule::DEFAULT.required(body).unwrap_or(u64::MAX)
}

/// Signs `body` with `secret` (nonce from the signer's proven account) and submits it,
/// waiting until a block commits it.
pub(crate) async fn submit_signed(
    light: &LightClient,
    secret: &SecretKey,
    body: TxBody,
) -> Result<Receipt, WalletError> {
    let anchor = light.anchor();
    let signer = public_key_of(secret);
    let address = p2wpkh_address(&signer, anchor.network);
    let nonce = light.account(&address).await?.nonce;
    let fee = fee_for(&body);
    let signed = Transaction {
        chain_id: anchor.chain_id.clone(),
        network: anchor.network,
        signer,
        nonce,
        fee,
        body,
    }
    .sign(secret)?;
    Ok(light.submit(&signed, true).await?)
}

/// Registers and stores a wallet-written record (`putWalKV`) whose value is `value`
/// as-is, under the address of `secret`: the put is signed by that address's key. A
/// record already registered with the same value counts as written.
pub(crate) async fn put_wallet_value(
    light: &LightClient,
    secret: &SecretKey,
    format: &str,
    key: Vec<u8>,
    value: &[u8],
) -> Result<PutOutcome, WalletError> {
    let network = light.anchor().network;
    let address = p2wpkh_address(&public_key_of(secret), network);
    let hash = HashFunc::Sha256.digest(value);
    let put = RecordPut {
        address: address.clone(),
        key: key.clone(),
        format: format.to_owned(),
        hash_func: HashFunc::Sha256,
        d_hash: hash,
        c_hash: hash,
        size: u64::try_from(value.len()).unwrap_or(u64::MAX),
        wallet: true,
    };
    match submit_signed(light, secret, TxBody::RecordPut(put)).await {
        Ok(_) => {}
        Err(WalletError::Light(e)) if e.node_code() == Some("duplicate_record") => {}
        Err(e) => return Err(e),
    }
    Ok(light.put_value(&address, &key, value, None).await?)
}
