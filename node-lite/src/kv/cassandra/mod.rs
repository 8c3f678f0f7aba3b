//! [`CassandraKv`]: the [`KvStore`] backend on an Apache Cassandra cluster (CQL, through
//! the `scylla` driver).
//!
//! One table, partitioned by data address and clustered by record key ascending, so a
//! range read inside one address is an ordered slice of one partition:
//!
//! ```text
//! CREATE TABLE records (address text, rkey blob, value blob,
//!                       PRIMARY KEY ((address), rkey)) WITH CLUSTERING ORDER BY (rkey ASC)
//! ```
//!
//! Reads and writes run at QUORUM (two of three replicas with the default replication
//! factor of three), so an acknowledged put survives the loss of any one replica and is
//! seen by every later read (a slow read is also sent to another coordinator after a
//! few milliseconds, at the same QUORUM: speculative execution, reads only); the cluster's `commitlog_sync: batch` syncs each write to
//! disk before a replica acknowledges it. Write-once records need compare-and-set: puts
//! and deletes are lightweight transactions (`IF NOT EXISTS`, `IF EXISTS`, Paxos at
//! SERIAL). A batch is one conditional logged batch on one partition, which Cassandra
//! applies atomically and in isolation — so a batch must stay within one data address
//! ([`KvError::BatchSpansAddresses`] otherwise).
//!
//! The [`KvStore`] trait is synchronous and the driver asynchronous: the backend owns a
//! small runtime of its own, and a call hands its request to that runtime and waits on a
//! channel, so it never blocks on (or nests) the caller's runtime. A background probe
//! reads at QUORUM every second; [`KvStore::health`] reports its latest answer.

mod config;
mod errors;
mod statements;
#[cfg(test)]
pub(super) mod test_cluster;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::speculative_execution::{
    SimpleSpeculativeExecutionPolicy, SpeculativeExecutionPolicy,
};
use scylla::response::query_result::QueryResult;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use scylla::value::{CqlValue, Row};

pub use config::CassandraConfig;
use statements::Statements;

use super::validate::{check_address, check_batch, check_key, check_put, duplicate};
use super::{KvError, KvHealth, KvPut, KvStore, PutOutcome, RangePage, RangeScan};

/// How often the background probe checks that a quorum answers.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe may take before the quorum counts as lost.
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);
/// How often a conditional batch is retried when a concurrent writer got in between.
const BATCH_ATTEMPTS: usize = 4;
/// At most this many extra copies of one read (see
/// [`CassandraConfig::speculative_read_after`]).
const SPECULATIVE_READS: usize = 2;

/// The driver's session and prepared statements, shared with the runtime's tasks.
struct Inner {
    session: Session,
    statements: Statements,
}

/// The latest answer of the quorum probe (`None`: the quorum answers).
type Health = Arc<Mutex<Option<String>>>;

/// The Cassandra [`KvStore`] backend. See the module documentation.
pub struct CassandraKv {
    /// Dropped with `shutdown_background`, which is allowed inside another runtime.
    runtime: Option<tokio::runtime::Runtime>,
    inner: Arc<Inner>,
    health: Health,
    config: CassandraConfig,
}

