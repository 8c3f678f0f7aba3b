//! Data grants, client side (the seed's `send` and `SMcontract`): a service provider
//! registers and asks an owner for data; the owner's wallet lists the request, approves
//! (optionally narrowed) or rejects it; the provider receives a copy of the records
//! (record keys re-wrapped for it, payloads untouched) or only a computation's signed
//! result, and checks everything against the ledger.
//!
//! - [`provider`]: [`ServiceProvider`], the provider's client.
//! - [`terms`]: privileges, [`RequestTerms`], the owner's [`Narrowing`].
//! - [`inbox`]: the owner's public request inbox, where providers leave request ids.
//! - [`delivery`]: the sealed delivery document the owner publishes for a provider.
//! - [`ledger`]: [`GrantsLedger`], proven reads of providers, requests, grants and
//!   escrows.
//! - [`standing`]: standing grants, delivered period by period until they end; the
//!   owner's side is `Wallet::sync_standing_grants`, the provider's
//!   `ServiceProvider::deliveries_since`.
//! - [`period`]: which stored records fall inside a grant's approved days.
//! - [`escrow_payment`]: the escrow paying for a priced request and the delivery's chunk
//!   commitment.
//! - [`escrow_client`]: both parties' escrow calls (open, declare, accept, dispute,
//!   answer the possession challenge, refund, release), each checked against the ledger.
//! - [`auditor`]: an appointed auditor's check and countersignature of a mileage claim.
//! - [`webhook`]: the provider's webhook registration and notification check.
//! - `error`: [`GrantsError`], the typed errors of all of the above.
//!
//! Only [`inbox`] and [`webhook`]'s formats are built without the `sdk` feature (the
//! node uses them); the rest is the SDK's.
//!
//! The owner's side is on the wallet (`Wallet::pending_requests`, `approve`, `reject`,
//! `grants`, `revoke`).

#[cfg(feature = "sdk")]
pub mod auditor;
#[cfg(feature = "sdk")]
pub mod delivery;
#[cfg(feature = "sdk")]
pub mod error;
#[cfg(feature = "sdk")]
pub mod escrow_client;
#[cfg(feature = "sdk")]
pub mod escrow_payment;
pub mod inbox;
#[cfg(feature = "sdk")]
pub mod ledger;
#[cfg(feature = "sdk")]
pub mod period;
#[cfg(feature = "sdk")]
pub mod provider;
#[cfg(feature = "sdk")]
mod provider_standing;
#[cfg(feature = "sdk")]
mod provider_webhook;
#[cfg(feature = "sdk")]
pub mod standing;
#[cfg(feature = "sdk")]
pub mod terms;
#[cfg(all(test, feature = "sdk"))]
pub(crate) mod test_keys;
pub mod webhook;

#[cfg(feature = "sdk")]
pub use delivery::{DELIVERY_FORMAT, DeliveredRecord, DeliveryDocument, grant_id_for};
#[cfg(feature = "sdk")]
pub use error::{GrantsError, GrantsResult};
#[cfg(feature = "sdk")]
pub use escrow_payment::{DeclaredDelivery, delivery_commitment, escrow_id_for};
pub use inbox::{INBOX_FORMAT, inbox_address, inbox_key, inbox_record_key};
#[cfg(feature = "sdk")]
pub use ledger::GrantsLedger;
#[cfg(feature = "sdk")]
#[cfg(feature = "sdk")]
pub use provider::{ReceivedCopy, ReceivedRecord, ReceivedResult, ServiceProvider};
#[cfg(feature = "sdk")]
pub use provider_standing::{PeriodContent, PeriodDelivery, StandingDeliveries};
#[cfg(feature = "sdk")]
pub use standing::{
    PeriodLength, StandingError, StandingPart, StandingPeriods, delivery_grant_id,
    delivery_request_id,
};
#[cfg(feature = "sdk")]
pub use terms::{ApprovedScope, ComputePeriod, Delivery, Narrowing, Privilege, RequestTerms};
