//! Transactions: the unsigned [`Transaction`], the [`SignedTransaction`] that goes on the
//! ledger, its signing digest and its id.
//!
//! Canonical layout of a transaction: string(chain_id) || u8(network) || signer (33 bytes)
//! || u64(nonce) || u64(fee) || body (kind byte + fields). A signed transaction appends
//! the 64-byte compact low-S signature.
//! - signing digest = SHA256d(`"carchain/tx/v2"` || canonical(tx));
//!
//! Format v2 (this one) took the owner's RSA fingerprint out of `DeviceSetup`; a v1
//! transaction's signature does not verify under the v2 domain, so a v1 transaction is
//! refused rather than misread.
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
pub const TX_DOMAIN: &[u8] = b"carchain/tx/v2";

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
    /// SHA256d(`"carchain/tx/v2"` || canonical(tx)): what the signer signs.
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
    const TRANSFER_SIGNATURE: &str = "d45878153b027bc4b0cddb9b1f3d3bc46db42fb187b961ad25ffe0bb858db83513efca30fbcaf32afe8fe68b2d8a48c18886156205b53b815cd0d685d3ca556d";

    /// Tx ids of [`sample_bodies`] signed by key 0x01..01 (nonce 0, fee 10, regtest),
    /// computed once and pinned (tx format v2; the transfer's digest, signature and id
    /// were checked with Python `cryptography`): any change to a kind's canonical
    /// layout changes its id.
    const SAMPLE_IDS: [(&str, &str); 18] = [
        (
            "transfer",
            "3ee2c6de30b5c5ac36c8eced972519fb94471b619f40829a6c2c97f7b4ced69e",
        ),
        (
            "device_setup",
            "4be97387dac4e9feba6457a7234fa61f30fab3d872eb86ed281834a656cbd575",
        ),
        (
            "set_dup",
            "19b0e8663d4309ef1dd92b9fde5b872e7de9d9bddc89a1eed3d43d456bbb6dea",
        ),
        (
            "reset",
            "85a74f0eed66dc40cbabfce11b19174f7b2b199472ab696db8a0023dfd3dff19",
        ),
        (
            "record_put",
            "4661af9ec8d59f8a521d7c9750a064c48244e74dbb8b4a487ad9489bc3bc1899",
        ),
        (
            "grant",
            "89fa6687fa8b93e59154d7ee42763cf491a9809b607619728470fb734720aad3",
        ),
        (
            "revoke",
            "8c70846ff1d3738576176892dc5146a7876104a144dc4906db10b1732cbc205a",
        ),
        (
            "renounce",
            "3678488b5a4211318add90af595af54267c2a76105f685d49b285fd834d40494",
        ),
        (
            "provider_register",
            "21edbc94e18a474eca74df57f3c77e60a1f8bd3c5ea4a772f9a55ac58dea433a",
        ),
        (
            "data_request",
            "e01dbf404efd6a5b170e36f94bb9ac3f20d763c96f0e932ce37e5a8d914698c5",
        ),
        (
            "data_response",
            "d27160a2eeb134fb8d8b1cdc5fc41e7d870e8fd4ebf49494a06d92189e7e4b5a",
        ),
        (
            "escrow_open",
            "571b39126dc1745129a7f6a13becac7d45edce0ceb6ee146ebd1d817af07588e",
        ),
        (
            "escrow_deliver",
            "1e28e84321afe2c79284f406b1b860af73867fda0ed4e4b74fffd9cdcd665139",
        ),
        (
            "escrow_accept",
            "4e4bed2f2b06af31e1849b8b2e01b001bd8a576e601d097544402387ef08936b",
        ),
        (
            "escrow_dispute",
            "f01c51c336416f157a793e8da9c5735abf27ada1714ecf4b5e467adb8902d986",
        ),
        (
            "escrow_resolve",
            "1bfb0deb03141549231b4bfd3ccb1f778aee725fc5258754e96a89fde1d8e962",
        ),
        (
            "escrow_refund",
            "14f427679ef63f3768d7478740970540281eab403e6e96d4a438e4d327bf5568",
        ),
        (
            "auditor_attestation",
            "2cff71d4058be283b1bd8733e5256f43c29b70b39c1b9fd2b43fa83cbd4857b3",
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
            "eaca117edf210a456b0bb5257bc0ee5945378c5c69b6bed768b7833c1a6ebce4"
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
            "3ee2c6de30b5c5ac36c8eced972519fb94471b619f40829a6c2c97f7b4ced69e"
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
    fn a_transaction_signed_under_the_v1_format_is_refused() {
        let tx = transfer_tx();
        let v1_digest = sha256d(&[b"carchain/tx/v1", &tx.to_canonical()]);
        let signed = SignedTransaction {
            signature: sign_digest(&secret(1), &v1_digest),
            tx,
        };
        assert_eq!(
            signed.verify_signature(),
            Err(ProtocolError::BadSignature {
                what: "transaction"
            })
        );
    }

    #[test]
    fn a_device_setup_publishes_no_rsa_key_or_fingerprint() {
        let setup = sample_bodies()
            .into_iter()
            .find(|body| body.kind_name() == "device_setup")
            .unwrap_or_else(|| panic!("no device setup sample"));
        let json = serde_json::to_value(&setup).unwrap_or_default();
        let mut fields: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "agent",
                "device_pubkey",
                "device_signature",
                "owner_address",
                "pool_commitment",
                "type",
                "vid"
            ]
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
