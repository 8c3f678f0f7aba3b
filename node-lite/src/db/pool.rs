//! [`SqlitePool`]: one SQLite file opened as a single writer connection plus a pool of
//! read-only connections, so reads (WAL snapshots) never wait behind a long write.
//!
//! Every file is set up the same way: 8 KiB pages (set before the first table, so ~1 KiB
//! values do not spill into overflow pages), WAL journal, `synchronous=FULL` (a committed
//! transaction survives power loss).
//!
//! Checkpoints (copying the WAL back into the file) run on a background thread with its
//! own connection, after commits, so a commit pays only its own WAL write and sync. A
//! committed transaction is durable once it is in the synced WAL; a checkpoint only
//! keeps the WAL short. The writer still checkpoints itself if the WAL grows past
//! [`WRITER_CHECKPOINT_PAGES`] (the background thread fell far behind).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

/// SQLite page size of every CarChain node file.
pub const PAGE_SIZE: u32 = 8192;
/// How long a connection waits on a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read-only connections per file: reads run in parallel up to this many.
const READERS: usize = 4;
/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`). The
/// writer is the only connection whose cache survives other connections' commits, so
/// a large one spares each block's inserts re-reading the B-tree pages they touch.
const WRITER_CACHE_KIB: i64 = 65_536;
/// Bytes of the file every connection maps into memory: page reads become memory reads
/// instead of a system call and a copy each.
const MMAP_BYTES: i64 = 1 << 30;
/// WAL pages past which the writer checkpoints in its own commit (a backstop: normally
/// the background checkpointer keeps the WAL far shorter).
const WRITER_CHECKPOINT_PAGES: i64 = 32_768;

/// A writer connection and a pool of reader connections on one SQLite file.
pub(crate) struct SqlitePool {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Wakes the background checkpointer (capacity one: a pending wake-up suffices).
    checkpoint: Mutex<SyncSender<()>>,
}

/// A read-only connection lent by [`SqlitePool::reader`].
pub(crate) type PooledReader<'a> = MutexGuard<'a, Connection>;

impl std::fmt::Debug for SqlitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePool")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Takes a lock even if a panicking thread poisoned it: a panic inside a write drops its
/// `Transaction`, which rolls back, so the connection is left in a clean state.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqlitePool {
    /// Opens (creating if needed) the file at `path` and runs `schema` (idempotent SQL,
    /// `CREATE TABLE IF NOT EXISTS ...`) after the page size and journal are set.
    pub(crate) fn open(path: &Path, schema: &str) -> rusqlite::Result<Self> {
        let writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        // Must precede the first table: the page size of a database is fixed once it has
        // content (and, in WAL mode, cannot change at all).
        writer.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("journal_mode stayed {mode}, WAL is required")),
            ));
        }
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        writer.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        writer.execute_batch(schema)?;
        let readers = (0..READERS)
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(BUSY_TIMEOUT)?;
        checkpointer.pragma_update(None, "synchronous", "FULL")?;
        let (wake, woken) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(&checkpointer, &woken))
            .map_err(|err| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("starting the checkpoint thread: {err}")),
                )
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            checkpoint: Mutex::new(wake),
        })
    }

    /// Runs `work` inside one immediate write transaction, committed when `work` returns
    /// `Ok` and rolled back (nothing of it persists) when it returns `Err`.
    pub(crate) fn write<T, E>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let mut writer = lock(&self.writer);
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        drop(writer);
        self.wake_checkpointer();
        Ok(value)
    }

    /// Asks the background thread for a checkpoint (once more, if one is running).
    fn wake_checkpointer(&self) {
        match lock(&self.checkpoint).try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::warn!(path = %self.path.display(), "the checkpoint thread stopped");
            }
        }
    }

    /// Runs `work` on a read-only connection.
    pub(crate) fn read<T, E>(&self, work: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let reader = self.reader();
        work(&reader)
    }

    /// Lends a read-only connection: a free one if any, else waits for one in turn.
    pub(crate) fn reader(&self) -> PooledReader<'_> {
        let reader = self.any_reader();
        if !reader.is_autocommit() {
            // A read transaction left open by a panic: end it so this read sees fresh data.
            if let Err(err) = reader.execute_batch("ROLLBACK") {
                tracing::warn!(%err, "ending a stale read transaction failed");
            }
        }
        reader
    }

    fn any_reader(&self) -> PooledReader<'_> {
        for reader in &self.readers {
            match reader.try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next_reader.fetch_add(1, Ordering::Relaxed);
        match self.readers.get(turn % self.readers.len().max(1)) {
            Some(reader) => lock(reader),
            None => lock(&self.writer),
        }
    }
}

/// The background checkpointer: a passive checkpoint (never waits for readers or the
/// writer) per wake-up, until the pool is dropped.
fn run_checkpointer(connection: &Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(err) = done {
            tracing::warn!(%err, "background checkpoint failed");
        }
    }
}

/// Opens one read-only connection on `path`.
fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(connection)
}
