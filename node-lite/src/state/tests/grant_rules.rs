//! Rule tests of the data-sharing kinds: requests and answers, grants and their ends,
//! copy rights, escrow paths with their deadlines and the possession challenge, and
//! auditor attestations. One test per rule and per refusal.

use std::collections::HashMap;

use carchain_core::protocol::{
    AuditorAttestation, DataRequest, DataResponse, EscrowDeliver, EscrowOpen, EscrowRef,
    EscrowResolve, EscrowState, EscrowStatus, Grant, GrantKind, GrantRef, GrantState, GrantStatus,
    PossessionProof, ProviderRegister, ProviderState, RequestState, RequestStatus,
    SignedTransaction, TxBody, challenge_seed, chunk_commitment, state_key,
};

use super::super::escrow::{
    CHALLENGE_WINDOW_MS, DELIVERY_WINDOW_MS, LOCKED_META, REVIEW_WINDOW_MS,
};
use super::super::grants::in_force;
use super::*;

const OWNER: u8 = 1;
const PROVIDER: u8 = 2;
const OTHER: u8 = 3;
const DATA: u8 = 6;
const CLOCK: u8 = 9;
const OPERATOR: u8 = 0x77; // secret(0x77) is the test validator's key.

struct Ledger {
    chain: Chain,
    nonces: HashMap<u8, u64>,
}

impl Ledger {
    fn new() -> Self {
        let chain = Chain::new(
            1_000_000,
            &[
                (OWNER, 10_000),
                (PROVIDER, 10_000),
                (OTHER, 10_000),
                (CLOCK, 10_000),
            ],
        );
        Self {
            chain,
            nonces: HashMap::new(),
        }
    }

    fn signed(&self, by: u8, body: TxBody) -> SignedTransaction {
        // A one-byte record put pays the base fee plus a byte.
        let fee = if matches!(body, TxBody::RecordPut(_)) {
            11
        } else {
            10
        };
        sign(by, self.nonces.get(&by).copied().unwrap_or(0), fee, body)
    }

