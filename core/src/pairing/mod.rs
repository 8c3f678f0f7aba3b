//! The pairing protocol, shared by the car and the owner's wallet: the payload a car
//! shows on first boot ([`payload`]), the mailbox both sides compute from it and the
//! sealed messages left there ([`mailbox`]), the offer and the acceptance
//! ([`messages`]), and the device's pairing signature a `DeviceSetup` carries on the
//! ledger (re-exported from [`crate::protocol::pairing`]).
//!
//! The car's side of the flow is in [`crate::device::CarDevice`], the wallet's in
//! [`crate::wallet::Wallet::pair_device`]; both only call what is here.

pub mod error;
pub mod mailbox;
pub mod messages;
pub mod payload;

pub use crate::protocol::pairing::{PAIRING_DOMAIN, pairing_digest, sign_pairing};
pub use error::{MailboxError, PairingMessageError, PairingPayloadError};
pub use mailbox::{
    MAILBOX_FORMAT, MAILBOX_KEY_FIELDS, SEQ_ACCEPT, SEQ_OFFER, mailbox_address, mailbox_key,
    mailbox_record_key, open_with, seal_to,
};
pub use messages::{PairingAccept, PairingOffer, pool_commitment};
pub use payload::{PAIRING_PAYLOAD_VERSION, PairingPayload};
