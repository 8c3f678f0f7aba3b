//! The node as a CometBFT application: an ABCI 2.0 server (tower-abci's `v038`
//! module, the protocol CometBFT v0.38 speaks) over a [`Node`] started with
//! [`Node::start_cometbft`], and the client of the engine's RPC that submissions go
//! through.
//!
//! CometBFT opens four connections: consensus (InitChain, PrepareProposal,
//! ProcessProposal, FinalizeBlock, Commit), mempool (CheckTx), info (Info, Query) and
//! snapshot (state sync, which this node does not offer). Consensus and mempool requests
//! are handled one at a time in their order (a signer's nonces are checked in sequence),
//! each connection on a [`lane::Lane`] of its own; info requests run concurrently on
//! blocking threads.
//!
//! `Query` paths are those of `GET /v1/state/...`: `/account/{address}`,
//! `/device/{vid}`, `/provider/{address}`, `/record/{address}/{key_hex}`,
//! `/address-index/{address}`, `/grant/{id}`, `/request/{id}`, `/escrow/{id}`,
//! `/stamp/{id}`, `/stake/{validator_hex}`, `/stake/{validator_hex}/{address}`,
//! `/unbonding/{height}`; the
//! height is the ledger height whose state is read (0: the latest), the value its
//! canonical bytes and the proof one `carchain.jmt` operation (the Jellyfish Merkle
//! proof, as the HTTP API encodes it) against that height's state root, the app hash
//! CometBFT's next header carries.

pub mod bundle;
pub mod codes;
pub mod lane;
pub mod rpc;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tendermint::abci::response::{
    ApplySnapshotChunk, ApplySnapshotChunkResult, CheckTx, Commit, Echo, ExtendVote, FinalizeBlock,
    Info, InitChain, ListSnapshots, LoadSnapshotChunk, OfferSnapshot, PrepareProposal,
    ProcessProposal, Query, VerifyVoteExtension,
};
use tendermint::abci::types::ExecTxResult;
use tendermint::abci::{Code, request::CheckTxKind};
use tendermint::merkle::proof::{ProofOp, ProofOps};
use tendermint::v0_38::abci::{
    ConsensusRequest, ConsensusResponse, InfoRequest, InfoResponse, MempoolRequest,
    MempoolResponse, SnapshotRequest, SnapshotResponse,
};
use tower::Service;
use tower_abci::BoxError;
use tower_abci::v038::Server;

use self::lane::Lane;

use crate::chain::MAX_BLOCK_TXS;
use crate::node::Node;
use crate::service::{ErrorCode, LedgerService, ServiceError, StateQuery};
use crate::state::PowerChange;

/// The `ProofOp` type of a state proof in a `Query` answer.
pub const PROOF_OP_TYPE: &str = "carchain.jmt";

/// The application name `Info` reports.
pub const APP_NAME: &str = "carchain-node";

/// The ABCI application over one node (cheap to clone: every connection gets one).
#[derive(Clone)]
pub struct Application {
    node: Arc<Node>,
    /// Runs consensus requests in order.
    consensus_lane: Lane,
    /// Runs CheckTx requests in order.
    mempool_lane: Lane,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").finish_non_exhaustive()
    }
}

/// Serves `node` to CometBFT over ABCI on `address` (loopback) until the task is
/// dropped or the listener fails.
pub async fn serve(node: Arc<Node>, address: SocketAddr) -> Result<(), BoxError> {
    let app = Application {
        node,
        consensus_lane: Lane::start("abci-consensus")?,
        mempool_lane: Lane::start("abci-mempool")?,
    };
    let server = Server::builder()
        .consensus(app.clone())
        .mempool(app.clone())
        .info(app.clone())
        .snapshot(app)
        .finish()
        .ok_or("the ABCI server lacks a service")?;
    server.listen_tcp(address).await
}

type Answer<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'static>>;

