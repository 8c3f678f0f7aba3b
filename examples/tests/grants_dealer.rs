//! End-to-end dealer scenario against a real node on loopback: a dealer buys a copy of
//! the car's VIN record and requires an auditor's countersigned mileage claim before
//! completing; the auditor (a provider the chain's operator appointed) receives a copy
//! of the period's trips, checks the owner's claim against every address of the car's
//! committed pool, and countersigns it on the dealer's grant; the dealer checks the
//! attestation's signature and its record on the grant, then decrypts and verifies the
//! VIN and pays. The dealer's resale is refused (the copy came with `resell` false);
//! a copy granted with `resell` may be sold on once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

mod support;

use carchain_core::grants::auditor::{
    AuditError, MileageClaim, appoint_auditor, fetch_transaction, is_auditor,
    recorded_attestations, require_attestation,
};
use carchain_core::grants::{
    Delivery, GrantsError, GrantsLedger, Narrowing, RequestTerms, ServiceProvider,
};
use carchain_core::protocol::fee_for;
use carchain_core::protocol::{
    AuditorAttestation, DataResponse, EscrowDeliver, EscrowStatus, Grant, GrantKind, GrantOpening,
    RecordRef, TxBody,
};
use support::flows::{WORDS_A, wallet};
use support::grants_setup::{
    DAYS, VID, assert_vin_copy, auditor, days_narrowing, grants_world, mileage_claim, owner_secret,
    provider, received_copy, request_spec, secret, trip_terms, vin_terms,
};

const PRICE: u64 = 20_000;
const DEALER: u8 = 0x44;
const AUDITOR: u8 = 0x45;
const BUYER: u8 = 0x46;
const THIRD: u8 = 0x47;

fn trips_terms(to: u32) -> RequestTerms {
    trip_terms(1, to, Delivery::Copy)
}

/// A copy grant of `records` (with their copy tags) from the key `grantor` to
/// `grantee`: the ledger gets the commitment and the tags only.
async fn copy_grant(
    ledger: &GrantsLedger,
    grantor: &bitcoin::secp256k1::SecretKey,
    grantee: &ServiceProvider,
    id: u8,
    records: &(Vec<RecordRef>, Vec<[u8; 32]>),
    resell: bool,
) -> Result<(), GrantsError> {
    let opening = GrantOpening::new(
        grantee.rsa_fingerprint().expect("fingerprint"),
        records.0.clone(),
    )
    .expect("salt");
    ledger
        .submit(
            grantor,
            TxBody::Grant(Grant {
                grant_id: [id; 32],
                grantee_address: grantee.address(),
                records_commitment: opening.commitment(),
                copy_tags: records.1.clone(),
                kind: GrantKind::Copy { resell, dup: false },
                expires_at: None,
            }),
        )
        .await
        .map(|_| ())
}

