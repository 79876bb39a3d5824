//! The `vtgate` binary: flags named as Vitess names them, topology discovery, the health
//! check, the MySQL listener and the HTTP status port.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use mysql_server::auth::{AuthServer, StaticAuth};
use mysql_server::server::{serve, ServerConfig};
use proto::duration::parse_duration;
use proto::topodata::TabletType;
use tokio::net::TcpListener;
use topo::cache::SrvCache;
use topo::TopoServer;
use vtgate::discovery::Discovery;
use vtgate::executor::local::ServerInfo;
use vtgate::executor::Executor;
use vtgate::gateway::Gateway;
use vtgate::handler::VtgateHandlerFactory;
use vtgate::healthcheck::HealthCheck;
use vtgate::schema_tracker::SchemaTracker;
use vtgate::topology::TopologyHandle;

/// mimalloc: each query boxes futures of several KiB, which take glibc malloc's slow path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// vtgate: routes MySQL clients' queries to vttablets.
#[derive(Parser, Debug)]
#[command(name = "vtgate", version)]
struct Flags {
    /// MySQL protocol port.
    #[arg(long = "mysql-server-port", default_value_t = 15306)]
    mysql_server_port: u16,
    /// Address the MySQL listener binds (empty: all interfaces).
    #[arg(long = "mysql-server-bind-address", default_value = "")]
    mysql_server_bind_address: String,
    /// HTTP port for `/health` and `/debug/status`.
    #[arg(long = "port", default_value_t = 15001)]
    port: u16,
    /// Accepted for compatibility with Vitess's scripts; the vtgateservice gRPC API is not
    /// served yet (a warning says so).
    #[arg(long = "grpc-port", default_value_t = 0)]
    grpc_port: u16,
    /// Accepted for compatibility with Vitess's scripts; ignored.
    #[arg(long = "service-map", default_value = "")]
    service_map: String,
    /// This vtgate's cell.
    #[arg(long = "cell", default_value = "zone1")]
    cell: String,
    /// Cells whose tablets are used, comma-separated (default: the local cell).
    #[arg(long = "cells-to-watch", default_value = "")]
    cells_to_watch: String,
    /// Tablet types to wait for at startup, comma-separated.
    #[arg(long = "tablet-types-to-wait", default_value = "")]
    tablet_types_to_wait: String,
    /// How long startup waits for those tablets.
    #[arg(long = "gateway-initial-tablet-timeout", default_value = "30s", value_parser = parse_duration)]
    gateway_initial_tablet_timeout: Duration,
    /// Topology implementation; only `etcd2`.
    #[arg(long = "topo-implementation", default_value = "etcd2")]
    topo_implementation: String,
    /// etcd address(es) of the global topology, comma-separated.
    #[arg(long = "topo-global-server-address", default_value = "127.0.0.1:2379")]
    topo_global_server_address: String,
    /// Root of the global topology.
    #[arg(long = "topo-global-root", default_value = "/vitess/global")]
    topo_global_root: String,
    /// `none` (anyone) or `static` (users from `--mysql-auth-server-static-file`).
    #[arg(long = "mysql-auth-server-impl", default_value = "static")]
    mysql_auth_server_impl: String,
    /// JSON file of users for the static auth server.
    #[arg(long = "mysql-auth-server-static-file")]
    mysql_auth_server_static_file: Option<std::path::PathBuf>,
    /// Version announced to clients and returned by `@@version`.
    #[arg(long = "mysql-server-version", default_value = "8.0.40-Vitess")]
    mysql_server_version: String,
    /// Tablet type used when the target names none.
    #[arg(long = "default-tablet-type", default_value = "PRIMARY")]
    default_tablet_type: String,
    /// Other tablets tried when one cannot be reached.
    #[arg(long = "retry-count", default_value_t = 2)]
    retry_count: usize,
    /// Most rows a vtgate-side primitive (sort, aggregate, join) may hold in memory.
    #[arg(long = "max-memory-rows", default_value_t = vtgate::executor::DEFAULT_MAX_MEMORY_ROWS)]
    max_memory_rows: usize,
    /// Timeout of every statement in milliseconds (0: none); the session's `query_timeout`
    /// and a statement's `/*vt+ QUERY_TIMEOUT_MS=N */` override it.
    #[arg(long = "query-timeout", default_value_t = 0)]
    query_timeout: u64,
    /// A tablet with no health message for this long is not used.
    #[arg(long = "healthcheck-timeout", default_value = "1m", value_parser = parse_duration)]
    healthcheck_timeout: Duration,
    /// Hold statements that fail during a traffic switch or failover and retry them once
    /// the serving graph changes.
    #[arg(long = "enable-buffer", default_value_t = false)]
    enable_buffer: bool,
    /// How long a statement may be held by the buffer.
    #[arg(long = "buffer-window", default_value = "10s", value_parser = parse_duration)]
    buffer_window: Duration,
    /// How often the tablet list and serving graph are read again.
    #[arg(long = "tablet-refresh-interval", default_value = "5s", value_parser = parse_duration)]
    tablet_refresh_interval: Duration,
    /// Track the tables' columns from the primaries (`--schema-change-signal=false` turns
    /// it off): the planner then knows columns the VSchema does not list.
    #[arg(long = "schema-change-signal", default_value_t = true, action = clap::ArgAction::Set)]
    schema_change_signal: bool,
    /// How often the tracked columns are read again (DDL through vtgate reloads at once).
    #[arg(long = "schema-change-signal-interval", default_value = "10s", value_parser = parse_duration)]
    schema_change_signal_interval: Duration,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn auth(flags: &Flags) -> anyhow::Result<AuthServer> {
    match flags.mysql_auth_server_impl.as_str() {
        "none" => Ok(AuthServer::None),
        "static" => {
            let Some(path) = &flags.mysql_auth_server_static_file else {
                bail!("--mysql-auth-server-impl static needs --mysql-auth-server-static-file");
            };
            Ok(AuthServer::Static(StaticAuth::from_file(path)?))
        }
        other => bail!("unsupported --mysql-auth-server-impl {other}"),
    }
}

async fn connect_topo(flags: &Flags) -> anyhow::Result<TopoServer> {
    if flags.topo_implementation != "etcd2" {
        bail!(
            "unsupported --topo-implementation {}",
            flags.topo_implementation
        );
    }
    let mut last = None;
    for _ in 0..20 {
        match TopoServer::connect_etcd(&flags.topo_global_server_address, &flags.topo_global_root)
            .await
        {
            Ok(t) => return Ok(t),
            Err(e) => {
                tracing::warn!(error = %e, "topology not reachable yet");
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    Err(last.map_or_else(|| anyhow::anyhow!("topology unreachable"), Into::into))
}

/// Stack of the runtime's threads: walking a client's deeply nested statement (a long `OR`
/// chain) recurses, and vtgate must answer it rather than overflow a 2 MB stack.
const WORKER_STACK: usize = 64 << 20;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not in log files (and none to format per span).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let flags = Flags::parse();
    if flags.grpc_port != 0 {
        tracing::warn!(
            port = flags.grpc_port,
            "--grpc-port: the vtgateservice gRPC API is not implemented; only MySQL is served"
        );
    }
    let auth = auth(&flags)?;
    let default_tablet_type: TabletType = flags
        .default_tablet_type
        .parse()
        .map_err(|e| anyhow::anyhow!("--default-tablet-type: {e}"))?;
    let wait_types = list(&flags.tablet_types_to_wait)
        .iter()
        .map(|t| t.parse::<TabletType>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--tablet-types-to-wait: {e}"))?;

    let topo = connect_topo(&flags).await?;
    let options = topo::cache::SrvCacheOptions {
        tablet_refresh: flags.tablet_refresh_interval,
        ..Default::default()
    };
    let local = SrvCache::with_options(topo.clone(), &flags.cell, options.clone());
    let mut cells: Vec<Arc<SrvCache>> = vec![local.clone()];
    for cell in list(&flags.cells_to_watch) {
        if cell != flags.cell {
            cells.push(SrvCache::with_options(topo.clone(), &cell, options.clone()));
        }
    }
    let health = HealthCheck::new(flags.healthcheck_timeout);
    let topology = TopologyHandle::default();
    let discovery = Discovery {
        local,
        cells,
        topology: topology.clone(),
        health: health.clone(),
        refresh: flags.tablet_refresh_interval.min(Duration::from_secs(1)),
    };
    discovery.refresh_once().await;
    tokio::spawn(discovery.run());

    if !wait_types.is_empty() {
        let mut targets = Vec::new();
        for ks in topology.get().keyspaces() {
            for shard in ks.shards_for(TabletType::Primary) {
                targets.push((ks.name.clone(), shard.clone()));
            }
        }
        if !health
            .wait_for(&targets, &wait_types, flags.gateway_initial_tablet_timeout)
            .await
        {
            tracing::warn!(
                "not every shard has healthy tablets of the awaited types; serving anyway"
            );
        }
    }

    let gateway = Gateway::new(health.clone(), flags.retry_count);
    let mut executor = Executor::new(
        topology.clone(),
        gateway.clone(),
        ServerInfo {
            version: flags.mysql_server_version.clone(),
            version_comment: format!("Version: {} (vtgate-rs)", env!("CARGO_PKG_VERSION")),
        },
    )
    .with_max_memory_rows(flags.max_memory_rows)
    .with_query_timeout(Duration::from_millis(flags.query_timeout));
    if flags.enable_buffer {
        executor = executor.with_buffer(flags.buffer_window);
    }
    if flags.schema_change_signal {
        let tracker = SchemaTracker::new(gateway, topology.clone());
        tracker.reload_all().await;
        tokio::spawn(tracker.clone().run(flags.schema_change_signal_interval));
        executor = executor.with_schema_tracker(tracker);
    }
    let host = if flags.mysql_server_bind_address.is_empty() {
        "0.0.0.0"
    } else {
        flags.mysql_server_bind_address.as_str()
    };
    let http = TcpListener::bind((host, flags.port))
        .await
        .with_context(|| format!("binding --port {}", flags.port))?;
    tokio::spawn(vtgate::http::serve(http, health, topology.clone()));
    let listener = TcpListener::bind((host, flags.mysql_server_port))
        .await
        .with_context(|| format!("binding --mysql-server-port {}", flags.mysql_server_port))?;
    tracing::info!(addr = %listener.local_addr()?, "vtgate listening for MySQL connections");
    let config = ServerConfig {
        server_version: flags.mysql_server_version.clone(),
        auth: Arc::new(auth),
        ..Default::default()
    };
    let factory = VtgateHandlerFactory::new(executor, default_tablet_type);
    serve(listener, config, factory, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