/// Runs `work` on a blocking thread (the state machine and SQLite block).
fn blocking<T: Send + 'static>(
    node: &Arc<Node>,
    work: impl FnOnce(&Node) -> Result<T, BoxError> + Send + 'static,
) -> Answer<T> {
    let node = Arc::clone(node);
    Box::pin(async move {
        tokio::task::spawn_blocking(move || work(&node))
            .await
            .map_err(|err| -> BoxError { format!("an ABCI task failed: {err}").into() })?
    })
}

fn code_of(result: &Result<(), ServiceError>) -> (Code, String, String) {
    match result {
        Ok(()) => (Code::Ok, String::new(), String::new()),
        Err(err) => (
            Code::from(codes::number(err.code)),
            codes::log(err),
            codes::CODESPACE.to_owned(),
        ),
    }
}

fn app_hash(root: [u8; 32]) -> tendermint::AppHash {
    tendermint::AppHash::try_from(root.to_vec()).unwrap_or_default()
}

fn time_ms(time: tendermint::Time) -> u64 {
    u64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl Service<ConsensusRequest> for Application {
    type Response = ConsensusResponse;
    type Error = BoxError;
    type Future = Answer<ConsensusResponse>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ConsensusRequest) -> Self::Future {
        let node = Arc::clone(&self.node);
        Box::pin(self.consensus_lane.run(move || consensus(&node, request)))
    }
}

fn refuse(err: ServiceError) -> BoxError {
    codes::log(&err).into()
}

/// A power change as CometBFT's validator update (the rules keep keys valid and powers
/// within CometBFT's range, so a failure here is a node fault).
pub fn validator_update(change: &PowerChange) -> Result<tendermint::validator::Update, BoxError> {
    let pub_key = tendermint::PublicKey::from_raw_ed25519(&change.validator)
        .ok_or("a staked validator key is not an ed25519 key")?;
    let power = tendermint::vote::Power::try_from(change.power)
        .map_err(|err| -> BoxError { format!("voting power: {err}").into() })?;
    Ok(tendermint::validator::Update { pub_key, power })
}

fn consensus(node: &Node, request: ConsensusRequest) -> Result<ConsensusResponse, BoxError> {
    Ok(match request {
        ConsensusRequest::InitChain(init) => {
            let root = node
                .consensus_init_chain(&init.chain_id, init.initial_height.value())
                .map_err(refuse)?;
            let validators = node
                .consensus_genesis_validators()
                .map_err(refuse)?
                .iter()
                .map(validator_update)
                .collect::<Result<Vec<_>, _>>()?;
            ConsensusResponse::InitChain(InitChain {
                consensus_params: None,
                validators,
                app_hash: app_hash(root),
            })
        }
        ConsensusRequest::PrepareProposal(prepare) => {
            // CometBFT's mempool order, cut to a ledger block (a bundle counts its
            // transactions) and the byte budget.
            let budget = usize::try_from(prepare.max_tx_bytes).unwrap_or(0);
            let mut used = 0usize;
            let mut counted = 0usize;
            let txs: Vec<Bytes> = prepare
                .txs
                .into_iter()
                .take_while(|tx| {
                    used = used.saturating_add(tx.len());
                    counted = counted.saturating_add(bundle::count(tx));
                    used <= budget && counted <= MAX_BLOCK_TXS
                })
                .collect();
            ConsensusResponse::PrepareProposal(PrepareProposal { txs })
        }
        ConsensusRequest::ProcessProposal(proposal) => {
            ConsensusResponse::ProcessProposal(if node.consensus_accepts_proposal(&proposal.txs) {
                ProcessProposal::Accept
            } else {
                ProcessProposal::Reject
            })
        }
        ConsensusRequest::FinalizeBlock(block) => {
            let finalized = node
                .consensus_finalize_block(block.height.value(), time_ms(block.time), &block.txs)
                .map_err(refuse)?;
            let tx_results = finalized
                .results
                .iter()
                .map(|result| {
                    let (code, log, codespace) = code_of(result);
                    ExecTxResult {
                        code,
                        log,
                        codespace,
                        ..Default::default()
                    }
                })
                .collect();
            let validator_updates = finalized
                .validator_updates
                .iter()
                .map(validator_update)
                .collect::<Result<Vec<_>, _>>()?;
            ConsensusResponse::FinalizeBlock(FinalizeBlock {
                events: Vec::new(),
                tx_results,
                validator_updates,
                consensus_param_updates: None,
                app_hash: app_hash(finalized.app_hash),
            })
        }
        ConsensusRequest::Commit => {
            let height = node.consensus_commit().map_err(refuse)?;
            tracing::debug!(height, "block committed");
            ConsensusResponse::Commit(Commit {
                data: Bytes::new(),
                retain_height: 0u32.into(),
            })
        }
        ConsensusRequest::ExtendVote(_) => ConsensusResponse::ExtendVote(ExtendVote {
            vote_extension: Bytes::new(),
        }),
        ConsensusRequest::VerifyVoteExtension(vote) => {
            ConsensusResponse::VerifyVoteExtension(if vote.vote_extension.is_empty() {
                VerifyVoteExtension::Accept
            } else {
                VerifyVoteExtension::Reject
            })
        }
    })
}

