//! The world a benchmark starts from: the owner's wallet restored from the published
//! test words (a store on disk, so each run can reopen it cold, and the same keys
//! derived apart for the primitives), a node in-process on loopback, and cars paired
//! with the owner that store the month of trips.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use carchain_core::device::CarDevice;
use carchain_core::keys::{Network, WalletKeys};
use carchain_core::light::LightClient;
use carchain_core::store::{InMemorySecretStore, SecretStore};
use carchain_core::wallet::Wallet;
use chrono::NaiveDate;

use carchain_testkit::flows::{WORDS_A, car, pair};

use carchain_testkit::month::month_of_trips;

/// Runs `main` on a multi-threaded tokio runtime.
pub fn block_on(main: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(main);
}

/// The owner: a wallet of [`WORDS_A`] whose store can be reopened cold, and its keys.
pub struct BenchOwner {
    /// The wallet as restored.
    pub wallet: Wallet,
    /// The same keys derived apart from the wallet, for the primitives.
    pub keys: WalletKeys,
    secrets: Arc<dyn SecretStore>,
    store_path: PathBuf,
    _store_dir: tempfile::TempDir,
}

impl BenchOwner {
    /// Restores the owner's wallet from [`WORDS_A`] into a fresh store.
    pub fn restore() -> Self {
        let secrets: Arc<dyn SecretStore> = Arc::new(InMemorySecretStore::new());
        let store_dir = tempfile::tempdir().expect("dir");
        let store_path = store_dir.path().join("wallet.db");
        let wallet = Wallet::restore(&store_path, secrets.clone(), Network::Regtest, WORDS_A, "")
            .expect("wallet");
        let keys = carchain_testkit::car_records::owner_keys(WORDS_A);
        assert_eq!(keys.owner_address().to_string(), wallet.owner_address());
        BenchOwner {
            wallet,
            keys,
            secrets,
            store_path,
            _store_dir: store_dir,
        }
    }

    /// The app reopened: the same store, an empty epoch-key cache.
    pub fn reopen(&self) -> Wallet {
        Wallet::open(&self.store_path, self.secrets.clone()).expect("reopen")
    }

    /// Pairs a new car `vid` (its store in `dir`) with the owner on a 32-address pool.
    pub async fn paired_car(
        &self,
        light: &LightClient,
        dir: &tempfile::TempDir,
        vid: &str,
    ) -> CarDevice {
        let car = car(dir, vid);
        pair(&self.wallet, light, &car, "bench car", 32).await;
        car
    }
}

/// Has `car` store the first `count` trips of the month and deliver them; returns the
/// stored (day, trip) pairs.
pub async fn store_month(
    car: &CarDevice,
    light: &LightClient,
    count: usize,
) -> Vec<(NaiveDate, carchain_core::trip::Trip)> {
    let loading = Instant::now();
    let month: Vec<_> = month_of_trips().into_iter().take(count).collect();
    for (date, trip) in &month {
        car.put_trip(trip, 1, *date).expect("put");
    }
    let report = car.flush(light).await.expect("flush");
    assert_eq!(report.delivered, month.len() as u64);
    eprintln!(
        "{} loaded {} trips in {:?}",
        car.vid(),
        month.len(),
        loading.elapsed()
    );
    month
}
