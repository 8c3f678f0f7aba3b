//! Sealed records: the seed's `putIotKV` / `putWalKV` payload made ready for the network,
//! and the reader's path back (`getKV`).
//!
//! Sealing encodes the key by its format (so it sorts for range queries), checks the
//! value against its declared format, encrypts it in a versioned envelope bound to
//! address + key + format, and computes the two ledger commitments: `dHash` (salted
//! plaintext) and `cHash` (ciphertext). Opening checks `cHash` before decrypting and
//! `dHash` after, then projects the requested columns.
//!
//! A car's records are registered under a stored key ([`stored_key`]), the
//! deterministic encryption of the range-ordered key under the pool seed, with the
//! plaintext key sealed in the envelope beside the value
//! ([`seal_record_with_stored_key`], [`open_record_with_key`]).

mod error;
mod open;
mod seal;
pub mod stored_key;

pub use error::SealedRecordError;
#[cfg(feature = "sdk")]
pub(crate) use open::open_c_hash_checked;
pub use open::{OpenedRecord, Opener, open_record, open_record_key, open_record_with_key};
pub use seal::{SealedRecord, seal_record, seal_record_with_stored_key};
pub use stored_key::{STORED_KEYS_END, StoredKeyCipher};
