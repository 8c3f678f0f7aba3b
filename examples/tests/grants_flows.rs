//! End-to-end data grants against a real in-process node: an insurer registers, asks
//! for days of trips for a usage-based-insurance score, the owner approves with a
//! privacy zone and the insurer receives only the owner-signed score, checked against
//! the ledger; a dealer receives a copy of the car's VIN record, decrypts and verifies
//! it, is refused records it was not granted, and loses the grant on revocation; a
//! forged approval is refused by the wallet and by the ledger.
//!
//! The insurer's request is paid: its escrow moves the price from the insurer to the
//! owner once the insurer accepts the declared delivery (balances proven before and
//! after); a rejected paid request is refunded, and a priced request without an
//! escrow cannot be approved.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use std::time::Duration;

use carchain_core::compute::{
    FeatureParams, ProgramOutput, ShippedProgram, trip_features, ubi_score_native,
};
use carchain_core::crypto::HashFunc;
use carchain_core::grants::escrow_payment::{delivery_commitment, result_chunk_hashes};
use carchain_core::grants::provider::RequestOutcome;
use carchain_core::grants::{
    Delivery, GrantsError, Narrowing, Privilege, RequestTerms, ServiceProvider,
};
use carchain_core::protocol::fee_for;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::protocol::{
    DataRequest, DataResponse, EscrowDeliver, EscrowOpen, EscrowRef, EscrowStatus, Grant,
    GrantKind, RecordPut, Transfer, TxBody,
};
use carchain_core::trip::{PrivacyZone, Trip};
use carchain_core::wallet::Wallet;
use support::flows::{WORDS_A, WORDS_B, day, trip_range, wallet};
use support::grants_setup::{
    DAYS, GrantsWorld, assert_vin_copy, grants_world, provider, request_spec, trip_terms,
};
use support::{BASE_FEE, TestKey};

/// What the insurer pays for a UBI score.
const PRICE: u64 = 25_000;

/// What a provider's request costs it in fees: the DataRequest, the EscrowOpen of a
/// priced one, and the transfer funding the owner's inbox entry (its fee and amount).
fn request_fees(priced: bool) -> u64 {
    let escrow = if priced {
        fee_for(&TxBody::EscrowOpen(EscrowOpen {
            escrow_id: [0; 32],
            seller: String::new(),
            amount: PRICE,
            request_id: None,
        }))
    } else {
        0
    };
    let inbox_put = fee_for(&TxBody::RecordPut(RecordPut {
        address: String::new(),
        key: Vec::new(),
        format: String::new(),
        hash_func: HashFunc::Sha256,
        d_hash: [0; 32],
        c_hash: [0; 32],
        size: 32,
        wallet: true,
        stamp: None,
    }));
    let transfer = fee_for(&TxBody::Transfer(Transfer {
        to: String::new(),
        amount: inbox_put,
    }));
    BASE_FEE + escrow + transfer + inbox_put
}

/// A node funding the owner, the stranger and the providers (the owner's car paired,
/// with one trip a day for [`DAYS`] days and its VIN record).
async fn setup(owner: &Wallet, stranger: &Wallet, providers: &[&ServiceProvider]) -> GrantsWorld {
    let mut accounts = vec![stranger.owner_address()];
    accounts.extend(providers.iter().map(|p| p.address()));
    grants_world(owner, &accounts).await
}

/// [`setup`] for one provider, then registered as `name` for `purpose`, running
/// `programs`.
async fn setup_registered(
    owner: &Wallet,
    stranger: &Wallet,
    provider: &ServiceProvider,
    (name, purpose): (&str, &str),
    programs: Vec<[u8; 32]>,
) -> GrantsWorld {
    let world = setup(owner, stranger, &[provider]).await;
    provider
        .register(&world.ledger, name, purpose, programs)
        .await
        .expect("register");
    world
}

/// The balance of `address`, read through `light`.
async fn balance_of(light: &carchain_core::light::LightClient, address: &str) -> u64 {
    light.account(address).await.expect("account").balance
}

/// How the insurer registers.
const INSURER: (&str, &str) = ("Insurer", "pay-as-you-drive quotes");

