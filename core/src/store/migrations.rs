//! Versioned schema migrations driven by `PRAGMA user_version`.
//!
//! Steps are applied in order, each in its own transaction together with the bump of
//! `user_version`, so a crash leaves the file at the last completed step. A file whose
//! version is newer than the last known step is refused before anything is written.

use rusqlite::{Connection, TransactionBehavior};

use super::error::{StoreError, StoreResult};

/// One schema step: the SQL that moves the store from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Schema version after this step.
    pub version: u32,
    /// What the step adds.
    pub name: &'static str,
    /// SQL run inside the step's transaction.
    pub sql: &'static str,
}

/// Every schema step this code knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "meta, identity, devices, pools",
        sql: include_str!("schema/v1_identity_devices_pools.sql"),
    },
    Migration {
        version: 2,
        name: "record cache, headers",
        sql: include_str!("schema/v2_record_cache_headers.sql"),
    },
    Migration {
        version: 3,
        name: "grants, provider requests",
        sql: include_str!("schema/v3_grants_requests.sql"),
    },
    Migration {
        version: 4,
        name: "read tokens",
        sql: include_str!("schema/v4_read_tokens.sql"),
    },
    Migration {
        version: 5,
        name: "light client trust",
        sql: include_str!("schema/v5_light_trust.sql"),
    },
];

/// The schema version stored in the file (`0` for a new file).
pub fn schema_version(conn: &Connection) -> StoreResult<u32> {
    let raw: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    u32::try_from(raw).map_err(|_| StoreError::SchemaVersionInvalid { found: raw })
}

/// Fails with [`StoreError::SchemaTooNew`] when the file is newer than `steps` know.
/// Reads only; safe to call before any pragma or write.
pub fn ensure_not_newer(conn: &Connection, steps: &[Migration]) -> StoreResult<u32> {
    let found = schema_version(conn)?;
    let supported = latest_version(steps);
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    Ok(found)
}

/// Applies every step of `steps` newer than the file's version; returns the final
/// version.
pub fn migrate(conn: &mut Connection, steps: &[Migration]) -> StoreResult<u32> {
    let found = ensure_not_newer(conn, steps)?;
    let mut current = found;
    for step in steps.iter().filter(|step| step.version > found) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", step.version)?;
        tx.commit()?;
        tracing::info!(
            version = step.version,
            step = step.name,
            "wallet store migrated"
        );
        current = step.version;
    }
    Ok(current)
}

fn latest_version(steps: &[Migration]) -> u32 {
    steps.last().map_or(0, |step| step.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_names(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn steps_are_numbered_in_order_from_one() {
        for (index, step) in MIGRATIONS.iter().enumerate() {
            assert_eq!(step.version as usize, index + 1, "{}", step.name);
        }
    }

    #[test]
    fn full_migration_creates_every_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), 5);
        assert_eq!(schema_version(&conn).unwrap(), 5);
        assert_eq!(
            table_names(&conn),
            [
                "devices",
                "grants",
                "headers",
                "identity",
                "light_trust",
                "meta",
                "pool_addresses",
                "provider_requests",
                "read_tokens",
                "record_cache"
            ]
        );
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), 5);
    }

    #[test]
    fn step_by_step_equals_all_at_once() {
        let mut stepwise = Connection::open_in_memory().unwrap();
        for end in 1..=MIGRATIONS.len() {
            assert_eq!(
                migrate(&mut stepwise, &MIGRATIONS[..end]).unwrap() as usize,
                end
            );
        }
        let mut direct = Connection::open_in_memory().unwrap();
        migrate(&mut direct, MIGRATIONS).unwrap();
        assert_eq!(table_names(&stepwise), table_names(&direct));
    }

    #[test]
    fn newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        let err = migrate(&mut conn, MIGRATIONS).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 9,
                supported: 5
            }
        ));
        assert!(table_names(&conn).is_empty());
    }

    #[test]
    fn negative_version_is_invalid() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", -1).unwrap();
        assert!(matches!(
            schema_version(&conn),
            Err(StoreError::SchemaVersionInvalid { found: -1 })
        ));
    }

    #[test]
    fn failing_step_rolls_back_to_previous_version() {
        let broken = [
            MIGRATIONS[0],
            Migration {
                version: 2,
                name: "broken",
                sql: "CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL;",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(migrate(&mut conn, &broken).is_err());
        assert_eq!(schema_version(&conn).unwrap(), 1);
        assert!(!table_names(&conn).contains(&"half_done".to_owned()));
    }
}
