//! `carchain node status`: what the node says about itself, and the chain tip this
//! client verified from the anchored genesis.

use carchain_core::light::SyncProgress;
use serde_json::json;

use super::args::NodeCommand;
use super::error::CliError;
use super::output::emit;
use super::session::Session;

/// Runs a `node` command.
pub async fn run(session: &Session, command: &NodeCommand) -> Result<(), CliError> {
    match command {
        NodeCommand::Status => {
            let light = session.light(session.wallet.as_deref()).await?;
            let status = light.status().await?;
            let verified = light.sync(&|_: SyncProgress| {}).await?;
            let doc = json!({"chain_id": status.chain_id, "network": status.network,
                             "height": status.height, "verified_height": verified,
                             "mode": status.mode, "version": status.version,
                             "validator": status.validator,
                             "operator_address": status.operator_address,
                             "mempool": status.mempool, "peers": status.peers});
            emit(session.json, &doc, || {
                format!(
                    "chain      {} ({})\nheight     {} (verified up to {verified})\nmode       {}\nvalidator  {}\noperator   {}\nmempool    {}\nversion    {}",
                    status.chain_id,
                    status.network,
                    status.height,
                    status.mode,
                    status.validator,
                    status.operator_address,
                    status.mempool,
                    status.version
                )
            });
            Ok(())
        }
    }
}
