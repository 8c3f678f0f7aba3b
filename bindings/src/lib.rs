//! CarChain for Kotlin and Swift: a thin UniFFI layer over `carchain-core`.
//!
//! Every feature lives and is tested in core; this crate only converts types across the
//! FFI boundary and maps every core error to the one [`error::CarChainError`], whose
//! variant is the kind of failure and whose `code` (e.g. `key.bad_checksum`) is stable;
//! its message is free of secrets.
//!
//! - [`keys`]: restore the owner's keys from recovery words, sign, generate words.
//! - [`light`]: the embedded light client: verified sync with progress, balances.
//! - [`pool`]: the per-day pool address of a car ([`keys::OwnerKeys::day_address`]).
//! - [`trip`]: decode a `trip-gps` record into a summary, polyline, GeoJSON and packed bytes.
//! - [`record`]: lenient value parsing and range-ordered key encoding.
//! - [`secrets`]: the host's secure storage (Keystore/Keychain) as a foreign trait.
//! - [`store`]: the wallet store opened over the host's secure storage.
//! - [`wallet`]: the owner's wallet: create/restore/open, devices, pairing, reads, trips,
//!   subscribers.
//! - [`export`]: a car's records of a period as one archive, and its offline check.
//! - [`owner_records`]: the owner's own records (VIN, documents): put, update, get,
//!   versions, list.
//! - [`device`]: the car: pairing payload and answer, sealed puts, offline queue.
//! - [`grants_wallet`]: the owner's side of data grants on the wallet: pending requests,
//!   approve (narrowed) or reject, grants, revoke, balance; values in [`grants_types`],
//!   proven escrow and grant reads in [`grants_ledger`].
//! - [`grants_provider`]: a minimal service provider: register, request, wait for result.
//! - [`inputs`]: parsing of dates, JSON and format names shared by both.
//! - [`payments`]: the wallet paying with its own account: paid reads, transfers, car funds.
//! - [`logging`]: CarChain's `tracing` records forwarded to a host logger.
#![forbid(unsafe_code)]

uniffi::setup_scaffolding!();

pub mod backup;
pub mod device;
pub mod error;
pub mod export;
pub mod grants_ledger;
pub mod grants_provider;
pub mod grants_types;
pub mod grants_wallet;
pub mod inputs;
pub mod keys;
pub mod light;
pub mod light_anchor;
pub mod logging;
pub mod owner_records;
pub mod payments;
pub mod pool;
pub mod provider_standing;
pub mod provider_webhook;
pub mod record;
pub mod secrets;
pub mod standing_grants;
pub mod store;
pub mod trip;
pub mod wallet;
