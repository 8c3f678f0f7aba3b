//! The owner's wallet: identity, paired cars (the seed's device list), pairing, setDup and
//! reset, reading a car's records and trips back, and subscribers.
//!
//! - [`Wallet`]: create / restore / open, owner address, RSA fingerprint, balance.
//! - pairing (`pair_device`, `set_dup`) through the node's end-to-end encrypted mailbox.
//! - reading (`get_kv`, `get_kv_range`): verified, decrypted, cached for offline use.
//! - trips (`trips`, `trip`): trip-gps records decoded for the map view.
//! - export (`export`): a car's records of a period as one verifiable archive.
//! - owner records (`put_owner_record`, `update_owner_record`, `get_owner_record`,
//!   `owner_record_versions`, `list_owner_records`): the VIN and other records the owner
//!   enters by hand, versioned, read and granted like the car's.
//! - devices (`devices`, `device_status`, `reset_to`).
//! - requests (`pending_requests`, `approve`, `reject`, `grants`, `revoke`): data grants
//!   to service providers (see [`crate::grants`]).
//! - standing grants (`approve_as_of`, `sync_standing_grants`, `standing_grants`): a
//!   grant approved once that delivers each new period (see [`crate::grants::standing`]).
//! - subscribers (`add_subscriber`, `remove_subscriber`, `publish_channel`, `channel_ticket`,
//!   [`SubscriberReader`]): the seed's sideKey channel.
//! - [`WalletError`]: the typed errors of every wallet operation.

mod account_payments;
mod backup;
mod backup_file;
mod devices;
mod error;
mod export;
mod fee_stamps;
mod grant_inputs;
mod identity;
mod keyring;
mod ledger;
mod opening;
mod owner_format;
mod owner_record_error;
mod owner_records;
mod pairing;
mod reading;
mod requests;
mod stake;
mod standing_grants;
mod subscribers;
mod trips;
mod write_credentials;

pub use account_payments::{OWNER_READ_TOKEN_BATCH, PaymentError, SHARED_NODE_MODE};
pub use backup::RestoredCounts;
pub use backup_file::{BACKUP_VERSION, BackupError};
pub use devices::{DeviceInfo, DeviceStatusView};
pub use error::WalletError;
pub use fee_stamps::OWNER_FEE_STAMP_BATCH;
pub use identity::Wallet;
pub use owner_format::{
    OWNER_DAY_FIELD, OWNER_VERSION_FIELD, check_owner_format, day_number, owner_format, owner_key,
    versioned_spec,
};
pub use owner_record_error::OwnerRecordError;
pub use owner_records::{MAX_OWNER_VALUE_LEN, OwnerRecord, OwnerRecordList, OwnerRecordWrite};
pub use pairing::{MAILBOX_POLL_INTERVAL, PAIRING_TIMEOUT};
pub use reading::{DroppedRecord, KvRecord, RangeResult};
pub use requests::{Approval, COMPUTE_GAS_LIMIT, GrantInfo, PendingRequest};
pub use stake::StakeError;
pub use standing_grants::{StandingGrant, StandingSync};
pub use subscribers::{
    CHANNEL_FORMAT, ChannelReport, ChannelTicket, SubscribedDay, SubscribedRecord, SubscriberInfo,
    SubscriberReader,
};
pub use trips::{TripList, TripTrack};
