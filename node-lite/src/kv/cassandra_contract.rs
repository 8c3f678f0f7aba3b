//! The [`KvStore`] contract against [`CassandraKv`] on a real 3-node cluster
//! (`scripts/cassandra`, replication factor 3, QUORUM), plus what only a distributed
//! backend does: refusing a batch across addresses, and a sequence of operations that
//! must answer like [`MemoryKv`].

use std::sync::atomic::{AtomicU32, Ordering};

use super::cassandra::test_cluster::{CLUSTER_URL, TestCluster};
use super::contract_tests::{ALICE, BOB, CHECKS};
use super::*;

/// A store on a fresh table of the contract keyspace.
fn fresh_store() -> CassandraKv {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut config = CassandraConfig::parse(CLUSTER_URL).expect("cluster url");
    config.keyspace = "carchain_contract".into();
    config.table = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    CassandraKv::connect(config).expect("connect to the test cluster")
}

/// A small deterministic generator (no dependency on the test's randomness).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }

    fn bytes(&mut self, len: std::ops::Range<u64>, alphabet: u64) -> Vec<u8> {
        let n = len.start + self.next(len.end - len.start);
        (0..n).map(|_| self.next(alphabet) as u8).collect()
    }
}

fn summary<T: std::fmt::Debug>(result: Result<T, KvError>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(err) => format!("err {err}"),
    }
}

/// Random puts, deletes, range reads and batches answer exactly like the memory model.
fn behaves_like_memory(kv: &CassandraKv) {
    let memory = MemoryKv::new();
    let mut rng = Lcg(0xca4c_4a1f);
    for step in 0..120 {
        let address = [ALICE, BOB][rng.next(2) as usize];
        let key = rng.bytes(1..4, 4);
        let (a, b) = match rng.next(4) {
            0 | 1 => {
                let value = rng.bytes(0..3, 256);
                (
                    summary(kv.put(address, &key, &value)),
                    summary(memory.put(address, &key, &value)),
                )
            }
            2 => (
                summary(kv.delete(address, &key)),
                summary(memory.delete(address, &key)),
            ),
            _ => {
                let end = rng.bytes(1..4, 4);
                let limit = 1 + rng.next(4) as u32;
                (
                    summary(kv.range(address, &key, &end, limit, None)),
                    summary(memory.range(address, &key, &end, limit, None)),
                )
            }
        };
        assert_eq!(a, b, "diverged at step {step}");
    }
}

/// Waits until the cluster takes a QUORUM write: right after a start, nodes that answer
/// CQL may not see each other alive through gossip yet (for a few seconds).
fn wait_for_quorum() {
    let kv = fresh_store();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        match kv.put(ALICE, b"quorum-probe", b"probe") {
            Ok(_) => return,
            Err(KvError::Unavailable { detail }) if std::time::Instant::now() < deadline => {
                eprintln!("waiting for the test cluster's quorum: {detail}");
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
            Err(err) => panic!("the test cluster takes no QUORUM write: {err}"),
        }
    }
}

#[test]
fn cassandra_meets_the_contract() {
    let _cluster = TestCluster::up();
    wait_for_quorum();
    for (name, check) in CHECKS {
        let kv = fresh_store();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&kv)));
        if let Err(panic) = result {
            eprintln!("KvStore contract `{name}` failed on the cassandra backend");
            std::panic::resume_unwind(panic);
        }
    }

    let kv = fresh_store();
    behaves_like_memory(&kv);
    assert!(kv.health().available, "{:?}", kv.health());
    assert_eq!(kv.health().backend, "cassandra");

    // A batch across two addresses cannot be atomic in Cassandra: refused, nothing stored.
    let kv = fresh_store();
    let spanning = [
        KvPut {
            address: ALICE,
            key: b"k",
            value: b"a",
        },
        KvPut {
            address: BOB,
            key: b"k",
            value: b"b",
        },
    ];
    let err = kv.put_batch(&spanning).unwrap_err();
    assert!(matches!(err, KvError::BatchSpansAddresses), "{err:?}");
    assert_eq!(err.code(), "kv_batch_spans_addresses");
    assert_eq!(kv.get(ALICE, b"k").unwrap(), None);
    assert_eq!(kv.get(BOB, b"k").unwrap(), None);

    // Concurrent writers of one record: exactly one stores it, the others see it. Under
    // contention a compare-and-set may time out with its outcome unknown
    // (`Unavailable`); a writer then tries again, as a client does, and learns whether
    // its own value won (`AlreadyStored`) or another did (`Duplicate`).
    let kv = std::sync::Arc::new(fresh_store());
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4u8)
            .map(|i| {
                let kv = kv.clone();
                scope.spawn(move || {
                    let mut attempt = 0;
                    loop {
                        match kv.put(ALICE, b"race", &[i]) {
                            Err(KvError::Unavailable { .. }) if attempt < 10 => attempt += 1,
                            outcome => return (i, outcome),
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<u8> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Ok(PutOutcome::Stored | PutOutcome::AlreadyStored)))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|(_, o)| matches!(
            o,
            Ok(PutOutcome::Stored | PutOutcome::AlreadyStored) | Err(KvError::Duplicate { .. })
        )),
        "{outcomes:?}"
    );
    assert_eq!(kv.get(ALICE, b"race").unwrap(), Some(vec![winners[0]]));
}
