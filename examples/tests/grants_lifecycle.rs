//! End-to-end life of a grant against a real node on loopback: a dealer holding a copy
//! of the car's VIN record reads it through its grant, and each way a grant ends stops
//! that: the owner revokes it, it expires, the dealer renounces it, or the owner hands
//! the car to a new owner (a device reset, which ends every grant the previous owner
//! made). Also refused: a replayed grant (same id, or the same signed transaction
//! again), a second approval of an answered request, and another provider reading the
//! dealer's grant.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::sync::Arc;
use std::time::Duration;

use carchain_core::clock::ManualClock;
use carchain_core::grants::provider::RequestOutcome;
use carchain_core::grants::{
    GrantsError, GrantsLedger, Narrowing, ReceivedRecord, ServiceProvider, grant_id_for,
};
use carchain_core::protocol::fee_for;
use carchain_core::protocol::{
    Grant, GrantKind, GrantOpening, GrantStatus, RecordRef, Transaction, TxBody,
};
use carchain_core::record::FormatSpec;
use carchain_core::wallet::Wallet;
use serde_json::json;
use support::flows::{WORDS_A, WORDS_B, day, wallet};
use support::grants_setup::{
    GrantsWorld, VID, grants_world, owner_secret, provider, received_copy, renounce_body,
    request_spec, secret, vin_terms, vin_value,
};
use support::past::now_ms;

const DEALER: u8 = 0x54;
const OTHER: u8 = 0x55;

async fn vin_request(ledger: &GrantsLedger, dealer: &ServiceProvider, owner: &Wallet) -> [u8; 32] {
    dealer
        .request(ledger, &request_spec(owner, vin_terms(), "valuation", 0))
        .await
        .expect("request")
}

