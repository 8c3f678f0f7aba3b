//! Why an issuer key file could not be loaded or created.

use thiserror::Error;

/// The token issuer key file is missing, malformed or unwritable.
#[derive(Debug, Error)]
#[error("token issuer key: {0}")]
pub struct IssuerKeyError(pub String);
