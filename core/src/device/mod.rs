//! The car side (`CarDevice`): first-boot keys, pairing, sealing and putting records under
//! the day's pool address, and an offline queue delivered when a node is reachable.

mod at_rest;
pub mod car_device;
pub mod credentials;
pub mod delivery;
pub mod error;
pub mod store;

pub use at_rest::DEVICE_MASTER_KEY_NAME;
pub use car_device::{CAR_READ_FUNDS, CAR_READ_TICKET_TRAVERSALS, CarDevice, car_read_funds};
pub use delivery::{
    DEFAULT_MAX_DELAY, DeliveryPacing, FlushReport, RefusedPut, SIGNATURE_OUTDATED,
};
pub use error::{DeviceError, DeviceStoreError};
pub use store::{DeviceStore, NewPut, QueuedPut};
