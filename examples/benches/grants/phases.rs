//! The steps `Wallet::approve` runs, replayed one at a time through the public API and
//! timed, so the approval of a request splits into phases whose sum can be set beside
//! the whole `approve()` call on a twin request.
//!
//! Computation (usage grant): request checks (proven request, provider and escrow
//! reads), read + decrypt of the scope's trips (`Wallet::get_kv_range`: sync,
//! completeness, proofs, RSA unwraps, AEAD opens; then trip decoding; the proven
//! registrations carry the inputs' dHashes), the computation (features, EVM, owner signature) and the
//! submissions (`Grant`, sealed delivery record, `DataResponse`, `EscrowDeliver`).
//!
//! Copy (a plain one, no privacy zones: no payload is opened): the same checks; the
//! sealed records of the approved days listed from the ledger (`LightClient::records_at`
//! per address of the period, filtered by pool, signer, format and
//! `grants::period::record_in_period`); the epoch keys (one RSA-OAEP decryption per
//! epoch into a fresh `EpochKeyCache`); the record keys re-wrapped for the provider
//! (`rewrap_registered_record_key`: cached epoch key, HKDF, one RSA-OAEP encryption);
//! and the submissions (`Grant`, sealed delivery record, `DataResponse`).
//!
//! The owner's keys come from the same words as the wallet (`WalletKeys`); the
//! provider's RSA key is the one it registered.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use carchain_core::compute::{FeatureParams, ShippedProgram, compute_on_trips, trip_features};
use carchain_core::crypto::{
    Envelope, EpochKeyCache, RecordContext, owner_copy_tag, rewrap_registered_record_key,
};
use carchain_core::grants::delivery::{
    DELIVERY_VERSION, DeliveredRecord, DeliveryContent, DeliveryDocument, delivery_record_key,
};
use carchain_core::grants::escrow_payment::{
    check_funding, copy_chunk_hashes, delivery_commitment, result_chunk_hashes,
};
use carchain_core::grants::{
    DELIVERY_FORMAT, Delivery, GrantsLedger, Narrowing, RequestTerms, ServiceProvider, grant_id_for,
};
use carchain_core::keys::WalletKeys;
use carchain_core::light::VerifiedRecord;
use carchain_core::protocol::{
    DataResponse, EscrowDeliver, EscrowState, Grant, GrantKind, GrantOpening, RecordRef, TxBody,
};
use carchain_core::record::{TRIP_GPS, VIN_CODE};
use carchain_core::trip::Trip;
use carchain_core::wallet::{COMPUTE_GAS_LIMIT, Wallet};
use carchain_testkit::flows::trip_range;

/// The owner's side of one replayed approval.
pub struct Owner<'a> {
    /// The wallet (reads and decrypts).
    pub wallet: &'a Wallet,
    /// The same wallet's keys (signing, RSA).
    pub keys: &'a WalletKeys,
    /// The car.
    pub vid: &'a str,
}

/// The phases of an approved computation.
#[derive(Debug, Clone, Default)]
pub struct ComputePhases {
    /// Proven request, provider and escrow reads.
    pub checks: Duration,
    /// Read + decrypt of the trips, and their decoding.
    pub read_decrypt: Duration,
    /// Features, EVM execution and the owner's signature.
    pub compute: Duration,
    /// The `Grant`, the delivery record, the `DataResponse` and the `EscrowDeliver`.
    pub submit: Duration,
    /// Trips the computation read.
    pub records: usize,
}

impl ComputePhases {
    /// The phases added up.
    pub fn total(&self) -> Duration {
        self.checks + self.read_decrypt + self.compute + self.submit
    }
}

/// The phases of an approved copy.
#[derive(Debug, Clone, Default)]
pub struct CopyPhases {
    /// Proven request, provider and escrow reads.
    pub checks: Duration,
    /// The car's pool read from the wallet store, then the sealed records of the period
    /// listed from the ledger (`records_at` per address, proven) and filtered.
    pub list: Duration,
    /// The epoch keys of the listed records, unwrapped into a fresh cache.
    pub epoch_keys: Duration,
    /// The record keys re-wrapped for the provider, every epoch key cached.
    pub rewrap: Duration,
    /// The `Grant`, the delivery record and the `DataResponse`.
    pub submit: Duration,
    /// Records copied.
    pub records: usize,
    /// Addresses listed.
    pub addresses: usize,
    /// RSA-OAEP decryptions the epoch-key phase made (distinct epochs).
    pub unwraps: u64,
}

