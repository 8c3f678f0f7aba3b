//! The node's CometBFT light blocks (`GET /v1/light/{height}`). Under a CometBFT engine
//! they are the engine's own (its RPC's `commit` and `validators`, see
//! [`crate::abci::rpc::CometRpc::light_block`]), signed by its validators. The embedded
//! node makes its own: for ledger block
//! `H`, CometBFT height `H + 1` with the ledger state root as app hash, the block time,
//! `last_block_id` chaining to the previous light block, and a commit signed by the
//! node's one validator (its consensus key, power [`DEFAULT_POWER`]). Light block ids are
//! computed once per height and kept in memory (rebuilt from the ledger after a restart).

use carchain_core::protocol::light_block::LightBlock;
use carchain_core::protocol::light_block::{
    BlockSpec, DEFAULT_POWER, block_id_of, build_light_block, validator_set,
};
use tendermint::block;

use super::{Node, internal, lock};
use crate::abci::rpc::RpcError;
use crate::chain::decode_header;
use crate::service::{ErrorCode, ServiceError};

impl Node {
    /// The trust anchor's text form light clients start from: the embedded node's
    /// ed25519 consensus key, or under a CometBFT engine its genesis validators
    /// (`<ed25519 hex>:<power>,...`, read once from the engine's light block 1; empty
    /// until the engine has committed block 1). Called on a blocking thread.
    pub(super) fn anchor_text(&self) -> String {
        if self.comet().is_none() {
            return self.consensus_key.public_hex();
        }
        if let Some(text) = self.engine_anchor.get() {
            return text.clone();
        }
        match self.engine_light_block(1) {
            Ok(light) => {
                let text = light
                    .validators
                    .validators()
                    .iter()
                    .map(|v| format!("{}:{}", hex::encode(v.pub_key.to_bytes()), v.power.value()))
                    .collect::<Vec<_>>()
                    .join(",");
                self.engine_anchor.get_or_init(|| text).clone()
            }
            Err(_) => String::new(),
        }
    }

    /// The light block at `height` from the CometBFT engine's RPC. Called on a blocking
    /// thread of the runtime (the API's), so it waits for the RPC there.
    pub(super) fn engine_light_block(&self, height: u64) -> Result<LightBlock, ServiceError> {
        let link = self.comet().ok_or_else(|| internal("no CometBFT engine"))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(internal)?;
        match runtime.block_on(link.rpc.light_block(height)) {
            Ok(light) => Ok(light),
            Err(RpcError::NoBlock(_)) => Err(ServiceError::new(
                ErrorCode::NotFound,
                format!("no light block at height {height} yet"),
            )),
            Err(err) => Err(ServiceError::new(ErrorCode::Unavailable, err.to_string())),
        }
    }

    /// The light block at CometBFT `height` (ledger height `height - 1`), built and
    /// signed by this node.
    pub(super) fn embedded_light_block(&self, height: u64) -> Result<LightBlock, ServiceError> {
        let not_found = || {
            ServiceError::new(
                ErrorCode::NotFound,
                format!("no light block at height {height}"),
            )
        };
        let ledger_height = height.checked_sub(1).ok_or_else(not_found)?;
        if ledger_height > self.committed_height()? {
            return Err(not_found());
        }
        let mut ids = lock(&self.light_ids);
        while (ids.len() as u64) < ledger_height {
            let next = ids.len() as u64 + 1;
            let light = self.build_light(next, ids.last().copied())?;
            ids.push(block_id_of(&light));
        }
        let last = if ledger_height == 0 {
            None
        } else {
            ids.get(ledger_height as usize - 1).copied()
        };
        let light = self.build_light(height, last)?;
        if ids.len() as u64 == ledger_height {
            ids.push(block_id_of(&light));
        }
        Ok(light)
    }

    fn build_light(
        &self,
        height: u64,
        last_block_id: Option<block::Id>,
    ) -> Result<LightBlock, ServiceError> {
        let stored = self
            .db
            .block(height - 1)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("ledger block {} missing", height - 1)))?;
        let header = decode_header(&stored).map_err(internal)?;
        let set = validator_set(vec![self.consensus_key.validator(DEFAULT_POWER)]);
        let spec = BlockSpec {
            chain_id: header.header.chain_id.clone(),
            height,
            time_ms: header.header.time,
            app_hash: header.header.state_root,
            last_block_id,
        };
        build_light_block(&spec, &set, &set, &[&self.consensus_key]).map_err(internal)
    }
}