impl std::fmt::Debug for CassandraKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassandraKv")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Drop for CassandraKv {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl CassandraKv {
    /// Connects to the cluster, creates the keyspace (replication factor
    /// `config.replication`) and the table if missing, and starts the quorum probe.
    ///
    /// May be called from any thread, inside an async runtime or not.
    pub fn connect(config: CassandraConfig) -> Result<Self, KvError> {
        config.check()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("carchain-cassandra")
            .enable_all()
            .build()
            .map_err(|err| KvError::Backend {
                detail: format!("cannot start the driver's runtime: {err}"),
            })?;
        let setup = {
            let config = config.clone();
            async move { open(&config).await }
        };
        let inner = Arc::new(wait_on(runtime.handle(), setup)?);
        let health: Health = Arc::new(Mutex::new(None));
        runtime.spawn(probe(Arc::downgrade(&inner), health.clone()));
        Ok(Self {
            runtime: Some(runtime),
            inner,
            health,
            config,
        })
    }

    /// The configuration this store connected with.
    pub fn config(&self) -> &CassandraConfig {
        &self.config
    }

    /// Runs `work` on the driver's runtime and waits for its answer; records a lost or
    /// regained quorum.
    fn run<T, F>(&self, work: impl FnOnce(Arc<Inner>) -> F) -> Result<T, KvError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, KvError>> + Send + 'static,
    {
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(KvError::Backend {
                detail: "the driver's runtime has stopped".into(),
            });
        };
        let result = wait_on(runtime.handle(), work(self.inner.clone()));
        match &result {
            Err(KvError::Unavailable { detail }) => set_health(&self.health, Some(detail.clone())),
            Ok(_) => set_health(&self.health, None),
            Err(_) => {}
        }
        result
    }

    /// Runs the one-record `statement` (of the prepared ones) on `address` and `key`,
    /// once both are checked, and reads its result with `answer`.
    fn on_record<T: Send + 'static>(
        &self,
        address: &str,
        key: &[u8],
        statement: fn(&Statements) -> &PreparedStatement,
        answer: fn(QueryResult) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        check_address(address)?;
        check_key(key)?;
        let (address, key) = (address.to_owned(), key.to_vec());
        self.run(move |inner| async move {
            let result = inner
                .session
                .execute_unpaged(statement(&inner.statements), (address, key))
                .await
                .map_err(errors::execution)?;
            answer(result)
        })
    }
}

/// Spawns `work` on `handle` and blocks this thread until it answers.
fn wait_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    work: impl Future<Output = Result<T, KvError>> + Send + 'static,
) -> Result<T, KvError> {
    let (answer, answered) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        // Ignored: the caller stopped waiting only if its thread is gone.
        let _ = answer.send(work.await);
    });
    answered.recv().map_err(|_| KvError::Backend {
        detail: "the driver's task ended without an answer".into(),
    })?
}

fn set_health(health: &Health, problem: Option<String>) {
    if let Ok(mut state) = health.lock() {
        *state = problem;
    }
}

/// Connects, creates the schema and prepares the statements.
async fn open(config: &CassandraConfig) -> Result<Inner, KvError> {
    let speculative = config.speculative_read_after.map(|retry_interval| {
        Arc::new(SimpleSpeculativeExecutionPolicy {
            max_retry_count: SPECULATIVE_READS,
            retry_interval,
        }) as Arc<dyn SpeculativeExecutionPolicy>
    });
    let profile = ExecutionProfile::builder()
        .consistency(Consistency::Quorum)
        .serial_consistency(Some(SerialConsistency::Serial))
        .request_timeout(Some(config.request_timeout))
        .speculative_execution_policy(speculative)
        .build();
    let session = SessionBuilder::new()
        .known_nodes(&config.nodes)
        .connection_timeout(config.connect_timeout)
        .default_execution_profile_handle(profile.into_handle())
        .build()
        .await
        .map_err(errors::connect)?;
    statements::create_schema(&session, config).await?;
    let statements = Statements::prepare(&session, config).await?;
    Ok(Inner {
        session,
        statements,
    })
}

/// Every [`PROBE_INTERVAL`], reads one row at QUORUM and records whether it answered.
/// Ends when the store is dropped.
async fn probe(inner: std::sync::Weak<Inner>, health: Health) {
    let mut ticks = tokio::time::interval(PROBE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let answer = tokio::time::timeout(
            PROBE_TIMEOUT,
            inner
                .session
                .execute_unpaged(&inner.statements.probe, ("~probe", [0u8].as_slice())),
        )
        .await;
        let problem = match answer {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => match errors::execution(err) {
                KvError::Unavailable { detail } => Some(detail),
                _ => None,
            },
            Err(_) => Some(format!(
                "no quorum answered within {} s",
                PROBE_TIMEOUT.as_secs()
            )),
        };
        set_health(&health, problem);
    }
}

/// The `[applied]` column of a lightweight transaction's result.
fn applied(result: QueryResult) -> Result<bool, KvError> {
    let rows = result.into_rows_result().map_err(errors::not_rows)?;
    let row: Row = rows.first_row().map_err(errors::rows)?;
    match row.columns.first() {
        Some(Some(CqlValue::Boolean(applied))) => Ok(*applied),
        other => Err(errors::rows(format!("no [applied] column: {other:?}"))),
    }
}

/// One record to store: owned, to move into the driver's task.
#[derive(Clone)]
struct Owned {
    key: Vec<u8>,
    value: Vec<u8>,
}

