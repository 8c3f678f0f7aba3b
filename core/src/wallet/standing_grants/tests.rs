//! Unit tests of the standing-grant row: old rows still read, ledger states map to the
//! store's.

use super::row::{state_of, store_status};
use super::*;
use crate::grants::standing::PeriodLength;
use crate::protocol::{GrantStatus, RecordRef};

#[test]
fn a_row_saved_before_late_uploads_and_months_still_reads() {
    // A row as the first version of standing grants saved it.
    let old = r#"{"grant_id":"aa","request_id":"bb","vid":"V","provider":"bcrt1qp",
        "provider_rsa":"cc","periods_from":"2024-05-01","periods_to":"2024-05-28",
        "period_days":7,"from":"2024-05-01","to":"2024-05-28",
        "privileges":["location_history"],"formats":["trip-gps"],"privacy_zones":[],
        "approximate_decimals":null,"code_hash":null,"expires_at":null,
        "next_period":2,"delivered":[0,1],"state":"active"}"#;
    let row: StandingGrant = serde_json::from_str(old).expect("old row");
    assert_eq!(row.next_delivery, 0);
    assert!(row.sent.is_empty());
    assert!(!row.calendar_months);
    let periods = row.periods().expect("periods");
    assert_eq!(periods.length, PeriodLength::Days(7));
    assert_eq!(periods.count(), 4);
    // A new row round-trips with its history.
    let mut new = row.clone();
    new.sent.insert(
        1,
        vec![RecordRef {
            address: "bcrt1qdata".into(),
            key: vec![1, 2],
        }],
    );
    new.calendar_months = true;
    let json = serde_json::to_string(&new).expect("json");
    assert_eq!(
        serde_json::from_str::<StandingGrant>(&json).expect("again"),
        new
    );
}

#[test]
fn ledger_states_map_to_standing_states() {
    assert_eq!(state_of(GrantStatus::Active, None, 10), "active");
    assert_eq!(state_of(GrantStatus::Active, Some(11), 10), "active");
    assert_eq!(state_of(GrantStatus::Active, Some(10), 10), "expired");
    assert_eq!(state_of(GrantStatus::Revoked, None, 10), "revoked");
    assert_eq!(state_of(GrantStatus::Renounced, None, 10), "renounced");
    assert_eq!(state_of(GrantStatus::Ended, None, 10), "ended");
    for state in [
        "active",
        "finished",
        "revoked",
        "renounced",
        "ended",
        "expired",
    ] {
        assert!(crate::store::GRANT_STATUSES.contains(&store_status(state)));
    }
}
