//! The car side (`CarDevice`): first-boot keys, pairing, sealing and putting records under
//! the day's pool address, and an offline queue delivered when a node is reachable.

mod at_rest;
pub mod car_device;
pub mod credentials;
pub mod delivery;
pub mod error;
pub mod mailbox;
pub mod pairing_messages;
pub mod pairing_payload;
pub mod store;

pub use at_rest::DEVICE_MASTER_KEY_NAME;
pub use car_device::{CAR_READ_FUNDS, CAR_READ_TICKET_TRAVERSALS, CarDevice};
pub use delivery::{
    DEFAULT_MAX_DELAY, DeliveryPacing, FlushReport, RefusedPut, SIGNATURE_OUTDATED,
};
pub use error::{
    DeviceError, DeviceStoreError, MailboxError, PairingMessageError, PairingPayloadError,
};
pub use mailbox::{
    MAILBOX_FORMAT, MAILBOX_KEY_FIELDS, SEQ_ACCEPT, SEQ_OFFER, mailbox_address, mailbox_key,
    mailbox_record_key, open_with, seal_to,
};
pub use pairing_messages::{PairingAccept, PairingOffer, pool_commitment};
pub use pairing_payload::{PAIRING_PAYLOAD_VERSION, PairingPayload};
pub use store::{DeviceStore, NewPut, QueuedPut};
