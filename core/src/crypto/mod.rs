//! Record encryption: the versioned hybrid envelope, the epoch/record key hierarchy,
//! key re-wrapping for grants, subscriber channels, and the dHash/cHash commitments.
//!
//! A car makes one [`SealingEpoch`] per data address and day (one RSA-OAEP wrap of a
//! fresh [`EpochKey`] for the owner) and [`seal`]s each record into an [`Envelope`]
//! under a [`RecordKey`] derived from the epoch key and the record's
//! [`RecordContext`]. The owner opens a day of records with one RSA decryption through
//! an [`EpochKeyCache`]; a grantee opens one record with a [`RecordKeyGrant`]; a
//! subscriber opens a channel's records with a [`ChannelKey`].

mod codec;
mod rng;
#[cfg(test)]
pub(crate) mod test_keys;
#[cfg(test)]
pub(crate) mod test_vectors;

pub mod channel;
pub mod commitments;
pub mod envelope;
pub mod epoch_cache;
pub mod error;
pub mod grant;
pub mod hash_func;
pub mod hierarchy;
pub mod padding;
pub mod symmetric;
pub mod wrap;

pub use channel::{ChannelKey, ChannelKeyDistribution};
pub use commitments::{
    c_hash, d_hash, d_hash_for_record, dhash_salt, verify_c_hash, verify_d_hash,
};
pub use envelope::{Envelope, seal, seal_with_record_key};
pub use epoch_cache::{CacheStats, EpochKeyCache};
pub use error::{CryptoError, CryptoResult};
pub use grant::{
    COPY_TAG_DOMAIN, RecordKeyGrant, copy_tag, owner_copy_tag, rewrap_record_key,
    rewrap_registered_record_key,
};
pub use hash_func::HashFunc;
pub use hierarchy::{RecordContext, SealingEpoch, derive_record_key};
pub use symmetric::{EpochKey, RecordKey, SYMMETRIC_KEY_LEN};
pub use wrap::{KeyKind, WrappedKey};
