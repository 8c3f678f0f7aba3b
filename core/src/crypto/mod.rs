//! Record encryption: the versioned hybrid envelope, the epoch/record key hierarchy,
//! key re-wrapping for grants, subscriber channels, and the dHash/cHash commitments.

mod codec;
pub mod error;
pub mod hash_func;
mod rng;
pub mod symmetric;
pub mod wrap;

pub use error::{CryptoError, CryptoResult};
pub use hash_func::HashFunc;
pub use symmetric::{EpochKey, RecordKey, SYMMETRIC_KEY_LEN};
pub use wrap::{KeyKind, WrappedKey};

pub mod hierarchy;
#[cfg(test)]
mod test_keys;
pub use hierarchy::{RecordContext, SealingEpoch, derive_record_key};
pub mod epoch_cache;
pub use epoch_cache::{CacheStats, EpochKeyCache};
pub mod envelope;
pub use envelope::{Envelope, seal};
pub mod commitments;
pub use commitments::{
    c_hash, d_hash, d_hash_for_record, dhash_salt, verify_c_hash, verify_d_hash,
};
pub mod grant;
pub use grant::{RecordKeyGrant, rewrap_record_key};
pub mod channel;
pub use channel::{ChannelKey, ChannelKeyDistribution};
