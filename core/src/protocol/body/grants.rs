//! Bodies of data grants: the records a grant names, its kind, the grant and its
//! revocation, a provider's registration, a data request and the owner's answer.

use serde::{Deserialize, Serialize};

use crate::protocol::codec::{Canonical, Reader, Writer, canonical_struct};
use crate::protocol::error::{ProtocolError, Result};
use crate::protocol::serde_hex;

/// One record named by a grant: its address and key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// The record's address.
    pub address: String,
    /// The record's key bytes.
    #[serde(with = "serde_hex::bytes")]
    pub key: Vec<u8>,
}
canonical_struct!(RecordRef { address, key });

/// What a grant gives the grantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GrantKind {
    /// An ownership copy (tag 0): the grantee may resell and/or duplicate it if flagged.
    Copy {
        /// The grantee may sell the copy on.
        resell: bool,
        /// The grantee may make further copies.
        dup: bool,
    },
    /// Usage only (tag 1): the named computation runs on the data; only its result leaves.
    Usage {
        /// Hash of the registered computation.
        #[serde(with = "serde_hex::fixed")]
        code_hash: [u8; 32],
    },
    /// A paid trade settled through escrow (tag 2).
    Trade,
}

impl Canonical for GrantKind {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            GrantKind::Copy { resell, dup } => {
                w.u8(0);
                resell.encode_to(w);
                dup.encode_to(w);
            }
            GrantKind::Usage { code_hash } => {
                w.u8(1);
                code_hash.encode_to(w);
            }
            GrantKind::Trade => w.u8(2),
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8("grant kind")? {
            0 => Ok(GrantKind::Copy {
                resell: bool::decode_from(r)?,
                dup: bool::decode_from(r)?,
            }),
            1 => Ok(GrantKind::Usage {
                code_hash: r.array("code hash")?,
            }),
            2 => Ok(GrantKind::Trade),
            tag => Err(ProtocolError::UnknownTag {
                what: "grant kind",
                tag,
            }),
        }
    }
}

/// Grants records to another account (the seed's `send` / `SMcontract`).
///
/// Tx format v3: the ledger holds commitments, not the grant's contents. The (address,
/// key) list and the grantee's RSA key fingerprint are behind `records_commitment`
/// ([`crate::protocol::commitments::GrantOpening`]); the opening travels sealed to the grantee in
/// its delivery, and the grantee checks it against this commitment. `copy_tags` lets
/// the ledger enforce copy rights without naming records: one opaque tag per copied
/// record, an HMAC under the record's own key (see `crate::crypto::copy_tag`), which
/// only holders of the record key can compute or test, so no ledger reader can match
/// a tag to a registered record. The same record carries the same tag in every grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Unique grant id chosen by the grantor.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
    /// The grantee's address.
    pub grantee_address: String,
    /// Salted commitment to the grantee's RSA key and the records granted
    /// ([`crate::protocol::commitments::GrantOpening::commitment`]).
    #[serde(with = "serde_hex::fixed")]
    pub records_commitment: [u8; 32],
    /// One copy tag per record a copy or trade hands over (sorted, distinct); empty for
    /// a usage grant.
    #[serde(with = "serde_hex::vec_fixed")]
    pub copy_tags: Vec<[u8; 32]>,
    /// Copy, usage or trade.
    pub kind: GrantKind,
    /// Expiry time (unix ms), if any.
    #[serde(default)]
    pub expires_at: Option<u64>,
}
canonical_struct!(Grant {
    grant_id,
    grantee_address,
    records_commitment,
    copy_tags,
    kind,
    expires_at,
});

/// Names a grant (for revoke by the grantor or renounce by the grantee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRef {
    /// The grant id.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
}
canonical_struct!(GrantRef { grant_id });

/// Registers the signer as a service provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRegister {
    /// Display name.
    pub name: String,
    /// What the provider does.
    pub description: String,
    /// The provider's RSA public key (PKCS#1 or SPKI DER) that grants are wrapped to.
    #[serde(with = "serde_hex::bytes")]
    pub rsa_public_der: Vec<u8>,
    /// Hashes of the computations the provider offers for usage grants.
    #[serde(with = "serde_hex::vec_fixed")]
    pub code_hashes: Vec<[u8; 32]>,
}
canonical_struct!(ProviderRegister {
    name,
    description,
    rsa_public_der,
    code_hashes
});

/// A provider asks an owner for data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequest {
    /// Unique request id chosen by the provider.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// The owner asked.
    pub owner_address: String,
    /// Record formats wanted.
    pub formats: Vec<String>,
    /// First day wanted, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day wanted, `YYYY-MM-DD`.
    pub to_date: String,
    /// Fields wanted (projection).
    pub fields: Vec<String>,
    /// Why the provider wants the data, shown to the owner.
    pub purpose: String,
    /// Offered price in the token's smallest unit.
    pub price: u64,
    /// Expiry time (unix ms), if any.
    #[serde(default)]
    pub expires_at: Option<u64>,
}
canonical_struct!(DataRequest {
    request_id,
    owner_address,
    formats,
    from_date,
    to_date,
    fields,
    purpose,
    price,
    expires_at,
});

/// The owner approves or rejects a data request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataResponse {
    /// The request answered.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// Approved or rejected.
    pub approved: bool,
    /// The grant that delivers the data, when approved.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub grant_id: Option<[u8; 32]>,
}
canonical_struct!(DataResponse {
    request_id,
    approved,
    grant_id
});
