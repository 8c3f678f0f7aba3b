//! The baselines the grants benchmark sets beside its figures, measured in the same run
//! on the same data: the primitives a read needs (one RSA unwrap per address-day, the
//! AEAD opens, the JSON decoding, and the HTTP calls without checks, as the month-read
//! benchmark does), a bare transfer submitted and waited for, and RSA-OAEP encryptions
//! of 32-byte keys.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use carchain_core::crypto::{RecordKey, WrappedKey};
use carchain_core::grants::{GrantsLedger, ServiceProvider};
use carchain_core::keys::WalletKeys;
use carchain_core::light::VerifiedRecord;
use carchain_core::protocol::{RecordRef, Transfer, TxBody};

use crate::common::primitives::{decode_trips, fetch_raw, open_all, unwrap_epochs};

/// The read primitives, each timed alone.
#[derive(Debug, Clone, Default)]
pub struct ReadPrimitives {
    /// One RSA-OAEP unwrap per distinct epoch key (address-day).
    pub rsa: Duration,
    /// The AEAD opens of every record.
    pub aead: Duration,
    /// JSON parse and trip decoding of every record.
    pub json: Duration,
    /// Distinct epoch keys unwrapped.
    pub unwraps: usize,
}

impl ReadPrimitives {
    /// The primitives added up.
    pub fn total(&self) -> Duration {
        self.rsa + self.aead + self.json
    }
}

/// Times the primitives of decrypting `stored` with the owner's `keys`.
pub fn read_primitives(stored: &[VerifiedRecord], keys: &WalletKeys) -> ReadPrimitives {
    let t = Instant::now();
    let epochs = unwrap_epochs(stored, keys);
    let rsa = t.elapsed();
    let t = Instant::now();
    let plaintexts = open_all(stored, &epochs);
    let aead = t.elapsed();
    let t = Instant::now();
    let keys: Vec<&[u8]> = stored
        .iter()
        .map(|r| r.registration.put.key.as_slice())
        .collect();
    decode_trips(&keys, &plaintexts);
    let json = t.elapsed();
    ReadPrimitives {
        rsa,
        aead,
        json,
        unwraps: epochs.len(),
    }
}

/// One bare transfer of 1 unit from `secret`'s account to `to`, signed, submitted and
/// waited for in its block (what each of approve's submissions costs at least).
pub async fn bare_transfer(
    ledger: &GrantsLedger,
    secret: &bitcoin::secp256k1::SecretKey,
    to: &str,
) -> Duration {
    let t = Instant::now();
    ledger
        .submit(
            secret,
            TxBody::Transfer(Transfer {
                to: to.to_owned(),
                amount: 1,
            }),
        )
        .await
        .expect("transfer");
    t.elapsed()
}

/// `count` RSA-OAEP encryptions of fresh 32-byte record keys to `provider`'s RSA key
/// (the key generation itself is not timed).
pub fn rsa_encryptions(provider: &ServiceProvider, count: usize) -> Duration {
    let public = provider.rsa_public_key();
    let keys: Vec<RecordKey> = (0..count)
        .map(|_| RecordKey::generate().expect("key"))
        .collect();
    let t = Instant::now();
    for key in &keys {
        WrappedKey::wrap_record_key(key, &public).expect("wrap");
    }
    t.elapsed()
}

/// The HTTP calls a verified read of `refs` makes, without verifying anything: the KV
/// range of every distinct address and the state answer of every record (as the
/// month-read benchmark's network baseline). Returns the time and the records seen.
pub async fn raw_fetch(base: &str, refs: &[RecordRef]) -> (Duration, usize) {
    let http = reqwest::Client::new();
    let addresses: BTreeSet<&str> = refs.iter().map(|r| r.address.as_str()).collect();
    let t = Instant::now();
    let fetched = fetch_raw(&http, base, addresses).await;
    let elapsed = t.elapsed();
    assert!(
        fetched
            .iter()
            .all(|record| record.answer["proof"].is_string())
    );
    (elapsed, fetched.len())
}
