//! Values stored in the authenticated state tree, each with canonical bytes (what the tree
//! hashes and what a state proof is checked against) and a JSON form for the HTTP API.

use bitcoin::secp256k1::PublicKey;
use serde::{Deserialize, Serialize};

use super::body::{GrantKind, RecordPut};
use super::codec::{Canonical, Reader, Writer, canonical_struct};
use super::error::{ProtocolError, Result};
use super::serde_hex;

/// Implements [`Canonical`] for a fieldless enum as one tag byte per variant.
macro_rules! canonical_status {
    ($ty:ident, $what:literal { $($variant:ident = $tag:literal),* $(,)? }) => {
        impl Canonical for $ty {
            fn encode_to(&self, w: &mut Writer) {
                w.u8(match self { $($ty::$variant => $tag,)* });
            }
            fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
                match r.u8($what)? {
                    $($tag => Ok($ty::$variant),)*
                    tag => Err(ProtocolError::UnknownTag { what: $what, tag }),
                }
            }
        }
    };
}

/// An account: token balance and the next nonce it must use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// Balance in the token's smallest unit.
    pub balance: u64,
    /// The nonce the account's next transaction must carry.
    pub nonce: u64,
}
canonical_struct!(AccountState { balance, nonce });

/// Whether a device may still write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Paired and writing (tag 0).
    Active,
    /// Retired by its owner (tag 1).
    Retired,
}
canonical_status!(DeviceStatus, "device status" { Active = 0, Retired = 1 });

/// A paired device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// The vehicle identifier.
    pub vid: String,
    /// The current owner's address.
    pub owner_address: String,
    /// The device's signing key.
    #[serde(with = "serde_hex::pubkey")]
    pub device_pubkey: PublicKey,
    /// Commitment to the current pool.
    #[serde(with = "serde_hex::fixed")]
    pub pool_commitment: [u8; 32],
    /// Pool generation (0 at pairing, raised by `SetDup`).
    pub generation: u32,
    /// Active or retired.
    pub status: DeviceStatus,
    /// The agent node.
    pub agent: String,
    /// Height of the (latest) pairing.
    pub paired_height: u64,
}
canonical_struct!(DeviceState {
    vid,
    owner_address,
    device_pubkey,
    pool_commitment,
    generation,
    status,
    agent,
    paired_height,
});

/// A record registered by a `RecordPut`: the put itself and where it landed. Canonical
/// bytes are the put's fields followed by height, transaction id and signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRegistration {
    /// The registered put (address, key, format, hashes, size, wallet flag).
    #[serde(flatten)]
    pub put: RecordPut,
    /// Block height of the put.
    pub height: u64,
    /// Id of the put transaction.
    #[serde(with = "serde_hex::fixed")]
    pub tx_id: [u8; 32],
    /// The key that signed the put (its P2WPKH address is `put.address`).
    #[serde(with = "serde_hex::pubkey")]
    pub signer: PublicKey,
}
canonical_struct!(RecordRegistration {
    put,
    height,
    tx_id,
    signer,
});

/// Life cycle of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    /// In force (tag 0).
    Active,
    /// Withdrawn by the grantor (tag 1).
    Revoked,
    /// Given up by the grantee (tag 2).
    Renounced,
    /// Ended by a device transfer (`Reset`) away from the grantor (tag 3).
    Ended,
}
canonical_status!(GrantStatus, "grant status" { Active = 0, Revoked = 1, Renounced = 2, Ended = 3 });

/// An auditor's countersignature recorded on the grant it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRef {
    /// The auditor's address.
    pub auditor: String,
    /// The claim countersigned.
    pub claim: String,
    /// Id of the attestation transaction (its dHashes are in the block).
    #[serde(with = "serde_hex::fixed")]
    pub tx_id: [u8; 32],
}
canonical_struct!(AttestationRef {
    auditor,
    claim,
    tx_id
});

