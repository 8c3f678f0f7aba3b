//! The node API's vocabulary, defined once for the node that answers and the SDK that
//! asks (`node-lite/openapi.yaml` documents the same shapes): the stable error codes and
//! the request and answer bodies both sides read or write. Serde shapes only, no I/O.
//!
//! The state answer and the range page stay with each side for now: the node adds a
//! `value_json` convenience the light client must not spend time parsing.

mod bodies;
mod error_code;

pub use bodies::{
    CredentialHolder, CredentialRequest, Credentials, ErrorBody, ErrorDetail, Headers,
    IssueRequest, Issued, PutAnswer, TokenKey, WriteCredential,
};
pub use error_code::ErrorCode;
