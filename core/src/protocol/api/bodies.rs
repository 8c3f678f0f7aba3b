//! Request and answer bodies of the node API that the node and the SDK share.

use serde::{Deserialize, Serialize};

use crate::protocol::SignedHeader;

/// `GET /v1/tokens/key` (and `/v1/stamps/key`): an issuer key and a token's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenKey {
    /// SHA-256 of the public key's DER (hex).
    #[serde(with = "hex::serde")]
    pub key_id: [u8; 32],
    /// RSA public key, DER SubjectPublicKeyInfo (standard base64).
    pub public_key: String,
    /// Price of one token (the amount a payment transfers per token); 0 when reads are
    /// free.
    pub price: u64,
    /// Most tokens one payment buys.
    pub max_batch: u64,
}

/// Body of `POST /v1/tokens` (and `/v1/stamps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The payment: id of a committed Transfer to the operator (hex).
    pub payment: String,
    /// Blinded token messages (standard base64), as many as the payment bought.
    pub blinded: Vec<String>,
    /// The payer's compact secp256k1 signature (hex) over
    /// `SHA256("carchain/token-issue/v1" || payment || key_id || batch digest)`.
    pub signature: String,
}

/// Answer of `POST /v1/tokens` (and `/v1/stamps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// The issuer key the signatures are under (hex).
    #[serde(with = "hex::serde")]
    pub key_id: [u8; 32],
    /// One blind signature per blinded message, in order (standard base64).
    pub signatures: Vec<String>,
}

/// Answer of `GET /v1/headers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Headers {
    /// Signed headers in ascending height.
    pub headers: Vec<SignedHeader>,
}

/// Answer of `PUT /v1/kv/{address}/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAnswer {
    /// `"stored"` (201) or `"already_stored"` (200).
    pub outcome: String,
}

/// Who asks for write credentials (`POST /v1/credentials`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialHolder {
    /// A paired device (signs with its device key).
    Device {
        /// Its VID.
        vid: String,
    },
    /// The owner of a paired device (signs with the owner key).
    Owner {
        /// The VID of one of its devices on the node.
        vid: String,
        /// The owner's compressed public key, hex.
        owner_pubkey: String,
    },
}

/// Body of `POST /v1/credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequest {
    /// Who asks.
    pub holder: CredentialHolder,
    /// Unix seconds.
    pub time: u64,
    /// Blinded messages, hex.
    pub blinded: Vec<String>,
    /// The holder key's compact signature (hex, 64 bytes) over the request digest.
    pub signature: String,
}

/// Answer of `POST /v1/credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The blind signatures, hex, in the request's order.
    pub signed: Vec<String>,
}

/// The node's error body `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of a node error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable snake_case code (an [`super::ErrorCode`], kept as text so that a newer
    /// node's code still reads).
    pub code: String,
    /// Message for people.
    pub message: String,
}

/// A write credential (private nodes): the opaque bytes of a blind-signed token the node
/// issued to one of its paired cars or owners, shown with every put of one address. The
/// node learns that the writer is one of its users, never which one. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct WriteCredential(pub Vec<u8>);

impl std::fmt::Debug for WriteCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteCredential(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::WriteCredential;

    /// A credential's bytes are a bearer token: `Debug` never shows them.
    #[test]
    fn a_credential_debug_hides_its_bytes() {
        let credential = WriteCredential(vec![0xab; 16]);
        let debug = format!("{credential:?}");
        assert_eq!(debug, "WriteCredential(..)");
        assert!(!debug.contains("ab"), "{debug}");
    }
}
