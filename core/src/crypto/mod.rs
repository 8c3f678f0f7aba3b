//! Record encryption: the versioned hybrid envelope, the epoch/record key hierarchy,
//! key re-wrapping for grants, subscriber channels, and the dHash/cHash commitments.
