//! Failover between nodes: the node that answered last is asked first, nodes that failed
//! recently are asked last, and every failure is remembered with its reason. A node
//! caught serving forged consensus data ([`LightError::is_forgery`]: a forged commit, a
//! header the verified chain does not commit to, a conflicting header) is dropped: it is
//! not asked again by this client while another node remains, and
//! [`Endpoints::dropped`] reports it with the reason.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::{LightError, LightResult};
use super::http::NodeHttp;
use super::node_failure::NodeFailure;

/// The endpoints of a client with their recent failures.
#[derive(Debug)]
pub struct Endpoints {
    nodes: Vec<NodeHttp>,
    preferred: AtomicUsize,
    failures: Mutex<Vec<Option<String>>>,
    /// Why each dropped node was dropped.
    dropped: Mutex<Vec<Option<String>>>,
}

impl Endpoints {
    /// Endpoints in the caller's order of preference; at least one.
    pub fn new(nodes: Vec<NodeHttp>) -> LightResult<Self> {
        if nodes.is_empty() {
            return Err(LightError::InvalidInput("no node endpoints given".into()));
        }
        let failures = Mutex::new(vec![None; nodes.len()]);
        let dropped = Mutex::new(vec![None; nodes.len()]);
        Ok(Endpoints {
            nodes,
            preferred: AtomicUsize::new(0),
            failures,
            dropped,
        })
    }

    /// The nodes, in the caller's order.
    pub fn nodes(&self) -> &[NodeHttp] {
        &self.nodes
    }

    /// Indexes to try: the last good node first, then nodes without a recent failure,
    /// then the ones that failed.
    pub fn order(&self) -> Vec<usize> {
        let preferred = self.preferred.load(Ordering::Relaxed);
        let failed: Vec<bool> = match self.failures.lock() {
            Ok(failures) => failures.iter().map(Option::is_some).collect(),
            Err(_) => vec![false; self.nodes.len()],
        };
        let dropped = self.dropped_flags();
        let mut order: Vec<usize> = (0..self.nodes.len())
            .filter(|&index| !dropped.get(index).copied().unwrap_or(false))
            .collect();
        order.sort_by_key(|&index| {
            (
                index != preferred,
                failed.get(index).copied().unwrap_or(false),
                index,
            )
        });
        order
    }

    fn record(&self, index: usize, failure: Option<String>) {
        if failure.is_none() {
            self.preferred.store(index, Ordering::Relaxed);
        }
        if let Ok(mut failures) = self.failures.lock()
            && let Some(slot) = failures.get_mut(index)
        {
            *slot = failure;
        }
    }

    fn dropped_flags(&self) -> Vec<bool> {
        match self.dropped.lock() {
            Ok(dropped) => dropped.iter().map(Option::is_some).collect(),
            Err(_) => vec![false; self.nodes.len()],
        }
    }

    /// Drops node `index` for `reason`, unless it is the last one not dropped.
    fn drop_node(&self, index: usize, reason: String) {
        if let Ok(mut dropped) = self.dropped.lock() {
            let remaining = dropped.iter().filter(|d| d.is_none()).count();
            if remaining > 1
                && let Some(slot) = dropped.get_mut(index)
            {
                *slot = Some(reason);
            }
        }
    }

    /// The nodes dropped for serving forged consensus data: `(endpoint, reason)`.
    pub fn dropped(&self) -> Vec<(String, String)> {
        let dropped = match self.dropped.lock() {
            Ok(dropped) => dropped.clone(),
            Err(_) => return Vec::new(),
        };
        self.nodes
            .iter()
            .zip(dropped)
            .filter_map(|(node, reason)| reason.map(|reason| (node.label().to_owned(), reason)))
            .collect()
    }

    /// The last failure of each endpoint since it last answered: `(endpoint, reason)`.
    pub fn failures(&self) -> Vec<(String, String)> {
        let failures = match self.failures.lock() {
            Ok(failures) => failures.clone(),
            Err(_) => return Vec::new(),
        };
        self.nodes
            .iter()
            .zip(failures)
            .filter_map(|(node, failure)| failure.map(|reason| (node.label().to_owned(), reason)))
            .collect()
    }

