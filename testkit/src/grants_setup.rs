//! A grants world for the dealer, escrow and lifecycle tests: a real node whose
//! operator key the test holds (the root auditor), funded accounts, the owner's car
//! paired with one trip a day and its VIN record; deterministic providers; and the
//! owner's identity key derived from the published test words, for the grants the
//! wallet's approval does not make (a copy that may be resold, an expiring grant); the
//! owner's mileage claim and an auditor's copy of the trips it audits.

use bitcoin::secp256k1::SecretKey;
use carchain_core::compute::{FeatureParams, mileage_native, trip_features};
use carchain_core::device::CarDevice;
use carchain_core::grants::auditor::{Auditor, MileageClaim};
use carchain_core::grants::provider::{RequestOutcome, RequestSpec};
use carchain_core::grants::{
    Delivery, GrantsLedger, Narrowing, Privilege, ReceivedCopy, RequestTerms, ServiceProvider,
    grant_id_for,
};
use carchain_core::keys::ecc::{master_key, owner_identity_path};
use carchain_core::keys::{Mnemonic, Network, RsaBits, Seed, derive_key, derive_rsa_private_key};
use carchain_core::light::LightClient;
use carchain_core::protocol::signing::secret_key_from_bytes;
use carchain_core::protocol::{GrantRef, TxBody};
use carchain_core::record::FormatSpec;
use carchain_core::trip::Trip;
use carchain_core::wallet::Wallet;
use serde_json::{Value, json};
use std::time::Duration;

use crate::flows::{car, day, pair, trip_on};
use crate::past::{now_ms, past_chain};
use crate::{Mode, TestNode};

/// Days of trips the car drove.
pub const DAYS: u32 = 5;
/// Where the car's trips start.
pub const ORIGIN: (f64, f64) = (31.2, 121.4);
/// The car's VID.
pub const VID: &str = "VIN-DEALER-1";

/// The car's VIN record value.
pub fn vin_value() -> Value {
    json!({"VIN": "LSVAU2180N2183294", "MAKE": "SAIC", "YEAR": 2022})
}

/// A running node, its operator key, and the owner's paired car with its data.
pub struct GrantsWorld {
    /// The node.
    pub node: TestNode,
    /// The operator (root auditor) key.
    pub operator: SecretKey,
    /// A proven reader of grant state.
    pub ledger: GrantsLedger,
    /// The owner's car.
    pub car: CarDevice,
    /// The trips it wrote, day 1 to [`DAYS`].
    pub trips: Vec<Trip>,
    _car_dir: tempfile::TempDir,
}

/// Terms asking for the car's trips of days `from` to `to` (location history).
pub fn trip_terms(from: u32, to: u32, delivery: Delivery) -> RequestTerms {
    RequestTerms {
        period: None,
        formats: vec!["trip-gps".into()],
        from: day(from),
        to: day(to),
        privileges: vec![Privilege::LocationHistory],
        delivery,
    }
}

/// The renouncement of the grant that answers `request` (signed by its grantee).
pub fn renounce_body(request: &[u8; 32]) -> TxBody {
    TxBody::Renounce(GrantRef {
        grant_id: grant_id_for(request),
    })
}

/// An approval narrowed to the days `from` to `to` and nothing else.
pub fn days_narrowing(from: u32, to: u32) -> Narrowing {
    Narrowing {
        days: Some((day(from), day(to))),
        ..Narrowing::default()
    }
}

/// Terms asking for a copy of the car's VIN record (days 1 to [`DAYS`]).
pub fn vin_terms() -> RequestTerms {
    RequestTerms {
        period: None,
        formats: vec!["VIN_CODE".into()],
        from: day(1),
        to: day(DAYS),
        privileges: vec![Privilege::Vin],
        delivery: Delivery::Copy,
    }
}

/// A request to `owner` on `terms` for `purpose` at `price`, not expiring.
pub fn request_spec(owner: &Wallet, terms: RequestTerms, purpose: &str, price: u64) -> RequestSpec {
    RequestSpec {
        owner_address: owner.owner_address(),
        terms,
        purpose: purpose.into(),
        price,
        expires_at: None,
    }
}

/// The owner's claim over `trips` (days 1 to [`DAYS`] of car [`VID`]): the mileage
/// the native program measures on them.
pub fn mileage_claim(trips: &[Trip]) -> MileageClaim {
    let features: Vec<_> = trips
        .iter()
        .map(|t| trip_features(t, &FeatureParams::default()).expect("features"))
        .collect();
    let mileage = mileage_native(&features);
    MileageClaim {
        vid: VID.into(),
        from: day(1),
        to: day(DAYS),
        trips: mileage.trips,
        total_m: mileage.total_m,
    }
}

/// The auditor registers through `auditor_ledger` and asks `owner` for a free copy of
/// the car's trips (days 1 to [`DAYS`]) for an audit; the owner approves through
/// `owner_ledger` without narrowing; the copy the auditor receives.
pub async fn audit_copy(
    auditor: &ServiceProvider,
    auditor_ledger: &GrantsLedger,
    owner: &Wallet,
    owner_ledger: &GrantsLedger,
) -> ReceivedCopy {
    auditor
        .register(auditor_ledger, "Auditor", "mileage audits", vec![])
        .await
        .expect("register auditor");
    let request = auditor
        .request(
            auditor_ledger,
            &request_spec(owner, trip_terms(1, DAYS, Delivery::Copy), "audit", 0),
        )
        .await
        .expect("audit request");
    owner
        .approve(owner_ledger, &request, VID, &Narrowing::default())
        .await
        .expect("approve audit");
    received_copy(auditor, auditor_ledger, &request, "audit copy").await
}

