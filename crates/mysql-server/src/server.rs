//! The listener: [`ServerConfig`] and [`serve`], which accepts connections, runs one task per
//! connection, enforces the connection limit and shuts down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::auth::AuthServer;
use crate::conn;
use crate::error::{ServerError, SqlError};
use crate::handler::HandlerFactory;
use crate::io::BoxIo;
use crate::packet::PacketWriter;
use crate::response::encode_err;

/// Connection ids are unique within the process, across servers.
static NEXT_CONNECTION_ID: AtomicU32 = AtomicU32::new(1);

/// How the server behaves; see the field docs for the Vitess flag each mirrors.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Version announced in the handshake (`--mysql-server-version`), e.g. `8.0.40-Vitess`.
    pub server_version: String,
    /// Who may log in (`--mysql-auth-server-impl`, `--mysql-auth-server-static-file`).
    pub auth: Arc<AuthServer>,
    /// TLS, from `--mysql-server-ssl-cert` / `--mysql-server-ssl-key`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Refuse connections that did not switch to TLS (`--mysql-server-require-secure-transport`).
    pub require_secure_transport: bool,
    /// Largest packet accepted from a client (`max_allowed_packet`); larger ones get ERR 1153.
    pub max_packet_size: usize,
    /// Most concurrent connections; more get ERR 1040 "Too many connections".
    pub max_connections: usize,
    /// Time a client has to complete the handshake and authentication.
    pub handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            server_version: "8.0.40-Vitess".to_string(),
            auth: Arc::new(AuthServer::None),
            tls: None,
            require_secure_transport: false,
            max_packet_size: 64 << 20,
            max_connections: 100_000,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Accepts connections on `listener` until `shutdown` completes, running each on its own task
/// with a handler from `factory`. After shutdown no connection is accepted, idle connections
/// are closed, commands in progress finish, and `serve` returns once every connection ended.
pub async fn serve<F: HandlerFactory>(
    listener: TcpListener,
    config: ServerConfig,
    factory: F,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    if config.require_secure_transport && config.tls.is_none() {
        return Err(ServerError::Tls(
            "require_secure_transport needs a certificate and key".to_string(),
        ));
    }
    let config = Arc::new(config);
    let factory = Arc::new(factory);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tasks.spawn(refuse_too_many(stream));
            continue;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "set_nodelay failed");
        }
        let span = tracing::info_span!("conn", id, %peer);
        let config = Arc::clone(&config);
        let factory = Arc::clone(&factory);
        let mut stop = stop_rx.clone();
        let stop = async move {
            // An error means the sender is gone, which only happens once serve has returned.
            let _ = stop.wait_for(|stopping| *stopping).await;
        };
        tasks.spawn(
            async move {
                conn::run(Box::new(stream), peer, id, config, factory, stop).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
    tracing::info!(connections = tasks.len(), "shutting down");
    // Receivers may all be gone already; nothing to tell then.
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one already-accepted connection over any stream (a unix socket, a test pipe) until
/// the client leaves; `peer` is what error messages and [`crate::ConnectionInfo`] report.
pub async fn serve_connection<F: HandlerFactory>(
    io: BoxIo,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    factory: Arc<F>,
) {
    let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("conn", id, %peer);
    conn::run(io, peer, id, config, factory, std::future::pending())
        .instrument(span)
        .await;
}

async fn refuse_too_many(mut stream: TcpStream) {
    let mut w = PacketWriter::default();
    encode_err(
        w.begin(),
        &SqlError::new(1040, "08004", "Too many connections"),
    );
    w.end();
    if let Err(e) = w.flush(&mut stream).await {
        tracing::debug!(error = %e, "could not refuse a connection");
    }
}