impl Service<MempoolRequest> for Application {
    type Response = MempoolResponse;
    type Error = BoxError;
    type Future = Answer<MempoolResponse>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: MempoolRequest) -> Self::Future {
        let node = Arc::clone(&self.node);
        Box::pin(self.mempool_lane.run(move || {
            let MempoolRequest::CheckTx(check) = request;
            let recheck = matches!(check.kind, CheckTxKind::Recheck);
            let result = node.consensus_check_tx(&check.tx, recheck);
            let (code, log, codespace) = code_of(&result);
            Ok(MempoolResponse::CheckTx(CheckTx {
                code,
                log,
                codespace,
                gas_wanted: 1,
                ..Default::default()
            }))
        }))
    }
}

impl Service<InfoRequest> for Application {
    type Response = InfoResponse;
    type Error = BoxError;
    type Future = Answer<InfoResponse>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InfoRequest) -> Self::Future {
        blocking(&self.node, move |node| {
            Ok(match request {
                InfoRequest::Info(_) => {
                    let (height, root) = node.consensus_info();
                    InfoResponse::Info(Info {
                        data: APP_NAME.to_owned(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        app_version: carchain_core::protocol::light_block::ENGINE_APP_VERSION,
                        last_block_height: tendermint::block::Height::try_from(height)
                            .map_err(|err| -> BoxError { err.to_string().into() })?,
                        last_block_app_hash: app_hash(root),
                    })
                }
                InfoRequest::Query(query) => {
                    InfoResponse::Query(answer_query(node, &query.path, query.height.value()))
                }
                InfoRequest::Echo(echo) => InfoResponse::Echo(Echo {
                    message: echo.message,
                }),
            })
        })
    }
}

/// The state query a `Query` path names.
pub fn parse_query_path(path: &str) -> Result<StateQuery, ServiceError> {
    let bad =
        |why: &str| ServiceError::new(ErrorCode::InvalidRequest, format!("query path: {why}"));
    let id = |text: &str| -> Result<[u8; 32], ServiceError> {
        hex::decode(text)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| bad("the id is not 32 bytes of hex"))
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["account", address] => Ok(StateQuery::Account((*address).to_owned())),
        ["device", vid] => Ok(StateQuery::Device((*vid).to_owned())),
        ["provider", address] => Ok(StateQuery::Provider((*address).to_owned())),
        ["address-index", address] => Ok(StateQuery::AddressIndex((*address).to_owned())),
        ["record", address, key] => Ok(StateQuery::Record {
            address: (*address).to_owned(),
            key: hex::decode(key).map_err(|_| bad("the record key is not hex"))?,
        }),
        ["grant", text] => Ok(StateQuery::Grant(id(text)?)),
        ["request", text] => Ok(StateQuery::Request(id(text)?)),
        ["escrow", text] => Ok(StateQuery::Escrow(id(text)?)),
        ["stamp", text] => Ok(StateQuery::SpentStamp(id(text)?)),
        ["stake", text] => Ok(StateQuery::ValidatorStake(id(text)?)),
        ["stake", text, address] => Ok(StateQuery::Delegation {
            validator: id(text)?,
            delegator: (*address).to_owned(),
        }),
        ["unbonding", text] => Ok(StateQuery::Unbonding(
            text.parse()
                .map_err(|_| bad("the height is not a number"))?,
        )),
        ["fee-schedule"] => Ok(StateQuery::FeeSchedule),
        _ => Err(bad("unknown path")),
    }
}