/// A checked batch's address and owned records (`None` for an empty batch); a batch that
/// spans addresses is refused, since Cassandra is atomic within one partition only.
fn one_partition(puts: &[KvPut<'_>]) -> Result<Option<(String, Vec<Owned>)>, KvError> {
    check_batch(puts)?;
    let Some(first) = puts.first() else {
        return Ok(None);
    };
    if puts.iter().any(|put| put.address != first.address) {
        return Err(KvError::BatchSpansAddresses);
    }
    let records = puts
        .iter()
        .map(|put| Owned {
            key: put.key.to_vec(),
            value: put.value.to_vec(),
        })
        .collect();
    Ok(Some((first.address.to_owned(), records)))
}

/// Stores `records` of one `address` all or none, each `Stored` or `AlreadyStored`.
async fn put_partition(
    inner: Arc<Inner>,
    address: String,
    records: Vec<Owned>,
) -> Result<Vec<PutOutcome>, KvError> {
    let mut outcomes = vec![PutOutcome::Stored; records.len()];
    let mut pending: Vec<usize> = (0..records.len()).collect();
    for _ in 0..BATCH_ATTEMPTS {
        if pending.is_empty() {
            return Ok(outcomes);
        }
        let batch = inner.statements.insert_batch(pending.len());
        let values: Vec<(&str, &[u8], &[u8])> = pending
            .iter()
            .map(|&i| (address.as_str(), &records[i].key[..], &records[i].value[..]))
            .collect();
        let result = inner
            .session
            .batch(&batch, values)
            .await
            .map_err(errors::execution)?;
        if applied(result)? {
            return Ok(outcomes);
        }
        // Some record exists: read what is there (at SERIAL, so a transaction in flight
        // is finished first) and retry with only the new ones.
        let keys: Vec<Vec<u8>> = pending.iter().map(|&i| records[i].key.clone()).collect();
        let existing = read_serial(&inner, &address, keys).await?;
        let mut still = Vec::new();
        for i in pending {
            match existing.get(&records[i].key) {
                None => still.push(i),
                Some(value) if *value == records[i].value => {
                    outcomes[i] = PutOutcome::AlreadyStored;
                }
                Some(_) => return Err(duplicate(&address, &records[i].key)),
            }
        }
        pending = still;
    }
    if pending.is_empty() {
        return Ok(outcomes);
    }
    Err(KvError::Unavailable {
        detail: "concurrent writers kept changing the batch's records".into(),
    })
}

/// Stores `records` of one `address` whose values were checked against the ledger: reads
/// which are there already (QUORUM), then writes the others in one plain single-partition
/// batch (QUORUM) — no Paxos round, which is what bounds conditional batches.
async fn put_partition_verified(
    inner: Arc<Inner>,
    address: String,
    records: Vec<Owned>,
) -> Result<Vec<PutOutcome>, KvError> {
    let keys: Vec<Vec<u8>> = records.iter().map(|r| r.key.clone()).collect();
    let existing = read_keys(&inner, &inner.statements.read_some, &address, keys).await?;
    let mut outcomes = Vec::with_capacity(records.len());
    let mut new = Vec::new();
    for record in &records {
        match existing.get(&record.key) {
            None => {
                outcomes.push(PutOutcome::Stored);
                new.push((address.as_str(), &record.key[..], &record.value[..]));
            }
            Some(value) if *value == record.value => outcomes.push(PutOutcome::AlreadyStored),
            Some(_) => return Err(duplicate(&address, &record.key)),
        }
    }
    if !new.is_empty() {
        let batch = inner.statements.insert_verified_batch(new.len());
        inner
            .session
            .batch(&batch, new)
            .await
            .map_err(errors::execution)?;
    }
    Ok(outcomes)
}

/// Stores `records` of `address` (fresh registrations: see
/// [`KvStore::put_batch_registered`]) in one plain batch, without reading them first.
async fn put_partition_registered(
    inner: Arc<Inner>,
    address: String,
    records: Vec<Owned>,
) -> Result<Vec<PutOutcome>, KvError> {
    let rows: Vec<(&str, &[u8], &[u8])> = records
        .iter()
        .map(|r| (address.as_str(), &r.key[..], &r.value[..]))
        .collect();
    let batch = inner.statements.insert_verified_batch(rows.len());
    inner
        .session
        .batch(&batch, rows)
        .await
        .map_err(errors::execution)?;
    Ok(vec![PutOutcome::Stored; records.len()])
}

/// Reads `keys` of `address` at SERIAL consistency.
async fn read_serial(
    inner: &Inner,
    address: &str,
    keys: Vec<Vec<u8>>,
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, KvError> {
    read_keys(inner, &inner.statements.read_serial, address, keys).await
}

/// Reads `keys` of `address` with `statement` (`SELECT rkey, value ... rkey IN ?`).
async fn read_keys(
    inner: &Inner,
    statement: &PreparedStatement,
    address: &str,
    keys: Vec<Vec<u8>>,
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, KvError> {
    let result = inner
        .session
        .execute_unpaged(statement, (address, keys))
        .await
        .map_err(errors::execution)?;
    let rows = result.into_rows_result().map_err(errors::not_rows)?;
    rows.rows::<(Vec<u8>, Vec<u8>)>()
        .map_err(errors::rows)?
        .map(|row| row.map_err(errors::rows))
        .collect()
}

impl KvStore for CassandraKv {
    fn put(&self, address: &str, key: &[u8], value: &[u8]) -> Result<PutOutcome, KvError> {
        check_put(address, key, value)?;
        let (address, record) = (
            address.to_owned(),
            Owned {
                key: key.to_vec(),
                value: value.to_vec(),
            },
        );
        let outcomes = self.run(|inner| put_partition(inner, address, vec![record]))?;
        outcomes.first().copied().ok_or_else(|| KvError::Backend {
            detail: "a put had no outcome".into(),
        })
    }

    fn put_batch(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        match one_partition(puts)? {
            Some((address, records)) => self.run(|inner| put_partition(inner, address, records)),
            None => Ok(Vec::new()),
        }
    }

    fn put_batch_verified(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        match one_partition(puts)? {
            Some((address, records)) => {
                self.run(|inner| put_partition_verified(inner, address, records))
            }
            None => Ok(Vec::new()),
        }
    }

    /// One plain single-partition batch at QUORUM, without the read of
    /// [`Self::put_batch_verified`]: half the replicas' work for a fresh batch.
    fn put_batch_registered(&self, puts: &[KvPut<'_>]) -> Result<Vec<PutOutcome>, KvError> {
        match one_partition(puts)? {
            Some((address, records)) => {
                self.run(|inner| put_partition_registered(inner, address, records))
            }
            None => Ok(Vec::new()),
        }
    }

    fn get(&self, address: &str, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.on_record(
            address,
            key,
            |s| &s.get,
            |result| {
                let rows = result.into_rows_result().map_err(errors::not_rows)?;
                let row: Option<(Vec<u8>,)> = rows.maybe_first_row().map_err(errors::rows)?;
                Ok(row.map(|(value,)| value))
            },
        )
    }

    fn scan(&self, scan: RangeScan<'_>) -> Result<RangePage, KvError> {
        let (limit, excluded) = (scan.limit, scan.lower_excluded);
        let fetch = i32::try_from(limit).unwrap_or(i32::MAX).saturating_add(1);
        let (address, lower, end) = (
            scan.address.to_owned(),
            scan.lower.to_vec(),
            scan.end_inclusive.to_vec(),
        );
        self.run(move |inner| async move {
            let statement = if excluded {
                &inner.statements.range_after
            } else {
                &inner.statements.range_from
            };
            let result = inner
                .session
                .execute_unpaged(statement, (address, lower, end, fetch))
                .await
                .map_err(errors::execution)?;
            let rows = result.into_rows_result().map_err(errors::not_rows)?;
            let rows = rows
                .rows::<(Vec<u8>, Vec<u8>)>()
                .map_err(errors::rows)?
                .map(|row| row.map_err(errors::rows))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RangePage::from_rows(rows, limit))
        })
    }

    fn delete(&self, address: &str, key: &[u8]) -> Result<bool, KvError> {
        self.on_record(address, key, |s| &s.delete, applied)
    }

    fn health(&self) -> KvHealth {
        let problem = self.health.lock().map_or_else(
            |_| Some("the health state is poisoned".into()),
            |state| state.clone(),
        );
        KvHealth {
            backend: "cassandra".into(),
            available: problem.is_none(),
            detail: problem,
        }
    }
}
