//! Benchmarks of carchain-core's hot paths, each beside a baseline measured in the same
//! run (the machine is shared and noisy, so the README compares ratios):
//!
//! | benchmark                     | baseline                                              |
//! |-------------------------------|-------------------------------------------------------|
//! | restore (words -> all keys)   | one RSA key generation alone (random seed)            |
//! | derive a 1,000-address pool   | 1,000 raw BIP32 children + P2WPKH from an xpub        |
//! | seal / open a 30 KiB record   | raw ChaCha20-Poly1305 over the same 30 KiB            |
//! | open a day of 4 trips         | 1 RSA-OAEP decryption + 4 raw AEAD opens + 4 JSON parses |
//! | decode a 1,000-point trip     | serde_json parse of the same value alone              |
//!
//! `scripts/bench-summary` prints the ratios from criterion's estimates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to report its failure

use std::hint::black_box;

use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Address, CompressedPublicKey};
use carchain_core::crypto::{EpochKey, EpochKeyCache, HashFunc, SealingEpoch, WrappedKey};
use carchain_core::keys::{Mnemonic, Network, RsaBits, WalletKeys};
use carchain_core::pool::AddressPool;
use carchain_core::record::FormatRegistry;
use carchain_core::sealed::{Opener, SealedRecord, open_record, seal_record};
use carchain_core::trip::Trip;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use support::Drive;

mod support;

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ADDRESS: &str = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";

fn wallet() -> WalletKeys {
    let words = Mnemonic::parse(WORDS).expect("words");
    WalletKeys::from_mnemonic(&words, "", Network::Regtest, RsaBits::B2048).expect("keys")
}

/// A plausible trip of `points` samples around Shanghai, one per 5 s.
fn synthetic_trip(session_id: i64, points: usize) -> Trip {
    let drive = Drive {
        start: 1_462_950_868, // 2016-05-11 07:14:28 UTC
        phase: 0.0,
        min_speed_kmh: 30.0,
        speed_swing_kmh: 20.0,
        speed_period: 30.0,
    };
    support::synthetic_trip(session_id, points, &drive)
}

fn trip_record(trip: &Trip) -> (Value, Value) {
    let key = Value::Object(trip.to_key().expect("key"));
    let value = trip.to_value(1).expect("value");
    (key, value)
}

fn bench_restore(c: &mut Criterion) {
    let mut group = c.benchmark_group("restore");
    group.sample_size(20);
    group.bench_function("words_to_all_keys_rsa2048", |b| {
        b.iter(|| black_box(wallet()));
    });
    let mut seed = 0u64;
    group.bench_function("baseline_rsa2048_keygen", |b| {
        b.iter(|| {
            seed += 1;
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            black_box(rsa::PrivateKey::new(&mut rng, 2048).expect("keygen"))
        });
    });
    group.finish();
}

fn bench_pool(c: &mut Criterion) {
    let keys = wallet();
    let mut group = c.benchmark_group("pool_1000");
    group.sample_size(20);
    group.bench_function("derive_pool_1000", |b| {
        b.iter(|| {
            black_box(AddressPool::derive(&keys, "LBVNU79049SB81546", 0, 1000).expect("pool"))
        });
    });
    let secp = Secp256k1::verification_only();
    let xpub: Xpub = *keys.account_xpub();
    group.bench_function("baseline_1000_bip32_children_p2wpkh", |b| {
        b.iter(|| {
            let branch = xpub
                .ckd_pub(&secp, ChildNumber::Normal { index: 0 })
                .expect("branch");
            let addresses: Vec<Address> = (0..1000)
                .map(|i| {
                    let child = branch
                        .ckd_pub(&secp, ChildNumber::Normal { index: i })
                        .expect("child");
                    Address::p2wpkh(
                        &CompressedPublicKey(child.public_key),
                        bitcoin::Network::Regtest,
                    )
                })
                .collect();
            black_box(addresses)
        });
    });
    group.finish();
}

