//! One endpoint's failure inside [`LightError::AllNodesFailed`]: the endpoint, the
//! stable code of its error and what kind of failure it was, kept as data so callers
//! (a car deciding to queue, a CLI choosing its exit code) never read it from the text.

use std::fmt;

use super::error::LightError;

/// How one endpoint failed when every endpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFailure {
    /// The endpoint's label (its base URL).
    pub endpoint: String,
    /// The stable code of the endpoint's error ([`LightError::code`]).
    pub code: &'static str,
    /// The node's own code when the node refused the request ([`LightError::node_code`]).
    pub node_code: Option<String>,
    /// The endpoint could not be reached at all ([`LightError::Network`]).
    pub unreachable: bool,
    /// The node's answer failed a check: tampered data, the wrong chain or forged
    /// consensus data ([`LightError::is_failed_check`]).
    pub failed_check: bool,
    /// The error's display.
    pub message: String,
}

impl NodeFailure {
    /// The failure of `endpoint` with `err`.
    pub fn new(endpoint: &str, err: &LightError) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            code: err.code(),
            node_code: err.node_code().map(str::to_owned),
            unreachable: matches!(err, LightError::Network { .. }),
            failed_check: err.is_failed_check(),
            message: err.to_string(),
        }
    }
}

impl fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.endpoint, self.message)
    }
}

/// The displays of `failures`, `; `-separated (the text of [`LightError::AllNodesFailed`]).
pub(super) fn joined(failures: &[NodeFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
