//! `webhooks.sqlite` in the node's data directory: the registered hooks (provider
//! address, URL, shared secret, registration time, ledger height at registration,
//! delivery counters and the last failure's class), the outbox of notifications (waiting
//! for a 2xx, or failed: given up after the node's attempt or age limit and kept), the
//! nonces of recent signed requests, and the last ledger height scanned. An outbox row
//! and the scan cursor move in one transaction, so a notification is neither lost nor
//! invented by a crash or a restart, and its attempt count survives them.
//!
//! A deleted hook keeps its row, without URL or secret, so its registration time still
//! refuses a replay of an older registration. Layout versions (`PRAGMA user_version`):
//! 0, the first (hooks, outbox, cursor); 1 adds the counters, the failed state, the age
//! and the nonces. A version 0 store is upgraded in place on open.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::service::{ErrorCode, ServiceError};

/// The first layout (version 0), created as it was so a new store and an old one take
/// the same upgrade.
const SCHEMA_V0: &str = "
CREATE TABLE IF NOT EXISTS hooks (
    provider TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret BLOB NOT NULL,
    time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id BLOB PRIMARY KEY,
    provider TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    height INTEGER NOT NULL
);
";

/// Version 0 to 1. Rows queued by a version 0 node take their next attempt's time as
/// their age's start.
const UPGRADE_V1: &str = "
ALTER TABLE hooks ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hooks ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hooks ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hooks ADD COLUMN last_error TEXT;
ALTER TABLE hooks ADD COLUMN last_status INTEGER;
ALTER TABLE hooks ADD COLUMN last_error_at INTEGER;
ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET created_at = next_at;
CREATE INDEX outbox_due ON outbox (failed, next_at);
CREATE INDEX outbox_provider ON outbox (provider, failed);
CREATE TABLE nonces (
    provider TEXT NOT NULL,
    nonce BLOB NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (provider, nonce)
);
PRAGMA user_version = 1;
";

/// The current layout version.
pub const LAYOUT_VERSION: i64 = 1;

/// A notification waiting in the outbox, with where and how to send it.
pub struct Due {
    /// The notification id.
    pub id: Vec<u8>,
    /// The provider it is for.
    pub provider: String,
    /// The exact JSON body.
    pub body: Vec<u8>,
    /// The provider's current URL.
    pub url: String,
    /// The provider's shared secret.
    pub secret: Zeroizing<Vec<u8>>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it was queued (unix ms).
    pub created_at_ms: u64,
}

/// A notification to add to the outbox.
pub struct NewNotification {
    /// The notification id.
    pub id: [u8; 32],
    /// The grantee provider's address.
    pub provider: String,
    /// The exact JSON body.
    pub body: Vec<u8>,
}

/// Whether a registration was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// Stored (new, or later than the one before).
    Stored,
    /// Not later than the stored registration of the provider: a replay.
    Stale,
}

/// Whether a delete removed a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted, with its waiting and failed notifications.
    Deleted,
    /// The provider has no hook.
    NotFound,
    /// Signed before the stored registration: a replay.
    Stale,
}

/// A failed attempt: its class, the HTTP status if answered, and when.
pub struct Failure<'a> {
    /// The failure's class (`connect`, `timeout`, `status`, ...).
    pub class: &'a str,
    /// The answer's status, if any.
    pub status: Option<u16>,
    /// When (unix ms).
    pub at_ms: u64,
    /// The next attempt (unix ms), or `None`: the node gives up and keeps it as failed.
    pub retry_at_ms: Option<u64>,
}

/// A hook as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookState {
    /// Where notifications go.
    pub url: String,
    /// The registration's time (unix seconds).
    pub time: u64,
    /// The ledger height at registration.
    pub height: u64,
    /// Notifications acknowledged.
    pub delivered: u64,
    /// Notifications waiting.
    pub pending: u64,
    /// Notifications given up on.
    pub failed: u64,
    /// The last failure's class.
    pub last_error: Option<String>,
    /// The last failure's status.
    pub last_status: Option<u16>,
    /// When the last failure happened (unix ms).
    pub last_error_at_ms: Option<u64>,
}

/// The webhook store.
pub struct WebhookStore {
    db: Mutex<Connection>,
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, format!("webhook store: {err}"))
}