    /// Runs `body` signed by `by` in a block `wait` ms after the previous one.
    fn run_after(&mut self, wait: u64, by: u8, body: TxBody) -> Result<TxOutcome, TxError> {
        let tx = self.signed(by, body);
        let chain = &mut self.chain;
        let time = chain.prev.header.time + wait;
        let mut result = produce_block(
            &mut chain.app,
            &chain.db,
            &chain.key,
            &chain.prev,
            &[tx],
            time,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        if let Some(header) = &result.header {
            chain.prev = header.clone();
        }
        let outcome = match result.outcomes.pop() {
            Some(Ok((_, outcome))) => Ok(outcome),
            Some(Err(err)) => Err(err),
            None => panic!("no outcome"),
        };
        if outcome.is_ok() {
            *self.nonces.entry(by).or_insert(0) += 1;
        }
        outcome
    }

    fn run(&mut self, by: u8, body: TxBody) -> Result<TxOutcome, TxError> {
        self.run_after(1000, by, body)
    }

    fn ok(&mut self, by: u8, body: TxBody) {
        let kind = body.kind_name();
        if let Err(err) = self.run(by, body) {
            panic!("{kind}: {err}");
        }
    }

    /// Advances the ledger clock by `ms` (a block holding a zero transfer).
    fn tick(&mut self, ms: u64) {
        if let Err(err) = self.run_after(ms, CLOCK, transfer(CLOCK, 0)) {
            panic!("{err}");
        }
    }

    /// The ledger clock the next transaction sees.
    fn now(&self) -> u64 {
        self.chain.prev.header.time
    }

    fn balance(&self, byte: u8) -> u64 {
        self.chain.account(byte).balance
    }

    fn grant(&self, id: u8) -> GrantState {
        self.chain
            .get(state_key::grant(&[id; 32]))
            .unwrap_or_else(|| panic!("no grant"))
    }

    fn request(&self, id: u8) -> RequestState {
        self.chain
            .get(state_key::request(&[id; 32]))
            .unwrap_or_else(|| panic!("no request"))
    }

    fn escrow(&self, id: u8) -> EscrowState {
        self.chain
            .get(state_key::escrow(&[id; 32]))
            .unwrap_or_else(|| panic!("no escrow"))
    }

    fn locked(&self) -> u64 {
        self.chain.get(state_key::meta(LOCKED_META)).unwrap_or(0)
    }

    fn register(&mut self, by: u8) {
        self.ok(
            by,
            TxBody::ProviderRegister(ProviderRegister {
                name: format!("provider {by}"),
                description: "usage-based insurance".into(),
                rsa_public_der: vec![0x30, 0x01],
                code_hashes: vec![],
            }),
        );
    }

    /// Registers records `keys` under the data address.
    fn put_records(&mut self, keys: &[&[u8]]) {
        for key in keys {
            self.ok(DATA, put(DATA, key, 1));
        }
    }
}

/// The copy tag of the test's one record (an HMAC under its key in real grants; any
/// 32 bytes to the ledger).
const TAG: [u8; 32] = [0xa7; 32];

fn grant_body(id: u8, to: u8, kind: GrantKind, expires_at: Option<u64>) -> TxBody {
    let copy_tags = match kind {
        GrantKind::Usage { .. } => Vec::new(),
        _ => vec![TAG],
    };
    TxBody::Grant(Grant {
        grant_id: [id; 32],
        grantee_address: address(to),
        records_commitment: [0xf0; 32],
        copy_tags,
        kind,
        expires_at,
    })
}

fn copy(resell: bool, dup: bool) -> GrantKind {
    GrantKind::Copy { resell, dup }
}

fn request_body(id: u8, price: u64, expires_at: Option<u64>) -> TxBody {
    TxBody::DataRequest(DataRequest {
        request_id: [id; 32],
        owner_address: address(OWNER),
        formats: vec!["trip-gps".into()],
        from_date: "2024-01-01".into(),
        to_date: "2024-01-30".into(),
        fields: vec!["START_TIME".into()],
        purpose: "UBI quote".into(),
        price,
        expires_at,
    })
}

fn response(id: u8, approved: bool, grant_id: Option<u8>) -> TxBody {
    TxBody::DataResponse(DataResponse {
        request_id: [id; 32],
        approved,
        grant_id: grant_id.map(|g| [g; 32]),
    })
}

fn open(id: u8, seller: u8, amount: u64, request: Option<u8>) -> TxBody {
    TxBody::EscrowOpen(EscrowOpen {
        escrow_id: [id; 32],
        seller: address(seller),
        amount,
        request_id: request.map(|r| [r; 32]),
    })
}

fn escrow_ref(id: u8) -> EscrowRef {
    EscrowRef {
        escrow_id: [id; 32],
    }
}

fn chunks() -> Vec<[u8; 32]> {
    (0u8..6)
        .map(|i| carchain_core::protocol::hashing::sha256(&[b"chunk", &[i]]))
        .collect()
}

fn deliver(id: u8) -> TxBody {
    TxBody::EscrowDeliver(EscrowDeliver {
        escrow_id: [id; 32],
        d_hash_root: chunk_commitment(&chunks()),
    })
}

fn resolve(id: u8, seller_proved: bool, proof: Option<PossessionProof>) -> TxBody {
    TxBody::EscrowResolve(EscrowResolve {
        escrow_id: [id; 32],
        seller_proved,
        proof,
    })
}

fn code(result: Result<TxOutcome, TxError>) -> Option<ErrorCode> {
    result.err().map(|e| e.code())
}

// ---- data requests and responses ----

#[test]
fn a_request_needs_a_registered_provider_and_is_stored_open() {
    let mut ledger = Ledger::new();
    assert!(matches!(
        ledger.run(PROVIDER, request_body(0xa1, 0, None)),
        Err(TxError::UnknownProvider { .. })
    ));
    ledger.register(PROVIDER);
    ledger.ok(PROVIDER, request_body(0xa1, 0, None));
    let stored = ledger.request(0xa1);
    assert_eq!(stored.status, RequestStatus::Open);
    assert_eq!(stored.requester, address(PROVIDER));
    assert_eq!(stored.owner_address, address(OWNER));
    assert_eq!(stored.escrow_id, None);
}

#[test]
fn a_request_id_is_used_once_and_bad_requests_are_refused() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.ok(PROVIDER, request_body(0xa1, 0, None));
    assert!(matches!(
        ledger.run(PROVIDER, request_body(0xa1, 0, None)),
        Err(TxError::DuplicateId {
            what: "request",
            ..
        })
    ));
    let past = ledger.now();
    assert!(matches!(
        ledger.run(PROVIDER, request_body(0xa2, 0, Some(past))),
        Err(TxError::Expired { .. })
    ));
    let TxBody::DataRequest(mut no_formats) = request_body(0xa3, 0, None) else {
        panic!("kind")
    };
    no_formats.formats.clear();
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::DataRequest(no_formats.clone())),
        Err(TxError::Invalid(_))
    ));
    no_formats.formats = vec!["trip-gps".into()];
    no_formats.owner_address = address(PROVIDER);
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::DataRequest(no_formats)),
        Err(TxError::Invalid(_))
    ));
}

