//! Tests of `subscribers`.

use super::*;

#[test]
fn subscriber_ids_are_checked() {
    assert!(check_subscriber_id("family-1").is_ok());
    for bad in ["", "has space", "ünï", &"x".repeat(65)] {
        assert!(
            matches!(
                check_subscriber_id(bad),
                Err(WalletError::InvalidSubscriber { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn each_channel_day_has_its_own_address_and_opaque_key() {
    let ticket = ChannelTicket { seed: [0x42; 32] };
    let d = |n| NaiveDate::from_ymd_opt(2024, 5, n).expect("date");
    assert_eq!(day_number(d(7)), 20_240_507);
    let network = crate::keys::Network::Regtest;
    let (_, a1, k1) = ticket.day_place(d(1), network).expect("day 1");
    let (_, a2, k2) = ticket.day_place(d(2), network).expect("day 2");
    assert_ne!(a1, a2);
    assert_ne!(k1, k2);
    assert_eq!(k1.len(), 16);
    // The key says nothing readable: not the day, not a subscriber id.
    assert!(!String::from_utf8_lossy(&k1).contains("2024"));
    let other = ChannelTicket { seed: [0x43; 32] };
    assert_ne!(other.day_place(d(1), network).expect("other").1, a1);
    // Stable: the same ticket finds the same place.
    assert_eq!(ticket.day_place(d(1), network).expect("again").1, a1);
}

#[test]
fn tickets_round_trip_as_text_and_hide_their_seed_in_debug() {
    let ticket = ChannelTicket { seed: [0x42; 32] };
    let text = ticket.to_text();
    assert!(text.starts_with("carchain-channel-v2:"));
    assert_eq!(ChannelTicket::parse(&text).expect("parse"), ticket);
    assert!(!format!("{ticket:?}").contains("4242"));
    for bad in [
        "",
        "carchain-channel-v2:zz",
        "carchain-channel-v1:00",
        &text[..40],
    ] {
        assert!(ChannelTicket::parse(bad).is_err(), "{bad}");
    }
}
