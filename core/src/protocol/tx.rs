//! Transactions: the unsigned [`Transaction`], the [`SignedTransaction`] that goes on the
//! ledger, its signing digest and its id.
//!
//! Canonical layout of a transaction: string(chain_id) || u8(network) || signer (33 bytes)
//! || u64(nonce) || u64(fee) || body (kind byte + fields). A signed transaction appends
//! the 64-byte compact low-S signature.
//! - signing digest = SHA256d(`"carchain/tx/v1"` || canonical(tx));
//! - tx id = SHA256d(canonical(signed tx)).

use bitcoin::secp256k1::ecdsa::Signature;
use bitcoin::secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use super::body::TxBody;
use super::codec::{Canonical, canonical_struct};
use super::error::{ProtocolError, Result};
use super::hashing::sha256d;
use super::network::Network;
use super::serde_hex;
use super::signing::{p2wpkh_address, public_key_of, sign_digest, verify_digest};

/// Domain tag of the transaction signing digest.
pub const TX_DOMAIN: &[u8] = b"carchain/tx/v1";

/// An unsigned ledger transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain this transaction is for (refused on any other chain).
    pub chain_id: String,
    /// The address format of the chain's accounts.
    pub network: Network,
    /// The signer's compressed public key; its P2WPKH address is the acting account.
    #[serde(with = "serde_hex::pubkey")]
    pub signer: PublicKey,
    /// Must equal the signer account's next nonce (0 for a new account).
    pub nonce: u64,
    /// Fee paid by the signer.
    pub fee: u64,
    /// The operation.
    pub body: TxBody,
}
canonical_struct!(Transaction {
    chain_id,
    network,
    signer,
    nonce,
    fee,
    body
});

impl Transaction {
    /// SHA256d(`"carchain/tx/v1"` || canonical(tx)): what the signer signs.
    pub fn signing_digest(&self) -> [u8; 32] {
        sha256d(&[TX_DOMAIN, &self.to_canonical()])
    }

    /// The acting account: the P2WPKH address of `signer` on `network`.
    pub fn signer_address(&self) -> String {
        p2wpkh_address(&self.signer, self.network)
    }

    /// Signs with `secret`, which must be the secret key of `signer`.
    pub fn sign(self, secret: &SecretKey) -> Result<SignedTransaction> {
        if public_key_of(secret) != self.signer {
            return Err(ProtocolError::SignerMismatch);
        }
        let signature = sign_digest(secret, &self.signing_digest());
        Ok(SignedTransaction {
            tx: self,
            signature,
        })
    }
}

/// A transaction with its signer's compact low-S ECDSA signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// Signature over [`Transaction::signing_digest`] by `tx.signer`.
    #[serde(with = "serde_hex::signature")]
    pub signature: Signature,
}
canonical_struct!(SignedTransaction { tx, signature });

impl SignedTransaction {
    /// The transaction id: SHA256d(canonical(signed tx)).
    pub fn id(&self) -> [u8; 32] {
        sha256d(&[&self.to_canonical()])
    }

