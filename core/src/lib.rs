//! CarChain core: everything a phone wallet or a car device needs, in pure Rust.
//!
//! - [`keys`]: BIP39 words, secp256k1 keys and Bitcoin-format addresses, the RSA key pair.
//! - [`pool`]: a device's secret address pool and the per-day address choice.
//! - [`crypto`]: the record envelope, key hierarchy, grants' re-wrapping, dHash/cHash.
//! - [`record`]: record formats, range-ordered key encoding, values and projections.
//! - [`sealed`]: a record sealed for the network (putIotKV/putWalKV) and opened back (getKV).
//! - [`trip`]: trip decoding, statistics, polyline, GeoJSON, privacy zones.
//! - [`store`]: the wallet's SQLite store with secrets encrypted at rest.
//! - [`protocol`]: transactions, headers and proofs shared with the node.
//! - [`light`]: the embedded light node (verified reads, failover, offline cache).
//! - [`wallet`]: the owner's wallet: cars, pairing, reading data back, subscribers.
//! - [`pairing`]: the pairing protocol both sides speak: payload, mailbox, messages.
//! - [`device`]: the car: pairing, putting records, the offline queue.
//! - [`compute`]: compute-to-data: a provider's EVM program over trips, signed result.
//! - [`grants`]: data grants: provider requests, owner approvals, copies and results.
//! - [`export`]: a car's records of a period as one archive anyone can verify offline.
//! - [`tokens`]: unlinkable tokens (RFC 9474 blind RSA signatures) for paid reads.
#![forbid(unsafe_code)]

pub mod clock;
#[cfg(feature = "sdk")]
pub mod compute;
pub mod crypto;
#[cfg(feature = "sdk")]
pub mod device;
mod error_code;
#[cfg(feature = "sdk")]
pub mod export;
pub mod grants;
pub mod keys;
#[cfg(feature = "sdk")]
pub mod light;
pub mod pairing;
pub mod pool;
pub mod protocol;
pub mod record;
pub mod sealed;
#[cfg(feature = "sdk")]
pub mod store;
pub mod tokens;
pub mod trip;
#[cfg(feature = "sdk")]
pub mod wallet;