impl CopyPhases {
    /// The phases added up.
    pub fn total(&self) -> Duration {
        self.checks + self.list + self.epoch_keys + self.rewrap + self.submit
    }
}

/// The request's terms and escrow, proven, as `approve` checks them.
async fn checked_terms(
    owner: &Owner<'_>,
    ledger: &GrantsLedger,
    request_id: &[u8; 32],
) -> (RequestTerms, u64, Option<EscrowState>) {
    let request = ledger
        .request(request_id)
        .await
        .expect("request read")
        .expect("request on the ledger");
    assert_eq!(request.owner_address, owner.wallet.owner_address());
    let provider = ledger
        .provider(&request.requester)
        .await
        .expect("provider read")
        .expect("registered provider");
    assert!(!provider.rsa_public_der.is_empty());
    let terms = RequestTerms::parse(
        &request.formats,
        &request.from_date,
        &request.to_date,
        &request.fields,
    )
    .expect("terms");
    let escrow = match request.escrow_id {
        Some(id) => ledger.escrow(&id).await.expect("escrow read"),
        None => None,
    };
    if request.price > 0 {
        check_funding(
            escrow.as_ref(),
            &owner.wallet.owner_address(),
            request.price,
        )
        .expect("funded");
    }
    (terms, request.price, escrow)
}

/// Submits the grant, the sealed delivery and the answer, and declares a priced
/// delivery on its escrow: the submission phase of both kinds.
async fn submit_delivery(
    owner: &Owner<'_>,
    ledger: &GrantsLedger,
    request_id: &[u8; 32],
    provider: &ServiceProvider,
    grant: (GrantKind, Vec<RecordRef>, Vec<[u8; 32]>, [u8; 32]),
    content: DeliveryContent,
    paid: Option<(EscrowState, Vec<[u8; 32]>)>,
) {
    let secret = *owner.keys.owner_key().secret_key();
    let grant_id = grant_id_for(request_id);
    let opening = GrantOpening {
        salt: grant.3,
        grantee_rsa_fingerprint: provider.rsa_fingerprint().expect("fingerprint"),
        records: grant.1,
    };
    if ledger.grant(&grant_id).await.expect("grant read").is_none() {
        ledger
            .submit(
                &secret,
                TxBody::Grant(Grant {
                    grant_id,
                    grantee_address: provider.address(),
                    records_commitment: opening.commitment(),
                    copy_tags: grant.2,
                    kind: grant.0,
                    expires_at: None,
                }),
            )
            .await
            .expect("grant");
    }
    let sealed = DeliveryDocument {
        version: DELIVERY_VERSION,
        request_id: *request_id,
        grant_id,
        opening,
        content,
        standing: None,
    }
    .seal(&owner.wallet.owner_address(), &provider.rsa_public_key())
    .expect("seal");
    ledger
        .put_value(
            &secret,
            DELIVERY_FORMAT,
            delivery_record_key(request_id).expect("key"),
            &sealed,
        )
        .await
        .expect("delivery put");
    ledger
        .submit(
            &secret,
            TxBody::DataResponse(DataResponse {
                request_id: *request_id,
                approved: true,
                grant_id: Some(grant_id),
            }),
        )
        .await
        .expect("response");
    if let Some((escrow, chunks)) = paid {
        ledger
            .submit(
                &secret,
                TxBody::EscrowDeliver(EscrowDeliver {
                    escrow_id: escrow.escrow_id,
                    d_hash_root: delivery_commitment(&chunks),
                }),
            )
            .await
            .expect("escrow deliver");
    }
}