    /// Checks the signature against `tx.signer`.
    pub fn verify_signature(&self) -> Result<()> {
        verify_digest(
            &self.tx.signer,
            &self.tx.signing_digest(),
            &self.signature,
            "transaction",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{Transfer, TxBody};
    use crate::protocol::test_fixtures::{address, sample_bodies, sample_tx, secret};

    fn transfer_tx() -> Transaction {
        sample_tx(TxBody::Transfer(Transfer {
            to: address(3),
            amount: 1_500,
        }))
    }

    const TRANSFER_CANONICAL: &str = "0000000d636172636861696e2d7465737402031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f0000000000000000000000000000000a010000002c626372743171673937356836676478356d7279656163373268366c6a326e7a79677567786879356e3537713200000000000005dc";
    const TRANSFER_SIGNATURE: &str = "533fe1797a57cb5100ad155e1e017bfd0072cb69a8441f604b0e704ed042d9344b7e8c429b0956e89c45384b16e9a28761ece928b4e385e3ac87a8891f5d9364";

    /// Tx ids of [`sample_bodies`] signed by key 0x01..01 (nonce 0, fee 10, regtest),
    /// computed once and pinned: any change to a kind's canonical layout changes its id.
    const SAMPLE_IDS: [(&str, &str); 18] = [
        (
            "transfer",
            "601b60a03df76085335617e295429241f271158c23f590ba1f6224e12f3e628d",
        ),
        (
            "device_setup",
            "511fb2e6c486b5e5f5511c9f70863fc1dc74e143dceac7c85f9c853f3b399728",
        ),
        (
            "set_dup",
            "21bec3d8c9fd80dd742a233261666f1b9037cbe49224779400b595d300781177",
        ),
        (
            "reset",
            "950cfe8266e2d4c37647187a3573c9d63ab2e1f560c7539ce3ae75ef1c8824ca",
        ),
        (
            "record_put",
            "8d0e2998dfec043b7d8475b426688dfe1a352df6c7add0ed79575c4c852d7d16",
        ),
        (
            "grant",
            "597923cd13d42f0b4895552eb31fab1102fe421e9cefbebaa70092957b4c7e26",
        ),
        (
            "revoke",
            "ef5cb5c4ab3b48307d19b2320a4370b5ed3df8b3354cb245063ebd663a7a25f9",
        ),
        (
            "renounce",
            "0eaf85c598adaaa67ab4056c05900ddc194013cc70dbb37321081d3b5a205f47",
        ),
        (
            "provider_register",
            "6a995062328c5f4ee2e9ede99b998ebc367e0d38ff39d9a84bb248e00bb0f4da",
        ),
        (
            "data_request",
            "69286e09d88180e1c642e63a3176f8fcdd79fcb881944647421df20cec4e0750",
        ),
        (
            "data_response",
            "36eb0b77a5f16d7249d712fb3b26cd909d0cf19bd92535f4d8d2252160f2ce9b",
        ),
        (
            "escrow_open",
            "41d04c2a201f73adb8bbe78ede43bd1a7f51a7d2288dca31434316849cc2e9b1",
        ),
        (
            "escrow_deliver",
            "3f52b5ff55b04a97a86d784ce1875799e29db37f44dbe6a4d677ef90c691c27f",
        ),
        (
            "escrow_accept",
            "40b9cb0277cb6628c5c51761f6385d9db16afa4d5e6a7f0331d5105ca7a6d63a",
        ),
        (
            "escrow_dispute",
            "e83585cc7bac2a2a62627555d241396e576cb8d8841e7cf7b222c3058e488355",
        ),
        (
            "escrow_resolve",
            "4b05603f28f96ac409cc6ee7dc994f179c6ee16cf3e3f6892a20ee2b61a96f6b",
        ),
        (
            "escrow_refund",
            "e3c27e5007c9bd3effc94c15f5c5552f7a8ae5b024765c941e8b46bd575b51e1",
        ),
        (
            "auditor_attestation",
            "1bbbd3d09620eb05c1c4fee1a78fe1c2cad44b0fc9d945fb738e9da9239355e3",
        ),
    ];

    fn signed_transfer() -> SignedTransaction {
        transfer_tx()
            .sign(&secret(1))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn transfer_vector_is_pinned() {
        let signed = signed_transfer();
        assert_eq!(hex::encode(signed.tx.to_canonical()), TRANSFER_CANONICAL);
        assert_eq!(
            hex::encode(signed.tx.signing_digest()),
            "108e528a7912a31f66b23b72ff183f5007d20155e35137c935cf8978fa2d785e"
        );
        assert_eq!(
            hex::encode(signed.signature.serialize_compact()),
            TRANSFER_SIGNATURE
        );
        assert_eq!(
            hex::encode(signed.to_canonical()),
            format!("{TRANSFER_CANONICAL}{TRANSFER_SIGNATURE}")
        );
        assert_eq!(
            hex::encode(signed.id()),
            "601b60a03df76085335617e295429241f271158c23f590ba1f6224e12f3e628d"
        );
        assert_eq!(
            signed.tx.signer_address(),
            "bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5"
        );
    }

    #[test]
    fn ids_of_every_kind_are_pinned() {
        for (body, (kind, id)) in sample_bodies().into_iter().zip(SAMPLE_IDS) {
            let signed = sample_tx(body)
                .sign(&secret(1))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(signed.tx.body.kind_name(), kind);
            assert_eq!(hex::encode(signed.id()), id, "{kind}");
        }
    }

    #[test]
    fn signed_transactions_verify_and_round_trip_in_both_forms() {
        for body in sample_bodies() {
            let signed = sample_tx(body)
                .sign(&secret(1))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(signed.verify_signature(), Ok(()));
            let decoded = SignedTransaction::from_canonical(&signed.to_canonical());
            assert_eq!(decoded.as_ref(), Ok(&signed));
            let json = serde_json::to_string(&signed).unwrap_or_default();
            let parsed: SignedTransaction =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(parsed.to_canonical(), signed.to_canonical());
            assert_eq!(parsed.id(), signed.id());
        }
    }

    #[test]
    fn tampering_any_byte_breaks_the_transaction() {
        let bytes = signed_transfer().to_canonical();
        for index in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[index] ^= 0x01;
            let outcome = SignedTransaction::from_canonical(&tampered)
                .and_then(|signed| signed.verify_signature());
            assert!(outcome.is_err(), "byte {index} flipped still verifies");
        }
    }

    #[test]
    fn changing_a_field_breaks_the_signature() {
        let mut signed = signed_transfer();
        signed.tx.nonce = 1;
        assert_eq!(
            signed.verify_signature(),
            Err(ProtocolError::BadSignature {
                what: "transaction"
            })
        );
    }

    #[test]
    fn signing_with_another_key_is_refused() {
        assert_eq!(
            transfer_tx().sign(&secret(2)),
            Err(ProtocolError::SignerMismatch)
        );
    }

    #[test]
    fn json_field_names_are_stable() {
        let json = serde_json::to_value(signed_transfer()).unwrap_or_default();
        assert_eq!(json["tx"]["chain_id"], "carchain-test");
        assert_eq!(json["tx"]["network"], "regtest");
        assert_eq!(
            json["tx"]["signer"],
            "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
        );
        assert_eq!(json["tx"]["body"]["type"], "transfer");
        assert_eq!(json["tx"]["body"]["amount"], 1_500);
        assert_eq!(json["signature"], TRANSFER_SIGNATURE);
    }
}
