//! Sealed records: the seed's `putIotKV` / `putWalKV` payload made ready for the network,
//! and the reader's path back (`getKV`).
//!
//! Sealing encodes the key by its format (so it sorts for range queries), checks the
//! value against its declared format, encrypts it in a versioned envelope bound to
//! address + key + format, and computes the two ledger commitments: `dHash` (salted
//! plaintext) and `cHash` (ciphertext). Opening checks `cHash` before decrypting and
//! `dHash` after, then projects the requested columns.

mod error;
mod open;
mod seal;

pub use error::SealedRecordError;
pub use open::{Opener, open_record};
pub use seal::{SealedRecord, seal_record};
