//! Tests of `grants_types`.

use super::*;
use crate::error::CarChainError;

#[test]
fn ids_parse_from_hex_and_bad_ones_are_typed() {
    let id = parse_id(&"0a".repeat(32), "request id").unwrap();
    assert_eq!(id, [0x0a; 32]);
    assert_eq!(
        parse_id(&format!(" {} ", "AB".repeat(32)), "id").unwrap(),
        [0xab; 32]
    );
    for bad in [
        "",
        "zz",
        &"0a".repeat(31),
        &"0a".repeat(33),
        &"g0".repeat(32),
    ] {
        let err = parse_id(bad, "request id").unwrap_err();
        assert_eq!(err.code(), "grants.invalid_id", "{bad}");
        assert!(matches!(err, CarChainError::InvalidInput { .. }));
        assert!(err.to_string().contains("request id"));
    }
}

#[test]
fn narrowing_converts_and_bad_parts_are_typed() {
    let narrowing = Narrowing {
        from_date: Some("2024-05-02".into()),
        to_date: Some("2024-05-03".into()),
        privileges: Some(vec![Privilege::LocationHistory, Privilege::Vin]),
        privacy_zones: vec![PrivacyZone {
            lat: 48.1,
            lng: 11.5,
            radius_m: 300.0,
        }],
        approximate: true,
        expires_at_ms: Some(1_717_000_000_000),
    };
    let core = narrowing.to_core().unwrap();
    let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
    assert_eq!(core.days, Some((day(2), day(3))));
    assert_eq!(
        core.fields,
        Some(vec![CorePrivilege::LocationHistory, CorePrivilege::Vin])
    );
    assert_eq!(core.privacy_zones.len(), 1);
    assert_eq!(core.privacy_zones[0].radius_m(), 300.0);
    assert!(core.approximate);
    assert_eq!(core.expires_at, Some(1_717_000_000_000));

    let none = Narrowing::default();
    assert_eq!(none.to_core().unwrap(), CoreNarrowing::default());

    let half = Narrowing {
        from_date: Some("2024-05-02".into()),
        ..none.clone()
    };
    assert_eq!(
        half.to_core().unwrap_err().code(),
        "grants.invalid_narrowing"
    );
    let bad_date = Narrowing {
        from_date: Some("2024-05-32".into()),
        to_date: Some("2024-05-03".into()),
        ..none.clone()
    };
    assert_eq!(bad_date.to_core().unwrap_err().code(), "input.invalid_date");
    let bad_zone = Narrowing {
        privacy_zones: vec![PrivacyZone {
            lat: 91.0,
            lng: 0.0,
            radius_m: 300.0,
        }],
        ..none
    };
    let err = bad_zone.to_core().unwrap_err();
    assert!(matches!(err, CarChainError::InvalidNarrowing { .. }));
    assert!(err.code().starts_with("trip."), "{}", err.code());
}

#[test]
fn stored_grants_convert_and_unknown_states_are_refused() {
    let stored = CoreGrantInfo {
        grant_id: "aa".repeat(32),
        request_id: "bb".repeat(32),
        provider: "bcrt1qprovider".into(),
        provider_name: "Insurer".into(),
        kind: "compute".into(),
        records: 3,
        status: "revoked".into(),
    };
    let info = GrantInfo::try_from(stored.clone()).unwrap();
    assert_eq!(info.kind, GrantKind::Compute);
    assert_eq!(info.status, GrantStatus::Revoked);
    assert_eq!(info.record_count, 3);
    assert_eq!(info.provider_name, "Insurer");
    let odd = CoreGrantInfo {
        status: "paused".into(),
        ..stored
    };
    assert_eq!(
        GrantInfo::try_from(odd).unwrap_err().code(),
        "grants.unknown_grant_state"
    );
}