impl WebhookStore {
    /// Opens (or creates, readable by the node's user only) `webhooks.sqlite` in
    /// `data_dir`, upgrading an older layout; a new store starts scanning after
    /// `start_height`.
    pub fn open(data_dir: &Path, start_height: u64) -> Result<Self, ServiceError> {
        let path = data_dir.join("webhooks.sqlite");
        let mut db = Connection::open(&path).map_err(internal)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(internal)?;
        }
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(internal)?;
        let tx = db.transaction().map_err(internal)?;
        tx.execute_batch(SCHEMA_V0).map_err(internal)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(internal)?;
        if version > LAYOUT_VERSION {
            return Err(internal(format!(
                "webhooks.sqlite has layout {version}, newer than this node's {LAYOUT_VERSION}"
            )));
        }
        if version < 1 {
            tx.execute_batch(UPGRADE_V1).map_err(internal)?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO cursor (one, height) VALUES (1, ?1)",
            params![start_height as i64],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(WebhookStore { db: Mutex::new(db) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, ServiceError> {
        self.db.lock().map_err(|_| internal("lock poisoned"))
    }

    /// Stores the hook of `provider` (registered at ledger height `height`) unless a
    /// registration with the same or a later time is stored, deleted or not. A
    /// replacement keeps the provider's counters and outbox.
    pub fn register(
        &self,
        provider: &str,
        url: &str,
        secret: &[u8],
        time: u64,
        height: u64,
    ) -> Result<Registered, ServiceError> {
        let db = self.lock()?;
        let stored: Option<i64> = db
            .query_row(
                "SELECT time FROM hooks WHERE provider = ?1",
                params![provider],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)?;
        if stored.is_some_and(|stored| stored as u64 >= time) {
            return Ok(Registered::Stale);
        }
        db.execute(
            "INSERT INTO hooks (provider, url, secret, time, height) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (provider) DO UPDATE SET url = ?2, secret = ?3, time = ?4, height = ?5, \
             deleted = 0",
            params![provider, url, secret, time as i64, height as i64],
        )
        .map_err(internal)?;
        Ok(Registered::Stored)
    }

    /// Deletes the hook of `provider` for a delete signed at `time`: forgets its URL and
    /// secret, drops its outbox rows and resets its counters; the registration time
    /// stays to refuse replays.
    pub fn delete(&self, provider: &str, time: u64) -> Result<Deleted, ServiceError> {
        let mut db = self.lock()?;
        let tx = db.transaction().map_err(internal)?;
        let stored: Option<i64> = tx
            .query_row(
                "SELECT time FROM hooks WHERE provider = ?1 AND deleted = 0",
                params![provider],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)?;
        let Some(stored) = stored else {
            return Ok(Deleted::NotFound);
        };
        if (stored as u64) > time {
            return Ok(Deleted::Stale);
        }
        tx.execute(
            "UPDATE hooks SET deleted = 1, url = '', secret = X'', delivered = 0, \
             last_error = NULL, last_status = NULL, last_error_at = NULL WHERE provider = ?1",
            params![provider],
        )
        .map_err(internal)?;
        tx.execute("DELETE FROM outbox WHERE provider = ?1", params![provider])
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        Ok(Deleted::Deleted)
    }

    /// The hook of `provider` and its counts, without the secret; `None` when it has none.
    pub fn state(&self, provider: &str) -> Result<Option<HookState>, ServiceError> {
        let db = self.lock()?;
        let hook = db
            .query_row(
                "SELECT url, time, height, delivered, last_error, last_status, last_error_at \
                 FROM hooks WHERE provider = ?1 AND deleted = 0",
                params![provider],
                |row| {
                    Ok(HookState {
                        url: row.get(0)?,
                        time: row.get::<_, i64>(1)? as u64,
                        height: row.get::<_, i64>(2)? as u64,
                        delivered: row.get::<_, i64>(3)? as u64,
                        pending: 0,
                        failed: 0,
                        last_error: row.get(4)?,
                        last_status: row.get::<_, Option<i64>>(5)?.map(|s| s as u16),
                        last_error_at_ms: row.get::<_, Option<i64>>(6)?.map(|t| t as u64),
                    })
                },
            )
            .optional()
            .map_err(internal)?;
        let Some(mut hook) = hook else {
            return Ok(None);
        };
        let (pending, failed): (i64, i64) = db
            .query_row(
                "SELECT COALESCE(SUM(failed = 0), 0), COALESCE(SUM(failed = 1), 0) \
                 FROM outbox WHERE provider = ?1",
                params![provider],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(internal)?;
        hook.pending = pending as u64;
        hook.failed = failed as u64;
        Ok(Some(hook))
    }

    /// Takes the nonce of a signed request of `provider` at `time` once: false when it
    /// was taken before. Nonces older than `forget_before` (unix seconds) are
    /// forgotten: requests that old are refused by their time.
    pub fn take_nonce(
        &self,
        provider: &str,
        nonce: &[u8],
        time: u64,
        forget_before: u64,
    ) -> Result<bool, ServiceError> {
        let db = self.lock()?;
        db.execute(
            "DELETE FROM nonces WHERE time < ?1",
            params![forget_before as i64],
        )
        .map_err(internal)?;
        let added = db
            .execute(
                "INSERT OR IGNORE INTO nonces (provider, nonce, time) VALUES (?1, ?2, ?3)",
                params![provider, nonce, time as i64],
            )
            .map_err(internal)?;
        Ok(added == 1)
    }

    /// Whether `provider` has a hook.
    pub fn has_hook(&self, provider: &str) -> Result<bool, ServiceError> {
        let db = self.lock()?;
        db.query_row(
            "SELECT 1 FROM hooks WHERE provider = ?1 AND deleted = 0",
            params![provider],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
        .map_err(internal)
    }

    /// The last height scanned.
    pub fn cursor(&self) -> Result<u64, ServiceError> {
        let db = self.lock()?;
        db.query_row("SELECT height FROM cursor WHERE one = 1", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|height| height as u64)
        .map_err(internal)
    }

    /// Adds `notifications` (ignoring ids already there) and moves the cursor to
    /// `height`, in one transaction.
    pub fn enqueue(
        &self,
        height: u64,
        notifications: &[NewNotification],
        now_ms: u64,
    ) -> Result<(), ServiceError> {
        let mut db = self.lock()?;
        let tx = db.transaction().map_err(internal)?;
        for item in notifications {
            tx.execute(
                "INSERT OR IGNORE INTO outbox (id, provider, body, attempts, next_at, created_at) \
                 VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                params![&item.id[..], item.provider, item.body, now_ms as i64],
            )
            .map_err(internal)?;
        }
        tx.execute(
            "UPDATE cursor SET height = ?1 WHERE one = 1",
            params![height as i64],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)
    }

    /// Up to `limit` waiting notifications due at `now_ms`, oldest first.
    pub fn due(&self, now_ms: u64, limit: u32) -> Result<Vec<Due>, ServiceError> {
        let db = self.lock()?;
        let mut statement = db
            .prepare(
                "SELECT o.id, o.provider, o.body, h.url, h.secret, o.attempts, o.created_at \
                 FROM outbox o JOIN hooks h ON h.provider = o.provider \
                 WHERE o.failed = 0 AND h.deleted = 0 AND o.next_at <= ?1 \
                 ORDER BY o.next_at LIMIT ?2",
            )
            .map_err(internal)?;
        let rows = statement
            .query_map(params![now_ms as i64, limit], |row| {
                Ok(Due {
                    id: row.get(0)?,
                    provider: row.get(1)?,
                    body: row.get(2)?,
                    url: row.get(3)?,
                    secret: Zeroizing::new(row.get(4)?),
                    attempts: row.get(5)?,
                    created_at_ms: row.get::<_, i64>(6)? as u64,
                })
            })
            .map_err(internal)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(internal)
    }

    /// Removes an acknowledged notification and counts it for its provider.
    pub fn delivered(&self, id: &[u8], provider: &str) -> Result<(), ServiceError> {
        let mut db = self.lock()?;
        let tx = db.transaction().map_err(internal)?;
        let removed = tx
            .execute("DELETE FROM outbox WHERE id = ?1", params![id])
            .map_err(internal)?;
        if removed > 0 {
            tx.execute(
                "UPDATE hooks SET delivered = delivered + 1 WHERE provider = ?1",
                params![provider],
            )
            .map_err(internal)?;
        }
        tx.commit().map_err(internal)
    }

    /// Records a failed attempt on the notification and, as the last failure, on its
    /// provider's hook: the next attempt is due at `retry_at_ms`, or the notification is
    /// kept as failed.
    pub fn failed(
        &self,
        id: &[u8],
        provider: &str,
        failure: &Failure<'_>,
    ) -> Result<(), ServiceError> {
        let mut db = self.lock()?;
        let tx = db.transaction().map_err(internal)?;
        match failure.retry_at_ms {
            Some(next) => tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?2 WHERE id = ?1",
                params![id, next as i64],
            ),
            None => tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, failed = 1 WHERE id = ?1",
                params![id],
            ),
        }
        .map_err(internal)?;
        tx.execute(
            "UPDATE hooks SET last_error = ?2, last_status = ?3, last_error_at = ?4 \
             WHERE provider = ?1 AND deleted = 0",
            params![
                provider,
                failure.class,
                failure.status.map(i64::from),
                failure.at_ms as i64
            ],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)
    }

    /// Notifications still waiting for a 2xx, of every provider.
    pub fn pending(&self) -> Result<u64, ServiceError> {
        self.count("SELECT COUNT(*) FROM outbox WHERE failed = 0")
    }

    /// Notifications given up on, of every provider.
    pub fn failed_count(&self) -> Result<u64, ServiceError> {
        self.count("SELECT COUNT(*) FROM outbox WHERE failed = 1")
    }

    fn count(&self, sql: &str) -> Result<u64, ServiceError> {
        let db = self.lock()?;
        db.query_row(sql, [], |row| row.get::<_, i64>(0))
            .map(|count| count as u64)
            .map_err(internal)
    }

    /// The attempts made on each notification of `provider` (operators, tests).
    pub fn attempts(&self, provider: &str) -> Result<Vec<u32>, ServiceError> {
        let db = self.lock()?;
        let mut statement = db
            .prepare("SELECT attempts FROM outbox WHERE provider = ?1 ORDER BY created_at, id")
            .map_err(internal)?;
        let rows = statement
            .query_map(params![provider], |row| row.get(0))
            .map_err(internal)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(internal)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
