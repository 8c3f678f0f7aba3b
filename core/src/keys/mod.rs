//! The owner's keys: BIP39 words, BIP32/BIP84 secp256k1 keys and addresses, and the
//! RSA key pair derived deterministically from the same seed.

pub mod ecc;
pub mod error;
pub mod mnemonic;
pub mod network;
pub mod rsa_keys;
pub mod seed;
pub mod signing;
pub mod wallet_keys;

pub use ecc::{
    derive_key, derive_public_child, derive_xpub, p2wpkh_address, parse_address,
    parse_derivation_path, public_key_matches_address,
};
pub use error::KeyError;
pub use mnemonic::{Mnemonic, WordCount};
pub use network::Network;
pub use rsa_keys::{
    RsaBits, derive_rsa_private_key, rsa_fingerprint, rsa_fingerprint_bytes,
    rsa_public_key_pkcs1_der,
};
pub use seed::{SEED_LEN, Seed};
pub use signing::{
    CompactSignature, SigningKey, fmt_account_holder, message_digest, verify_digest, verify_message,
};
pub use wallet_keys::WalletKeys;
