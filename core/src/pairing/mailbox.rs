//! The pairing mailbox: an address only the car and its owner can compute (from the
//! one-time code and the device key), and sealed messages left under it on the node.
//!
//! Mailbox key = secp256k1 secret from HKDF-SHA256(ikm = code || device_pubkey (33 bytes),
//! info `"carchain/pairing-mailbox/v1"`); the mailbox is its P2WPKH address. Messages are
//! records of format [`MAILBOX_FORMAT`] keyed `{"SEQ": n}`.
//!
//! Sealed message (version 1) = `0x01 || ephemeral pubkey (33) || ChaCha20-Poly1305
//! ciphertext+tag`. Key and nonce come from HKDF-SHA256 over the ECDH shared secret
//! (salt = ephemeral pubkey || recipient pubkey, info `"carchain/pairing-seal/v1"`); the
//! associated data is the version byte, the ephemeral and the recipient key. A fresh
//! ephemeral key per message means a key/nonce pair is never reused.

use bitcoin::CompressedPublicKey;
use bitcoin::secp256k1::ecdh::SharedSecret;
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hkdf::Hkdf;
use serde_json::json;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::MailboxError;
use crate::keys::{Network, p2wpkh_address};
use crate::record::{FormatSpec, encode_key};

/// Record format of pairing mailbox messages.
pub const MAILBOX_FORMAT: &str = "carchain-pairing";
/// The key fields of [`MAILBOX_FORMAT`], in order.
pub const MAILBOX_KEY_FIELDS: [&str; 1] = ["SEQ"];
/// Sequence number of the wallet's offer (wallet -> car).
pub const SEQ_OFFER: u64 = 1;
/// Sequence number of the car's accept (car -> wallet).
pub const SEQ_ACCEPT: u64 = 2;
/// HKDF info of the mailbox key.
pub const MAILBOX_KEY_INFO: &[u8] = b"carchain/pairing-mailbox/v1";
/// HKDF info of a sealed message's key and nonce.
pub const SEAL_INFO: &[u8] = b"carchain/pairing-seal/v1";
/// Version byte of sealed messages.
pub const SEAL_VERSION: u8 = 1;

const PUBKEY_LEN: usize = 33;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + PUBKEY_LEN;

/// The mailbox's secret key for a pairing `code` (canonical form) and device key.
pub fn mailbox_key(code: &str, device_pubkey: &PublicKey) -> Result<SecretKey, MailboxError> {
    let mut ikm = Zeroizing::new(Vec::with_capacity(code.len() + PUBKEY_LEN));
    ikm.extend_from_slice(code.as_bytes());
    ikm.extend_from_slice(&device_pubkey.serialize());
    let hkdf = Hkdf::<Sha256>::new(None, &ikm);
    let mut okm = Zeroizing::new([0u8; 32]);
    hkdf.expand(MAILBOX_KEY_INFO, okm.as_mut_slice())
        .map_err(|_| MailboxError::InvalidDerivedKey)?;
    SecretKey::from_slice(okm.as_slice()).map_err(|_| MailboxError::InvalidDerivedKey)
}

/// The mailbox's P2WPKH address on `network`.
pub fn mailbox_address(
    code: &str,
    device_pubkey: &PublicKey,
    network: Network,
) -> Result<String, MailboxError> {
    let secret = mailbox_key(code, device_pubkey)?;
    Ok(address_of(&secret, network))
}

/// The P2WPKH address of a secret key (the mailbox's, from [`mailbox_key`]).
pub fn address_of(secret: &SecretKey, network: Network) -> String {
    let public = CompressedPublicKey(secret.public_key(&Secp256k1::new()));
    p2wpkh_address(&public, network).to_string()
}

/// The format of mailbox records (key fields ["SEQ"]).
pub fn mailbox_format() -> Result<FormatSpec, MailboxError> {
    FormatSpec::custom(MAILBOX_FORMAT, MAILBOX_KEY_FIELDS).map_err(|e| MailboxError::RecordKey {
        reason: e.to_string(),
    })
}

/// The record key `{"SEQ": seq}` as JSON (what `seal_record` takes).
pub fn mailbox_key_json(seq: u64) -> serde_json::Value {
    json!({ "SEQ": seq })
}

/// The encoded record key bytes of message `seq` (what the ledger and the KV store see).
pub fn mailbox_record_key(seq: u64) -> Result<Vec<u8>, MailboxError> {
    let spec = mailbox_format()?;
    encode_key(&spec, &mailbox_key_json(seq))
        .map(|k| k.into_bytes())
        .map_err(|e| MailboxError::RecordKey {
            reason: e.to_string(),
        })
}

/// Seals `plaintext` so only the holder of `recipient`'s secret can open it.
pub fn seal_to(recipient: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, MailboxError> {
    let mut ephemeral_bytes = Zeroizing::new([0u8; 32]);
    let ephemeral = loop {
        getrandom::fill(ephemeral_bytes.as_mut_slice())
            .map_err(|_| MailboxError::RandomnessUnavailable)?;
        if let Ok(key) = SecretKey::from_slice(ephemeral_bytes.as_slice()) {
            break key;
        }
    };
    let ephemeral_pub = ephemeral.public_key(&Secp256k1::new());
    let shared = SharedSecret::new(recipient, &ephemeral);
    let (cipher, nonce) = message_cipher(&shared, &ephemeral_pub, recipient)?;
    let aad = associated_data(&ephemeral_pub, recipient);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| MailboxError::Authentication)?;
    let mut sealed = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&ephemeral_pub.serialize());
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens a message sealed by [`seal_to`] with the recipient's secret key.
pub fn open_with(secret: &SecretKey, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, MailboxError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(MailboxError::Truncated { len: sealed.len() });
    }
    let (header, ciphertext) = sealed.split_at(HEADER_LEN);
    let (version, ephemeral_bytes) = header.split_at(1);
    if version != [SEAL_VERSION] {
        return Err(MailboxError::UnknownVersion {
            version: version.first().copied().unwrap_or_default(),
        });
    }
    let ephemeral_pub =
        PublicKey::from_slice(ephemeral_bytes).map_err(|_| MailboxError::BadEphemeralKey)?;
    let recipient = secret.public_key(&Secp256k1::new());
    let shared = SharedSecret::new(&ephemeral_pub, secret);
    let (cipher, nonce) = message_cipher(&shared, &ephemeral_pub, &recipient)?;
    let aad = associated_data(&ephemeral_pub, &recipient);
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| MailboxError::Authentication)
}