#[test]
fn only_the_owner_asked_answers_a_request_and_only_once() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.ok(PROVIDER, request_body(0xa1, 0, None));
    // A forged approval, signed by someone else, is refused.
    assert_eq!(
        ledger.run(OTHER, response(0xa1, true, None)).err(),
        Some(TxError::NotOwner)
    );
    assert_eq!(
        ledger.run(PROVIDER, response(0xa1, true, None)).err(),
        Some(TxError::NotOwner)
    );
    ledger.ok(OWNER, response(0xa1, true, None));
    assert_eq!(ledger.request(0xa1).status, RequestStatus::Approved);
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, false, None)),
        Err(TxError::WrongStatus { .. })
    ));
    assert_eq!(
        code(ledger.run(OWNER, response(0xa9, true, None))),
        Some(ErrorCode::NotFound)
    );
}

#[test]
fn an_expired_request_cannot_be_answered() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    let expiry = ledger.now() + 5_000;
    ledger.ok(PROVIDER, request_body(0xa1, 0, Some(expiry)));
    ledger.tick(10_000);
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, true, None)),
        Err(TxError::Expired { .. })
    ));
}

#[test]
fn an_approval_naming_a_grant_needs_the_owners_grant_to_the_requester() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.put_records(&[b"r1"]);
    ledger.ok(PROVIDER, request_body(0xa1, 0, None));
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, true, Some(0x51))),
        Err(TxError::NotFound { what: "grant", .. })
    ));
    ledger.ok(OTHER, grant_body(0x52, PROVIDER, copy(false, false), None));
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, true, Some(0x52))),
        Err(TxError::NotParty { .. })
    ));
    ledger.ok(OWNER, grant_body(0x53, OTHER, copy(false, false), None));
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, true, Some(0x53))),
        Err(TxError::Invalid(_))
    ));
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, false), None));
    ledger.ok(OWNER, response(0xa1, true, Some(0x51)));
    assert_eq!(ledger.request(0xa1).grant_id, Some([0x51; 32]));
}

#[test]
fn a_priced_request_is_approved_only_with_its_price_in_escrow_and_pays_the_owner() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.ok(PROVIDER, request_body(0xa1, 500, None));
    assert_eq!(
        ledger.run(OWNER, response(0xa1, true, None)).err(),
        Some(TxError::PaymentMissing { price: 500 })
    );
    // The escrow must come from the requester, to the owner, for at least the price.
    assert!(matches!(
        ledger.run(PROVIDER, open(0xe1, OWNER, 499, Some(0xa1))),
        Err(TxError::Invalid(_))
    ));
    assert!(matches!(
        ledger.run(PROVIDER, open(0xe1, OTHER, 500, Some(0xa1))),
        Err(TxError::Invalid(_))
    ));
    assert!(matches!(
        ledger.run(OTHER, open(0xe1, OWNER, 500, Some(0xa1))),
        Err(TxError::NotParty { .. })
    ));
    // Delivery before approval is refused.
    ledger.ok(PROVIDER, open(0xe1, OWNER, 500, Some(0xa1)));
    assert_eq!(ledger.request(0xa1).escrow_id, Some([0xe1; 32]));
    assert!(matches!(
        ledger.run(PROVIDER, open(0xe2, OWNER, 500, Some(0xa1))),
        Err(TxError::WrongStatus { .. })
    ));
    assert!(matches!(
        ledger.run(OWNER, deliver(0xe1)),
        Err(TxError::WrongStatus {
            what: "request",
            ..
        })
    ));
    let owner_before = ledger.balance(OWNER);
    ledger.ok(OWNER, response(0xa1, true, None));
    ledger.ok(OWNER, deliver(0xe1));
    ledger.ok(PROVIDER, TxBody::EscrowAccept(escrow_ref(0xe1)));
    // Two fees of 10 paid by the owner, the price received.
    assert_eq!(ledger.balance(OWNER), owner_before - 20 + 500);
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Released);
    assert_eq!(ledger.locked(), 0);
}

