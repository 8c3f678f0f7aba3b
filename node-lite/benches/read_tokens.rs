//! Read-token benchmarks: the node's token issuance and spending beside the raw RFC 9474
//! blind-signature primitives they are built on, in the same run.
//!
//! - `primitive/blind`, `primitive/blind_sign`, `primitive/finalize`, `primitive/verify`:
//!   one message through `carchain_core::tokens` (blind-rsa-signatures, RSA-2048).
//! - `node/issue_batch_100`: `ReadTokens::issue` of a paid batch of 100 blinded messages
//!   (payer signature check, 100 blind signatures, the payment recorded durably); per
//!   token it compares with `primitive/blind_sign`.
//! - `node/spend`: one read's token check and durable spend (`ReadTokens::check` +
//!   `spend`, a WAL commit with `synchronous = FULL`); compares with `primitive/verify`
//!   plus one durable SQLite insert (`raw/sqlite_insert_full_sync`).
//!
//! Run: `cargo bench -p carchain-node --bench read_tokens`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::hint::black_box;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use carchain_core::protocol::signing::{public_key_of, sign_digest};
use carchain_core::protocol::token_issue_digest;
use carchain_core::tokens::{IssuerKeyPair, Token, batch_digest};
use carchain_node::service::IssueRequest;
use carchain_node::tokens::{PaymentTerms, ReadTokens, TOKENS_FILE};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 100;

fn payer() -> SecretKey {
    SecretKey::from_slice(&[7; 32]).expect("key")
}

fn tokens_of(issuer: &IssuerKeyPair, count: usize) -> Vec<Token> {
    let public = issuer.public();
    public
        .blind(count)
        .expect("blind")
        .iter()
        .map(|p| {
            let signed = issuer.blind_sign(p.blinded_message()).expect("sign");
            public.finalize(p, &signed).expect("finalize")
        })
        .collect()
}

fn primitives(c: &mut Criterion, issuer: &IssuerKeyPair) {
    let public = issuer.public();
    let mut group = c.benchmark_group("primitive");
    group.bench_function("blind", |b| {
        b.iter(|| black_box(public.blind(1).expect("blind")));
    });
    let pending = public.blind(1).expect("blind");
    group.bench_function("blind_sign", |b| {
        b.iter(|| {
            black_box(
                issuer
                    .blind_sign(pending[0].blinded_message())
                    .expect("sign"),
            )
        });
    });
    let signed = issuer
        .blind_sign(pending[0].blinded_message())
        .expect("sign");
    group.bench_function("finalize", |b| {
        b.iter(|| black_box(public.finalize(&pending[0], &signed).expect("finalize")));
    });
    let token = public.finalize(&pending[0], &signed).expect("finalize");
    group.bench_function("verify", |b| {
        b.iter(|| public.verify(black_box(&token)).expect("verify"));
    });
    group.finish();
}

fn raw_insert(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let conn = rusqlite::Connection::open(dir.path().join("raw.sqlite")).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE spent (id BLOB PRIMARY KEY) WITHOUT ROWID;",
    )
    .expect("schema");
    let mut n = 0u64;
    c.bench_function("raw/sqlite_insert_full_sync", |b| {
        b.iter(|| {
            n += 1;
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&n.to_be_bytes());
            conn.execute("INSERT INTO spent (id) VALUES (?1)", [id.as_slice()])
                .expect("insert")
        });
    });
}

fn node(c: &mut Criterion, issuer: &IssuerKeyPair) {
    let dir = tempfile::tempdir().expect("dir");
    let tokens =
        ReadTokens::open(&dir.path().join(TOKENS_FILE), issuer.clone()).expect("open tokens");
    let public = issuer.public().clone();
    let payer_key = public_key_of(&payer());
    let mut payment = 0u64;
    let mut group = c.benchmark_group("node");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function("issue_batch_100", |b| {
        b.iter_batched(
            || {
                payment += 1;
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&payment.to_be_bytes());
                let pending = public.blind(BATCH).expect("blind");
                let blinded: Vec<Vec<u8>> = pending
                    .iter()
                    .map(|p| p.blinded_message().to_vec())
                    .collect();
                let digest = token_issue_digest(&id, &public.key_id().0, &batch_digest(&blinded));
                IssueRequest {
                    payment: id,
                    blinded,
                    signature: sign_digest(&payer(), &digest).serialize_compact().to_vec(),
                }
            },
            |request| {
                let terms = |_: &[u8; 32]| {
                    Ok(PaymentTerms {
                        payer: payer_key,
                        tokens: BATCH as u64,
                    })
                };
                black_box(tokens.issue(&request, terms).expect("issue"))
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
    let mut unspent: Vec<Vec<u8>> = Vec::new();
    c.bench_function("node/spend", |b| {
        b.iter_batched(
            || {
                if unspent.is_empty() {
                    unspent = tokens_of(issuer, 500).iter().map(Token::to_bytes).collect();
                }
                unspent.pop().unwrap_or_default()
            },
            |bytes| {
                let token = tokens.check(&bytes).expect("check");
                tokens.spend(&token).expect("spend");
            },
            BatchSize::PerIteration,
        );
    });
}

fn benches(c: &mut Criterion) {
    let issuer = IssuerKeyPair::generate().expect("issuer key");
    primitives(c, &issuer);
    raw_insert(c);
    node(c, &issuer);
}

criterion_group! {
    name = read_tokens;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(read_tokens);
