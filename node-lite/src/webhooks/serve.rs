//! Starting a running node's webhooks: the store in its data directory, the background
//! task that scans committed blocks and sends notifications, and the HTTP routes.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use carchain_core::protocol::{Canonical, GrantState};
use tokio::task::JoinHandle;

use super::{ChainView, DeliveryOptions, Webhooks};
use crate::db::LedgerDb;
use crate::node::Node;
use crate::service::{ErrorCode, LedgerService, ServiceError, StateQuery};

/// [`start_with`] the default [`DeliveryOptions`].
pub fn start(
    node: &Arc<Node>,
    data_dir: &Path,
    own: SocketAddr,
) -> Result<(Router, JoinHandle<()>), ServiceError> {
    start_with(node, data_dir, own, DeliveryOptions::default())
}

/// Opens the webhooks of `node` (data directory `data_dir`, API on `own`), starts their
/// background task and answers the `/v1/webhooks` routes to serve.
pub fn start_with(
    node: &Arc<Node>,
    data_dir: &Path,
    own: SocketAddr,
    options: DeliveryOptions,
) -> Result<(Router, JoinHandle<()>), ServiceError> {
    let ledger = LedgerDb::open(data_dir.join("ledger.sqlite")).map_err(|err| {
        ServiceError::new(ErrorCode::Internal, format!("webhooks: the ledger: {err}"))
    })?;
    let providers = Arc::clone(node);
    let known = Box::new(move |address: &str| {
        providers
            .query_state(&StateQuery::Provider(address.to_owned()), None)
            .is_ok_and(|answer| answer.value.is_some())
    });
    let reader = Arc::clone(node);
    let grant = Box::new(move |id: &[u8; 32]| {
        let bytes = reader
            .query_state(&StateQuery::Grant(*id), None)
            .ok()?
            .value?;
        GrantState::from_canonical(&bytes).ok()
    });
    let chain = ChainView {
        network: node.genesis().network,
        ledger: Arc::new(ledger),
        known,
        grant,
    };
    let webhooks = Arc::new(Webhooks::open(data_dir, own, chain, options)?);
    let task = tokio::spawn(Arc::clone(&webhooks).run());
    Ok((crate::api::webhooks::router(webhooks), task))
}
