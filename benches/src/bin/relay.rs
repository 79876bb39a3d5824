//! A do-nothing TCP byte relay: every accepted connection is joined to a new
//! connection to the backend and bytes are copied both ways untouched. It is
//! the floor any MySQL proxy hop is compared with in `benches/sysbench.sh`.
//!
//! ```text
//! relay --port 0 --backend-port 3306   # prints: listening on 127.0.0.1:PORT
//! ```

use anyhow::Context as _;
use clap::Parser;
use tokio::net::{TcpListener, TcpStream};

/// Flags.
#[derive(Debug, Parser)]
struct Flags {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the backend on 127.0.0.1.
    #[arg(long, default_value_t = 3306)]
    backend_port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let flags = Flags::parse();
    let listener = TcpListener::bind(("127.0.0.1", flags.port))
        .await
        .context("bind")?;
    println!("listening on {}", listener.local_addr()?);
    let backend = std::net::SocketAddr::from(([127, 0, 0, 1], flags.backend_port));
    loop {
        let (client, peer) = listener.accept().await.context("accept")?;
        tokio::spawn(async move {
            if let Err(e) = relay(client, backend).await {
                tracing::debug!(%peer, error = %e, "relay ended");
            }
        });
    }
}

async fn relay(mut client: TcpStream, backend: std::net::SocketAddr) -> std::io::Result<()> {
    let mut server = TcpStream::connect(backend).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
