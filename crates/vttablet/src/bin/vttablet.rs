//! `vttablet`: serve one MariaDB as a Vitess tablet, with Vitess's flags
//! (`--tablet-path zone1-0000000100 --init-keyspace commerce --init-shard 0 ...`).

use anyhow::Context;
use clap::Parser;
use vttablet::{Flags, TabletConfig};

/// mimalloc: each query boxes futures of several KiB, which take glibc malloc's slow path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not in log files (and none to format per span).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = TabletConfig::from_flags(Flags::parse())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(config))
}

async fn run(config: TabletConfig) -> anyhow::Result<()> {
    let topo = topo::TopoServer::connect_etcd(
        &config.flags.topo_global_server_address,
        &config.flags.topo_global_root,
    )
    .await
    .context("connecting to the topology")?;
    let mut running = vttablet::start(config, topo).await?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = running.wait() => return Ok(result?),
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}