/// Approves computation request `request_id` step by step, timing each step.
pub async fn compute_in_phases(
    owner: &Owner<'_>,
    ledger: &GrantsLedger,
    request_id: &[u8; 32],
    provider: &ServiceProvider,
) -> ComputePhases {
    let mut phases = ComputePhases::default();
    let light = ledger.light();

    let t = Instant::now();
    let (terms, price, escrow) = checked_terms(owner, ledger, request_id).await;
    let scope = Narrowing::default().apply(&terms).expect("scope");
    let Delivery::Compute { code_hash } = scope.delivery else {
        panic!("a computation request");
    };
    let program = ShippedProgram::from_hash(&code_hash).expect("a shipped program");
    phases.checks = t.elapsed();

    let t = Instant::now();
    let read = trip_range(owner.wallet, light, owner.vid, (scope.from, scope.to)).await;
    let trips: Vec<Trip> = read
        .records
        .iter()
        .map(|record| Trip::decode(&record.key, &record.value).expect("trip"))
        .collect();
    phases.read_decrypt = t.elapsed();

    // The read proved each record's registration: its dHash comes with it.
    let d_hashes: Vec<[u8; 32]> = read.records.iter().map(|r| r.d_hash).collect();
    let inputs: Vec<RecordRef> = read
        .records
        .iter()
        .map(|record| RecordRef {
            address: record.address.clone(),
            key: record.stored_key.clone(),
        })
        .collect();

    let t = Instant::now();
    let result = compute_on_trips(
        program,
        &trips,
        d_hashes.clone(),
        &FeatureParams::default(),
        COMPUTE_GAS_LIMIT,
    )
    .expect("computation");
    let signed = result
        .sign_result(owner.keys.owner_key())
        .expect("sign")
        .to_bytes()
        .expect("bytes");
    phases.compute = t.elapsed();

    let t = Instant::now();
    let salt = GrantOpening::new([0; 32], Vec::new()).expect("salt").salt;
    let chunks = result_chunk_hashes(&salt, &d_hashes, &signed);
    let paid = escrow.filter(|_| price > 0).map(|escrow| (escrow, chunks));
    submit_delivery(
        owner,
        ledger,
        request_id,
        provider,
        (
            GrantKind::Usage { code_hash },
            inputs.clone(),
            Vec::new(),
            salt,
        ),
        DeliveryContent::Result {
            inputs,
            signed_result: signed,
        },
        paid,
    )
    .await;
    phases.submit = t.elapsed();
    phases.records = trips.len();
    phases
}

/// The EVM alone on `trips`: deploy the shipped UBI program and call it once, with the
/// features computed beforehand (not timed). Returns the time of deploy + call.
pub fn evm_only(trips: &[Trip]) -> Duration {
    let program = ShippedProgram::UbiScore;
    let features: Vec<_> = trips
        .iter()
        .map(|trip| trip_features(trip, &FeatureParams::default()).expect("features"))
        .collect();
    let bytecode = program.bytecode().expect("bytecode");
    let calldata = program.calldata(&features);
    let t = Instant::now();
    let execution = carchain_core::compute::DeployedProgram::deploy(&bytecode)
        .expect("deploy")
        .call(&calldata, COMPUTE_GAS_LIMIT)
        .expect("call");
    let elapsed = t.elapsed();
    program.decode(&execution.output).expect("a UBI score");
    elapsed
}

/// Re-wraps the key of every record in `listed` for `provider` without opening any
/// payload (`rewrap_registered_record_key`, the copy path's step), the epoch keys taken
/// from `cache`. Returns the delivered records, their dHashes and their copy tags
/// (sorted, distinct).
pub fn rewrap_all(
    keys: &WalletKeys,
    listed: &[VerifiedRecord],
    cache: &mut EpochKeyCache,
    provider: &ServiceProvider,
) -> (Vec<DeliveredRecord>, Vec<[u8; 32]>, Vec<[u8; 32]>) {
    let grantee = provider.rsa_public_key();
    let mut delivered = Vec::new();
    let mut d_hashes = Vec::new();
    let mut tags = Vec::new();
    for record in listed {
        let put = &record.registration.put;
        let ctx = RecordContext {
            address: &put.address,
            key_bytes: &put.key,
            format: &put.format,
        };
        let envelope = Envelope::from_bytes(&record.envelope).expect("envelope");
        tags.push(owner_copy_tag(&envelope, &ctx, keys.rsa_private_key(), cache).expect("tag"));
        let grant =
            rewrap_registered_record_key(&envelope, &ctx, keys.rsa_private_key(), cache, &grantee)
                .expect("rewrap");
        d_hashes.push(put.d_hash);
        delivered.push(DeliveredRecord {
            address: put.address.clone(),
            key: put.key.clone(),
            format: put.format.clone(),
            grant: grant.to_bytes().expect("grant bytes"),
        });
    }
    tags.sort_unstable();
    tags.dedup();
    (delivered, d_hashes, tags)
}

