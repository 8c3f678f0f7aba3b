//! `webhooks.sqlite` in the node's data directory: the registered hooks (provider
//! address, URL, shared secret, registration time), the outbox of notifications not yet
//! acknowledged with a 2xx, and the last ledger height scanned. An outbox row and the
//! scan cursor move in one transaction, so a notification is neither lost nor invented
//! by a crash or a restart.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::service::{ErrorCode, ServiceError};

const SCHEMA: &str = "
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

/// A notification waiting in the outbox, with where and how to send it.
pub struct Due {
    /// The notification id.
    pub id: Vec<u8>,
    /// The exact JSON body.
    pub body: Vec<u8>,
    /// The provider's current URL.
    pub url: String,
    /// The provider's shared secret.
    pub secret: Zeroizing<Vec<u8>>,
    /// Failed attempts so far.
    pub attempts: u32,
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

/// The webhook store.
pub struct WebhookStore {
    db: Mutex<Connection>,
}

fn internal(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorCode::Internal, format!("webhook store: {err}"))
}

impl WebhookStore {
    /// Opens (or creates, readable by the node's user only) `webhooks.sqlite` in
    /// `data_dir`; a new store starts scanning after `start_height`.
    pub fn open(data_dir: &Path, start_height: u64) -> Result<Self, ServiceError> {
        let path = data_dir.join("webhooks.sqlite");
        let db = Connection::open(&path).map_err(internal)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(internal)?;
        }
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(internal)?;
        db.execute_batch(SCHEMA).map_err(internal)?;
        db.execute(
            "INSERT OR IGNORE INTO cursor (one, height) VALUES (1, ?1)",
            params![start_height as i64],
        )
        .map_err(internal)?;
        Ok(WebhookStore { db: Mutex::new(db) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, ServiceError> {
        self.db.lock().map_err(|_| internal("lock poisoned"))
    }

    /// Stores the hook of `provider` unless a registration with the same or a later
    /// time is stored.
    pub fn register(
        &self,
        provider: &str,
        url: &str,
        secret: &[u8],
        time: u64,
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
            "INSERT OR REPLACE INTO hooks (provider, url, secret, time) VALUES (?1, ?2, ?3, ?4)",
            params![provider, url, secret, time as i64],
        )
        .map_err(internal)?;
        Ok(Registered::Stored)
    }

    /// Whether `provider` has a hook.
    pub fn has_hook(&self, provider: &str) -> Result<bool, ServiceError> {
        let db = self.lock()?;
        db.query_row(
            "SELECT 1 FROM hooks WHERE provider = ?1",
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
                "INSERT OR IGNORE INTO outbox (id, provider, body, attempts, next_at) \
                 VALUES (?1, ?2, ?3, 0, ?4)",
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

    /// Up to `limit` notifications due at `now_ms`, oldest first.
    pub fn due(&self, now_ms: u64, limit: u32) -> Result<Vec<Due>, ServiceError> {
        let db = self.lock()?;
        let mut statement = db
            .prepare(
                "SELECT o.id, o.body, h.url, h.secret, o.attempts FROM outbox o \
                 JOIN hooks h ON h.provider = o.provider \
                 WHERE o.next_at <= ?1 ORDER BY o.next_at LIMIT ?2",
            )
            .map_err(internal)?;
        let rows = statement
            .query_map(params![now_ms as i64, limit], |row| {
                Ok(Due {
                    id: row.get(0)?,
                    body: row.get(1)?,
                    url: row.get(2)?,
                    secret: Zeroizing::new(row.get(3)?),
                    attempts: row.get(4)?,
                })
            })
            .map_err(internal)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(internal)
    }

    /// Removes an acknowledged notification.
    pub fn delivered(&self, id: &[u8]) -> Result<(), ServiceError> {
        let db = self.lock()?;
        db.execute("DELETE FROM outbox WHERE id = ?1", params![id])
            .map(|_| ())
            .map_err(internal)
    }

    /// Records a failed attempt; the next one is due at `next_at_ms`.
    pub fn failed(&self, id: &[u8], next_at_ms: u64) -> Result<(), ServiceError> {
        let db = self.lock()?;
        db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_at = ?2 WHERE id = ?1",
            params![id, next_at_ms as i64],
        )
        .map(|_| ())
        .map_err(internal)
    }

    /// Notifications still waiting for a 2xx.
    pub fn pending(&self) -> Result<u64, ServiceError> {
        let db = self.lock()?;
        db.query_row("SELECT COUNT(*) FROM outbox", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|count| count as u64)
        .map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_survives_reopen_and_replays_are_stale() {
        let dir = tempfile::tempdir().expect("dir");
        let store = WebhookStore::open(dir.path(), 5).expect("open");
        assert_eq!(store.cursor().expect("cursor"), 5);
        assert_eq!(
            store
                .register("p1", "http://127.0.0.1:9/h", &[1; 32], 10)
                .expect("reg"),
            Registered::Stored
        );
        assert_eq!(
            store
                .register("p1", "http://127.0.0.1:9/old", &[1; 32], 10)
                .expect("reg"),
            Registered::Stale
        );
        let item = NewNotification {
            id: [9; 32],
            provider: "p1".into(),
            body: b"{}".to_vec(),
        };
        store.enqueue(7, &[item], 100).expect("enqueue");
        store.failed(&[9; 32], 500).expect("failed");
        drop(store);
        let store = WebhookStore::open(dir.path(), 0).expect("reopen");
        assert_eq!(store.cursor().expect("cursor"), 7);
        assert!(store.due(499, 10).expect("due").is_empty());
        let due = store.due(500, 10).expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].attempts, 1);
        assert_eq!(due[0].url, "http://127.0.0.1:9/h");
        store.delivered(&due[0].id).expect("delivered");
        assert_eq!(store.pending().expect("pending"), 0);
    }
}