#[test]
fn a_rejection_refunds_the_requests_escrow() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.ok(PROVIDER, request_body(0xa1, 300, None));
    ledger.ok(PROVIDER, open(0xe1, OWNER, 300, Some(0xa1)));
    let provider_before = ledger.balance(PROVIDER);
    assert_eq!(ledger.locked(), 300);
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, false, Some(0x51))),
        Err(TxError::Invalid(_))
    ));
    ledger.ok(OWNER, response(0xa1, false, None));
    assert_eq!(ledger.request(0xa1).status, RequestStatus::Rejected);
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Refunded);
    assert_eq!(ledger.balance(PROVIDER), provider_before + 300);
    assert_eq!(ledger.locked(), 0);
}

// ---- grants ----

#[test]
fn a_grant_stores_its_commitment_and_tags_and_its_id_is_used_once() {
    let mut ledger = Ledger::new();
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(true, true), None));
    let stored = ledger.grant(0x51);
    assert_eq!(stored.grantor, address(OWNER));
    assert_eq!(stored.status, GrantStatus::Active);
    assert_eq!(stored.records_commitment, [0xf0; 32]);
    assert_eq!(stored.copy_tags, vec![TAG]);
    assert_eq!(stored.parent_grant, None);
    // A replayed grant (same id, even re-signed) is refused.
    assert_eq!(
        code(ledger.run(OWNER, grant_body(0x51, PROVIDER, copy(true, true), None))),
        Some(ErrorCode::DuplicateValue)
    );
    assert!(matches!(
        ledger.run(OWNER, grant_body(0x52, OWNER, copy(true, true), None)),
        Err(TxError::Invalid(_))
    ));
    let now = ledger.now();
    assert!(matches!(
        ledger.run(
            OWNER,
            grant_body(0x53, PROVIDER, copy(true, true), Some(now))
        ),
        Err(TxError::Expired { .. })
    ));
    let TxBody::Grant(mut empty) = grant_body(0x54, PROVIDER, copy(true, true), None) else {
        panic!("kind")
    };
    empty.copy_tags.clear();
    assert!(matches!(
        ledger.run(OWNER, TxBody::Grant(empty.clone())),
        Err(TxError::Invalid(_))
    ));
    // Tags are sorted and distinct; a usage grant names none.
    empty.copy_tags = vec![[2; 32], [1; 32]];
    assert!(matches!(
        ledger.run(OWNER, TxBody::Grant(empty.clone())),
        Err(TxError::Invalid(_))
    ));
    empty.copy_tags = vec![[1; 32], [1; 32]];
    assert!(matches!(
        ledger.run(OWNER, TxBody::Grant(empty.clone())),
        Err(TxError::Invalid(_))
    ));
    empty.copy_tags = vec![[1; 32]];
    empty.kind = GrantKind::Usage { code_hash: [3; 32] };
    assert!(matches!(
        ledger.run(OWNER, TxBody::Grant(empty)),
        Err(TxError::Invalid(_))
    ));
}