/// The owner (test words A), the world funding the dealer and `extra`, the dealer
/// registered, and the VIN record's reference.
async fn world_with_dealer(
    extra: &[&ServiceProvider],
) -> (Wallet, GrantsWorld, ServiceProvider, RecordRef) {
    let owner = wallet(WORDS_A);
    let dealer = provider(DEALER);
    let mut accounts = vec![dealer.address()];
    accounts.extend(extra.iter().map(|p| p.address()));
    let world = grants_world(&owner, &accounts).await;
    dealer
        .register(&world.ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register");
    let vin = owner
        .get_owner_record(
            world.ledger.light(),
            VID,
            day(1),
            &FormatSpec::vin_code(),
            &json!({"VEHICLE_DATA": 1}),
            &[],
        )
        .await
        .expect("owner reads")
        .expect("the owner's VIN record");
    let reference = RecordRef {
        address: vin.address,
        key: vin.stored_key,
    };
    (owner, world, dealer, reference)
}

/// The dealer's request approved and its copy received; returns the request id.
async fn granted_copy(world: &GrantsWorld, owner: &Wallet, dealer: &ServiceProvider) -> [u8; 32] {
    let request = vin_request(&world.ledger, dealer, owner).await;
    owner
        .approve(&world.ledger, &request, VID, &Narrowing::default())
        .await
        .expect("approve");
    let outcome = dealer
        .wait_for_result(&world.ledger, &request, Duration::from_secs(30))
        .await
        .expect("copy");
    assert!(matches!(outcome, RequestOutcome::Copy(_)), "{outcome:?}");
    request
}

async fn read(
    world: &GrantsWorld,
    dealer: &ServiceProvider,
    request: &[u8; 32],
    vin: &RecordRef,
) -> Result<ReceivedRecord, GrantsError> {
    dealer
        .read_granted(&world.ledger, request, &vin.address, &vin.key)
        .await
}

fn assert_refused(result: Result<ReceivedRecord, GrantsError>, reason: &str) {
    match result {
        Err(GrantsError::GrantRefused(why)) => assert!(why.contains(reason), "{why}"),
        other => panic!("refused ({reason}), got {other:?}"),
    }
}

/// Asserts that the dealer reads the VIN record ([`vin_value`]) under `request`.
async fn assert_reads_vin(
    world: &GrantsWorld,
    dealer: &ServiceProvider,
    request: &[u8; 32],
    vin: &RecordRef,
) {
    let record = read(world, dealer, request, vin).await.expect("read");
    assert_eq!(record.value, vin_value());
}

/// Asserts that the dealer's read of `vin` under `request` is refused: the grant is
/// no longer in force.
async fn assert_no_longer_readable(
    world: &GrantsWorld,
    dealer: &ServiceProvider,
    request: &[u8; 32],
    vin: &RecordRef,
) {
    let result = read(world, dealer, request, vin).await;
    assert_refused(result, "no longer in force");
}

async fn ledger_status(world: &GrantsWorld, request: &[u8; 32]) -> GrantStatus {
    world
        .ledger
        .grant(&grant_id_for(request))
        .await
        .expect("grant")
        .expect("on the ledger")
        .status
}

fn ledger_refused<T: std::fmt::Debug>(result: Result<T, GrantsError>, code: &str) {
    match result {
        Err(GrantsError::Light(err)) => assert_eq!(err.node_code(), Some(code), "{err}"),
        other => panic!("refused by the ledger ({code}), got {other:?}"),
    }
}

/// A copy grant of `vin` (resale and duplicates not allowed) to `grantee`, as the owner
/// would sign it outside the wallet's approval.
fn vin_copy_grant(
    grant_id: [u8; 32],
    grantee: &ServiceProvider,
    vin: &RecordRef,
    expires_at: Option<u64>,
) -> TxBody {
    TxBody::Grant(Grant {
        grant_id,
        grantee_address: grantee.address(),
        records_commitment: GrantOpening::new(
            grantee.rsa_fingerprint().expect("fingerprint"),
            vec![vin.clone()],
        )
        .expect("salt")
        .commitment(),
        copy_tags: vec![[0x5a; 32]],
        kind: GrantKind::Copy {
            resell: false,
            dup: false,
        },
        expires_at,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_stops_the_dealer_reading_the_copy() {
    let (owner, world, dealer, vin) = world_with_dealer(&[]).await;
    let request = granted_copy(&world, &owner, &dealer).await;
    assert_reads_vin(&world, &dealer, &request, &vin).await;

    owner
        .revoke(&world.ledger, &grant_id_for(&request))
        .await
        .expect("revoke");
    assert_eq!(ledger_status(&world, &request).await, GrantStatus::Revoked);
    assert_no_longer_readable(&world, &dealer, &request, &vin).await;
    // Over: neither side can end it again, and the dealer cannot sell it on.
    ledger_refused(
        owner.revoke(&world.ledger, &grant_id_for(&request)).await,
        "invalid_request",
    );
    ledger_refused(
        world
            .ledger
            .submit(&secret(DEALER), renounce_body(&request))
            .await,
        "invalid_request",
    );
}

/// The provider judges a grant's expiry by its own clock: a dealer whose clock reads a
/// day ahead refuses a copy whose grant expires in an hour, one on the system clock
/// takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dealer_judges_expiry_by_its_own_clock() {
    let (owner, world, dealer, _vin) = world_with_dealer(&[]).await;
    let request = vin_request(&world.ledger, &dealer, &owner).await;
    let narrowing = Narrowing {
        expires_at: Some(now_ms() + 3_600_000),
        ..Narrowing::default()
    };
    owner
        .approve(&world.ledger, &request, VID, &narrowing)
        .await
        .expect("approve");
    let tomorrow = Arc::new(ManualClock::offset_from_now(86_400));
    let ahead = provider(DEALER).with_clock(tomorrow);
    let refused = ahead
        .wait_for_result(&world.ledger, &request, Duration::from_secs(30))
        .await
        .expect_err("expired by the dealer's clock");
    assert!(
        matches!(&refused, GrantsError::GrantRefused(reason) if reason.contains("expired")),
        "{refused:?}"
    );
    let on_time = dealer
        .wait_for_result(&world.ledger, &request, Duration::from_secs(30))
        .await
        .expect("in force by the system clock");
    assert!(matches!(on_time, RequestOutcome::Copy(_)), "{on_time:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_stops_the_dealer_reading_the_copy() {
    let (owner, world, dealer, vin) = world_with_dealer(&[]).await;
    let request = vin_request(&world.ledger, &dealer, &owner).await;
    // The owner approves with an expiry a few seconds ahead.
    let expires_at = now_ms() + 4_000;
    let approval = owner
        .approve(
            &world.ledger,
            &request,
            VID,
            &Narrowing {
                expires_at: Some(expires_at),
                ..Narrowing::default()
            },
        )
        .await
        .expect("approve");
    assert_eq!(approval.records, vec![vin.clone()]);
    let copy = received_copy(&dealer, &world.ledger, &request, "copy").await;
    assert_eq!(copy.grant.expires_at, Some(expires_at));
    assert_reads_vin(&world, &dealer, &request, &vin).await;

    let wait = expires_at.saturating_sub(now_ms()) + 200;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_refused(read(&world, &dealer, &request, &vin).await, "expired");
    // Expiry is not a transaction: the ledger still lists it active, past its time.
    assert_eq!(ledger_status(&world, &request).await, GrantStatus::Active);
    // A grant already expired by the ledger clock (the latest block's time) is refused.
    world.ledger.light().sync(&|_| {}).await.expect("sync");
    let ledger_clock = world
        .ledger
        .light()
        .verified_tip()
        .expect("tip")
        .expect("a header")
        .header
        .time;
    ledger_refused(
        world
            .ledger
            .submit(
                &owner_secret(WORDS_A),
                vin_copy_grant([0x9e; 32], &dealer, &vin, Some(ledger_clock - 1)),
            )
            .await,
        "invalid_request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renouncement_stops_the_dealer_reading_the_copy() {
    let other = provider(OTHER);
    let (owner, world, dealer, vin) = world_with_dealer(&[&other]).await;
    let request = granted_copy(&world, &owner, &dealer).await;
    let renounce = || renounce_body(&request);
    // Only the grantee renounces.
    ledger_refused(
        world.ledger.submit(&secret(OTHER), renounce()).await,
        "not_owner",
    );
    ledger_refused(
        world
            .ledger
            .submit(&owner_secret(WORDS_A), renounce())
            .await,
        "not_owner",
    );
    world
        .ledger
        .submit(&secret(DEALER), renounce())
        .await
        .expect("renounce");
    assert_eq!(
        ledger_status(&world, &request).await,
        GrantStatus::Renounced
    );
    assert_no_longer_readable(&world, &dealer, &request, &vin).await;
    ledger_refused(
        owner.revoke(&world.ledger, &grant_id_for(&request)).await,
        "invalid_request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_transfer_ends_the_grants_and_stops_the_dealer_reading() {
    let new_owner = wallet(WORDS_B);
    let (owner, world, dealer, vin) = world_with_dealer(&[]).await;
    let request = granted_copy(&world, &owner, &dealer).await;
    read(&world, &dealer, &request, &vin).await.expect("read");

    owner
        .reset_to(world.ledger.light(), VID, &new_owner.owner_address())
        .await
        .expect("transfer");
    let device = world
        .ledger
        .light()
        .device(VID)
        .await
        .expect("device")
        .expect("on the ledger");
    assert_eq!(device.owner_address, new_owner.owner_address());
    assert_eq!(ledger_status(&world, &request).await, GrantStatus::Ended);
    assert_no_longer_readable(&world, &dealer, &request, &vin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_grants_repeated_approvals_and_other_readers_are_refused() {
    let other = provider(OTHER);
    let (owner, world, dealer, vin) = world_with_dealer(&[&other]).await;
    other
        .register(&world.ledger, "Other", "another dealer", vec![])
        .await
        .expect("register other");
    let request = granted_copy(&world, &owner, &dealer).await;
    let light = world.ledger.light();

    // The same grant id again, even signed by the owner, is refused.
    let grant = |grant_id: [u8; 32]| vin_copy_grant(grant_id, &other, &vin, None);
    ledger_refused(
        world
            .ledger
            .submit(&owner_secret(WORDS_A), grant(grant_id_for(&request)))
            .await,
        "duplicate_value",
    );
    // The same signed grant transaction submitted twice lands once.
    let owner_key = owner_secret(WORDS_A);
    let nonce = light
        .account(&owner.owner_address())
        .await
        .expect("owner")
        .nonce;
    let body = grant([0x5d; 32]);
    let signed = Transaction {
        chain_id: light.anchor().chain_id.clone(),
        network: light.anchor().network,
        signer: carchain_core::protocol::signing::public_key_of(&owner_key),
        nonce,
        fee: fee_for(&body),
        body,
    }
    .sign(&owner_key)
    .expect("sign");
    light.submit(&signed, true).await.expect("first");
    let replayed = light.submit(&signed, true).await;
    assert!(
        matches!(
            replayed.as_ref().map_err(|e| e.node_code()),
            Err(Some("replay" | "bad_nonce"))
        ),
        "{replayed:?}"
    );
    // An answered request cannot be approved again.
    assert!(matches!(
        owner
            .approve(&world.ledger, &request, VID, &Narrowing::default())
            .await,
        Err(GrantsError::RequestClosed { .. })
    ));
    // Another provider cannot read through the dealer's grant.
    let stolen = other
        .read_granted(&world.ledger, &request, &vin.address, &vin.key)
        .await;
    assert!(stolen.is_err(), "{stolen:?}");
    assert!(
        matches!(
            other.receive(&world.ledger, &request).await,
            Err(GrantsError::DeliveryRefused(_))
        ),
        "the request is the dealer's"
    );
}
