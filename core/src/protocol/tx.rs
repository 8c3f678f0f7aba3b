//! Transactions: the unsigned [`Transaction`], the [`SignedTransaction`] that goes on the
//! ledger, its signing digest and its id.
//!
//! Canonical layout of a transaction: string(chain_id) || u8(network) || signer (33 bytes)
//! || u64(nonce) || u64(fee) || body (kind byte + fields). A signed transaction appends
//! the 64-byte compact low-S signature.
//! - signing digest = SHA256d(`"carchain/tx/v3"` || canonical(tx));
//!
//! Format v2 took the owner's RSA fingerprint out of `DeviceSetup`. Format v3 (this
//! one) publishes commitments instead of contents: a `Grant` carries a salted
//! commitment to its (address, key) list and grantee key plus opaque copy tags, an
//! `AuditorAttestation` a commitment to its claim and dHashes; and it gave `RecordPut`
//! its optional fee stamp (a trailing option byte). A transaction of an older format
//! does not verify under the v3 domain, so it is refused rather than misread.
//! - tx id = SHA256d(canonical(signed tx)).

use bitcoin::secp256k1::ecdsa::Signature;
use bitcoin::secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use super::body::TxBody;
use super::codec::{Canonical, canonical_struct};
use super::error::Result;
use super::hashing::sha256d;
use super::network::Network;
use super::serde_hex;
use super::signing::{p2wpkh_address, sign_digest_as, verify_digest};

