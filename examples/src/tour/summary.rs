//! `summary.json`: what the tour did, machine-readable, so a test can check it against
//! what was simulated.

use serde::{Deserialize, Serialize};

/// Milliseconds spent in each step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// Restoring the example wallet on three networks.
    pub wallet_facts_ms: u64,
    /// Creating the owner wallet.
    pub wallet_create_ms: u64,
    /// Creating and starting the node.
    pub node_start_ms: u64,
    /// Pairing both cars.
    pub pairing_ms: u64,
    /// Sealing, signing and delivering every record.
    pub put_ms: u64,
    /// Reading every car-day back.
    pub read_days_ms: u64,
    /// The range reads.
    pub read_range_ms: u64,
    /// Rendering maps and exports.
    pub maps_ms: u64,
    /// The insurer's request, the approval, the delivery and the payment.
    #[serde(default)]
    pub ubi_ms: u64,
    /// The whole tour.
    pub total_ms: u64,
}

/// One car's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarSummary {
    /// The car.
    pub vid: String,
    /// Trips it put.
    pub trips_put: u64,
    /// Parking violations it put.
    pub violations_put: u64,
    /// Harsh brakes in its trips.
    pub harsh_brakes: u64,
    /// Trips the range read returned.
    pub range_trips_read: u64,
    /// Distance driven, km.
    pub distance_km: f64,
    /// Distinct pool addresses its trips went to: one per day with trips, fewer when the
    /// pool gives two days the same address.
    pub addresses_used: u64,
    /// Days on which it drove.
    pub days_with_trips: u64,
}

/// The insurer's UBI request step: asked, approved with a privacy zone, delivered and
/// paid through escrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UbiStep {
    /// `delivered` once the insurer received the signed score and paid.
    pub status: String,
    /// What happened, in a sentence.
    pub note: String,
    /// The UBI score (0..=1000, higher is safer), as the insurer received it.
    pub score: u64,
    /// Trips the score was computed over (after the home privacy zone).
    pub trips_used: u64,
    /// The price the insurer paid.
    pub price: u64,
    /// The owner's proven balance before approving.
    pub owner_balance_before: u64,
    /// The owner's proven balance once the insurer accepted the delivery.
    pub owner_balance_after: u64,
}

/// Everything the tour did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourSummary {
    /// The chain.
    pub chain_id: String,
    /// Days simulated.
    pub days: u32,
    /// First day.
    pub first_day: String,
    /// Per car.
    pub cars: Vec<CarSummary>,
    /// Records the node acknowledged.
    pub records_put: u64,
    /// Trips put.
    pub trips_put: u64,
    /// Violations put.
    pub violations_put: u64,
    /// Trips read back day by day and decoded.
    pub trips_read: u64,
    /// Violations read back day by day.
    pub violations_read: u64,
    /// Trips returned by the range reads.
    pub range_records: u64,
    /// Every record put was read back, decrypted and equal.
    pub all_read_back: bool,
    /// What did not match, if anything.
    pub mismatches: Vec<String>,
    /// Plaintext bytes of the values put.
    pub value_bytes: u64,
    /// The owner's genesis funding.
    pub owner_funded: u64,
    /// The owner's balance at the end.
    pub owner_balance: u64,
    /// The node operator's balance at the end.
    pub operator_balance: u64,
    /// The UBI step.
    pub ubi: UbiStep,
    /// Files written to the output folder.
    pub files: Vec<String>,
    /// Timings.
    pub timings: Timings,
}
