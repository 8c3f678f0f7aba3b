//! The private node's write-credential tables (`writes.sqlite`, WAL, `synchronous =
//! FULL`): which address each shown credential is bound to and how many values it has
//! stored, how many credentials each paired holder was issued per day, and how many
//! credential-less open-slot puts (pairing mailbox, data-request inbox) the node took
//! per hour. Every decision is one SQLite transaction: nothing is half-applied.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::service::{ErrorCode, ServiceError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS credential_bindings (
    credential BLOB PRIMARY KEY,
    address TEXT NOT NULL,
    puts INTEGER NOT NULL,
    bound_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issuance (
    holder TEXT NOT NULL,
    day INTEGER NOT NULL,
    issued INTEGER NOT NULL,
    PRIMARY KEY (holder, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS open_slots (
    hour INTEGER PRIMARY KEY,
    used INTEGER NOT NULL
);
";

/// Values one credential may store under its address; past it the credential is spent
/// and the writer shows a fresh one for the same address.
pub const PUTS_PER_CREDENTIAL: u64 = 1_024;
/// Credentials one paired holder (a car, or an owner) may be issued per UTC day.
pub const ISSUANCE_PER_DAY: u64 = 256;
/// Credential-less open-slot puts (pairing mailbox, data-request inbox) a private node
/// takes per hour, all writers together.
pub const OPEN_SLOTS_PER_HOUR: u64 = 120;

/// The tables.
#[derive(Debug)]
pub struct WriteTables {
    connection: Mutex<Connection>,
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, format!("write credentials: {err}"))
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl WriteTables {
    /// Opens (creating if needed) the tables at `path`.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn with_tx<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| internal("lock poisoned"))?;
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        let value = work(&tx)?;
        tx.commit().map_err(internal)?;
        Ok(value)
    }

    /// Binds `credential` (its id) to `address` on first use, or checks that it is bound
    /// there and not spent.
    pub fn bind(&self, credential: &[u8; 32], address: &str, now: u64) -> Result<(), ServiceError> {
        self.with_tx(|tx| {
            let row: Option<(String, i64)> = tx
                .query_row(
                    "SELECT address, puts FROM credential_bindings WHERE credential = ?1",
                    [credential.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(internal)?;
            match row {
                Some((bound, _)) if bound != address => Err(ServiceError::new(
                    ErrorCode::CredentialBoundElsewhere,
                    "this credential is bound to another address",
                )),
                Some((_, puts)) if puts >= to_i64(PUTS_PER_CREDENTIAL) => Err(ServiceError::new(
                    ErrorCode::CredentialSpent,
                    format!(
                        "this credential stored its {PUTS_PER_CREDENTIAL} values: show a fresh one"
                    ),
                )),
                Some(_) => Ok(()),
                None => {
                    tx.execute(
                        "INSERT INTO credential_bindings (credential, address, puts, bound_at)
                         VALUES (?1, ?2, 0, ?3)",
                        params![credential.as_slice(), address, to_i64(now)],
                    )
                    .map_err(internal)?;
                    Ok(())
                }
            }
        })
    }

    /// Counts one stored value against `credential`.
    pub fn count_put(&self, credential: &[u8; 32]) -> Result<(), ServiceError> {
        self.with_tx(|tx| {
            tx.execute(
                "UPDATE credential_bindings SET puts = puts + 1 WHERE credential = ?1",
                [credential.as_slice()],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    /// The address `credential` is bound to, and its stored values.
    pub fn binding(&self, credential: &[u8; 32]) -> Result<Option<(String, u64)>, ServiceError> {
        self.with_tx(|tx| {
            tx.query_row(
                "SELECT address, puts FROM credential_bindings WHERE credential = ?1",
                [credential.as_slice()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(internal)
            .map(|row| row.map(|(a, p)| (a, u64::try_from(p).unwrap_or(0))))
        })
    }

    /// Reserves `count` issuances for `holder` on `day`, refusing past
    /// [`ISSUANCE_PER_DAY`].
    pub fn reserve_issuance(&self, holder: &str, day: u64, count: u64) -> Result<(), ServiceError> {
        self.with_tx(|tx| {
            let issued: i64 = tx
                .query_row(
                    "SELECT issued FROM issuance WHERE holder = ?1 AND day = ?2",
                    params![holder, to_i64(day)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?
                .unwrap_or(0);
            let issued = u64::try_from(issued).unwrap_or(u64::MAX);
            if issued.saturating_add(count) > ISSUANCE_PER_DAY {
                return Err(ServiceError::new(
                    ErrorCode::IssuanceQuota,
                    format!(
                        "{issued} of {ISSUANCE_PER_DAY} credentials issued today; asked {count}"
                    ),
                ));
            }
            tx.execute(
                "INSERT INTO issuance (holder, day, issued) VALUES (?1, ?2, ?3)
                 ON CONFLICT (holder, day) DO UPDATE SET issued = issued + ?3",
                params![holder, to_i64(day), to_i64(count)],
            )
            .map_err(internal)?;
            Ok(())
        })
    }

    /// Takes one open slot of `hour`, refusing past [`OPEN_SLOTS_PER_HOUR`].
    pub fn take_open_slot(&self, hour: u64) -> Result<(), ServiceError> {
        self.with_tx(|tx| {
            let used: i64 = tx
                .query_row(
                    "SELECT used FROM open_slots WHERE hour = ?1",
                    [to_i64(hour)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?
                .unwrap_or(0);
            if u64::try_from(used).unwrap_or(u64::MAX) >= OPEN_SLOTS_PER_HOUR {
                return Err(ServiceError::new(
                    ErrorCode::OpenQuotaExhausted,
                    format!("this node took its {OPEN_SLOTS_PER_HOUR} open puts this hour"),
                ));
            }
            tx.execute(
                "INSERT INTO open_slots (hour, used) VALUES (?1, 1)
                 ON CONFLICT (hour) DO UPDATE SET used = used + 1",
                [to_i64(hour)],
            )
            .map_err(internal)?;
            tx.execute(
                "DELETE FROM open_slots WHERE hour < ?1",
                [to_i64(hour.saturating_sub(48))],
            )
            .map_err(internal)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> (tempfile::TempDir, WriteTables) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let tables =
            WriteTables::open(&dir.path().join("writes.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        (dir, tables)
    }

    fn code<T>(result: Result<T, ServiceError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn a_credential_binds_to_its_first_address_and_is_refused_elsewhere() {
        let (_dir, tables) = tables();
        assert_eq!(tables.bind(&[1; 32], "bcrt1qa", 5), Ok(()));
        assert_eq!(
            tables.bind(&[1; 32], "bcrt1qa", 6),
            Ok(()),
            "same address again"
        );
        assert_eq!(
            code(tables.bind(&[1; 32], "bcrt1qb", 7)),
            Some(ErrorCode::CredentialBoundElsewhere)
        );
        assert_eq!(
            tables.bind(&[2; 32], "bcrt1qa", 8),
            Ok(()),
            "a second credential"
        );
        assert_eq!(
            tables.binding(&[1; 32]).ok().flatten(),
            Some(("bcrt1qa".to_owned(), 0))
        );
    }

    #[test]
    fn a_credential_is_spent_after_its_puts_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("writes.sqlite");
        {
            let tables = WriteTables::open(&path).unwrap_or_else(|e| panic!("{e}"));
            tables
                .bind(&[3; 32], "bcrt1qa", 1)
                .unwrap_or_else(|e| panic!("{e}"));
            for _ in 0..PUTS_PER_CREDENTIAL {
                tables.count_put(&[3; 32]).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let tables = WriteTables::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            code(tables.bind(&[3; 32], "bcrt1qa", 2)),
            Some(ErrorCode::CredentialSpent)
        );
        assert_eq!(
            code(tables.bind(&[3; 32], "bcrt1qb", 2)),
            Some(ErrorCode::CredentialBoundElsewhere)
        );
    }

    #[test]
    fn issuance_and_open_slots_are_bounded() {
        let (_dir, tables) = tables();
        assert_eq!(
            tables.reserve_issuance("device:V1", 10, ISSUANCE_PER_DAY),
            Ok(())
        );
        assert_eq!(
            code(tables.reserve_issuance("device:V1", 10, 1)),
            Some(ErrorCode::IssuanceQuota)
        );
        assert_eq!(
            tables.reserve_issuance("device:V1", 11, 1),
            Ok(()),
            "next day"
        );
        assert_eq!(
            tables.reserve_issuance("device:V2", 10, 1),
            Ok(()),
            "other holder"
        );
        for _ in 0..OPEN_SLOTS_PER_HOUR {
            tables.take_open_slot(100).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(
            code(tables.take_open_slot(100)),
            Some(ErrorCode::OpenQuotaExhausted)
        );
        assert_eq!(tables.take_open_slot(101), Ok(()), "next hour");
    }
}