/// Domain tag of the transaction signing digest.
pub const TX_DOMAIN: &[u8] = b"carchain/tx/v3";

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
    /// SHA256d(`"carchain/tx/v3"` || canonical(tx)): what the signer signs.
    pub fn signing_digest(&self) -> [u8; 32] {
        sha256d(&[TX_DOMAIN, &self.to_canonical()])
    }

    /// The acting account: the P2WPKH address of `signer` on `network`.
    pub fn signer_address(&self) -> String {
        p2wpkh_address(&self.signer, self.network)
    }

    /// Signs with `secret`, which must be the secret key of `signer`.
    pub fn sign(self, secret: &SecretKey) -> Result<SignedTransaction> {
        let signature = sign_digest_as(secret, &self.signer, &self.signing_digest())?;
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
    use crate::protocol::error::ProtocolError;
    use crate::protocol::signing::sign_digest;
    use crate::protocol::test_fixtures::{address, sample_bodies, sample_tx, secret};

    fn transfer_tx() -> Transaction {
        sample_tx(TxBody::Transfer(Transfer {
            to: address(3),
            amount: 1_500,
        }))
    }

    const TRANSFER_CANONICAL: &str = "0000000d636172636861696e2d7465737402031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f0000000000000000000000000000000a010000002c626372743171673937356836676478356d7279656163373268366c6a326e7a79677567786879356e3537713200000000000005dc";
    const TRANSFER_SIGNATURE: &str = "753ad62dea004f642860aa7d6b2c3b00ac337f6a801038d1a1564993dbe5fe3b6ba5906d0240868606e17684e2204c812ef576cb71a325caff0a5a7a12cb3fdf";

    /// Tx ids of [`sample_bodies`] signed by key 0x01..01 (nonce 0, fee 10, regtest),
    /// computed once and pinned (tx format v3; the transfer's digest, signature and id
    /// were checked with Python `cryptography` under v2; v3 changes the domain, the
    /// grant, attestation and record-put layouts): any change to a kind's canonical
    /// layout changes its id.
    const SAMPLE_IDS: [(&str, &str); 20] = [
        (
            "transfer",
            "db3496369db21329df18c4e627b4635bf4dec0d4584f3ab1aaec6c912f782762",
        ),
        (
            "device_setup",
            "eff39f3702e7cac1b62e02e63a012292a854ffdda0e9feca976cb7bea760e548",
        ),
        (
            "set_dup",
            "37997af4f6710b4716647256a73d29f08459acd9043c632ec250c403c3b9c9fa",
        ),
        (
            "reset",
            "04a806cfd6fa1feae2fe62cdfdff0f6dce9581ce362511afa15b8c31d039bb3c",
        ),
        (
            "record_put",
            "6f25bf5764204deae2798df1692d462be1e49046c4de06ef57ec5fd040eb25f1",
        ),
        (
            "grant",
            "faabea6f69f8f3c0050aaf571ee4e6f8ad7f888532628b4c92261bbdd24a1d81",
        ),
        (
            "revoke",
            "3e08c39ff96b968f2a537efb3206b8c726e3e6e95326955ff54acc0601188fd6",
        ),
        (
            "renounce",
            "5ce73b449776c55538ac2c7ffdbd7926e1c2ce444113e7e8a512a71d99719cca",
        ),
        (
            "provider_register",
            "48e1dd88078a7c9199a4b0f1caa8a4b634cd247e38aa11dc9933e36b111ba3ba",
        ),
        (
            "data_request",
            "72a2470476da56484dbc7c984c3f9c812f31c20af2b78f369a7adc2db38510d0",
        ),
        (
            "data_response",
            "6a87044c1500852c450d0322ee88c61db22f1e295dee54fc6d5538870f0f0d26",
        ),
        (
            "escrow_open",
            "abf4b0a6e9fcf64a00ad508aef8d080d715e184eb0d138f45f9ccf87a5a4e037",
        ),
        (
            "escrow_deliver",
            "e8735256ed1df607ce02e1ca38e517f8d82ba52fd03d64363489df81c6905d9e",
        ),
        (
            "escrow_accept",
            "5d4701841b12989221884938d370c2d7b48217c5c1601c5a14ff05fdc5c141cf",
        ),
        (
            "escrow_dispute",
            "6163c016ff4414b5d261e1434dd5ee892303c13e50593959507843faf4c922c8",
        ),
        (
            "escrow_resolve",
            "bcac17f116e060f126195e801a3251cddc391b986f814601160460515509b35d",
        ),
        (
            "escrow_refund",
            "c09fdf1b41fb5d8e3dab467b3016c1ce7855dad729a7485461688816b35e749e",
        ),
        (
            "auditor_attestation",
            "efab569bb37c919ca152f4d47dfcb2832ce8ba72156bb8cf2f6241f20becd6d6",
        ),
        (
            "bond",
            "f8e8a5f3ffb59754f75e010ee898aec04567a5d6251fe5f69a59d906dc36cfdc",
        ),
        (
            "unbond",
            "47176c0ce04d4ea3e5295f88f1f204ec59d991586e8a7661211fc9b5f7c73eda",
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
            "e9299d9405d41440013853cd5f7cb394ae1b09c640a87d635ca4bf7b990d00af"
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
            "db3496369db21329df18c4e627b4635bf4dec0d4584f3ab1aaec6c912f782762"
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
    fn a_transaction_signed_under_an_older_format_is_refused() {
        for domain in [b"carchain/tx/v1", b"carchain/tx/v2"] {
            let tx = transfer_tx();
            let old_digest = sha256d(&[domain, &tx.to_canonical()]);
            let signed = SignedTransaction {
                signature: sign_digest(&secret(1), &old_digest),
                tx,
            };
            assert_eq!(
                signed.verify_signature(),
                Err(ProtocolError::BadSignature {
                    what: "transaction"
                })
            );
        }
    }

    fn fields_of(kind: &str) -> Vec<String> {
        let body = sample_bodies()
            .into_iter()
            .find(|body| body.kind_name() == kind)
            .unwrap_or_else(|| panic!("no {kind} sample"));
        let json = serde_json::to_value(&body).unwrap_or_default();
        let mut fields: Vec<String> = json
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        fields.sort_unstable();
        fields
    }

    #[test]
    fn grants_and_attestations_publish_commitments_not_contents() {
        assert_eq!(
            fields_of("grant"),
            [
                "copy_tags",
                "expires_at",
                "grant_id",
                "grantee_address",
                "kind",
                "records_commitment",
                "type"
            ]
        );
        assert_eq!(
            fields_of("auditor_attestation"),
            ["claim", "commitment", "subject", "type"]
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