fn bench_seal_open_30k(c: &mut Criterion) {
    let keys = wallet();
    let registry = FormatRegistry::with_builtins();
    let spec = registry.get("trip-gps").expect("format").clone();
    // ~30 KiB of trip JSON (≈ 800 points).
    let trip = synthetic_trip(1, 800);
    let (key, value) = trip_record(&trip);
    let plaintext_len = serde_json::to_vec(&value).expect("json").len();
    let epoch = SealingEpoch::new(&keys.rsa_public_key()).expect("epoch");
    let sealed = seal_record(&spec, ADDRESS, &key, &value, HashFunc::Sha256, &epoch).expect("seal");

    let mut group = c.benchmark_group("record_30k");
    group.throughput(criterion::Throughput::Bytes(plaintext_len as u64));
    group.bench_function("seal_record", |b| {
        b.iter(|| {
            black_box(
                seal_record(&spec, ADDRESS, &key, &value, HashFunc::Sha256, &epoch).expect("seal"),
            )
        });
    });
    group.bench_function("open_record_epoch_key", |b| {
        b.iter(|| {
            black_box(open_record(&sealed, Opener::Epoch(epoch.epoch_key()), &[]).expect("open"))
        });
    });
    let cipher = ChaCha20Poly1305::new(&Key::from([7u8; 32]));
    let nonce = &Nonce::from([1u8; 12]);
    let plaintext = vec![0x5au8; plaintext_len];
    let ciphertext = cipher
        .encrypt(
            nonce,
            Payload {
                msg: &plaintext,
                aad: b"ad",
            },
        )
        .expect("encrypt");
    group.bench_function("baseline_aead_encrypt", |b| {
        b.iter(|| {
            black_box(cipher.encrypt(
                nonce,
                Payload {
                    msg: &plaintext,
                    aad: b"ad",
                },
            ))
        });
    });
    group.bench_function("baseline_aead_decrypt", |b| {
        b.iter(|| {
            black_box(cipher.decrypt(
                nonce,
                Payload {
                    msg: &ciphertext,
                    aad: b"ad",
                },
            ))
        });
    });
    group.finish();
}

fn bench_open_day(c: &mut Criterion) {
    let keys = wallet();
    let registry = FormatRegistry::with_builtins();
    let spec = registry.get("trip-gps").expect("format").clone();
    let epoch = SealingEpoch::new(&keys.rsa_public_key()).expect("epoch");
    // A day: 4 trips of 250 points (~9 KiB each).
    let day: Vec<SealedRecord> = (1..=4)
        .map(|session| {
            let (key, value) = trip_record(&synthetic_trip(session, 250));
            seal_record(&spec, ADDRESS, &key, &value, HashFunc::Sha256, &epoch).expect("seal")
        })
        .collect();

    let mut group = c.benchmark_group("open_day_4_trips");
    group.sample_size(30);
    group.bench_function("open_day_one_rsa_unwrap", |b| {
        b.iter(|| {
            let mut cache = EpochKeyCache::new();
            for record in &day {
                black_box(
                    open_record(
                        record,
                        Opener::Owner {
                            rsa: keys.rsa_private_key(),
                            cache: &mut cache,
                        },
                        &[],
                    )
                    .expect("open"),
                );
            }
        });
    });

    // Baseline: the same primitives alone.
    let wrapped: WrappedKey = epoch.wrapped_key().clone();
    let rsa_key = keys.rsa_private_key();
    let cipher = ChaCha20Poly1305::new(&Key::from([9u8; 32]));
    let nonce = &Nonce::from([2u8; 12]);
    let plain: Vec<Vec<u8>> = (1..=4)
        .map(|s| serde_json::to_vec(&trip_record(&synthetic_trip(s, 250)).1).expect("json"))
        .collect();
    let sealed_raw: Vec<Vec<u8>> = plain
        .iter()
        .map(|p| {
            cipher
                .encrypt(nonce, Payload { msg: p, aad: b"ad" })
                .expect("enc")
        })
        .collect();
    group.bench_function("baseline_rsa_decrypt_plus_4_aead_json", |b| {
        b.iter(|| {
            let epoch_key: EpochKey = wrapped.unwrap_epoch_key(rsa_key).expect("unwrap");
            black_box(&epoch_key);
            for ct in &sealed_raw {
                let pt = cipher
                    .decrypt(
                        nonce,
                        Payload {
                            msg: ct,
                            aad: b"ad",
                        },
                    )
                    .expect("dec");
                black_box(serde_json::from_slice::<Value>(&pt).expect("json"));
            }
        });
    });
    group.bench_function("baseline_rsa_decrypt_alone", |b| {
        b.iter(|| black_box(wrapped.unwrap_epoch_key(rsa_key).expect("unwrap")));
    });
    group.finish();
}

fn bench_trip_decode(c: &mut Criterion) {
    let trip = synthetic_trip(7, 1000);
    let (key, value) = trip_record(&trip);
    let key_map = key.as_object().expect("object").clone();
    let text = serde_json::to_string(&value).expect("json");

    let mut group = c.benchmark_group("trip_1000_points");
    group.bench_function("decode_summary_polyline_geojson", |b| {
        b.iter(|| {
            let parsed: Value = serde_json::from_str(&text).expect("json");
            let trip = Trip::decode(&key_map, &parsed).expect("decode");
            black_box(trip.summary().expect("summary"));
            black_box(trip.polyline());
            black_box(trip.to_geojson().expect("geojson"));
        });
    });
    group.bench_function("baseline_json_parse", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(&text).expect("json")));
    });
    group.finish();
    black_box(json!(null));
}

criterion_group!(
    benches,
    bench_restore,
    bench_pool,
    bench_seal_open_30k,
    bench_open_day,
    bench_trip_decode
);
criterion_main!(benches);