    /// Runs `call` on each node in [`Self::order`] until one succeeds or fails with an
    /// error that is not [`LightError::is_failover`]. When all fail: the error itself with
    /// one endpoint, [`LightError::AllNodesFailed`] with several.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> LightResult<T>
    where
        F: FnMut(NodeHttp) -> Fut,
        Fut: Future<Output = LightResult<T>>,
    {
        let mut reasons = Vec::new();
        let mut last = None;
        for index in self.order() {
            let Some(node) = self.nodes.get(index) else {
                continue;
            };
            match call(node.clone()).await {
                Ok(value) => {
                    self.record(index, None);
                    return Ok(value);
                }
                Err(err) if err.is_failover() => {
                    tracing::warn!(endpoint = node.label(), error = %err, "node failed, trying the next");
                    let reason = NodeFailure::new(node.label(), &err);
                    self.record(index, Some(err.to_string()));
                    if err.is_forgery() {
                        tracing::warn!(endpoint = node.label(), error = %err, "node dropped: it served forged consensus data");
                        self.drop_node(index, err.to_string());
                    }
                    reasons.push(reason);
                    last = Some(err);
                }
                Err(err) => {
                    self.record(index, None);
                    return Err(err);
                }
            }
        }
        match last {
            Some(err) if self.nodes.len() == 1 => Err(err),
            _ => Err(LightError::AllNodesFailed(reasons)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(count: usize) -> Endpoints {
        let client = reqwest::Client::new();
        let nodes = (0..count)
            .map(|i| NodeHttp::new(&format!("http://node{i}.test"), client.clone()).unwrap())
            .collect();
        Endpoints::new(nodes).unwrap()
    }

    fn tampered() -> LightError {
        LightError::Tampered("forged root".into())
    }

    /// The answer of one call over `endpoints` in which node 0 fails with `failure()`
    /// and every other node answers its own address.
    async fn past_node0(endpoints: &Endpoints, failure: impl Fn() -> LightError + Copy) -> String {
        endpoints
            .run(|node| async move {
                if node.label() == "http://node0.test" {
                    Err(failure())
                } else {
                    Ok(node.label().to_owned())
                }
            })
            .await
            .unwrap()
    }

    #[test]
    fn no_endpoints_is_invalid_input() {
        assert!(matches!(
            Endpoints::new(Vec::new()),
            Err(LightError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn a_failing_node_is_skipped_remembered_and_asked_last() {
        let endpoints = endpoints(3);
        let answer = past_node0(&endpoints, tampered).await;
        assert_eq!(answer, "http://node1.test");
        assert_eq!(endpoints.order(), vec![1, 2, 0]);
        let failures = endpoints.failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, "http://node0.test");
        assert!(failures[0].1.contains("forged root"));
    }

    #[tokio::test]
    async fn a_node_serving_a_forged_commit_is_dropped_but_never_the_last_one() {
        let endpoints = endpoints(2);
        let forged = || LightError::ForgedCommit {
            height: 3,
            reason: "bad signature".into(),
        };
        let answer = past_node0(&endpoints, forged).await;
        assert_eq!(answer, "http://node1.test");
        assert_eq!(endpoints.order(), vec![1]);
        let dropped = endpoints.dropped();
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].0, "http://node0.test");
        assert!(dropped[0].1.contains("light block 3"));
        let err = endpoints
            .run(|_| async { Err::<(), _>(forged()) })
            .await
            .unwrap_err();
        assert!(matches!(err, LightError::AllNodesFailed(_)));
        assert_eq!(endpoints.order(), vec![1], "the last node is kept");
    }

    #[tokio::test]
    async fn a_verdict_of_the_node_is_returned_without_failover() {
        let endpoints = endpoints(2);
        let mut asked = Vec::new();
        let err = endpoints
            .run(|node| {
                asked.push(node.label().to_owned());
                async move {
                    Err::<(), _>(LightError::Node {
                        code: "duplicate_record".into(),
                        message: "exists".into(),
                    })
                }
            })
            .await
            .unwrap_err();
        assert_eq!(err.node_code(), Some("duplicate_record"));
        assert_eq!(asked, vec!["http://node0.test"]);
    }

    #[tokio::test]
    async fn all_failing_lists_every_reason_or_returns_the_single_error() {
        let several = endpoints(2);
        let err = several
            .run(|_| async { Err::<(), _>(tampered()) })
            .await
            .unwrap_err();
        match err {
            LightError::AllNodesFailed(reasons) => {
                assert_eq!(reasons.len(), 2);
                assert_eq!(reasons[0].endpoint, "http://node0.test");
                assert_eq!(reasons[1].endpoint, "http://node1.test");
                assert!(reasons[0].to_string().starts_with("http://node0.test: "));
                assert!(reasons.iter().all(|r| r.failed_check && !r.unreachable));
                assert!(reasons.iter().all(|r| r.code == "light.tampered"));
            }
            other => panic!("expected AllNodesFailed, got {other}"),
        }
        let single = endpoints(1);
        let err = single
            .run(|_| async { Err::<(), _>(tampered()) })
            .await
            .unwrap_err();
        assert!(matches!(err, LightError::Tampered(_)));
    }
}
