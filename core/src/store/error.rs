//! Errors of the wallet store and of the host's secret store.
//!
//! Messages name the problem (table, column, device VID, field) and never carry a
//! secret value: no mnemonic, passphrase, key or pool seed ever reaches an error.

use thiserror::Error;

/// A failure reported by the host's secure storage (Android Keystore, iOS Keychain).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretStoreError {
    /// The secure storage cannot be reached now (device locked, service down).
    #[error("secure storage unavailable: {reason}")]
    Unavailable {
        /// The host's explanation; must not contain secret material.
        reason: String,
    },
    /// The user or the platform refused access to the secret.
    #[error("access to secure storage denied")]
    AccessDenied,
    /// Any other failure of the host's secure storage.
    #[error("secure storage failure: {reason}")]
    Backend {
        /// The host's explanation; must not contain secret material.
        reason: String,
    },
}

crate::error_code::error_codes!(SecretStoreError {
    Unavailable => "secret_store.unavailable",
    AccessDenied => "secret_store.access_denied",
    Backend => "secret_store.backend",
});

/// Everything that can go wrong opening, migrating, reading or writing the wallet store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The host's secret store failed.
    #[error("secret store: {0}")]
    SecretStore(#[from] SecretStoreError),
    /// The file was written by a newer wallet whose schema this code does not know.
    #[error("store schema version {found} is newer than the supported version {supported}")]
    SchemaTooNew {
        /// `PRAGMA user_version` found in the file.
        found: u32,
        /// Highest version this code can migrate to.
        supported: u32,
    },
    /// `PRAGMA user_version` holds a value no CarChain wallet writes.
    #[error("store schema version {found} is invalid")]
    SchemaVersionInvalid {
        /// The raw value read from the file.
        found: i64,
    },
    /// The store holds encrypted secrets but the secret store lost their master key.
    #[error(
        "the at-rest master key is missing from the secret store, encrypted secrets cannot be read"
    )]
    MasterKeyMissing,
    /// The secret store returned a master key of the wrong size.
    #[error("the at-rest master key has {len} bytes, expected 32")]
    MasterKeyWrongLength {
        /// Length of the value found.
        len: usize,
    },
    /// The master key in the secret store is not the one this store was sealed with.
    #[error("the at-rest master key does not match this store")]
    MasterKeyMismatch,
    /// The operating system random generator failed.
    #[error("random generator failure")]
    Random,
    /// A sealed secret failed authentication (corrupted, or copied from another row).
    #[error("sealed secret {table}/{column} of row {row} failed authentication")]
    SecretCorrupted {
        /// Table holding the secret.
        table: &'static str,
        /// Column holding the secret.
        column: &'static str,
        /// Row identifier bound into the seal.
        row: String,
    },
    /// The store's connection lock was poisoned by a panic in another thread.
    #[error("store lock poisoned")]
    LockPoisoned,
    /// The store already holds an identity; a wallet store holds exactly one.
    #[error("the store already holds an identity")]
    IdentityExists,
    /// A required text or byte field is empty.
    #[error("field `{field}` must not be empty")]
    EmptyField {
        /// Name of the field.
        field: &'static str,
    },
    /// The network name is not one of mainnet, testnet, signet, regtest.
    #[error("unknown network `{network}`")]
    InvalidNetwork {
        /// The value given.
        network: String,
    },
    /// The RSA key size is outside 2048..=8192 or not a multiple of 8.
    #[error("unsupported RSA key size {bits}")]
    InvalidRsaBits {
        /// The value given.
        bits: u32,
    },
    /// The mnemonic does not have 12, 15, 18, 21 or 24 words.
    #[error("mnemonic has {count} words, expected 12, 15, 18, 21 or 24")]
    InvalidMnemonicWordCount {
        /// Number of words found.
        count: usize,
    },
    /// The RSA private key is not a DER SEQUENCE.
    #[error("RSA private key is not DER encoded")]
    InvalidRsaDer,
    /// No device with this VID is stored.
    #[error("unknown device `{vid}`")]
    UnknownDevice {
        /// The VID asked for.
        vid: String,
    },
    /// The device status is not `paired`, `reset` or `transferred`.
    #[error("invalid device status `{status}`")]
    InvalidDeviceStatus {
        /// The value given.
        status: String,
    },
    /// The device public key is not hex.
    #[error("device public key is not hex")]
    InvalidDevicePubkey,
    /// A pool size outside 1..=10,000.
    #[error("pool size {size} is outside 1..=10000")]
    PoolSizeOutOfRange {
        /// The value given.
        size: u64,
    },
    /// The pool seed is not 32 bytes long.
    #[error("pool seed has {len} bytes, expected 32")]
    PoolSeedLength {
        /// Length of the value given.
        len: usize,
    },
    /// An empty list of pool addresses.
    #[error("address list is empty")]
    EmptyAddressList,
    /// The address list of the current generation does not match the device's pool size.
    #[error("pool has {actual} addresses, the device's pool size is {expected}")]
    PoolSizeMismatch {
        /// The device's pool size.
        expected: u32,
        /// Number of addresses given.
        actual: usize,
    },
    /// The same address appears twice in one pool.
    #[error("address `{address}` appears twice in the pool")]
    DuplicateAddress {
        /// The repeated address.
        address: String,
    },
    /// A number does not fit the column that stores it.
    #[error("value of `{field}` is out of range")]
    ValueOutOfRange {
        /// Name of the field.
        field: &'static str,
    },
    /// A header for this height is already stored with a different hash.
    #[error("a different header is already stored at height {height}")]
    HeaderConflict {
        /// The height in conflict.
        height: u64,
    },
    /// A JSON document field does not parse as JSON.
    #[error("field `{field}` is not valid JSON")]
    InvalidJson {
        /// Name of the field.
        field: &'static str,
    },
    /// A grant status outside [`GRANT_STATUSES`](crate::store::GRANT_STATUSES).
    #[error("invalid grant status `{status}`")]
    InvalidGrantStatus {
        /// The value given.
        status: String,
    },
    /// A provider request status outside [`REQUEST_STATUSES`](crate::store::REQUEST_STATUSES).
    #[error("invalid provider request status `{status}`")]
    InvalidRequestStatus {
        /// The value given.
        status: String,
    },
}

