//! Group commit of batch puts: batches arriving while another is being written wait
//! together, and the next writer stores all of them in one SQLite transaction (one WAL
//! sync instead of one each). Each batch runs inside its own savepoint, so a batch that
//! fails (a clashing value) is rolled back alone and the others still commit.
//!
//! A batch's caller is answered only after the shared transaction committed: a stored
//! outcome is durable as before.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use super::{KvError, KvPut, PutOutcome};
use crate::db::pool::SqlitePool;

/// One waiting batch: owned records and where its answer goes.
struct Job {
    puts: Vec<(String, Vec<u8>, Vec<u8>)>,
    reply: Sender<Result<Vec<PutOutcome>, KvError>>,
}

/// Batches waiting for a writer, and the writer's turn.
#[derive(Default)]
pub(super) struct GroupCommit {
    queue: Mutex<Vec<Job>>,
    turn: Mutex<()>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The same failure for every batch of a shared transaction that did not commit.
fn shared_failure(err: &KvError) -> KvError {
    let code = match err {
        KvError::Sqlite(rusqlite::Error::SqliteFailure(code, _)) => *code,
        _ => rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
    };
    KvError::Sqlite(rusqlite::Error::SqliteFailure(
        code,
        Some(format!("the shared batch commit failed: {err}")),
    ))
}

impl GroupCommit {
    /// Stores `puts` (already validated) with whatever other batches wait, each record
    /// through `put_one`; the batch's outcomes, or its error (nothing of it stored).
    pub(super) fn put_batch(
        &self,
        pool: &SqlitePool,
        puts: &[KvPut<'_>],
        put_one: fn(&Connection, &KvPut<'_>) -> Result<PutOutcome, KvError>,
    ) -> Result<Vec<PutOutcome>, KvError> {
        let (reply, answer) = channel();
        let owned = puts
            .iter()
            .map(|put| (put.address.to_owned(), put.key.to_vec(), put.value.to_vec()))
            .collect();
        lock(&self.queue).push(Job { puts: owned, reply });
        loop {
            let turn = lock(&self.turn);
            // A previous writer may have stored this batch with its own.
            if let Ok(result) = answer.try_recv() {
                return result;
            }
            let jobs = std::mem::take(&mut *lock(&self.queue));
            write_jobs(pool, jobs, put_one);
            drop(turn);
        }
    }
}

/// Writes `jobs` in one transaction, a savepoint each, then answers each.
fn write_jobs(
    pool: &SqlitePool,
    jobs: Vec<Job>,
    put_one: fn(&Connection, &KvPut<'_>) -> Result<PutOutcome, KvError>,
) {
    if jobs.is_empty() {
        return;
    }
    let written = pool.write(|tx| {
        let mut results = Vec::with_capacity(jobs.len());
        for job in &jobs {
            tx.execute_batch("SAVEPOINT batch")?;
            let outcome: Result<Vec<PutOutcome>, KvError> = job
                .puts
                .iter()
                .map(|(address, key, value)| {
                    let put = KvPut {
                        address,
                        key,
                        value,
                    };
                    put_one(tx, &put)
                })
                .collect();
            if outcome.is_err() {
                tx.execute_batch("ROLLBACK TO batch")?;
            }
            tx.execute_batch("RELEASE batch")?;
            results.push(outcome);
        }
        Ok::<_, KvError>(results)
    });
    match written {
        Ok(results) => {
            for (job, result) in jobs.into_iter().zip(results) {
                // A caller that went away no longer needs its answer.
                let _ = job.reply.send(result);
            }
        }
        Err(err) => {
            for job in jobs {
                let _ = job.reply.send(Err(shared_failure(&err)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    const TABLE: &str = "CREATE TABLE IF NOT EXISTS t (k BLOB PRIMARY KEY, v BLOB NOT NULL);";

    /// Inserts one row; a key already present is a clash (the whole batch fails).
    fn insert(tx: &Connection, put: &KvPut<'_>) -> Result<PutOutcome, KvError> {
        tx.execute(
            "INSERT INTO t (k, v) VALUES (?1, ?2)",
            rusqlite::params![put.key, put.value],
        )?;
        Ok(PutOutcome::Stored)
    }

    fn rows(pool: &SqlitePool) -> Vec<Vec<u8>> {
        pool.read(|conn| {
            let mut statement = conn.prepare("SELECT k FROM t ORDER BY k")?;
            let keys = statement.query_map([], |row| row.get(0))?;
            keys.collect::<Result<Vec<Vec<u8>>, _>>()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn waiting_batches_share_one_commit_and_a_failing_one_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pool = Arc::new(
            SqlitePool::open(&dir.path().join("g.sqlite"), TABLE).unwrap_or_else(|e| panic!("{e}")),
        );
        let group = Arc::new(GroupCommit::default());
        // Holding the writer's turn makes the three batches queue up together.
        let turn = lock(&group.turn);
        let batches: [&[&[u8]]; 3] = [&[b"a1", b"a2"], &[b"b1", b"a1"], &[b"c1"]];
        let mut threads = Vec::new();
        for keys in batches {
            let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
            let (pool, queued) = (Arc::clone(&pool), Arc::clone(&group));
            threads.push(std::thread::spawn(move || {
                let puts: Vec<KvPut<'_>> = keys
                    .iter()
                    .map(|key| KvPut {
                        address: "addr",
                        key,
                        value: b"v",
                    })
                    .collect();
                queued.put_batch(&pool, &puts, insert)
            }));
            // Queue in order, so the clashing batch comes after the one it clashes with.
            while lock(&group.queue).len() < threads.len() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        drop(turn);
        let results: Vec<_> = threads
            .into_iter()
            .map(|thread| thread.join().unwrap_or_else(|_| panic!("thread panicked")))
            .collect();
        assert!(matches!(results.first(), Some(Ok(outcomes)) if outcomes.len() == 2));
        assert!(matches!(results.get(1), Some(Err(KvError::Sqlite(_)))));
        assert!(matches!(results.get(2), Some(Ok(outcomes)) if outcomes.len() == 1));
        assert_eq!(
            rows(&pool),
            vec![b"a1".to_vec(), b"a2".to_vec(), b"c1".to_vec()],
            "the clashing batch left nothing, the others committed"
        );
    }
}
