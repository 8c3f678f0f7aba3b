//! The `carchain-node` binary: `init` creates a chain in a data directory, `run` serves
//! the node over HTTP until SIGINT/SIGTERM (the current block is finished, exit 0).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use carchain_node::abci;
use carchain_node::api::{self, ApiConfig};
use carchain_node::cli::{Cli, Command, ConsensusArg, InitArgs, RunArgs};
use carchain_node::node::{ChainOptions, CometOptions, FeeSchedule, InitOptions, Node, NodeConfig};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The node's allocator: glibc's malloc fragments under the node's sustained load (see
/// the dependency's note in Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match cli.command {
        Command::Init(args) => init(args),
        Command::Run(args) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("carchain-node: cannot start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(run(args))
        }
    }
}

fn init(args: InitArgs) -> ExitCode {
    let options = InitOptions {
        chain_id: args.chain_id,
        network: args.network.into(),
        total_supply: args.supply,
        initial_balances: args.fund,
        fees: FeeSchedule {
            base_fee: args.base_fee,
            put_per_byte: args.put_fee_per_byte,
            read_per_address: args.read_fee_per_address,
        },
    };
    let chain = ChainOptions {
        stamp_price: (args.stamp_price > 0).then_some(args.stamp_price),
        phase1_reserve: args.phase1_reserve,
        stake: args.stake,
        power_unit: args.power_unit,
        unbonding_blocks: args.unbonding_blocks,
    };
    match Node::init_with(&args.data_dir, &options, &chain) {
        Ok(summary) => {
            println!("validator_pubkey: {}", summary.validator_pubkey);
            println!("operator_address: {}", summary.operator_address);
            println!("genesis: {}", summary.genesis_path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("carchain-node init: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: RunArgs) -> ExitCode {
    let data_dir = args.data_dir.clone();
    let config = NodeConfig {
        data_dir: args.data_dir,
        mode: args.mode.into(),
        block_time: Duration::from_millis(args.block_time_ms),
        peers: args.peers,
        agent: args.agent,
        max_mempool: args.max_mempool,
    };
    let cometbft = args.consensus == ConsensusArg::Cometbft;
    if cometbft && !args.abci.ip().is_loopback() {
        eprintln!(
            "carchain-node run: --abci {} is not a loopback address (ABCI has no authentication)",
            args.abci
        );
        return ExitCode::FAILURE;
    }
    let started = if cometbft {
        let options = CometOptions {
            rpc_url: args.cometbft_rpc.clone(),
        };
        Node::start_cometbft_with_kv(config, &options, args.kv).await
    } else {
        Node::start_with_kv(config, args.kv).await
    };
    let node = match started {
        Ok(node) => node,
        Err(err) => {
            eprintln!("carchain-node run: cannot start the node: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("carchain-node run: cannot listen on {}: {err}", args.listen);
            node.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(err) => {
            eprintln!("carchain-node run: no local address: {err}");
            node.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    let limits = ApiConfig {
        tx_body_limit: args.tx_body_limit,
        kv_body_limit: args.kv_body_limit,
    };
    let delivery = carchain_node::webhooks::DeliveryOptions {
        max_attempts: args.webhook_max_attempts,
        max_age: Duration::from_secs(args.webhook_max_age_secs),
        refuse_private: args.webhook_public_only,
    };
    let started = carchain_node::webhooks::start_with(&node, &data_dir, address, delivery);
    let (hooks, hooks_task) = match started {
        Ok(started) => started,
        Err(err) => {
            eprintln!("carchain-node run: cannot start webhooks: {err}");
            node.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    let app = api::router(Arc::clone(&node), limits).merge(hooks);
    let abci_server = cometbft.then(|| {
        let address = args.abci;
        tracing::info!(%address, rpc = %args.cometbft_rpc, "serving ABCI to CometBFT");
        tokio::spawn(abci::serve(Arc::clone(&node), address))
    });
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();
    tracing::info!(%address, "serving the HTTP API");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop_when(abci_server))
        .await;
    hooks_task.abort();
    node.shutdown().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("carchain-node run: server error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM, or when the ABCI server (if any) stops.
async fn stop_when(abci_server: Option<tokio::task::JoinHandle<Result<(), tower_abci::BoxError>>>) {
    let abci_stopped = async {
        match abci_server {
            Some(handle) => match handle.await {
                Ok(Ok(())) => tracing::error!("the ABCI server stopped"),
                Ok(Err(err)) => tracing::error!(%err, "the ABCI server failed"),
                Err(err) => tracing::error!(%err, "the ABCI server task failed"),
            },
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = shutdown_signal() => {}
        () = abci_stopped => {}
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
