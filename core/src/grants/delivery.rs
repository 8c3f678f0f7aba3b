//! The delivery document: what the owner publishes for a provider when approving a
//! request, sealed to the provider's RSA key as a wallet record under the owner's
//! address (format [`DELIVERY_FORMAT`], key `{"REQ": "<request id hex>"}`).
//!
//! For a copy it lists the granted records (address, key, format) each with its record
//! key re-wrapped for the provider ([`crate::crypto::RecordKeyGrant`]); the payloads stay
//! where the car stored them. For a computation it holds only the owner-signed result
//! ([`crate::compute::SignedResult`] delivery bytes) and the records it read. Only the
//! provider's RSA key opens the envelope; the record is registered on the ledger signed
//! by the owner's identity key, which is how the provider knows who published it.
//!
//! Version 2 carries the opening of the ledger grant's commitment
//! ([`GrantOpening`]: salt, the provider's key fingerprint, the granted (address, key)
//! list): the ledger holds only the hash, and the provider checks the opening against
//! it. Version 1 (grants that listed their records in clear) is refused.

use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::error::{GrantsError, GrantsResult};
use crate::crypto::{Envelope, EpochKeyCache, RecordContext, SealingEpoch, seal};
use crate::protocol::serde_hex;
use crate::protocol::{GrantOpening, RecordRef};
use crate::record::{FormatSpec, encode_key};

/// Record format of delivery documents.
pub const DELIVERY_FORMAT: &str = "carchain-grant-delivery";
/// Domain tag of grant ids derived from request ids.
pub const GRANT_ID_DOMAIN: &[u8] = b"carchain/grant-id/v1";
/// Version of the delivery document.
pub const DELIVERY_VERSION: u32 = 2;

/// The id of the grant answering `request_id`:
/// `SHA-256("carchain/grant-id/v1" || request_id)`. Deterministic, so a retried approval
/// names the same grant (and the ledger refuses a second one).
pub fn grant_id_for(request_id: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(GRANT_ID_DOMAIN)
        .chain_update(request_id)
        .finalize()
        .into()
}

/// One record of a copy and its key, re-wrapped for the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredRecord {
    /// The data address.
    pub address: String,
    /// The record key bytes.
    #[serde(with = "serde_hex::bytes")]
    pub key: Vec<u8>,
    /// The record format.
    pub format: String,
    /// The encoded [`crate::crypto::RecordKeyGrant`].
    #[serde(with = "serde_hex::bytes")]
    pub grant: Vec<u8>,
}

/// What a delivery carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeliveryContent {
    /// A copy: record keys re-wrapped for the provider.
    Copy {
        /// The granted records.
        records: Vec<DeliveredRecord>,
    },
    /// A computation's signed result.
    Result {
        /// The records the computation read, in input order.
        inputs: Vec<RecordRef>,
        /// [`crate::compute::SignedResult::to_bytes`].
        #[serde(with = "serde_hex::bytes")]
        signed_result: Vec<u8>,
    },
}

/// The sealed document of one approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryDocument {
    /// Document version ([`DELIVERY_VERSION`]).
    pub version: u32,
    /// The request answered.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// The ledger grant delivering it.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
    /// The opening of the grant's records commitment.
    pub opening: GrantOpening,
    /// Copy or result.
    pub content: DeliveryContent,
    /// Of a standing grant's delivery: the period it delivers; absent for a one-off
    /// delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<super::standing::StandingPart>,
}

/// The delivery record format.
pub fn delivery_spec() -> GrantsResult<FormatSpec> {
    Ok(FormatSpec::custom(DELIVERY_FORMAT, vec!["REQ".to_owned()])?)
}

/// The record key of the delivery for `request_id`.
pub fn delivery_record_key(request_id: &[u8; 32]) -> GrantsResult<Vec<u8>> {
    Ok(encode_key(&delivery_spec()?, &json!({"REQ": hex::encode(request_id)}))?.into_bytes())
}

impl DeliveredRecord {
    /// The record this delivers, as a grant's opening names it.
    pub fn reference(&self) -> RecordRef {
        RecordRef {
            address: self.address.clone(),
            key: self.key.clone(),
        }
    }
}

