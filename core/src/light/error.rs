//! The light client's error type: what went wrong talking to nodes or checking what they
//! answered, with the node's own stable error codes kept for callers to act on.

use thiserror::Error;

use super::node_failure::NodeFailure;
use crate::protocol::ProtocolError;
use crate::store::StoreError;

/// Everything a [`super::LightClient`] call can fail with.
///
/// Failover: [`LightError::Network`], [`LightError::Tampered`], [`LightError::ForgedCommit`],
/// [`LightError::OutsideTrustTime`],
/// [`LightError::AppHashMismatch`], [`LightError::HeaderMismatch`], [`LightError::ConflictingHeaders`], [`LightError::Stale`],
/// [`LightError::WrongChain`], [`LightError::BadAnswer`], [`LightError::ValueMissing`] and
/// the node codes `unavailable`, `internal`, `timeout` make the client try the next
/// endpoint. When every endpoint failed, a client with one endpoint returns that
/// endpoint's error itself; a client with several returns [`LightError::AllNodesFailed`].
#[derive(Debug, Error)]
pub enum LightError {
    /// The node could not be reached or the connection failed (offline, refused, timeout).
    #[error("node {endpoint} unreachable: {reason}")]
    Network {
        /// The endpoint's base URL.
        endpoint: String,
        /// What the HTTP layer reported.
        reason: String,
    },
    /// The node refused the request with one of its stable snake_case codes
    /// (`duplicate_record`, `not_registered`, `payment_required`, ...).
    #[error("node refused ({code}): {message}")]
    Node {
        /// The node's error code.
        code: String,
        /// The node's message for people.
        message: String,
    },
    /// The node answered something that fails verification: a bad header signature, a
    /// broken header chain, a state root or proof that does not match, a value whose
    /// cHash differs from the registered one.
    #[error("node answer failed verification: {0}")]
    Tampered(String),
    /// A CometBFT light block failed verification: a forged or short commit, validator
    /// sets that do not match the header, not enough of the trusted voting power, or a
    /// light block of another chain or height.
    #[error("light block {height} failed verification: {reason}")]
    ForgedCommit {
        /// CometBFT height of the light block.
        height: u64,
        /// What the verifier found.
        reason: String,
    },
    /// A light block's time is outside what the client's clock can trust: from the
    /// future (beyond the allowed drift), or its trusted block is older than the trusting
    /// period. The node may be lying about time or the device's clock may be wrong, so
    /// the client tries another node but does not drop this one as a forger.
    #[error("light block {height} is outside the trusted time: {reason}")]
    OutsideTrustTime {
        /// CometBFT height of the light block.
        height: u64,
        /// What the verifier found.
        reason: String,
    },
    /// A verified commit does not certify the ledger header the node served: its app hash
    /// is not the header's state root.
    #[error("the committed app hash does not match the ledger header at height {height}")]
    AppHashMismatch {
        /// Ledger height.
        height: u64,
    },
    /// A ledger header field differs from what the verified CometBFT chain commits to
    /// (its height, chain or time; the state root is [`LightError::AppHashMismatch`]).
    #[error("ledger header {height}: its {field} is not the one the verified chain commits to")]
    HeaderMismatch {
        /// Ledger height.
        height: u64,
        /// The field (`height`, `chain_id`, `time`).
        field: &'static str,
    },
    /// The node serves a header that conflicts with one already verified (from another
    /// node or earlier).
    #[error("conflicting header at height {height}: {reason}")]
    ConflictingHeaders {
        /// Ledger height.
        height: u64,
        /// How it conflicts.
        reason: String,
    },
    /// The node's chain tip is further behind the client's verified tip than allowed.
    #[error(
        "node {endpoint} is stale: its tip {node_height} is behind the verified tip {verified_height}"
    )]
    Stale {
        /// The endpoint's base URL.
        endpoint: String,
        /// The node's reported height.
        node_height: u64,
        /// The client's verified height.
        verified_height: u64,
    },
    /// The node serves another chain or network than the trust anchor names.
    #[error("node serves chain {found}, expected {expected}")]
    WrongChain {
        /// `chain_id/network` of the anchor.
        expected: String,
        /// `chain_id/network` the node reported.
        found: String,
    },
    /// The node's answer could not be read (not the JSON shape of the node API).
    #[error("unreadable answer from {endpoint}: {reason}")]
    BadAnswer {
        /// The endpoint's base URL.
        endpoint: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A record is registered on the ledger but the node does not hold its value.
    #[error("record {key_hex} of {address} is registered but the node holds no value")]
    ValueMissing {
        /// The data address.
        address: String,
        /// The record key, hex.
        key_hex: String,
    },
    /// Every endpoint failed; one [`NodeFailure`] per endpoint, shown as
    /// `"<endpoint>: <reason>"`.
    #[error("all nodes failed: {}", super::node_failure::joined(.0))]
    AllNodesFailed(Vec<NodeFailure>),
    /// A header the check needs is not verified yet (sync first).
    #[error("no verified header at height {0}: sync first")]
    NotSynced(u64),
    /// The wallet store failed.
    #[error("wallet store: {0}")]
    Store(#[from] StoreError),
    /// A protocol object could not be decoded or signed.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A read token could not be made or checked (blinding failed, or a node's blind
    /// signature does not unblind into a valid token).
    #[error("read token: {0}")]
    Token(#[from] crate::tokens::TokenError),
    /// The caller passed something unusable (no endpoints, a bad URL).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

crate::error_code::error_codes!(LightError {
    Network => "light.network",
    Node => "light.node",
    Tampered => "light.tampered",
    ForgedCommit => "light.forged_commit",
    OutsideTrustTime => "light.outside_trust_time",
    AppHashMismatch => "light.app_hash_mismatch",
    HeaderMismatch => "light.header_mismatch",
    ConflictingHeaders => "light.conflicting_headers",
    Stale => "light.stale",
    WrongChain => "light.wrong_chain",
    BadAnswer => "light.bad_answer",
    ValueMissing => "light.value_missing",
    AllNodesFailed => "light.all_nodes_failed",
    NotSynced => "light.not_synced",
    Store => inner,
    Protocol => inner,
    Token => inner,
    InvalidInput => "light.invalid_input",
});

/// Node codes that say "this node cannot serve now", not "your request is wrong".
const TRANSIENT_NODE_CODES: [&str; 3] = ["unavailable", "internal", "timeout"];

impl LightError {
    /// True when another endpoint may well succeed where this one failed.
    pub fn is_failover(&self) -> bool {
        match self {
            LightError::Network { .. }
            | LightError::Tampered(_)
            | LightError::ForgedCommit { .. }
            | LightError::OutsideTrustTime { .. }
            | LightError::AppHashMismatch { .. }
            | LightError::HeaderMismatch { .. }
            | LightError::ConflictingHeaders { .. }
            | LightError::Stale { .. }
            | LightError::WrongChain { .. }
            | LightError::BadAnswer { .. }
            | LightError::ValueMissing { .. }
            | LightError::AllNodesFailed(_) => true,
            LightError::Node { code, .. } => TRANSIENT_NODE_CODES.contains(&code.as_str()),
            _ => false,
        }
    }

    /// True when the node served consensus data that fails verification against the
    /// verified chain (a forged or short commit, a header field or app hash the verified
    /// chain does not commit to, a header conflicting with a verified one): the client
    /// drops that node.
    pub fn is_forgery(&self) -> bool {
        matches!(
            self,
            LightError::ForgedCommit { .. }
                | LightError::AppHashMismatch { .. }
                | LightError::HeaderMismatch { .. }
                | LightError::ConflictingHeaders { .. }
        )
    }

    /// True when no node could be reached at all (the device is offline): a car queues
    /// its records and retries later.
    pub fn is_unreachable(&self) -> bool {
        match self {
            LightError::Network { .. } => true,
            LightError::AllNodesFailed(failures) => {
                failures.iter().all(|failure| failure.unreachable)
            }
            _ => false,
        }
    }

    /// True when the node served something that fails verification (it is dropped and
    /// reported, never trusted).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            LightError::Tampered(_)
                | LightError::ForgedCommit { .. }
                | LightError::AppHashMismatch { .. }
                | LightError::ConflictingHeaders { .. }
        )
    }

    /// True when a node's answer failed a check: tampered data
    /// ([`LightError::Tampered`]), another chain ([`LightError::WrongChain`]) or forged
    /// consensus data ([`LightError::is_forgery`]).
    pub fn is_failed_check(&self) -> bool {
        matches!(
            self,
            LightError::Tampered(_) | LightError::WrongChain { .. }
        ) || self.is_forgery()
    }

    /// The node's error code, when the node refused the request.
    pub fn node_code(&self) -> Option<&str> {
        match self {
            LightError::Node { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Result of light client operations.
pub type LightResult<T> = Result<T, LightError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_kinds_are_told_apart_from_verdicts() {
        let network = LightError::Network {
            endpoint: "http://a".into(),
            reason: "refused".into(),
        };
        assert!(network.is_failover());
        assert!(network.is_unreachable());
        assert!(LightError::Tampered("bad root".into()).is_failover());
        let duplicate = LightError::Node {
            code: "duplicate_record".into(),
            message: "exists".into(),
        };
        assert!(!duplicate.is_failover());
        assert_eq!(duplicate.node_code(), Some("duplicate_record"));
        let busy = LightError::Node {
            code: "unavailable".into(),
            message: "mempool full".into(),
        };
        assert!(busy.is_failover());
        assert!(!LightError::NotSynced(3).is_failover());
    }

    #[test]
    fn all_nodes_failed_is_unreachable_only_when_every_node_was() {
        let all_down = LightError::AllNodesFailed(vec![
            NodeFailure::new(
                "http://a",
                &LightError::Network {
                    endpoint: "http://a".into(),
                    reason: "refused".into(),
                },
            ),
            NodeFailure::new(
                "http://b",
                &LightError::Network {
                    endpoint: "http://b".into(),
                    reason: "timeout".into(),
                },
            ),
        ]);
        assert!(all_down.is_unreachable());
        assert_eq!(
            all_down.to_string(),
            "all nodes failed: http://a: node http://a unreachable: refused; \
             http://b: node http://b unreachable: timeout"
        );
        let one_lies = LightError::AllNodesFailed(vec![NodeFailure::new(
            "http://c",
            &LightError::Tampered("root".into()),
        )]);
        assert!(!one_lies.is_unreachable());
        // A node's message that mentions being unreachable does not make it so.
        let says_so = LightError::AllNodesFailed(vec![NodeFailure::new(
            "http://d",
            &LightError::Node {
                code: "unavailable".into(),
                message: "upstream unreachable: retry".into(),
            },
        )]);
        assert!(!says_so.is_unreachable());
    }
}
