//! The CQL of the Cassandra backend: the schema it creates and its prepared statements.

use std::time::Duration;

use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, Statement};

use super::config::CassandraConfig;
use super::errors;
use crate::kv::KvError;

/// A schema change waits for every live node to agree; on a loaded machine that is slow.
const SCHEMA_TIMEOUT: Duration = Duration::from_secs(60);

/// Creates the keyspace (SimpleStrategy, `config.replication` copies, durable writes) and
/// the records table when missing.
pub(super) async fn create_schema(
    session: &Session,
    config: &CassandraConfig,
) -> Result<(), KvError> {
    let keyspace = format!(
        "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = \
         {{'class': 'SimpleStrategy', 'replication_factor': {}}} AND durable_writes = true",
        config.keyspace, config.replication
    );
    let table = format!(
        "CREATE TABLE IF NOT EXISTS {}.{} (address text, rkey blob, value blob, \
         PRIMARY KEY ((address), rkey)) WITH CLUSTERING ORDER BY (rkey ASC)",
        config.keyspace, config.table
    );
    for cql in [keyspace, table] {
        let mut statement = Statement::new(cql);
        statement.set_request_timeout(Some(SCHEMA_TIMEOUT));
        session
            .query_unpaged(statement, &[])
            .await
            .map_err(errors::execution)?;
    }
    Ok(())
}

/// The backend's prepared statements (QUORUM unless said otherwise).
pub(super) struct Statements {
    /// `INSERT ... IF NOT EXISTS`: one record of a conditional batch.
    insert: PreparedStatement,
    /// A plain `INSERT`: one record of a batch of values checked against the ledger.
    insert_verified: PreparedStatement,
    /// Some records' values at QUORUM (what is there before a checked batch is written).
    pub(super) read_some: PreparedStatement,
    /// One record's value.
    pub(super) get: PreparedStatement,
    /// A slice of one partition from an inclusive lower key.
    pub(super) range_from: PreparedStatement,
    /// A slice of one partition after an exclusive lower key (a cursor).
    pub(super) range_after: PreparedStatement,
    /// `DELETE ... IF EXISTS`.
    pub(super) delete: PreparedStatement,
    /// Some records' values at SERIAL consistency (after a batch was not applied).
    pub(super) read_serial: PreparedStatement,
    /// The quorum probe's read.
    pub(super) probe: PreparedStatement,
}

impl Statements {
    pub(super) async fn prepare(
        session: &Session,
        config: &CassandraConfig,
    ) -> Result<Self, KvError> {
        let table = format!("{}.{}", config.keyspace, config.table);
        let prepare =
            |cql: String| async move { session.prepare(cql).await.map_err(errors::prepare) };
        let mut read_serial = prepare(format!(
            "SELECT rkey, value FROM {table} WHERE address = ? AND rkey IN ?"
        ))
        .await?;
        read_serial.set_consistency(Consistency::Serial);
        let mut probe = prepare(format!(
            "SELECT value FROM {table} WHERE address = ? AND rkey = ?"
        ))
        .await?;
        probe.set_request_timeout(Some(super::PROBE_TIMEOUT));
        // Plain reads change nothing, so the driver may send them again to another
        // replica when the first is slow (speculative execution); writes are
        // conditional (`IF NOT EXISTS` / `IF EXISTS`) and are never sent twice.
        let read = |cql: String| async move {
            let mut statement = prepare(cql).await?;
            statement.set_is_idempotent(true);
            Ok::<_, KvError>(statement)
        };
        Ok(Self {
            insert: prepare(format!(
                "INSERT INTO {table} (address, rkey, value) VALUES (?, ?, ?) IF NOT EXISTS"
            ))
            .await?,
            insert_verified: prepare(format!(
                "INSERT INTO {table} (address, rkey, value) VALUES (?, ?, ?)"
            ))
            .await?,
            read_some: read(format!(
                "SELECT rkey, value FROM {table} WHERE address = ? AND rkey IN ?"
            ))
            .await?,
            get: read(format!(
                "SELECT value FROM {table} WHERE address = ? AND rkey = ?"
            ))
            .await?,
            range_from: read(format!(
                "SELECT rkey, value FROM {table} WHERE address = ? AND rkey >= ? AND rkey <= ? \
                 LIMIT ?"
            ))
            .await?,
            range_after: read(format!(
                "SELECT rkey, value FROM {table} WHERE address = ? AND rkey > ? AND rkey <= ? \
                 LIMIT ?"
            ))
            .await?,
            delete: prepare(format!(
                "DELETE FROM {table} WHERE address = ? AND rkey = ? IF EXISTS"
            ))
            .await?,
            read_serial,
            probe,
        })
    }

    /// A batch of `count` plain inserts into one partition: Cassandra applies a
    /// single-partition batch as one mutation, atomic and isolated, so it needs no
    /// batch log.
    pub(super) fn insert_verified_batch(&self, count: usize) -> Batch {
        let mut batch = Batch::new(BatchType::Unlogged);
        for _ in 0..count {
            batch.append_statement(self.insert_verified.clone());
        }
        batch
    }

    /// A logged batch of `count` conditional inserts (one partition: atomic, isolated).
    pub(super) fn insert_batch(&self, count: usize) -> Batch {
        let mut batch = Batch::new(BatchType::Logged);
        for _ in 0..count {
            batch.append_statement(self.insert.clone());
        }
        batch
    }
}
