//! The world of the standing-grant tests: a node funding an owner and its providers,
//! the owner's car paired, and the car driving a trip on given days; what a provider
//! received of a standing grant (a UBI score period), the wallet's sync, and a grant
//! that is over.

use carchain_core::compute::{ProgramOutput, UbiScore};
use carchain_core::device::CarDevice;
use carchain_core::grants::{
    GrantsLedger, PeriodContent, PeriodDelivery, ReceivedResult, ServiceProvider,
    StandingDeliveries,
};
use carchain_core::light::LightClient;
use carchain_core::protocol::GrantStatus;
use carchain_core::record::{FormatSpec, decode_key};
use carchain_core::wallet::{StandingSync, Wallet};
use chrono::NaiveDate;

use crate::flows::{car, day, pair, trip_on};
use crate::grants_setup::{ORIGIN, grants_ledger};
use crate::{Mode, TestNode, start_node};

/// A node funding the owner and `providers`, the owner's car paired.
pub async fn world(
    owner: &Wallet,
    providers: &[&ServiceProvider],
    dir: &tempfile::TempDir,
    vid: &str,
) -> (TestNode, GrantsLedger, CarDevice) {
    let mut funds = vec![(owner.owner_address(), 1_000_000u64)];
    funds.extend(providers.iter().map(|p| (p.address(), 1_000_000)));
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let node = start_node(&funds, Mode::Private).await;
    let ledger = grants_ledger(&node);
    let car = car(dir, vid);
    pair(owner, &node.client(), &car, "family car", 8).await;
    (node, ledger, car)
}

/// The car drives one trip on each of `days` (session = day) and uploads them.
pub async fn drive(car: &CarDevice, light: &LightClient, days: &[u32]) {
    for &d in days {
        car.put_trip(&trip_on(day(d), i64::from(d), ORIGIN), 1, day(d))
            .expect("put trip");
    }
    car.flush(light).await.expect("flush");
}

/// The sessions (= days) of the `trip-gps` records a copy delivery holds, in its order;
/// each record is checked to be a trip.
pub fn copy_sessions(delivery: &PeriodDelivery) -> Vec<i64> {
    let PeriodContent::Copy(copy) = &delivery.content else {
        panic!("a copy");
    };
    copy.records
        .iter()
        .map(|r| {
            assert_eq!(r.format, "trip-gps");
            decode_key(&FormatSpec::trip_gps(), &r.plain_key).expect("key")["SESSION_ID"]
                .as_i64()
                .expect("session")
        })
        .collect()
}

/// What one provider receives of one standing grant: `provider`'s deliveries of the
/// grant that answers `request` on `ledger`.
pub struct Feed<'a> {
    provider: &'a ServiceProvider,
    ledger: &'a GrantsLedger,
    request: [u8; 32],
}

impl<'a> Feed<'a> {
    /// The feed of `provider`'s standing grant `request` on `ledger`.
    pub fn new(provider: &'a ServiceProvider, ledger: &'a GrantsLedger, request: [u8; 32]) -> Self {
        Feed {
            provider,
            ledger,
            request,
        }
    }

    /// What the provider has received from `cursor` on, as of `today`; `what` names the
    /// read in a failure.
    pub async fn since(&self, cursor: u32, today: NaiveDate, what: &str) -> StandingDeliveries {
        self.provider
            .deliveries_since(self.ledger, &self.request, cursor, today)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

/// The owner's wallet syncs its standing grants as of `today`; `what` names the sync in
/// a failure.
pub async fn sync_grants(
    owner: &Wallet,
    ledger: &GrantsLedger,
    today: NaiveDate,
    what: &str,
) -> Vec<StandingSync> {
    owner
        .sync_standing_grants(ledger, today)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Asserts that a standing grant is over (`status`) and delivers nothing more.
pub fn assert_over(deliveries: &StandingDeliveries, status: GrantStatus) {
    assert!(!deliveries.in_force, "{status:?} but in force");
    assert_eq!(deliveries.anchor.status, status);
    assert!(
        deliveries.deliveries.is_empty(),
        "{status:?} yet delivering"
    );
}

/// A result period's result and its UBI score, checked to be one (at most 1,000).
pub fn ubi_result(delivery: &PeriodDelivery) -> (&ReceivedResult, &UbiScore) {
    let PeriodContent::Result(result) = &delivery.content else {
        panic!("a result");
    };
    let Some(ProgramOutput::UbiScore(score)) = result.output() else {
        panic!("a UBI score");
    };
    assert!(score.score <= 1000);
    (result, score)
}

/// The sync of grant `grant_id` in a wallet's sync report.
pub fn sync_of(synced: &[StandingSync], grant_id: [u8; 32]) -> &StandingSync {
    synced
        .iter()
        .find(|s| s.grant_id == grant_id)
        .unwrap_or_else(|| panic!("grant {} synced: {synced:?}", hex::encode(grant_id)))
}

/// Asserts that a wallet's sync saw its grant in `state` and delivered nothing.
pub fn assert_synced_nothing(sync: &StandingSync, state: &str) {
    assert_eq!(sync.state, state);
    assert!(sync.delivered.is_empty(), "{state} yet delivered: {sync:?}");
}