#[test]
fn a_grant_is_in_force_until_its_expiry() {
    let mut ledger = Ledger::new();
    ledger.register(PROVIDER);
    ledger.put_records(&[b"r1"]);
    let expiry = ledger.now() + 5_000;
    ledger.ok(
        OWNER,
        grant_body(0x51, PROVIDER, copy(false, false), Some(expiry)),
    );
    assert!(in_force(&ledger.grant(0x51), ledger.now()));
    ledger.ok(PROVIDER, request_body(0xa1, 0, None));
    ledger.tick(10_000);
    assert!(!in_force(&ledger.grant(0x51), ledger.now()));
    // An expired grant cannot answer a request.
    assert!(matches!(
        ledger.run(OWNER, response(0xa1, true, Some(0x51))),
        Err(TxError::WrongStatus { what: "grant", .. })
    ));
}

#[test]
fn only_the_grantor_revokes_and_only_the_grantee_renounces() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, false), None));
    ledger.ok(OWNER, grant_body(0x52, PROVIDER, copy(false, false), None));
    let revoke = |id| TxBody::Revoke(GrantRef { grant_id: [id; 32] });
    let renounce = |id| TxBody::Renounce(GrantRef { grant_id: [id; 32] });
    assert_eq!(
        code(ledger.run(PROVIDER, revoke(0x51))),
        Some(ErrorCode::NotOwner)
    );
    assert_eq!(
        code(ledger.run(OWNER, renounce(0x51))),
        Some(ErrorCode::NotOwner)
    );
    ledger.ok(OWNER, revoke(0x51));
    assert_eq!(ledger.grant(0x51).status, GrantStatus::Revoked);
    assert!(matches!(
        ledger.run(OWNER, revoke(0x51)),
        Err(TxError::WrongStatus { .. })
    ));
    ledger.ok(PROVIDER, renounce(0x52));
    assert_eq!(ledger.grant(0x52).status, GrantStatus::Renounced);
    assert!(matches!(
        ledger.run(PROVIDER, renounce(0x5f)),
        Err(TxError::NotFound { .. })
    ));
}

#[test]
fn a_copy_without_resell_cannot_be_granted_on() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, true), None));
    assert_eq!(
        ledger
            .run(PROVIDER, grant_body(0x52, OTHER, copy(false, false), None))
            .err(),
        Some(TxError::ResaleRefused {
            grant_id: hex::encode([0x51; 32])
        })
    );
    // A later, looser copy of the same record does not relax the restriction.
    ledger.ok(OTHER, grant_body(0x53, PROVIDER, copy(true, true), None));
    assert!(matches!(
        ledger.run(PROVIDER, grant_body(0x54, OTHER, copy(true, true), None)),
        Err(TxError::ResaleRefused { .. })
    ));
}

#[test]
fn a_copy_with_resell_but_not_dup_is_sold_on_once() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(true, false), None));
    ledger.ok(PROVIDER, grant_body(0x52, OTHER, copy(false, false), None));
    assert_eq!(ledger.grant(0x52).parent_grant, Some([0x51; 32]));
    assert!(matches!(
        ledger.run(PROVIDER, grant_body(0x53, OTHER, copy(false, false), None)),
        Err(TxError::ResaleRefused { .. })
    ));
}

#[test]
fn a_copy_with_resell_and_dup_is_granted_on_while_its_grant_is_in_force() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(true, true), None));
    ledger.ok(PROVIDER, grant_body(0x52, OTHER, copy(false, false), None));
    ledger.ok(PROVIDER, grant_body(0x53, OTHER, copy(false, false), None));
    ledger.ok(
        OWNER,
        TxBody::Revoke(GrantRef {
            grant_id: [0x51; 32],
        }),
    );
    assert!(matches!(
        ledger.run(PROVIDER, grant_body(0x54, OTHER, copy(false, false), None)),
        Err(TxError::WrongStatus { what: "grant", .. })
    ));
}