/// A grant on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantState {
    /// The grant id.
    #[serde(with = "serde_hex::fixed")]
    pub grant_id: [u8; 32],
    /// The granting account.
    pub grantor: String,
    /// The receiving account.
    pub grantee_address: String,
    /// Salted commitment to the grantee's RSA key and the records granted
    /// ([`super::commitments::GrantOpening`]); the grantee holds the opening.
    #[serde(with = "serde_hex::fixed")]
    pub records_commitment: [u8; 32],
    /// The copy tags of the records a copy hands over (see [`super::body::Grant`]).
    #[serde(default, with = "serde_hex::vec_fixed")]
    pub copy_tags: Vec<[u8; 32]>,
    /// Copy, usage or trade.
    pub kind: GrantKind,
    /// Expiry (unix ms), if any.
    pub expires_at: Option<u64>,
    /// Active, revoked or renounced.
    pub status: GrantStatus,
    /// Height of the grant.
    pub height: u64,
    /// The grant a copy was made under, when the grantor resells or duplicates a copy
    /// it received.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub parent_grant: Option<[u8; 32]>,
    /// Auditors' attestations naming this grant.
    #[serde(default)]
    pub attestations: Vec<AttestationRef>,
}
canonical_struct!(GrantState {
    grant_id,
    grantor,
    grantee_address,
    records_commitment,
    copy_tags,
    kind,
    expires_at,
    status,
    height,
    parent_grant,
    attestations,
});

/// A registered service provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderState {
    /// The provider's account.
    pub address: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// RSA public key (DER).
    #[serde(with = "serde_hex::bytes")]
    pub rsa_public_der: Vec<u8>,
    /// Offered computations.
    #[serde(with = "serde_hex::vec_fixed")]
    pub code_hashes: Vec<[u8; 32]>,
    /// Height of (latest) registration.
    pub height: u64,
    /// Whether the provider is a registered auditor (flagged by an auditor's attestation).
    #[serde(default)]
    pub auditor: bool,
}
canonical_struct!(ProviderState {
    address,
    name,
    description,
    rsa_public_der,
    code_hashes,
    height,
    auditor
});

/// Life cycle of a data request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the owner (tag 0).
    Open,
    /// Approved (tag 1).
    Approved,
    /// Rejected (tag 2).
    Rejected,
}
canonical_status!(RequestStatus, "request status" { Open = 0, Approved = 1, Rejected = 2 });

/// A data request on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    /// The request id.
    #[serde(with = "serde_hex::fixed")]
    pub request_id: [u8; 32],
    /// The requesting provider's address.
    pub requester: String,
    /// The owner asked.
    pub owner_address: String,
    /// Formats wanted.
    pub formats: Vec<String>,
    /// First day, `YYYY-MM-DD`.
    pub from_date: String,
    /// Last day, `YYYY-MM-DD`.
    pub to_date: String,
    /// Fields wanted.
    pub fields: Vec<String>,
    /// Purpose shown to the owner.
    pub purpose: String,
    /// Offered price.
    pub price: u64,
    /// Expiry (unix ms), if any.
    pub expires_at: Option<u64>,
    /// Open, approved or rejected.
    pub status: RequestStatus,
    /// The grant that answered it, if approved.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub grant_id: Option<[u8; 32]>,
    /// Height of the request.
    pub height: u64,
    /// The escrow the requester opened to pay for it, if any.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub escrow_id: Option<[u8; 32]>,
}
canonical_struct!(RequestState {
    request_id,
    requester,
    owner_address,
    formats,
    from_date,
    to_date,
    fields,
    purpose,
    price,
    expires_at,
    status,
    grant_id,
    height,
    escrow_id,
});

/// Life cycle of an escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowStatus {
    /// Funds locked, nothing delivered (tag 0).
    Open,
    /// Seller declared delivery (tag 1).
    Delivered,
    /// Buyer disputes delivery (tag 2).
    Disputed,
    /// Funds paid to the seller (tag 3).
    Released,
    /// Funds returned to the buyer (tag 4).
    Refunded,
}
canonical_status!(EscrowStatus, "escrow status" {
    Open = 0,
    Delivered = 1,
    Disputed = 2,
    Released = 3,
    Refunded = 4,
});