/// The copy `provider` receives for its `request` (waiting up to 30 s); `what` names it
/// in a failure.
pub async fn received_copy(
    provider: &ServiceProvider,
    ledger: &GrantsLedger,
    request: &[u8; 32],
    what: &str,
) -> ReceivedCopy {
    let outcome = provider
        .wait_for_result(ledger, request, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let RequestOutcome::Copy(copy) = outcome else {
        panic!("{what}: a copy, got {outcome:?}");
    };
    *copy
}

/// Asserts that `copy` opens with the car's VIN record ([`vin_value`]), registered on
/// the ledger (read through `light`) under the d-hash the copy carries.
pub async fn assert_vin_copy(light: &LightClient, copy: &ReceivedCopy) {
    let vin = &copy.records[0];
    assert_eq!(vin.format, "VIN_CODE");
    assert_eq!(vin.value, vin_value());
    let registration = light
        .registration(&vin.address, &vin.key)
        .await
        .expect("registration")
        .expect("registered");
    assert_eq!(registration.put.d_hash, vin.d_hash);
}

/// The owner enters car `vid`'s VIN ([`vin_value`]) in the wallet (putWalKV) on day 1.
pub async fn put_vin(owner: &Wallet, light: &LightClient, vid: &str) {
    owner
        .put_owner_record(
            light,
            vid,
            day(1),
            &FormatSpec::vin_code(),
            &json!({"VEHICLE_DATA": 1}),
            &vin_value(),
        )
        .await
        .expect("put vin");
}

/// The account secret `[byte; 32]`.
pub fn secret(byte: u8) -> SecretKey {
    secret_key_from_bytes(&[byte; 32]).expect("secret")
}

/// A provider with account `[byte; 32]` and RSA key of seed `[byte; 64]`.
pub fn provider(byte: u8) -> ServiceProvider {
    let rsa = derive_rsa_private_key(&Seed::from_bytes([byte; 64]), RsaBits::B2048).expect("rsa");
    ServiceProvider::new(secret(byte), rsa, Network::Regtest)
}

/// An auditor with account `[byte; 32]` and RSA key of seed `[byte; 64]`.
pub fn auditor(byte: u8) -> Auditor {
    let rsa = derive_rsa_private_key(&Seed::from_bytes([byte; 64]), RsaBits::B2048).expect("rsa");
    Auditor::new(secret(byte), rsa, Network::Regtest)
}

/// The owner identity key of the wallet restored from `words` (no passphrase).
pub fn owner_secret(words: &str) -> SecretKey {
    let seed = Mnemonic::parse(words)
        .expect("words")
        .to_seed("")
        .expect("seed");
    let master = master_key(&seed, Network::Regtest).expect("master");
    let path = owner_identity_path(Network::Regtest).expect("path");
    *derive_key(&master, &path).expect("owner key").secret_key()
}

/// A grants ledger reading and submitting through `node` alone.
pub fn grants_ledger(node: &TestNode) -> GrantsLedger {
    GrantsLedger::new(node.client(), std::slice::from_ref(&node.base)).expect("ledger")
}

/// `car` drives one trip a day (session `d` on day `d`, from [`ORIGIN`]) for days 1 to
/// [`DAYS`] and delivers them through `light`; the trips.
pub async fn drive_days(car: &CarDevice, light: &LightClient) -> Vec<Trip> {
    let trips: Vec<Trip> = (1..=DAYS)
        .map(|d| trip_on(day(d), i64::from(d), ORIGIN))
        .collect();
    for (trip, d) in trips.iter().zip(1..) {
        car.put_trip(trip, 1, day(d)).expect("put trip");
    }
    car.flush(light).await.expect("flush");
    trips
}

/// Starts a node funding `owner` and `accounts` (1,000,000 each), pairs the owner's
/// car, writes a trip a day for [`DAYS`] days, and the owner puts the VIN record.
pub async fn grants_world(owner: &Wallet, accounts: &[String]) -> GrantsWorld {
    let mut funds = vec![(owner.owner_address(), 1_000_000u64)];
    funds.extend(accounts.iter().map(|a| (a.clone(), 1_000_000)));
    let funds: Vec<(&str, u64)> = funds.iter().map(|(a, n)| (a.as_str(), *n)).collect();
    let chain = past_chain(&funds, now_ms());
    let operator = chain.operator_secret;
    let node = chain.start(Mode::Private).await;
    let ledger = grants_ledger(&node);
    let light = ledger.light().clone();
    let car_dir = tempfile::tempdir().expect("dir");
    let car = car(&car_dir, VID);
    pair(owner, &light, &car, "dealer's car", 8).await;
    let trips = drive_days(&car, &light).await;
    // The owner enters the car's VIN in the wallet (putWalKV): an owner record of the
    // car, granted like the car's own records.
    put_vin(owner, &light, VID).await;
    GrantsWorld {
        node,
        operator,
        ledger,
        car,
        trips,
        _car_dir: car_dir,
    }
}