#[test]
fn a_device_transfer_ends_the_previous_owners_grants() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.ok(OWNER, setup(OWNER, 40, "VIN-1"));
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, false), None));
    ledger.ok(OWNER, grant_body(0x52, PROVIDER, copy(false, false), None));
    ledger.ok(
        PROVIDER,
        TxBody::Renounce(GrantRef {
            grant_id: [0x52; 32],
        }),
    );
    ledger.ok(OTHER, grant_body(0x53, PROVIDER, copy(false, false), None));
    // Re-pairing to herself keeps her grants.
    ledger.ok(OWNER, reset("VIN-1", OWNER));
    assert_eq!(ledger.grant(0x51).status, GrantStatus::Active);
    ledger.ok(OWNER, reset("VIN-1", OTHER));
    assert_eq!(ledger.grant(0x51).status, GrantStatus::Ended);
    assert_eq!(ledger.grant(0x52).status, GrantStatus::Renounced);
    assert_eq!(ledger.grant(0x53).status, GrantStatus::Active);
}

// ---- escrow ----

#[test]
fn opening_an_escrow_locks_the_buyers_funds() {
    let mut ledger = Ledger::new();
    let buyer_before = ledger.balance(PROVIDER);
    ledger.ok(PROVIDER, open(0xe1, OWNER, 400, None));
    assert_eq!(ledger.balance(PROVIDER), buyer_before - 400 - 10);
    assert_eq!(ledger.locked(), 400);
    let stored = ledger.escrow(0xe1);
    assert_eq!(stored.status, EscrowStatus::Open);
    assert_eq!(stored.deliver_by, ledger.now() - 1000 + DELIVERY_WINDOW_MS);
    assert_eq!(
        code(ledger.run(PROVIDER, open(0xe1, OWNER, 1, None))),
        Some(ErrorCode::DuplicateValue)
    );
    assert!(matches!(
        ledger.run(PROVIDER, open(0xe2, OWNER, 0, None)),
        Err(TxError::Invalid(_))
    ));
    assert!(matches!(
        ledger.run(PROVIDER, open(0xe2, PROVIDER, 5, None)),
        Err(TxError::Invalid(_))
    ));
    assert_eq!(
        code(ledger.run(PROVIDER, open(0xe2, OWNER, 1_000_000, None))),
        Some(ErrorCode::InsufficientBalance)
    );
}

#[test]
fn escrow_happy_path_delivery_then_acceptance_pays_the_seller() {
    let mut ledger = Ledger::new();
    ledger.ok(PROVIDER, open(0xe1, OWNER, 400, None));
    assert!(matches!(
        ledger.run(OTHER, deliver(0xe1)),
        Err(TxError::NotParty { .. })
    ));
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::EscrowAccept(escrow_ref(0xe1))),
        Err(TxError::WrongStatus { .. })
    ));
    ledger.ok(OWNER, deliver(0xe1));
    assert_eq!(
        ledger.escrow(0xe1).d_hash_root,
        Some(chunk_commitment(&chunks()))
    );
    assert!(matches!(
        ledger.run(OWNER, TxBody::EscrowAccept(escrow_ref(0xe1))),
        Err(TxError::NotParty { .. })
    ));
    let seller_before = ledger.balance(OWNER);
    ledger.ok(PROVIDER, TxBody::EscrowAccept(escrow_ref(0xe1)));
    assert_eq!(ledger.balance(OWNER), seller_before + 400);
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Released);
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::EscrowRefund(escrow_ref(0xe1))),
        Err(TxError::WrongStatus { .. })
    ));
}

fn disputed(ledger: &mut Ledger) -> [u8; 32] {
    ledger.ok(PROVIDER, open(0xe1, OWNER, 400, None));
    ledger.ok(OWNER, deliver(0xe1));
    let parent = ledger.chain.prev.header.hash();
    ledger.ok(PROVIDER, TxBody::EscrowDispute(escrow_ref(0xe1)));
    let stored = ledger.escrow(0xe1);
    assert_eq!(stored.status, EscrowStatus::Disputed);
    // The seed comes from the block before the dispute's block: no party picks it.
    let seed = challenge_seed(&[0xe1; 32], &parent);
    assert_eq!(stored.challenge_seed, Some(seed));
    seed
}

