//! Blind-signed tokens at the node: the issuer key files (read tokens, fee stamps, a
//! private node's write credentials) and the ledger of paid issues and spent tokens
//! ([`ReadTokens`], used for read tokens and for fee stamps alike).

mod error;
mod issuer_key;
mod read_tokens;

pub use error::IssuerKeyError;
pub use issuer_key::{ISSUER_KEY_FILE, load_or_create_issuer, load_or_create_key_file};
pub use read_tokens::{PaymentTerms, ReadTokens, TOKENS_FILE};