/// The owner (test words A), the stranger (test words B), the insurer of account
/// `[byte; 32]` registered to run the UBI score, that program's hash, and their
/// [`setup_registered`] world.
async fn insurer_world(byte: u8) -> (Wallet, Wallet, ServiceProvider, [u8; 32], GrantsWorld) {
    let (owner, stranger, insurer) = (wallet(WORDS_A), wallet(WORDS_B), provider(byte));
    let ubi = ShippedProgram::UbiScore.program_hash().expect("hash");
    let world = setup_registered(&owner, &stranger, &insurer, INSURER, vec![ubi]).await;
    (owner, stranger, insurer, ubi, world)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insurer_receives_only_the_signed_score_of_privacy_zoned_trips() {
    let (owner, stranger, insurer, ubi, world) = insurer_world(0x41).await;
    let (ledger, car, trips) = (&world.ledger, &world.car, &world.trips);
    let light = ledger.light().clone();
    let insurer_before = balance_of(&light, &insurer.address()).await;
    let terms = trip_terms(1, DAYS, Delivery::Compute { code_hash: ubi });
    let request_id = insurer
        .request(
            ledger,
            &request_spec(
                &owner,
                terms.clone(),
                "a usage-based insurance quote",
                PRICE,
            ),
        )
        .await
        .expect("request");

    // The owner sees who asks, what, for which days, why and for how much.
    let pending = owner.pending_requests(ledger).await.expect("pending");
    assert_eq!(pending.len(), 1);
    let asked = &pending[0];
    assert_eq!(asked.request.request_id, request_id);
    assert_eq!(asked.provider.name, "Insurer");
    assert_eq!(asked.provider.code_hashes, vec![ubi]);
    assert_eq!(asked.request.purpose, "a usage-based insurance quote");
    assert_eq!(asked.terms, terms);
    assert_eq!(asked.request.price, PRICE);
    // The price is locked in the request's escrow, to the owner.
    let escrow = asked
        .escrow
        .as_ref()
        .expect("the request is paid into an escrow");
    assert_eq!(asked.request.escrow_id, Some(escrow.escrow_id));
    assert_eq!(escrow.status, EscrowStatus::Open);
    assert_eq!(escrow.amount, PRICE);
    assert_eq!(escrow.seller, owner.owner_address());
    assert_eq!(escrow.buyer, insurer.address());
    assert_eq!(
        balance_of(&light, &insurer.address()).await,
        insurer_before - PRICE - request_fees(true)
    );
    assert!(
        stranger
            .pending_requests(ledger)
            .await
            .expect("none")
            .is_empty(),
        "another wallet's inbox is empty"
    );

    // A forged approval: the stranger's wallet refuses to act, the ledger refuses a
    // DataResponse the owner did not sign.
    assert!(matches!(
        stranger
            .approve(ledger, &request_id, car.vid(), &Narrowing::default())
            .await,
        Err(GrantsError::NotAddressedToMe(_))
    ));
    let forger = TestKey::from_byte(0x77);
    let forged = forger.sign(
        0,
        BASE_FEE,
        TxBody::DataResponse(DataResponse {
            request_id,
            approved: true,
            grant_id: None,
        }),
    );
    assert!(
        light.submit(&forged, true).await.is_err(),
        "forged approval"
    );
    assert!(matches!(
        insurer.receive(ledger, &request_id).await,
        Err(GrantsError::NotDelivered(_))
    ));

    // Approved with a privacy zone around the start of day 1's trip.
    let home = trips[0].points[0];
    let zone = PrivacyZone::new(home.lat, home.lng, 300.0).expect("zone");
    let narrowing = Narrowing {
        privacy_zones: vec![zone],
        ..Narrowing::default()
    };
    let owner_before = balance_of(&light, &owner.owner_address()).await;
    let approval = owner
        .approve(ledger, &request_id, car.vid(), &narrowing)
        .await
        .expect("approve");
    assert_eq!(approval.records.len(), DAYS as usize);
    // Declared on the escrow, not yet paid: the insurer has not accepted.
    let declared = approval
        .payment
        .clone()
        .expect("a paid request is declared");
    assert_eq!(declared.amount, PRICE);
    let on_ledger = ledger
        .escrow(&declared.escrow_id)
        .await
        .expect("escrow")
        .expect("on the ledger");
    assert_eq!(on_ledger.status, EscrowStatus::Delivered);
    assert_eq!(on_ledger.d_hash_root, Some(declared.d_hash_root));

    let outcome = insurer
        .wait_for_result(ledger, &request_id, Duration::from_secs(30))
        .await
        .expect("result");
    let RequestOutcome::Result(received) = outcome else {
        panic!("a computation delivers a result, got {outcome:?}");
    };
    // The insurer checked the declared commitment against what it received, accepted,
    // and the escrow paid the owner the price.
    let paid = received.payment.clone().expect("paid");
    assert_eq!(paid.status, EscrowStatus::Released);
    let signed_bytes = received.signed.to_bytes().expect("bytes");
    assert_eq!(
        paid.d_hash_root,
        Some(delivery_commitment(&result_chunk_hashes(
            &received.opening.salt,
            &received.signed.result.input_d_hashes,
            &signed_bytes
        )))
    );
    // The owner paid the Grant, DataResponse and EscrowDeliver fees; the delivery
    // record's put fee is reimbursed to data producers while phase 1 lasts.
    let owner_fees = fee_for(&TxBody::Grant(Grant {
        grant_id: [0; 32],
        grantee_address: String::new(),
        records_commitment: [0; 32],
        copy_tags: Vec::new(),
        kind: GrantKind::Usage { code_hash: ubi },
        expires_at: None,
    })) + fee_for(&TxBody::DataResponse(DataResponse {
        request_id,
        approved: true,
        grant_id: None,
    })) + fee_for(&TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: declared.escrow_id,
        d_hash_root: declared.d_hash_root,
    }));
    let owner_after = balance_of(&light, &owner.owner_address()).await;
    assert_eq!(owner_after, owner_before + PRICE - owner_fees);
    let accept_fee = fee_for(&TxBody::EscrowAccept(EscrowRef {
        escrow_id: declared.escrow_id,
    }));
    assert_eq!(
        balance_of(&light, &insurer.address()).await,
        insurer_before - PRICE - request_fees(true) - accept_fee
    );
    // Receiving again reads the settled escrow and pays nothing more.
    let RequestOutcome::Result(again) = insurer.receive(ledger, &request_id).await.expect("again")
    else {
        panic!("a result");
    };
    assert_eq!(again.payment, Some(paid));
    assert_eq!(
        balance_of(&light, &owner.owner_address()).await,
        owner_after
    );
    // Signed by the owner's identity key over the registered input dHashes.
    assert_eq!(received.signed.result.program_hash, ubi);
    assert_eq!(received.inputs, approval.records);
    for (input, d_hash) in received
        .inputs
        .iter()
        .zip(&received.signed.result.input_d_hashes)
    {
        let registration = light
            .registration(&input.address, &input.key)
            .await
            .expect("registration")
            .expect("registered");
        assert_eq!(&registration.put.d_hash, d_hash);
    }
    // The score is the one of the trips with the zone trimmed, not of the raw trips.
    let features = |trips: &[Trip]| -> Vec<_> {
        trips
            .iter()
            .map(|t| trip_features(t, &FeatureParams::default()).expect("features"))
            .collect()
    };
    let trimmed: Vec<Trip> = trips
        .iter()
        .map(|t| t.trim_privacy_zones(&[zone]).expect("trim"))
        .collect();
    let Some(ProgramOutput::UbiScore(score)) = received.output() else {
        panic!("a UBI score, got {:?}", received.output());
    };
    assert_eq!(*score, ubi_score_native(&features(&trimmed)));
    assert_ne!(
        score.distance_m,
        ubi_score_native(&features(trips)).distance_m
    );

    // Answered: no longer pending; listed as the owner's grant.
    assert!(
        owner
            .pending_requests(ledger)
            .await
            .expect("pending")
            .is_empty()
    );
    let grants = owner.grants().expect("grants");
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].kind, "compute");
    assert_eq!(grants[0].grant_id, hex::encode(approval.grant_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_gets_a_copy_of_the_vin_record_and_nothing_else() {
    let owner = wallet(WORDS_A);
    let stranger = wallet(WORDS_B);
    let dealer = provider(0x42);
    let dealing = ("Dealer", "used-car valuations");
    let world = setup_registered(&owner, &stranger, &dealer, dealing, vec![]).await;
    let (ledger, car, _trips) = (&world.ledger, &world.car, &world.trips);
    let light = ledger.light().clone();

    let request_id = dealer
        .request(
            ledger,
            &request_spec(
                &owner,
                RequestTerms {
                    period: None,
                    formats: vec!["VIN_CODE".into(), "trip-gps".into()],
                    from: day(1),
                    to: day(DAYS),
                    privileges: vec![Privilege::LocationHistory, Privilege::Vin],
                    delivery: Delivery::Copy,
                },
                "valuation",
                0,
            ),
        )
        .await
        .expect("request");
    // The owner lets only the VIN record through.
    let approval = owner
        .approve(
            ledger,
            &request_id,
            car.vid(),
            &Narrowing {
                fields: Some(vec![Privilege::Vin]),
                ..Narrowing::default()
            },
        )
        .await
        .expect("approve");
    assert_eq!(approval.records.len(), 1);
    let outcome = dealer
        .wait_for_result(ledger, &request_id, Duration::from_secs(30))
        .await
        .expect("copy");
    let RequestOutcome::Copy(copy) = outcome else {
        panic!("a copy, got {outcome:?}");
    };
    assert_eq!(copy.records.len(), 1);
    assert_vin_copy(&light, &copy).await;
    let vin = &copy.records[0];

    // A trip of the same car was not granted: refused.
    let trip_record = trip_range(&owner, &light, car.vid(), (day(1), day(1)))
        .await
        .records
        .remove(0);
    assert!(matches!(
        dealer
            .read_granted(
                ledger,
                &request_id,
                &trip_record.address,
                &trip_record.stored_key
            )
            .await,
        Err(GrantsError::GrantRefused(_))
    ));
    // The granted one reads.
    assert_eq!(
        dealer
            .read_granted(ledger, &request_id, &vin.address, &vin.key)
            .await
            .expect("granted")
            .value,
        vin.value
    );

    // Revoked: the ledger shows it ended and the dealer's reads under it are refused.
    owner
        .revoke(ledger, &approval.grant_id)
        .await
        .expect("revoke");
    assert_eq!(owner.grants().expect("grants")[0].status, "revoked");
    assert!(matches!(
        dealer.receive(ledger, &request_id).await,
        Err(GrantsError::GrantRefused(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_paid_request_is_refunded_and_an_unpaid_one_cannot_be_approved() {
    let (owner, _stranger, insurer, ubi, world) = insurer_world(0x43).await;
    let (ledger, car, _trips) = (&world.ledger, &world.car, &world.trips);
    let light = ledger.light().clone();
    let terms = trip_terms(1, DAYS, Delivery::Compute { code_hash: ubi });
    let balance = |address: String| {
        let light = light.clone();
        async move { light.account(&address).await.expect("account").balance }
    };
    let insurer_before = balance(insurer.address()).await;
    let request_id = insurer
        .request(
            ledger,
            &request_spec(&owner, terms.clone(), "a quote", PRICE),
        )
        .await
        .expect("request");
    assert_eq!(
        balance(insurer.address()).await,
        insurer_before - PRICE - request_fees(true)
    );
    owner.reject(ledger, &request_id).await.expect("reject");
    // The ledger refunded the escrow: the insurer is out only its fees.
    let escrow = ledger
        .escrow(&carchain_core::grants::escrow_id_for(&request_id))
        .await
        .expect("escrow")
        .expect("on the ledger");
    assert_eq!(escrow.status, EscrowStatus::Refunded);
    assert_eq!(
        balance(insurer.address()).await,
        insurer_before - request_fees(true)
    );
    assert!(matches!(
        insurer
            .wait_for_result(ledger, &request_id, Duration::from_secs(5))
            .await,
        Ok(RequestOutcome::Rejected)
    ));

    // A priced request sent without an escrow: the wallet refuses to approve it, and
    // nothing is granted.
    let unpaid = [0x5a; 32];
    ledger
        .submit(
            &secret_key_from_bytes(&[0x43; 32]).expect("secret"),
            TxBody::DataRequest(DataRequest {
                request_id: unpaid,
                owner_address: owner.owner_address(),
                formats: vec!["trip-gps".into()],
                from_date: day(1).to_string(),
                to_date: day(DAYS).to_string(),
                fields: terms.to_fields(),
                purpose: "unpaid".into(),
                price: PRICE,
                expires_at: None,
            }),
        )
        .await
        .expect("unpaid request");
    match owner
        .approve(ledger, &unpaid, car.vid(), &Narrowing::default())
        .await
    {
        Err(GrantsError::PaymentMissing { price, .. }) => assert_eq!(price, PRICE),
        other => panic!("an unpaid request is refused, got {other:?}"),
    }
    assert!(owner.grants().expect("grants").is_empty());
}
