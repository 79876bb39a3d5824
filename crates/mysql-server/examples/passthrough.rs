//! A MySQL proxy built on this crate: every command is forwarded to a MariaDB through
//! mysql_async (see `tests/support/backend.rs`). Prints `listening on 127.0.0.1:PORT` once
//! bound.
//!
//! ```text
//! cargo run -p mysql-server --example passthrough -- --port 15306 --backend-port 3306
//! ```

#[path = "../tests/support/backend.rs"]
mod backend;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use mysql_server::{load_server_config, serve, AuthServer, ServerConfig, StaticAuth};

/// `--mysql-auth-server-impl` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AuthImpl {
    /// Accept every user.
    None,
    /// Users from `--mysql-auth-server-static-file`.
    Static,
}

/// Flags, named as vtgate names them.
#[derive(Debug, Parser)]
struct Flags {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the MariaDB on 127.0.0.1 to forward to.
    #[arg(long, default_value_t = 3306)]
    backend_port: u16,
    /// Authentication: none or static.
    #[arg(long = "mysql-auth-server-impl", value_enum, default_value_t = AuthImpl::None)]
    auth_impl: AuthImpl,
    /// JSON file of users, in Vitess's format.
    #[arg(long = "mysql-auth-server-static-file")]
    static_file: Option<PathBuf>,
    /// TLS certificate (PEM).
    #[arg(long = "mysql-server-ssl-cert")]
    ssl_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long = "mysql-server-ssl-key")]
    ssl_key: Option<PathBuf>,
    /// Refuse clients that do not use TLS.
    #[arg(long = "mysql-server-require-secure-transport")]
    require_secure_transport: bool,
    /// Version announced to clients.
    #[arg(long = "mysql-server-version", default_value = "8.0.40-Vitess")]
    server_version: String,
    /// Seconds a client has to log in.
    #[arg(long = "mysql-server-handshake-timeout-seconds", default_value_t = 10)]
    handshake_timeout: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let flags = Flags::parse();
    let auth = match flags.auth_impl {
        AuthImpl::None => AuthServer::None,
        AuthImpl::Static => {
            let path = flags
                .static_file
                .as_deref()
                .context("--mysql-auth-server-static-file is required with static auth")?;
            AuthServer::Static(StaticAuth::from_file(path)?)
        }
    };
    let tls = match (&flags.ssl_cert, &flags.ssl_key) {
        (Some(cert), Some(key)) => Some(load_server_config(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("--mysql-server-ssl-cert and --mysql-server-ssl-key go together"),
    };
    let config = ServerConfig {
        server_version: flags.server_version,
        auth: Arc::new(auth),
        tls,
        require_secure_transport: flags.require_secure_transport,
        handshake_timeout: Duration::from_secs(flags.handshake_timeout),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", flags.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let factory = backend::PassthroughFactory::new("127.0.0.1", flags.backend_port);
    let shutdown = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot wait for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    serve(listener, config, factory, shutdown).await?;
    Ok(())
}