#[test]
fn a_disputed_escrow_is_released_when_the_seller_proves_possession() {
    let mut ledger = Ledger::new();
    let seed = disputed(&mut ledger);
    let proof = PossessionProof::build(&chunks(), &seed);
    // Openings for another seed, or none, fail the challenge.
    let wrong = PossessionProof::build(&chunks(), &[0; 32]);
    assert!(matches!(
        ledger.run(OTHER, resolve(0xe1, true, wrong)),
        Err(TxError::ChallengeFailed(_))
    ));
    assert!(matches!(
        ledger.run(OTHER, resolve(0xe1, true, None)),
        Err(TxError::ChallengeFailed(_))
    ));
    // Before the deadline the buyer cannot claim the seller failed.
    assert!(matches!(
        ledger.run(PROVIDER, resolve(0xe1, false, None)),
        Err(TxError::TooEarly { .. })
    ));
    let seller_before = ledger.balance(OWNER);
    ledger.ok(OTHER, resolve(0xe1, true, proof));
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Released);
    assert_eq!(ledger.balance(OWNER), seller_before + 400);
}

#[test]
fn a_challenge_left_unanswered_refunds_the_buyer() {
    let mut ledger = Ledger::new();
    let seed = disputed(&mut ledger);
    ledger.tick(CHALLENGE_WINDOW_MS + 1000);
    // A proof after the deadline is too late.
    assert!(matches!(
        ledger.run(
            OWNER,
            resolve(0xe1, true, PossessionProof::build(&chunks(), &seed))
        ),
        Err(TxError::Expired { .. })
    ));
    let buyer_before = ledger.balance(PROVIDER);
    ledger.ok(OTHER, resolve(0xe1, false, None));
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Refunded);
    assert_eq!(ledger.balance(PROVIDER), buyer_before + 400);
    assert_eq!(ledger.locked(), 0);
}

#[test]
fn a_seller_that_holds_other_data_fails_the_challenge() {
    let mut ledger = Ledger::new();
    let seed = disputed(&mut ledger);
    let other_data: Vec<[u8; 32]> = chunks().iter().rev().copied().collect();
    assert!(matches!(
        ledger.run(
            OWNER,
            resolve(0xe1, true, PossessionProof::build(&other_data, &seed))
        ),
        Err(TxError::ChallengeFailed(_))
    ));
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Disputed);
}

#[test]
fn an_undisputed_delivery_is_released_after_the_review_window() {
    let mut ledger = Ledger::new();
    ledger.ok(PROVIDER, open(0xe1, OWNER, 400, None));
    ledger.ok(OWNER, deliver(0xe1));
    assert!(matches!(
        ledger.run(OWNER, resolve(0xe1, true, None)),
        Err(TxError::TooEarly { .. })
    ));
    assert!(matches!(
        ledger.run(OWNER, resolve(0xe1, false, None)),
        Err(TxError::WrongStatus { .. })
    ));
    ledger.tick(REVIEW_WINDOW_MS + 1000);
    // Too late to dispute.
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::EscrowDispute(escrow_ref(0xe1))),
        Err(TxError::Expired { .. })
    ));
    assert!(matches!(
        ledger.run(OWNER, TxBody::EscrowDispute(escrow_ref(0xe1))),
        Err(TxError::NotParty { .. })
    ));
    ledger.ok(OWNER, resolve(0xe1, true, None));
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Released);
}

#[test]
fn an_undelivered_escrow_is_refunded_after_its_delivery_deadline() {
    let mut ledger = Ledger::new();
    ledger.ok(PROVIDER, open(0xe1, OWNER, 400, None));
    assert!(matches!(
        ledger.run(PROVIDER, TxBody::EscrowRefund(escrow_ref(0xe1))),
        Err(TxError::TooEarly { .. })
    ));
    ledger.tick(DELIVERY_WINDOW_MS + 1000);
    assert!(matches!(
        ledger.run(OWNER, deliver(0xe1)),
        Err(TxError::Expired { .. })
    ));
    assert!(matches!(
        ledger.run(OTHER, TxBody::EscrowRefund(escrow_ref(0xe1))),
        Err(TxError::NotParty { .. })
    ));
    let buyer_before = ledger.balance(PROVIDER);
    ledger.ok(PROVIDER, TxBody::EscrowRefund(escrow_ref(0xe1)));
    assert_eq!(ledger.balance(PROVIDER), buyer_before - 10 + 400);
    assert_eq!(ledger.escrow(0xe1).status, EscrowStatus::Refunded);
    assert_eq!(
        code(ledger.run(PROVIDER, TxBody::EscrowRefund(escrow_ref(0xee)))),
        Some(ErrorCode::NotFound)
    );
}

