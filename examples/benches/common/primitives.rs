//! The primitives a verified read is made of, run alone on the same records so the
//! benchmarks can set them beside the whole read: one RSA unwrap per distinct epoch
//! key (address-day), the AEAD opens, the stored-key opens, the trip decoding, and the
//! HTTP calls without any verification (the unpaid N+1 calls of [`fetch_raw`], and on a
//! node that charges reads the minimum: one proven range page per address, each with a
//! read token).

use std::collections::BTreeMap;

use carchain_core::crypto::{Envelope, EpochKey, RecordContext, WrappedKey};
use carchain_core::keys::WalletKeys;
use carchain_core::light::VerifiedRecord;
use carchain_core::pool::PoolSeed;
use carchain_core::record::{FormatSpec, decode_key};
use carchain_core::sealed::StoredKeyCipher;
use carchain_core::trip::Trip;
use serde_json::Value;

/// A stored record as the primitives see it: where it is and its sealed bytes.
pub trait SealedRecord {
    /// The address it is stored under.
    fn address(&self) -> &str;
    /// Its encoded record key.
    fn key(&self) -> &[u8];
    /// Its format name.
    fn format(&self) -> &str;
    /// The stored envelope (still encrypted).
    fn envelope(&self) -> &[u8];
}

impl SealedRecord for VerifiedRecord {
    fn address(&self) -> &str {
        &self.registration.put.address
    }
    fn key(&self) -> &[u8] {
        &self.registration.put.key
    }
    fn format(&self) -> &str {
        &self.registration.put.format
    }
    fn envelope(&self) -> &[u8] {
        &self.envelope
    }
}

/// The wrapped epoch key of a record, as the map key of its unwrapped form.
fn wrapped_of(record: &impl SealedRecord) -> Vec<u8> {
    Envelope::from_bytes(record.envelope())
        .expect("envelope")
        .wrapped_epoch_key()
        .to_bytes()
        .expect("wrapped key")
}

/// One RSA unwrap with the owner's `keys` per distinct epoch key (address-day).
pub fn unwrap_epochs(
    records: &[impl SealedRecord],
    keys: &WalletKeys,
) -> BTreeMap<Vec<u8>, EpochKey> {
    let mut epochs = BTreeMap::new();
    for record in records {
        let wrapped = wrapped_of(record);
        if epochs.contains_key(&wrapped) {
            continue;
        }
        let key = WrappedKey::from_bytes(&wrapped)
            .expect("wrapped key")
            .unwrap_epoch_key(keys.rsa_private_key())
            .expect("unwrap");
        epochs.insert(wrapped, key);
    }
    epochs
}

/// The AEAD open of every record with its unwrapped epoch key.
pub fn open_all(
    records: &[impl SealedRecord],
    epochs: &BTreeMap<Vec<u8>, EpochKey>,
) -> Vec<Vec<u8>> {
    records
        .iter()
        .map(|record| {
            let ctx = RecordContext {
                address: record.address(),
                key_bytes: record.key(),
                format: record.format(),
            };
            Envelope::from_bytes(record.envelope())
                .expect("envelope")
                .open_with_epoch_key(&ctx, &epochs[&wrapped_of(record)])
                .expect("open")
        })
        .collect()
}

/// The plaintext keys of `records` registered under stored keys: one AES-SIV open each,
/// under the key of its address (one HKDF per address) from the car's `pool_seed`.
pub fn plain_keys(records: &[impl SealedRecord], pool_seed: &PoolSeed) -> Vec<Vec<u8>> {
    let mut ciphers: BTreeMap<String, StoredKeyCipher> = BTreeMap::new();
    records
        .iter()
        .map(|record| {
            let cipher = ciphers
                .entry(record.address().to_owned())
                .or_insert_with(|| {
                    StoredKeyCipher::new(pool_seed, record.address()).expect("stored-key cipher")
                });
            cipher.plain_key(record.key())
        })
        .collect()
}

