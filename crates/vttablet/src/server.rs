//! Starting a tablet: open MariaDB, bind the gRPC and HTTP ports, register
//! in the topology, replicate from the shard's primary when one is already elected (in the
//! background, see [`crate::follow_primary`]), watch the Shard, and serve until told to stop.
//!
//! The ports are bound first (the Tablet record names them), so a port that accepts TCP
//! connections says nothing about the tablet. `/debug/health` is the readiness signal: it
//! answers only once MariaDB is open, the Tablet record is in the topology and the gRPC
//! services run. Whoever elects a primary next (vtlocal's PlannedReparentShard) should wait for
//! it, or the election misses a tablet that has not registered yet; such a tablet finds the
//! primary itself only when it restarts, or when PlannedReparentShard to the same primary is
//! run again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use proto::queryservice::query_server::QueryServer;
use proto::tabletmanagerservice::tablet_manager_server::TabletManagerServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::service::Routes;
use topo::TopoServer;

use crate::config::TabletConfig;
use crate::error::{Result, TabletError};
use crate::query_service::QueryService;
use crate::tablet::Tablet;
use crate::tablet_manager::TabletManagerService;
use crate::vr_engine::VrEngine;

/// How long shutdown waits for running calls to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A tablet that is serving.
#[derive(Debug)]
pub struct RunningTablet {
    /// The tablet.
    pub tablet: Arc<Tablet>,
    /// Where the gRPC services listen.
    pub grpc_addr: SocketAddr,
    /// Where `/debug/health` answers.
    pub http_addr: SocketAddr,
    /// The VReplication streams this tablet runs.
    pub vreplication: Arc<VrEngine>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

/// Starts the tablet described by `config` against `topo`.
pub async fn start(config: TabletConfig, topo: TopoServer) -> Result<RunningTablet> {
    let flags = config.flags.clone();
    let grpc = bind(&flags.bind_address, flags.grpc_port).await?;
    let http = bind(&flags.bind_address, flags.port).await?;
    let grpc_addr = local_addr(&grpc)?;
    let http_addr = local_addr(&http)?;
    let tablet = Tablet::open(config, topo).await?;
    tablet.register(grpc_addr.port(), http_addr.port()).await?;
    let vreplication = VrEngine::new(tablet.clone());
    if tablet.state.snapshot().tablet_type == proto::topodata::TabletType::Primary {
        // A stream that cannot start is no reason not to serve.
        if let Err(e) = vreplication.open().await {
            tracing::warn!(error = %e, "cannot start the vreplication streams");
        }
    }

    let mut background = vec![
        // A replica joining a shard whose primary is already elected replicates from it.
        tokio::spawn(crate::follow_primary::follow_shard_primary(tablet.clone())),
        tokio::spawn(tablet.clone().watch_shard()),
        tokio::spawn(tablet.clone().watch_srv_keyspace()),
        tokio::spawn(
            tablet
                .clone()
                .report_replication(flags.health_check_interval),
        ),
    ];
    let (stop, stopped) = watch::channel(false);
    let query = QueryService::new(tablet.clone(), flags.health_check_interval);
    let routes = Routes::new(
        QueryServer::new(query.clone())
            .max_decoding_message_size(proto::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(proto::MAX_MESSAGE_SIZE),
    )
    .add_service(TabletManagerServer::new(TabletManagerService::new(
        tablet.clone(),
        vreplication.clone(),
    )))
    .prepare();
    let server = tokio::spawn(crate::grpc::serve(
        grpc,
        crate::grpc::Services { query, routes },
        stopped,
    ));
    // Last: `/debug/health` tells supervisors the tablet is registered and serving.
    background.push(tokio::spawn(serve_http(http)));
    tracing::info!(%grpc_addr, %http_addr, alias = %tablet.alias, "vttablet serving");
    Ok(RunningTablet {
        tablet,
        grpc_addr,
        http_addr,
        vreplication,
        stop,
        server,
        background,
    })
}

impl RunningTablet {
    /// Stops serving: StreamHealth reports not serving, the gRPC server
    /// drains, the background tasks end and the pool closes.
    pub async fn shutdown(mut self) {
        self.tablet.state.update(|s| s.serving = false);
        // Let health streams deliver the not-serving state, then end them.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.tablet.begin_close();
        self.vreplication.close().await;
        let _ = self.stop.send(true);
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut self.server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "gRPC server task failed"),
            Err(_) => {
                tracing::warn!("gRPC calls still running after {SHUTDOWN_GRACE:?}; aborting them");
                self.server.abort();
            }
        }
        for task in &self.background {
            task.abort();
        }
        self.tablet.close().await;
    }

    /// Waits until the gRPC server ends on its own (it does not, unless it fails).
    pub async fn wait(&mut self) -> Result<()> {
        match (&mut self.server).await {
            Ok(()) => Ok(()),
            Err(e) => Err(TabletError::Connection(format!("gRPC server task: {e}"))),
        }
    }
}

async fn bind(address: &str, port: u16) -> Result<TcpListener> {
    TcpListener::bind((address, port))
        .await
        .map_err(|e| TabletError::Connection(format!("cannot listen on {address}:{port}: {e}")))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr> {
    listener
        .local_addr()
        .map_err(|e| TabletError::Connection(format!("listener address: {e}")))
}

/// A minimal HTTP status endpoint: `/debug/health` answers `ok` (started once the tablet is
/// registered and its gRPC services run; see the module doc).
async fn serve_http(listener: TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let n = socket.read(&mut request).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]);
            let (status, body) = if line.starts_with("GET /debug/health ") {
                ("200 OK", "ok")
            } else {
                ("404 Not Found", "not found")
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