/// An escrow on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowState {
    /// The escrow id.
    #[serde(with = "serde_hex::fixed")]
    pub escrow_id: [u8; 32],
    /// The paying account.
    pub buyer: String,
    /// The selling account.
    pub seller: String,
    /// Amount locked.
    pub amount: u64,
    /// The request paid for, if any.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub request_id: Option<[u8; 32]>,
    /// Delivered dHash root, once declared.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub d_hash_root: Option<[u8; 32]>,
    /// Where the escrow stands.
    pub status: EscrowStatus,
    /// Height at which it was opened.
    pub height: u64,
    /// Ledger time (unix ms) by which the seller must deliver; after it an undelivered
    /// escrow may be refunded.
    pub deliver_by: u64,
    /// Ledger time of the delivery, once declared.
    #[serde(default)]
    pub delivered_at: Option<u64>,
    /// The possession challenge's seed, fixed when a dispute executes.
    #[serde(default, with = "serde_hex::opt_fixed")]
    pub challenge_seed: Option<[u8; 32]>,
    /// Ledger time by which the seller must answer the challenge.
    #[serde(default)]
    pub challenge_deadline: Option<u64>,
}
canonical_struct!(EscrowState {
    escrow_id,
    buyer,
    seller,
    amount,
    request_id,
    d_hash_root,
    status,
    height,
    deliver_by,
    delivered_at,
    challenge_seed,
    challenge_deadline,
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::HashFunc;
    use crate::protocol::test_fixtures::{address, assert_pinned, assert_round_trips, public};

    #[test]
    fn account_state_layout_is_pinned() {
        let account = AccountState {
            balance: 1_000,
            nonce: 3,
        };
        assert_pinned(&account, "00000000000003e80000000000000003");
    }

    #[test]
    fn every_state_value_round_trips() {
        assert_round_trips(&DeviceState {
            vid: "LSVAU2180N2183294".into(),
            owner_address: address(1),
            device_pubkey: public(2),
            pool_commitment: [0x11; 32],
            generation: 1,
            status: DeviceStatus::Active,
            agent: "http://127.0.0.1:8545".into(),
            paired_height: 7,
        });
        assert_round_trips(&RecordRegistration {
            put: RecordPut {
                address: address(6),
                key: vec![0, 1],
                format: "trip-gps".into(),
                hash_func: HashFunc::Sha256,
                d_hash: [0x55; 32],
                c_hash: [0x66; 32],
                size: 10,
                wallet: false,
                stamp: None,
            },
            height: 9,
            tx_id: [0x12; 32],
            signer: public(6),
        });
        assert_round_trips(&GrantState {
            grant_id: [0x77; 32],
            grantor: address(1),
            grantee_address: address(3),
            records_commitment: [0x88; 32],
            copy_tags: vec![[0x89; 32]],
            kind: GrantKind::Usage {
                code_hash: [0x99; 32],
            },
            expires_at: None,
            status: GrantStatus::Revoked,
            height: 11,
            parent_grant: Some([0x70; 32]),
            attestations: vec![AttestationRef {
                auditor: address(4),
                claim: "mileage complete".into(),
                tx_id: [0x71; 32],
            }],
        });
        assert_round_trips(&ProviderState {
            address: address(3),
            name: "Insurer".into(),
            description: "pay-as-you-drive".into(),
            rsa_public_der: vec![0x30],
            code_hashes: vec![[0x99; 32]],
            height: 4,
            auditor: true,
        });
        assert_round_trips(&RequestState {
            request_id: [0xaa; 32],
            requester: address(3),
            owner_address: address(1),
            formats: vec!["trip-gps".into()],
            from_date: "2024-01-01".into(),
            to_date: "2024-01-31".into(),
            fields: vec![],
            purpose: "quote".into(),
            price: 5,
            expires_at: Some(1),
            status: RequestStatus::Approved,
            grant_id: Some([0x77; 32]),
            height: 12,
            escrow_id: Some([0xbb; 32]),
        });
        assert_round_trips(&EscrowState {
            escrow_id: [0xbb; 32],
            buyer: address(3),
            seller: address(1),
            amount: 250,
            request_id: None,
            d_hash_root: Some([0xcc; 32]),
            status: EscrowStatus::Disputed,
            height: 13,
            deliver_by: 1_700_000_000_000,
            delivered_at: Some(1_700_000_001_000),
            challenge_seed: Some([0xdd; 32]),
            challenge_deadline: Some(1_700_000_002_000),
        });
    }

    #[test]
    fn unknown_status_tags_are_refused() {
        assert_eq!(
            DeviceStatus::from_canonical(&[2]),
            Err(ProtocolError::UnknownTag {
                what: "device status",
                tag: 2
            })
        );
        assert_eq!(
            GrantStatus::from_canonical(&[4]),
            Err(ProtocolError::UnknownTag {
                what: "grant status",
                tag: 4
            })
        );
        assert_eq!(
            RequestStatus::from_canonical(&[3]),
            Err(ProtocolError::UnknownTag {
                what: "request status",
                tag: 3
            })
        );
        assert_eq!(
            EscrowStatus::from_canonical(&[5]),
            Err(ProtocolError::UnknownTag {
                what: "escrow status",
                tag: 5
            })
        );
    }
}