fn refused_because(result: Result<(), GrantsError>, words: &str) {
    match result {
        Err(GrantsError::Light(err)) => assert!(err.to_string().contains(words), "{err}"),
        other => panic!("refused by the ledger ({words}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_buys_the_vin_with_an_audited_mileage_and_cannot_resell_it() {
    let owner = wallet(WORDS_A);
    let dealer = provider(DEALER);
    let auditor = auditor(AUDITOR);
    let (buyer, third) = (provider(BUYER), provider(THIRD));
    let accounts: Vec<String> = [&dealer, auditor.provider(), &buyer, &third]
        .iter()
        .map(|p| p.address())
        .collect();
    let world = grants_world(&owner, &accounts).await;
    let ledger = &world.ledger;
    let light = ledger.light().clone();

    // The dealer asks for the VIN record, paid into escrow.
    dealer
        .register(ledger, "Dealer", "used-car valuations", vec![])
        .await
        .expect("register dealer");
    let vin_request = dealer
        .request(
            ledger,
            &request_spec(&owner, vin_terms(), "trade-in valuation", PRICE),
        )
        .await
        .expect("vin request");
    let owner_before = light
        .account(&owner.owner_address())
        .await
        .expect("owner")
        .balance;
    let vin_approval = owner
        .approve(ledger, &vin_request, VID, &Narrowing::default())
        .await
        .expect("approve vin");
    assert_eq!(vin_approval.records.len(), 1);
    let dealer_grant = vin_approval.grant_id;

    // The owner's claim: the mileage of its trips over the period.
    let claim = mileage_claim(&world.trips);
    assert_eq!(claim.trips, u64::from(DAYS));
    assert!(claim.total_m > 1_000, "{claim:?}");
    // The dealer requires the countersignature before completing: none yet.
    assert!(
        recorded_attestations(ledger, &dealer_grant, &claim)
            .await
            .expect("attestations")
            .is_empty()
    );

    // The auditor registers as a provider and receives the trips of part of the
    // period only: the audit finds the other days' trips on the car's addresses.
    let auditor_provider = auditor.provider();
    auditor_provider
        .register(ledger, "Auditor", "mileage audits", vec![])
        .await
        .expect("register auditor");
    let partial = auditor_provider
        .request(
            ledger,
            &request_spec(&owner, trips_terms(DAYS), "mileage audit", 0),
        )
        .await
        .expect("partial request");
    owner
        .approve(ledger, &partial, VID, &days_narrowing(1, 3))
        .await
        .expect("approve partial");
    let partial_copy = received_copy(auditor_provider, ledger, &partial, "partial copy").await;
    let pool = owner.pool_disclosure(VID).expect("pool");
    match auditor
        .audit_mileage(ledger, &pool, &partial_copy, &claim)
        .await
    {
        Err(AuditError::Incomplete { missing }) => {
            // Exactly the approved days' trips were copied, one a day.
            assert_eq!(partial_copy.records.len(), 3);
            assert_eq!(missing, DAYS as usize - 3);
        }
        other => panic!("an incomplete copy is refused, got {other:?}"),
    }

    // The whole period: the claim checks out; a claim of other metres does not.
    let full = auditor_provider
        .request(
            ledger,
            &request_spec(&owner, trips_terms(DAYS), "mileage audit", 0),
        )
        .await
        .expect("full request");
    owner
        .approve(ledger, &full, VID, &Narrowing::default())
        .await
        .expect("approve full");
    let copy = received_copy(auditor_provider, ledger, &full, "copy").await;
    let inflated = MileageClaim {
        total_m: claim.total_m + 1,
        ..claim.clone()
    };
    assert!(matches!(
        auditor.audit_mileage(ledger, &pool, &copy, &inflated).await,
        Err(AuditError::ClaimMismatch { total_m, .. }) if total_m == claim.total_m
    ));
    let audited = auditor
        .audit_mileage(ledger, &pool, &copy, &claim)
        .await
        .expect("audit");
    assert_eq!(audited.addresses, 8);
    assert_eq!(audited.d_hashes.len(), DAYS as usize);
    for record in &copy.records {
        assert!(audited.d_hashes.contains(&record.d_hash));
    }

    // Not yet an auditor: the ledger refuses its countersignature.
    let subject = hex::encode(dealer_grant);
    assert!(!is_auditor(ledger, &auditor.address()).await.expect("flag"));
    assert!(matches!(
        auditor.countersign(ledger, &subject, &audited).await,
        Err(AuditError::Grants(GrantsError::Light(_)))
    ));
    // The operator (root auditor) appoints it; the dealer cannot countersign.
    appoint_auditor(ledger, &world.operator, &auditor.address())
        .await
        .expect("appoint");
    assert!(is_auditor(ledger, &auditor.address()).await.expect("flag"));
    let self_attested = ledger
        .submit(
            &secret(DEALER),
            TxBody::AuditorAttestation(AuditorAttestation {
                subject: subject.clone(),
                claim: "mileage-complete/v1".into(),
                commitment: [0x42; 32],
            }),
        )
        .await
        .map(|_| ());
    refused_because(self_attested, "auditor");
    let attestation = auditor
        .countersign(ledger, &subject, &audited)
        .await
        .expect("countersign");
    // What the ledger holds names neither the car nor its trips.
    let on_ledger = serde_json::to_string(&attestation.tx).expect("json");
    assert!(!on_ledger.contains(VID), "{on_ledger}");
    for d_hash in &audited.d_hashes {
        assert!(!on_ledger.contains(&hex::encode(d_hash)), "{on_ledger}");
    }
    // The auditor hands the opening to the dealer sealed to the dealer's key.
    let sealed = attestation
        .seal_for(&dealer.rsa_public_key())
        .expect("seal");

    // The dealer finds the countersignature on its grant, fetches the signed
    // transaction, opens the sealed countersignature and checks both.
    let recorded = recorded_attestations(ledger, &dealer_grant, &claim)
        .await
        .expect("attestations");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].auditor, auditor.address());
    let fetched = fetch_transaction(&world.node.base, &recorded[0].tx_id)
        .await
        .expect("fetch");
    assert_eq!(fetched, attestation.tx);
    let opened = dealer
        .open_countersignature(&sealed, &dealer_grant, &recorded[0].tx_id)
        .expect("open the countersignature");
    assert!(
        third
            .open_countersignature(&sealed, &dealer_grant, &recorded[0].tx_id)
            .is_err(),
        "sealed to the dealer only"
    );
    let verified = require_attestation(ledger, &dealer_grant, &claim, &fetched, &opened.opening)
        .await
        .expect("verified");
    assert_eq!(verified.auditor, auditor.address());
    assert_eq!(verified.d_hashes, audited.d_hashes);
    let other_claim = MileageClaim {
        trips: claim.trips - 1,
        ..claim.clone()
    };
    assert!(
        require_attestation(
            ledger,
            &dealer_grant,
            &other_claim,
            &fetched,
            &opened.opening
        )
        .await
        .is_err()
    );

    // Then it completes: decrypts and verifies the VIN, and pays.
    let vin_copy = received_copy(&dealer, ledger, &vin_request, "vin copy").await;
    assert_vin_copy(&light, &vin_copy).await;
    let vin = &vin_copy.records[0];
    assert_eq!(
        vin_copy.payment.as_ref().map(|p| p.status),
        Some(EscrowStatus::Released)
    );
    let owner_fees = fee_for(&TxBody::Grant(Grant {
        grant_id: [0; 32],
        grantee_address: String::new(),
        records_commitment: [0; 32],
        copy_tags: vec![[0; 32]],
        kind: GrantKind::Copy {
            resell: false,
            dup: false,
        },
        expires_at: None,
    })) + fee_for(&TxBody::DataResponse(DataResponse {
        request_id: vin_request,
        approved: true,
        grant_id: None,
    })) + fee_for(&TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: [0; 32],
        d_hash_root: [0; 32],
    }));
    let owner_after_vin = light
        .account(&owner.owner_address())
        .await
        .expect("owner")
        .balance;
    // The two free approvals for the auditor cost the owner their own fees.
    let free_approval_fees = 2
        * (owner_fees
            - fee_for(&TxBody::EscrowDeliver(EscrowDeliver {
                escrow_id: [0; 32],
                d_hash_root: [0; 32],
            })));
    assert_eq!(
        owner_after_vin,
        owner_before + PRICE - owner_fees - free_approval_fees
    );

    // Resale: the VIN copy came with resell = false.
    let vin_ref = (
        vec![RecordRef {
            address: vin.address.clone(),
            key: vin.key.clone(),
        }],
        vec![vin.copy_tag],
    );
    assert_eq!(vin_copy.grant.copy_tags, vec![vin.copy_tag]);
    refused_because(
        copy_grant(ledger, &secret(DEALER), &buyer, 0x71, &vin_ref, true).await,
        "may not be granted on",
    );
    // A copy granted with resell (and without dup) is sold on once.
    copy_grant(ledger, &owner_secret(WORDS_A), &buyer, 0x72, &vin_ref, true)
        .await
        .expect("a resellable copy");
    copy_grant(ledger, &secret(BUYER), &third, 0x73, &vin_ref, false)
        .await
        .expect("sold on once");
    refused_because(
        copy_grant(ledger, &secret(BUYER), &dealer, 0x74, &vin_ref, false).await,
        "may not be granted on",
    );
}
