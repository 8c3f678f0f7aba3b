//! Write credentials of a private node (`writes.sqlite`, `writes.key`): the issuer key
//! that blind-signs credentials for paired cars and owners ([`issuer`]), the tables that
//! bind each shown credential to one address and bound issuance and open slots
//! ([`table`]), and the credential-less open slots ([`open_slot`]). See
//! [`crate::node`]'s `writers` for the checks a put goes through.

pub mod issuer;
pub mod open_slot;
pub mod table;

use std::path::Path;

pub use issuer::IssuerKey;
pub use table::WriteTables;

use crate::error::NodeError;

/// Most credentials one issuance request may ask for.
pub const MAX_CREDENTIALS_PER_REQUEST: usize = 64;
/// How far a request's time may be from the node's clock, in seconds.
pub const REQUEST_CLOCK_SKEW_SECS: u64 = 300;

/// A private node's write-credential state.
#[derive(Debug)]
pub struct Writes {
    /// The blind-signing key.
    pub issuer: IssuerKey,
    /// Bindings, issuance and open-slot counts.
    pub tables: WriteTables,
}

impl Writes {
    /// Opens (creating on first start) `writes.key` and `writes.sqlite` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, NodeError> {
        Ok(Writes {
            issuer: IssuerKey::load_or_create(&data_dir.join("writes.key"))?,
            tables: WriteTables::open(&data_dir.join("writes.sqlite"))?,
        })
    }
}
