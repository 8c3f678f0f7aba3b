//! Deterministic secp256k1 keys (`[byte; 32]`) with their regtest P2WPKH addresses, that
//! sign the transactions of a test chain: transfers, record puts, pairings and resets.
//! Which chain id and agent they sign for is the key's [`TestChain`].

use std::marker::PhantomData;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::hashing::sha256;
use carchain_core::protocol::pairing::sign_pairing;
use carchain_core::protocol::signing::{p2wpkh_address, public_key_of, secret_key_from_bytes};
use carchain_core::protocol::{
    DeviceSetup, HashFunc, Network, RecordPut, Reset, SignedTransaction, Transaction, Transfer,
    TxBody,
};

/// The default base fee of a transaction.
pub const BASE_FEE: u64 = 10;

/// A key of the in-process test chains ([`crate::in_process`]).
pub type TestKey = ChainKey<E2eChain>;

/// The chain a [`ChainKey`] signs for and the agent its pairings name.
pub trait TestChain {
    /// The chain id in every signed transaction.
    const CHAIN_ID: &'static str;
    /// The agent a device setup or reset names.
    const AGENT: &'static str;
}

/// The chain of the in-process test nodes ([`crate::in_process`]).
pub struct E2eChain;

impl TestChain for E2eChain {
    const CHAIN_ID: &'static str = "carchain-e2e";
    const AGENT: &'static str = "e2e-agent";
}

/// The chain `carchain-node init` creates by default, with the node's default agent.
pub struct DevChain;

impl TestChain for DevChain {
    const CHAIN_ID: &'static str = "carchain-dev";
    const AGENT: &'static str = "carchain-node";
}

/// A deterministic key and its regtest P2WPKH address, signing for chain `C`.
pub struct ChainKey<C: TestChain> {
    /// The secret key.
    pub secret: SecretKey,
    /// Its P2WPKH address.
    pub address: String,
    chain: PhantomData<fn() -> C>,
}

impl<C: TestChain> Clone for ChainKey<C> {
    fn clone(&self) -> Self {
        ChainKey {
            secret: self.secret,
            address: self.address.clone(),
            chain: PhantomData,
        }
    }
}

impl<C: TestChain> ChainKey<C> {
    /// The key `[byte; 32]`.
    pub fn from_byte(byte: u8) -> Self {
        let secret = secret_key_from_bytes(&[byte; 32]).expect("valid secret");
        let address = p2wpkh_address(&public_key_of(&secret), Network::Regtest);
        ChainKey {
            secret,
            address,
            chain: PhantomData,
        }
    }

    /// Signs `body` with `nonce` and `fee` for chain `C`.
    pub fn sign(&self, nonce: u64, fee: u64, body: TxBody) -> SignedTransaction {
        Transaction {
            chain_id: C::CHAIN_ID.into(),
            network: Network::Regtest,
            signer: public_key_of(&self.secret),
            nonce,
            fee,
            body,
        }
        .sign(&self.secret)
        .expect("signer matches")
    }

    /// A transfer of `amount` to `to`.
    pub fn transfer(&self, nonce: u64, to: &str, amount: u64) -> SignedTransaction {
        self.sign(
            nonce,
            BASE_FEE,
            TxBody::Transfer(Transfer {
                to: to.into(),
                amount,
            }),
        )
    }

    /// A `carvio` record put registering `value` (SHA-256 cHash) under this key's address.
    pub fn record_put(&self, nonce: u64, key: &[u8], value: &[u8]) -> SignedTransaction {
        self.record_put_as(nonce, key, value, "carvio", false)
    }

    /// A record put with a chosen format name.
    pub fn record_put_with_format(
        &self,
        nonce: u64,
        key: &[u8],
        value: &[u8],
        format: &str,
    ) -> SignedTransaction {
        self.record_put_as(nonce, key, value, format, false)
    }

    /// A wallet record (`putWalKV`, `wallet: true`) registering `value` under `key`.
    pub fn wallet_record_put(&self, nonce: u64, key: &[u8], value: &[u8]) -> SignedTransaction {
        self.record_put_as(nonce, key, value, "carvio", true)
    }

    /// A record put with a chosen format, as a device record or a wallet record.
    pub fn record_put_as(
        &self,
        nonce: u64,
        key: &[u8],
        value: &[u8],
        format: &str,
        wallet: bool,
    ) -> SignedTransaction {
        let size = value.len() as u64;
        self.sign(
            nonce,
            BASE_FEE + size,
            TxBody::RecordPut(RecordPut {
                address: self.address.clone(),
                key: key.to_vec(),
                format: format.into(),
                hash_func: HashFunc::Sha256,
                d_hash: sha256(&[b"salt", value]),
                c_hash: sha256(&[value]),
                size,
                wallet,
                stamp: None,
            }),
        )
    }

    /// Pairs device `vid` (key `device`) with this key as owner, agent `C::AGENT`.
    pub fn device_setup(&self, nonce: u64, vid: &str, device: &SecretKey) -> SignedTransaction {
        let pool_commitment = sha256(&[b"pool", vid.as_bytes()]);
        self.sign(
            nonce,
            BASE_FEE,
            TxBody::DeviceSetup(DeviceSetup {
                vid: vid.into(),
                device_pubkey: public_key_of(device),
                owner_address: self.address.clone(),
                pool_commitment,
                agent: C::AGENT.into(),
                device_signature: sign_pairing(device, vid, &self.address, &pool_commitment),
            }),
        )
    }

    /// Transfers device `vid` to `new_owner` (must be signed by the current owner).
    pub fn reset(&self, nonce: u64, vid: &str, new_owner: &str) -> SignedTransaction {
        self.sign(
            nonce,
            BASE_FEE,
            TxBody::Reset(Reset {
                vid: vid.into(),
                new_owner_address: new_owner.into(),
                new_device_pubkey: None,
                new_pool_commitment: sha256(&[b"pool2", vid.as_bytes()]),
                agent: C::AGENT.into(),
            }),
        )
    }
}