fn answer_query(node: &Node, path: &str, height: u64) -> Query {
    let answer = parse_query_path(path)
        .and_then(|query| node.query_state(&query, (height > 0).then_some(height)));
    match answer {
        Ok(answer) => Query {
            key: Bytes::copy_from_slice(&answer.key_hash),
            value: answer.value.map(Bytes::from).unwrap_or_default(),
            proof: Some(ProofOps {
                ops: vec![ProofOp {
                    field_type: PROOF_OP_TYPE.to_owned(),
                    key: answer.key_hash.to_vec(),
                    data: answer.proof.into_bytes(),
                }],
            }),
            height: tendermint::block::Height::try_from(answer.height).unwrap_or_default(),
            info: hex::encode(answer.state_root),
            ..Default::default()
        },
        Err(err) => Query {
            code: Code::from(codes::number(err.code)),
            log: codes::log(&err),
            codespace: codes::CODESPACE.to_owned(),
            ..Default::default()
        },
    }
}

impl Service<SnapshotRequest> for Application {
    type Response = SnapshotResponse;
    type Error = BoxError;
    type Future = Answer<SnapshotResponse>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: SnapshotRequest) -> Self::Future {
        // No state sync yet: no snapshots offered, none accepted.
        let response = match request {
            SnapshotRequest::ListSnapshots => SnapshotResponse::ListSnapshots(ListSnapshots {
                snapshots: Vec::new(),
            }),
            SnapshotRequest::OfferSnapshot(_) => {
                SnapshotResponse::OfferSnapshot(OfferSnapshot::Reject)
            }
            SnapshotRequest::LoadSnapshotChunk(_) => {
                SnapshotResponse::LoadSnapshotChunk(LoadSnapshotChunk {
                    chunk: Bytes::new(),
                })
            }
            SnapshotRequest::ApplySnapshotChunk(_) => {
                SnapshotResponse::ApplySnapshotChunk(ApplySnapshotChunk {
                    result: ApplySnapshotChunkResult::Abort,
                    refetch_chunks: Vec::new(),
                    reject_senders: Vec::new(),
                })
            }
        };
        Box::pin(async move { Ok(response) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_paths_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_query_path("/account/bcrt1qx").ok(),
            Some(StateQuery::Account("bcrt1qx".into()))
        );
        assert_eq!(
            parse_query_path("/record/a/0a0b").ok(),
            Some(StateQuery::Record {
                address: "a".into(),
                key: vec![10, 11]
            })
        );
        let key = "ab".repeat(32);
        assert_eq!(
            parse_query_path(&format!("/stake/{key}")).ok(),
            Some(StateQuery::ValidatorStake([0xab; 32]))
        );
        assert_eq!(
            parse_query_path(&format!("/stake/{key}/bcrt1qx")).ok(),
            Some(StateQuery::Delegation {
                validator: [0xab; 32],
                delegator: "bcrt1qx".into()
            })
        );
        assert_eq!(
            parse_query_path("/unbonding/12").ok(),
            Some(StateQuery::Unbonding(12))
        );
        for bad in [
            "/nothing/x",
            "/grant/zz",
            "/record/a/xyz",
            "",
            "/account",
            "/stake/abcd",
            "/unbonding/-1",
        ] {
            assert_eq!(
                parse_query_path(bad).err().map(|e| e.code),
                Some(ErrorCode::InvalidRequest),
                "{bad}"
            );
        }
    }
}