crate::error_code::error_codes!(StoreError {
    Sqlite => "store.sqlite",
    SecretStore => inner,
    SchemaTooNew => "store.schema_too_new",
    SchemaVersionInvalid => "store.schema_version_invalid",
    MasterKeyMissing => "store.master_key_missing",
    MasterKeyWrongLength => "store.master_key_wrong_length",
    MasterKeyMismatch => "store.master_key_mismatch",
    Random => "store.random",
    SecretCorrupted => "store.secret_corrupted",
    LockPoisoned => "store.lock_poisoned",
    IdentityExists => "store.identity_exists",
    EmptyField => "store.empty_field",
    InvalidNetwork => "store.invalid_network",
    InvalidRsaBits => "store.invalid_rsa_bits",
    InvalidMnemonicWordCount => "store.invalid_mnemonic_word_count",
    InvalidRsaDer => "store.invalid_rsa_der",
    UnknownDevice => "store.unknown_device",
    InvalidDeviceStatus => "store.invalid_device_status",
    InvalidDevicePubkey => "store.invalid_device_pubkey",
    PoolSizeOutOfRange => "store.pool_size_out_of_range",
    PoolSeedLength => "store.pool_seed_length",
    EmptyAddressList => "store.empty_address_list",
    PoolSizeMismatch => "store.pool_size_mismatch",
    DuplicateAddress => "store.duplicate_address",
    ValueOutOfRange => "store.value_out_of_range",
    HeaderConflict => "store.header_conflict",
    InvalidJson => "store.invalid_json",
    InvalidGrantStatus => "store.invalid_grant_status",
    InvalidRequestStatus => "store.invalid_request_status",
});

/// Result type of the wallet store.
pub type StoreResult<T> = Result<T, StoreError>;
