//! secp256k1 signing helpers: low-S compact ECDSA over 32-byte digests, and the P2WPKH
//! account address of a public key.

use std::sync::OnceLock;

use bitcoin::secp256k1::ecdsa::Signature;
use bitcoin::secp256k1::{All, Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::{Address, CompressedPublicKey};

use super::error::{ProtocolError, Result};
use super::network::Network;

fn context() -> &'static Secp256k1<All> {
    static CONTEXT: OnceLock<Secp256k1<All>> = OnceLock::new();
    CONTEXT.get_or_init(Secp256k1::new)
}

/// Parses a secret key from its 32 bytes.
pub fn secret_key_from_bytes(bytes: &[u8; 32]) -> Result<SecretKey> {
    SecretKey::from_slice(bytes).map_err(|_| ProtocolError::InvalidSecretKey)
}

/// The compressed public key of a secret key.
pub fn public_key_of(secret: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key(context(), secret)
}

/// Signs a 32-byte digest (RFC 6979 nonce, so deterministic); the result is low-S.
pub fn sign_digest(secret: &SecretKey, digest: &[u8; 32]) -> Signature {
    context().sign_ecdsa(&Message::from_digest(*digest), secret)
}

/// Signs `digest` with `secret`, which must be the secret key of `signer`
/// (`SignerMismatch` otherwise).
pub(crate) fn sign_digest_as(
    secret: &SecretKey,
    signer: &PublicKey,
    digest: &[u8; 32],
) -> Result<Signature> {
    if public_key_of(secret) != *signer {
        return Err(ProtocolError::SignerMismatch);
    }
    Ok(sign_digest(secret, digest))
}

/// Checks a signature over a 32-byte digest; high-S signatures are refused.
pub fn verify_digest(
    public_key: &PublicKey,
    digest: &[u8; 32],
    signature: &Signature,
    what: &'static str,
) -> Result<()> {
    let mut normalized = *signature;
    normalized.normalize_s();
    if normalized != *signature {
        return Err(ProtocolError::HighSSignature);
    }
    context()
        .verify_ecdsa(&Message::from_digest(*digest), signature, public_key)
        .map_err(|_| ProtocolError::BadSignature { what })
}

/// Parses a 64-byte compact signature, refusing invalid and high-S encodings.
pub fn signature_from_compact(bytes: &[u8; 64]) -> Result<Signature> {
    let signature =
        Signature::from_compact(bytes).map_err(|_| ProtocolError::InvalidSignatureEncoding)?;
    let mut normalized = signature;
    normalized.normalize_s();
    if normalized != signature {
        return Err(ProtocolError::HighSSignature);
    }
    Ok(signature)
}

/// The Bitcoin-format P2WPKH (bech32) address of a public key: the account it controls.
pub fn p2wpkh_address(public_key: &PublicKey, network: Network) -> String {
    Address::p2wpkh(&CompressedPublicKey(*public_key), network.to_bitcoin()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_one() -> SecretKey {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        secret_key_from_bytes(&bytes).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn address_of_generator_point_matches_bip173() {
        // BIP173 test vector: the key with secret 1 (the generator point).
        let public = public_key_of(&key_one());
        assert_eq!(
            hex::encode(public.serialize()),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
        assert_eq!(
            p2wpkh_address(&public, Network::Mainnet),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert_eq!(
            p2wpkh_address(&public, Network::Testnet),
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
        );
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let secret = key_one();
        let public = public_key_of(&secret);
        let digest = [7u8; 32];
        let signature = sign_digest(&secret, &digest);
        assert_eq!(verify_digest(&public, &digest, &signature, "test"), Ok(()));
        let mut other = digest;
        other[0] ^= 1;
        assert_eq!(
            verify_digest(&public, &other, &signature, "test"),
            Err(ProtocolError::BadSignature { what: "test" })
        );
    }

    #[test]
    fn high_s_signature_is_refused() {
        let signature = sign_digest(&key_one(), &[7u8; 32]);
        let compact = signature.serialize_compact();
        // s' = n - s is the high-S twin of the same signature.
        let n = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .unwrap_or_default();
        let mut high = compact;
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let diff = i16::from(n[i]) - i16::from(compact[32 + i]) - borrow;
            borrow = i16::from(diff < 0);
            high[32 + i] = (diff + 256 * borrow) as u8;
        }
        assert_eq!(
            signature_from_compact(&high),
            Err(ProtocolError::HighSSignature)
        );
        assert_eq!(signature_from_compact(&compact), Ok(signature));
    }

    #[test]
    fn invalid_secret_key_is_refused() {
        assert_eq!(
            secret_key_from_bytes(&[0u8; 32]),
            Err(ProtocolError::InvalidSecretKey)
        );
    }
}