/// The JSON parse and trip decoding of every opened `trip-gps` record, under its
/// plaintext key (`keys`, in the order of `plaintexts`).
pub fn decode_trips(keys: &[impl AsRef<[u8]>], plaintexts: &[Vec<u8>]) -> Vec<Trip> {
    let spec = FormatSpec::trip_gps();
    keys.iter()
        .zip(plaintexts)
        .map(|(key, plain)| {
            let key = decode_key(&spec, key.as_ref()).expect("key");
            let value: Value = serde_json::from_slice(plain).expect("json");
            Trip::decode(&key, &value).expect("trip")
        })
        .collect()
}

/// A record as the node answered it, unchecked.
pub struct RawRecord {
    /// The address whose range listed it.
    pub address: String,
    /// Its range item (`key` hex, `value` base64).
    pub item: Value,
    /// The node's state answer for it (value, proof, state root, key hash).
    pub answer: Value,
}

/// The HTTP calls a verified read makes, without verifying anything: the KV range of
/// every address and the state answer of every record it lists.
pub async fn fetch_raw<'a>(
    http: &reqwest::Client,
    base: &str,
    addresses: impl IntoIterator<Item = &'a str>,
) -> Vec<RawRecord> {
    let mut out = Vec::new();
    for address in addresses {
        let page = json_of(
            http.get(format!("{base}/v1/kv/{address}?limit=1000")),
            "range",
        )
        .await;
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            let key_hex = item["key"].as_str().expect("key");
            let answer = json_of(
                http.get(format!("{base}/v1/state/record/{address}/{key_hex}")),
                "state",
            )
            .await;
            out.push(RawRecord {
                address: address.to_owned(),
                item,
                answer,
            });
        }
    }
    out
}

/// What [`fetch_raw_paid`] brought back: the records and the bytes of every answer body.
pub struct PaidFetch {
    /// Every record listed, with its registration answer.
    pub records: Vec<RawRecord>,
    /// The answer bodies' total size on the wire (HTTP bodies, uncompressed).
    pub body_bytes: usize,
    /// The HTTP requests made.
    pub requests: usize,
}

/// The minimum HTTP work of a verified read on a node that charges reads, without
/// verifying anything: one proven range page per address (`proofs_at`: each item
/// carries its registration and proof against that height), each sending the next of
/// `tokens` (the node checks and durably spends it); with `fresh_connections`, each
/// address's call goes over an HTTP client of its own, as the wallet's do.
pub async fn fetch_raw_paid<'a>(
    base: &str,
    addresses: impl IntoIterator<Item = &'a str>,
    proofs_at: u64,
    tokens: &mut impl Iterator<Item = Vec<u8>>,
    fresh_connections: bool,
) -> PaidFetch {
    let shared = reqwest::Client::new();
    let mut fetch = PaidFetch {
        records: Vec::new(),
        body_bytes: 0,
        requests: 0,
    };
    for address in addresses {
        let http = if fresh_connections {
            reqwest::Client::new()
        } else {
            shared.clone()
        };
        let token = tokens.next().expect("a token per address");
        let body = http
            .get(format!(
                "{base}/v1/kv/{address}?limit=1000&proofs_at={proofs_at}"
            ))
            .header("x-carchain-token", hex::encode(token))
            .send()
            .await
            .expect("range")
            .bytes()
            .await
            .expect("range body");
        fetch.requests += 1;
        fetch.body_bytes += body.len();
        let page: Value = serde_json::from_slice(&body).expect("range json");
        assert!(page["next_cursor"].is_null(), "one page per address");
        for mut item in page["items"].as_array().cloned().unwrap_or_default() {
            let answer = item["registration"].take();
            assert!(
                answer.is_object(),
                "a proven page carries each registration"
            );
            fetch.records.push(RawRecord {
                address: address.to_owned(),
                item,
                answer,
            });
        }
    }
    fetch
}

/// The JSON answer to `request`; `what` names it in a failure.
pub async fn json_of(request: reqwest::RequestBuilder, what: &str) -> Value {
    let sent = request.send().await;
    let response = sent.unwrap_or_else(|e| panic!("{what}: {e}"));
    let answer = response.json().await;
    answer.unwrap_or_else(|e| panic!("{what} json: {e}"))
}