// ---- auditors ----

fn attest(subject: String, claim: &str) -> TxBody {
    let commitment = if claim == "registered-auditor" {
        [0; 32]
    } else {
        [0x55; 32]
    };
    TxBody::AuditorAttestation(AuditorAttestation {
        subject,
        claim: claim.into(),
        commitment,
    })
}

#[test]
fn only_auditors_attest_and_the_operator_registers_auditors() {
    let mut ledger = Ledger::new();
    ledger.put_records(&[b"r1"]);
    ledger.register(OTHER);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, false), None));
    let subject = hex::encode([0x51; 32]);
    assert_eq!(
        code(ledger.run(OTHER, attest(subject.clone(), "mileage-complete/v1"))),
        Some(ErrorCode::NotRegistered)
    );
    // The operator (root auditor, paid fees so it can pay its own) flags provider OTHER.
    assert!(matches!(
        ledger.run(OPERATOR, attest(address(PROVIDER), "registered-auditor")),
        Err(TxError::UnknownProvider { .. })
    ));
    ledger.ok(OPERATOR, attest(address(OTHER), "registered-auditor"));
    let flagged: Option<ProviderState> = ledger.chain.get(state_key::provider(&address(OTHER)));
    assert_eq!(flagged.map(|p| p.auditor), Some(true));
    // Re-registering keeps the flag.
    ledger.register(OTHER);
    ledger.ok(OTHER, attest(subject, "mileage-complete/v1"));
    let attested = ledger.grant(0x51).attestations;
    assert_eq!(attested.len(), 1);
    assert_eq!(attested[0].auditor, address(OTHER));
    assert_eq!(attested[0].claim, "mileage-complete/v1");
    assert!(matches!(
        ledger.run(OTHER, attest(String::new(), "x")),
        Err(TxError::Invalid(_))
    ));
}

#[test]
fn an_attestation_names_a_grant_and_publishes_no_claim_text() {
    let mut ledger = Ledger::new();
    ledger.register(OTHER);
    ledger.ok(OWNER, grant_body(0x51, PROVIDER, copy(false, false), None));
    ledger.ok(OPERATOR, attest(address(OTHER), "registered-auditor"));
    let subject = hex::encode([0x51; 32]);
    // The claim text names a car: it goes behind the commitment, never in clear.
    for claim in [
        "mileage-complete/v1 vid=VIN-1 from=2024-01-01",
        "vid=VIN-1",
        &"x".repeat(65),
    ] {
        assert!(
            matches!(
                ledger.run(OTHER, attest(subject.clone(), claim)),
                Err(TxError::Invalid(_))
            ),
            "{claim}"
        );
    }
    // A VID, an address or an unknown grant is no subject.
    assert!(matches!(
        ledger.run(OTHER, attest("VIN-1".into(), "mileage-complete/v1")),
        Err(TxError::Invalid(_))
    ));
    assert!(matches!(
        ledger.run(
            OTHER,
            attest(hex::encode([0x5f; 32]), "mileage-complete/v1")
        ),
        Err(TxError::NotFound { .. })
    ));
    // A claim commits to something; an appointment to nothing.
    let TxBody::AuditorAttestation(mut empty) = attest(subject, "mileage-complete/v1") else {
        panic!("kind")
    };
    empty.commitment = [0; 32];
    assert!(matches!(
        ledger.run(OTHER, TxBody::AuditorAttestation(empty)),
        Err(TxError::Invalid(_))
    ));
    let TxBody::AuditorAttestation(mut appoint) = attest(address(OTHER), "registered-auditor")
    else {
        panic!("kind")
    };
    appoint.commitment = [1; 32];
    assert!(matches!(
        ledger.run(OPERATOR, TxBody::AuditorAttestation(appoint)),
        Err(TxError::Invalid(_))
    ));
}