fn message_cipher(
    shared: &SharedSecret,
    ephemeral_pub: &PublicKey,
    recipient: &PublicKey,
) -> Result<(ChaCha20Poly1305, Nonce), MailboxError> {
    let mut salt = [0u8; 2 * PUBKEY_LEN];
    let (first, second) = salt.split_at_mut(PUBKEY_LEN);
    first.copy_from_slice(&ephemeral_pub.serialize());
    second.copy_from_slice(&recipient.serialize());
    let ikm = Zeroizing::new(shared.secret_bytes());
    let hkdf = Hkdf::<Sha256>::new(Some(&salt), ikm.as_slice());
    let mut okm = Zeroizing::new([0u8; 32 + NONCE_LEN]);
    hkdf.expand(SEAL_INFO, okm.as_mut_slice())
        .map_err(|_| MailboxError::InvalidDerivedKey)?;
    let (key, nonce) = okm.split_at(32);
    let cipher =
        ChaCha20Poly1305::new_from_slice(key).map_err(|_| MailboxError::InvalidDerivedKey)?;
    let mut nonce_bytes = [0u8; NONCE_LEN];
    nonce_bytes.copy_from_slice(nonce);
    Ok((cipher, Nonce::from(nonce_bytes)))
}

fn associated_data(ephemeral_pub: &PublicKey, recipient: &PublicKey) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + 2 * PUBKEY_LEN);
    aad.push(SEAL_VERSION);
    aad.extend_from_slice(&ephemeral_pub.serialize());
    aad.extend_from_slice(&recipient.serialize());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_slice(&[byte; 32]).unwrap()
    }

    fn public(secret: &SecretKey) -> PublicKey {
        secret.public_key(&Secp256k1::new())
    }

    #[test]
    fn seal_open_round_trip() {
        let recipient = key(3);
        let sealed = seal_to(&public(&recipient), b"hello car").unwrap();
        assert_eq!(sealed.len(), 1 + 33 + 9 + 16);
        assert_eq!(sealed.first(), Some(&SEAL_VERSION));
        assert_eq!(
            open_with(&recipient, &sealed).unwrap().as_slice(),
            b"hello car"
        );
        // A fresh ephemeral key each time: same plaintext, different bytes.
        assert_ne!(sealed, seal_to(&public(&recipient), b"hello car").unwrap());
        assert_eq!(
            open_with(&recipient, &seal_to(&public(&recipient), b"").unwrap())
                .unwrap()
                .as_slice(),
            b""
        );
    }

    #[test]
    fn wrong_key_fails_authentication() {
        let sealed = seal_to(&public(&key(3)), b"offer").unwrap();
        assert_eq!(
            open_with(&key(4), &sealed),
            Err(MailboxError::Authentication)
        );
    }

    #[test]
    fn every_tampered_byte_is_detected() {
        let recipient = key(5);
        let sealed = seal_to(&public(&recipient), b"pool seed inside").unwrap();
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let result = open_with(&recipient, &bad);
            assert!(
                matches!(
                    result,
                    Err(MailboxError::Authentication | MailboxError::BadEphemeralKey)
                ),
                "byte {i}: {result:?}"
            );
        }
    }

    #[test]
    fn truncated_and_unknown_version() {
        let recipient = key(5);
        let sealed = seal_to(&public(&recipient), b"x").unwrap();
        assert_eq!(
            open_with(&recipient, &sealed[..49]),
            Err(MailboxError::Truncated { len: 49 })
        );
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert_eq!(
            open_with(&recipient, &bad),
            Err(MailboxError::UnknownVersion { version: 2 })
        );
    }

    #[test]
    fn mailbox_key_is_pinned_and_binds_code_and_device() {
        let device = public(&key(7));
        let k = mailbox_key("7K3MQ9XZ", &device).unwrap();
        assert_eq!(
            hex::encode(k.secret_bytes()),
            "e0aa6e4c115ebd0b6013bf09ed6fe8e7a3bc4f4f89b1a983893533ce5999a067"
        );
        assert_ne!(k, mailbox_key("7K3MQ9XY", &device).unwrap());
        assert_ne!(k, mailbox_key("7K3MQ9XZ", &public(&key(8))).unwrap());
        let address = mailbox_address("7K3MQ9XZ", &device, Network::Regtest).unwrap();
        assert!(address.starts_with("bcrt1q"), "{address}");
        assert_eq!(address, address_of(&k, Network::Regtest));
    }

    #[test]
    fn mailbox_record_keys_sort_by_seq() {
        let one = mailbox_record_key(SEQ_OFFER).unwrap();
        let two = mailbox_record_key(SEQ_ACCEPT).unwrap();
        assert!(one < two);
        assert_ne!(one, two);
    }
}