impl DeliveryDocument {
    /// Seals the document to `provider` as the value of the delivery record under
    /// `owner_address`.
    pub fn seal(&self, owner_address: &str, provider: &RsaPublicKey) -> GrantsResult<Vec<u8>> {
        let plaintext =
            serde_json::to_vec(self).map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        let key = delivery_record_key(&self.request_id)?;
        let ctx = RecordContext {
            address: owner_address,
            key_bytes: &key,
            format: DELIVERY_FORMAT,
        };
        Ok(seal(&plaintext, &ctx, &SealingEpoch::new(provider)?)?.to_bytes()?)
    }

    /// Opens the delivery record of `request_id` under `owner_address` with the
    /// provider's key; the document must name that request.
    pub fn open(
        envelope: &[u8],
        owner_address: &str,
        request_id: &[u8; 32],
        provider: &RsaPrivateKey,
    ) -> GrantsResult<DeliveryDocument> {
        let key = delivery_record_key(request_id)?;
        let ctx = RecordContext {
            address: owner_address,
            key_bytes: &key,
            format: DELIVERY_FORMAT,
        };
        let plaintext = Envelope::from_bytes(envelope)?.open_with_owner_key(
            &ctx,
            provider,
            &mut EpochKeyCache::new(),
        )?;
        let doc: DeliveryDocument = serde_json::from_slice(&plaintext)
            .map_err(|e| GrantsError::MalformedDocument(e.to_string()))?;
        if doc.version != DELIVERY_VERSION {
            return Err(GrantsError::MalformedDocument(format!(
                "unknown version {}",
                doc.version
            )));
        }
        if &doc.request_id != request_id {
            return Err(GrantsError::DeliveryRefused(
                "the document answers another request".into(),
            ));
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::test_keys::{outsider_rsa as outsider, provider_rsa as grantee};

    const OWNER: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

    fn document() -> DeliveryDocument {
        DeliveryDocument {
            version: DELIVERY_VERSION,
            request_id: [7; 32],
            grant_id: grant_id_for(&[7; 32]),
            opening: GrantOpening {
                salt: [3; 32],
                grantee_rsa_fingerprint: [4; 32],
                records: vec![RecordRef {
                    address: "bcrt1qdata".into(),
                    key: vec![1, 2],
                }],
            },
            content: DeliveryContent::Copy {
                records: vec![DeliveredRecord {
                    address: "bcrt1qdata".into(),
                    key: vec![1, 2],
                    format: "VIN_CODE".into(),
                    grant: vec![0xcc; 4],
                }],
            },
            standing: None,
        }
    }

    #[test]
    fn grant_ids_are_pinned_per_request() {
        let mut preimage = b"carchain/grant-id/v1".to_vec();
        preimage.extend_from_slice(&[7; 32]);
        let expected: [u8; 32] = Sha256::digest(&preimage).into();
        assert_eq!(grant_id_for(&[7; 32]), expected);
        assert_ne!(grant_id_for(&[7; 32]), grant_id_for(&[8; 32]));
    }

    #[test]
    fn the_provider_opens_its_document_and_nobody_else() {
        let doc = document();
        let sealed = doc.seal(OWNER, grantee().as_public_key()).expect("seal");
        let opened = DeliveryDocument::open(&sealed, OWNER, &[7; 32], grantee()).expect("open");
        assert_eq!(opened, doc);
        assert!(DeliveryDocument::open(&sealed, OWNER, &[7; 32], outsider()).is_err());
        // Bound to the owner's address and the request: moved elsewhere it does not open.
        assert!(DeliveryDocument::open(&sealed, "bcrt1qother", &[7; 32], grantee()).is_err());
        assert!(DeliveryDocument::open(&sealed, OWNER, &[8; 32], grantee()).is_err());
    }

    #[test]
    fn json_form_is_tagged_hex() {
        let json = serde_json::to_value(document()).expect("json");
        assert_eq!(json["content"]["type"], "copy");
        assert_eq!(json["content"]["records"][0]["key"], "0102");
        assert_eq!(json["request_id"], "07".repeat(32));
    }
}
