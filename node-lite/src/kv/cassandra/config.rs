//! Where the Cassandra backend connects: parsed from
//! `cassandra://host:port,.../keyspace?rf=N&speculate_ms=M`.

use std::time::Duration;

use super::super::KvError;

/// The default keyspace of CarChain's records.
pub const DEFAULT_KEYSPACE: &str = "carchain";
/// The default replication factor: three copies, a quorum of two.
pub const DEFAULT_REPLICATION: u8 = 3;
/// By default a read that has not answered after 4 ms is also sent to another
/// coordinator (the first answer wins): one slow replica (a JVM pause, a busy core) no
/// longer sets the tail latency of range reads.
pub const DEFAULT_SPECULATIVE_READ_AFTER: Duration = Duration::from_millis(4);
/// Longest speculative delay the URL accepts.
const MAX_SPECULATE_MS: u64 = 10_000;

/// How [`super::CassandraKv`] connects and what it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassandraConfig {
    /// Contact points, `host:port` (the driver discovers the rest of the cluster).
    pub nodes: Vec<String>,
    /// Keyspace of the records table (created if missing).
    pub keyspace: String,
    /// Table of records (created if missing).
    pub table: String,
    /// Replication factor of a keyspace this backend creates (3; 1 for a one-node
    /// development cluster). An existing keyspace keeps its own.
    pub replication: u8,
    /// Longest wait for one request, including the driver's retries.
    pub request_timeout: Duration,
    /// Longest wait for the first connection to the cluster.
    pub connect_timeout: Duration,
    /// After how long a read (never a write) is also sent to another coordinator, at the
    /// same consistency; `None` sends each read once.
    pub speculative_read_after: Option<Duration>,
}

impl CassandraConfig {
    /// A configuration for `nodes` with the defaults (keyspace `carchain`, RF 3).
    pub fn new(nodes: Vec<String>) -> Self {
        Self {
            nodes,
            keyspace: DEFAULT_KEYSPACE.to_owned(),
            table: "records".to_owned(),
            replication: DEFAULT_REPLICATION,
            request_timeout: Duration::from_secs(12),
            connect_timeout: Duration::from_secs(5),
            speculative_read_after: Some(DEFAULT_SPECULATIVE_READ_AFTER),
        }
    }

    /// Parses `cassandra://host:port[,host:port...][/keyspace][?rf=N][&speculate_ms=M]`
    /// (`speculate_ms=0` turns speculative reads off).
    pub fn parse(url: &str) -> Result<Self, KvError> {
        let bad = |why: &str| KvError::BadConfig {
            detail: format!(
                "{why} (expected cassandra://host:port,...[/keyspace][?rf=N][&speculate_ms=M])"
            ),
        };
        let rest = url
            .strip_prefix("cassandra://")
            .ok_or_else(|| bad("not a cassandra:// URL"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (hosts, keyspace) = match rest.split_once('/') {
            Some((hosts, keyspace)) if !keyspace.is_empty() => (hosts, Some(keyspace)),
            Some((hosts, _)) => (hosts, None),
            None => (rest, None),
        };
        let nodes: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        if nodes.is_empty() {
            return Err(bad("no host"));
        }
        for node in &nodes {
            let port = node
                .rsplit_once(':')
                .and_then(|(host, port)| (!host.is_empty()).then_some(port))
                .ok_or_else(|| bad(&format!("`{node}` is not host:port")))?;
            port.parse::<u16>()
                .map_err(|_| bad(&format!("`{node}` has no valid port")))?;
        }
        let mut config = Self::new(nodes);
        if let Some(keyspace) = keyspace {
            config.keyspace = keyspace.to_owned();
        }
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair.split_once('=') {
                Some(("rf", value)) => {
                    config.replication = value
                        .parse::<u8>()
                        .ok()
                        .filter(|rf| *rf >= 1)
                        .ok_or_else(|| bad(&format!("rf `{value}` is not 1..=255")))?;
                }
                Some(("speculate_ms", value)) => {
                    let ms = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| *ms <= MAX_SPECULATE_MS)
                        .ok_or_else(|| {
                            bad(&format!(
                                "speculate_ms `{value}` is not 0..={MAX_SPECULATE_MS}"
                            ))
                        })?;
                    config.speculative_read_after = (ms > 0).then(|| Duration::from_millis(ms));
                }
                _ => return Err(bad(&format!("unknown option `{pair}`"))),
            }
        }
        config.check()?;
        Ok(config)
    }

    /// Keyspace and table names are CQL identifiers, spelled into statements.
    pub fn check(&self) -> Result<(), KvError> {
        for name in [&self.keyspace, &self.table] {
            let ok = !name.is_empty()
                && name.len() <= 48
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(KvError::BadConfig {
                    detail: format!("`{name}` is not a name of [a-z][a-z0-9_]{{0,47}}"),
                });
            }
        }
        if self.nodes.is_empty() || self.replication == 0 {
            return Err(KvError::BadConfig {
                detail: "no contact point or a replication factor of 0".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_options() {
        let config =
            CassandraConfig::parse("cassandra://127.0.0.1:9042,127.0.0.2:9042,127.0.0.3:9042")
                .unwrap();
        assert_eq!(config.nodes.len(), 3);
        assert_eq!(config.keyspace, "carchain");
        assert_eq!(config.replication, 3);
        let config = CassandraConfig::parse("cassandra://localhost:9042/dev_ks?rf=1").unwrap();
        assert_eq!(config.nodes, ["localhost:9042"]);
        assert_eq!(config.keyspace, "dev_ks");
        assert_eq!(config.replication, 1);
        assert_eq!(
            config.speculative_read_after,
            Some(DEFAULT_SPECULATIVE_READ_AFTER)
        );
        let config = CassandraConfig::parse("cassandra://localhost:9042?speculate_ms=0").unwrap();
        assert_eq!(config.speculative_read_after, None);
        let config =
            CassandraConfig::parse("cassandra://localhost:9042?rf=1&speculate_ms=9").unwrap();
        assert_eq!(
            config.speculative_read_after,
            Some(Duration::from_millis(9))
        );
    }

    #[test]
    fn bad_urls_are_refused_with_a_typed_error() {
        for bad in [
            "http://127.0.0.1:9042",
            "cassandra://",
            "cassandra://127.0.0.1",
            "cassandra://127.0.0.1:notaport",
            "cassandra://:9042",
            "cassandra://127.0.0.1:9042/Bad-Name",
            "cassandra://127.0.0.1:9042/ks;drop",
            "cassandra://127.0.0.1:9042?rf=0",
            "cassandra://127.0.0.1:9042?rf=x",
            "cassandra://127.0.0.1:9042?colour=red",
            "cassandra://127.0.0.1:9042?speculate_ms=-1",
            "cassandra://127.0.0.1:9042?speculate_ms=10001",
            "cassandra://127.0.0.1:9042?speculate_ms=soon",
        ] {
            let err = CassandraConfig::parse(bad).unwrap_err();
            assert!(matches!(err, KvError::BadConfig { .. }), "{bad}: {err:?}");
            assert_eq!(err.code(), "kv_bad_config");
        }
    }
}