/// Fetches the stored envelope and registration of every record, proven.
pub async fn fetch_stored(ledger: &GrantsLedger, refs: &[RecordRef]) -> Vec<VerifiedRecord> {
    let mut stored = Vec::new();
    for record in refs {
        stored.push(
            ledger
                .light()
                .record(&record.address, &record.key)
                .await
                .expect("record read")
                .expect("stored"),
        );
    }
    stored
}

/// Approves copy request `request_id` step by step, timing each step: the listing is the
/// wallet's own (`Wallet::sealed_records_in`), the re-wrap and submission replay the rest
/// of the copy path.
pub async fn copy_in_phases(
    owner: &Owner<'_>,
    ledger: &GrantsLedger,
    request_id: &[u8; 32],
    provider: &ServiceProvider,
) -> CopyPhases {
    let mut phases = CopyPhases::default();

    let t = Instant::now();
    let (terms, price, escrow) = checked_terms(owner, ledger, request_id).await;
    let scope = Narrowing::default().apply(&terms).expect("scope");
    assert!(matches!(scope.delivery, Delivery::Copy));
    assert!(
        scope.privacy_zones.is_empty(),
        "a plain copy opens no payload"
    );
    phases.checks = t.elapsed();

    let t = Instant::now();
    let mut listed = Vec::new();
    for format in &scope.formats {
        if format != TRIP_GPS && format != VIN_CODE {
            continue;
        }
        let sealed = owner
            .wallet
            .sealed_records_in(ledger.light(), owner.vid, scope.from, scope.to, format)
            .await
            .expect("sealed records");
        listed.extend(sealed);
    }
    phases.list = t.elapsed();

    // A fresh cache, as a reopened wallet's: one RSA-OAEP decryption per epoch.
    let mut cache = EpochKeyCache::new();
    let t = Instant::now();
    for record in &listed {
        let envelope = Envelope::from_bytes(&record.envelope).expect("envelope");
        cache
            .epoch_key(envelope.wrapped_epoch_key(), owner.keys.rsa_private_key())
            .expect("epoch key");
    }
    phases.epoch_keys = t.elapsed();
    phases.unwraps = cache.stats().unwraps;

    let t = Instant::now();
    let (delivered, d_hashes, tags) = rewrap_all(owner.keys, &listed, &mut cache, provider);
    phases.rewrap = t.elapsed();
    assert_eq!(
        cache.stats().unwraps,
        phases.unwraps,
        "the re-wrap found every epoch key cached"
    );

    let t = Instant::now();
    let refs: Vec<RecordRef> = delivered
        .iter()
        .map(|d| RecordRef {
            address: d.address.clone(),
            key: d.key.clone(),
        })
        .collect();
    let salt = GrantOpening::new([0; 32], Vec::new()).expect("salt").salt;
    let paid = escrow
        .filter(|_| price > 0)
        .map(|escrow| (escrow, copy_chunk_hashes(&salt, &d_hashes)));
    submit_delivery(
        owner,
        ledger,
        request_id,
        provider,
        (
            GrantKind::Copy {
                resell: false,
                dup: false,
            },
            refs,
            tags,
            salt,
        ),
        DeliveryContent::Copy { records: delivered },
        paid,
    )
    .await;
    phases.submit = t.elapsed();
    phases.records = listed.len();
    phases.addresses = listed
        .iter()
        .map(|record| &record.registration.put.address)
        .collect::<BTreeSet<_>>()
        .len();
    phases
}
