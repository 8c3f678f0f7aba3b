//! Starting a running node's webhooks: the store in its data directory, the background
//! task that scans committed blocks and sends notifications, and the HTTP route.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use tokio::task::JoinHandle;

use super::{GrantCommitted, Webhooks};
use crate::db::LedgerDb;
use crate::node::Node;
use crate::service::{ErrorCode, LedgerService, ServiceError, StateQuery};

/// Opens the webhooks of `node` (data directory `data_dir`, API on `own`), starts their
/// background task and answers the `POST /v1/webhooks` route to serve.
pub fn start(
    node: &Arc<Node>,
    data_dir: &Path,
    own: SocketAddr,
) -> Result<(Router, JoinHandle<()>), ServiceError> {
    let ledger = LedgerDb::open(data_dir.join("ledger.sqlite")).map_err(|err| {
        ServiceError::new(ErrorCode::Internal, format!("webhooks: the ledger: {err}"))
    })?;
    let latest = ledger
        .latest_height()
        .map_err(|err| ServiceError::new(ErrorCode::Internal, err.to_string()))?
        .unwrap_or(0);
    let providers = Arc::clone(node);
    let known = Box::new(move |address: &str| {
        providers
            .query_state(&StateQuery::Provider(address.to_owned()), None)
            .is_ok_and(|answer| answer.value.is_some())
    });
    let webhooks = Arc::new(Webhooks::open(
        data_dir,
        own,
        node.genesis().network,
        latest,
        known,
    )?);
    let reader = Arc::clone(node);
    let committed: Arc<GrantCommitted> = Arc::new(move |id: &[u8; 32]| {
        reader
            .query_state(&StateQuery::Grant(*id), None)
            .is_ok_and(|answer| answer.value.is_some())
    });
    let task = tokio::spawn(Arc::clone(&webhooks).run(Arc::new(ledger), committed));
    Ok((crate::api::webhooks::router(webhooks), task))
}
