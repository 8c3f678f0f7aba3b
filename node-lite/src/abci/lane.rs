//! One ABCI connection's requests run one at a time, in their order of arrival, on a
//! thread of their own.
//!
//! CometBFT's consensus and mempool connections need their requests handled in order
//! (a signer's nonces are checked in sequence). The ABCI server asks a service to be
//! ready before it reads the next request, and keeps the answers it has not sent yet
//! in a queue it only drains between reads: a service that stays "not ready" until its
//! previous answer has been taken (a concurrency limit of one) therefore waits for
//! itself as soon as two requests arrive back to back — a burst of CheckTx under ingest,
//! then the Flush that CometBFT's Commit waits on, and the whole chain stops. A lane is
//! always ready: it queues the work for its thread, which runs it whatever the server is
//! doing, and the answer is there when the server polls for it.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use tokio::sync::oneshot;
use tower_abci::BoxError;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A thread running queued work in order; it ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Lane {
    jobs: mpsc::Sender<Job>,
}

impl Lane {
    /// Starts the lane's thread, named `name`.
    pub fn start(name: &str) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(Self { jobs })
    }

    /// Queues `work` behind the work already queued; the future answers its result. A
    /// panic in `work` answers an error and leaves the lane running.
    pub fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, BoxError> + Send + 'static,
    ) -> impl Future<Output = Result<T, BoxError>> + Send + 'static {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err("an ABCI request failed unexpectedly".into()));
            // Ignored: the server stopped waiting only if its connection is gone.
            let _ = answer.send(result);
        });
        let queued = self.jobs.send(job);
        async move {
            queued.map_err(|_| -> BoxError { "the ABCI lane has stopped".into() })?;
            answered
                .await
                .map_err(|_| -> BoxError { "the ABCI lane dropped a request".into() })?
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn work_runs_in_order_without_the_caller_polling_earlier_answers() {
        let lane = Lane::start("lane-test").expect("lane");
        let seen = Arc::new(Mutex::new(Vec::new()));
        // Queue many before awaiting any: none waits for an earlier answer to be taken.
        let answers: Vec<_> = (0..100)
            .map(|i| {
                let seen = Arc::clone(&seen);
                lane.run(move || {
                    seen.lock().map_err(|_| "poisoned")?.push(i);
                    Ok(i * 2)
                })
            })
            .collect();
        let last = lane.run(|| Ok(-1));
        assert_eq!(last.await.expect("last"), -1, "later work was not blocked");
        for (i, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.expect("answer"), i * 2);
        }
        let order = seen.lock().expect("seen").clone();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_panic_answers_an_error_and_the_lane_keeps_running() {
        let lane = Lane::start("lane-test").expect("lane");
        let failed = lane.run(|| -> Result<(), BoxError> { panic!("boom") });
        assert!(failed.await.is_err());
        assert_eq!(lane.run(|| Ok(7)).await.expect("after the panic"), 7);
    }
}
