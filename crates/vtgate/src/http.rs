//! The small HTTP endpoint on `--port`: `/health` (`ok`), `/debug/status` (the tablets the
//! health check knows) and `/debug/query_plans` (the statements in the plan cache, most
//! recently used first), as plain text. Hand-written HTTP/1.0 answers; nothing else.

use std::fmt::Write as _;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::healthcheck::HealthCheck;
use crate::topology::TopologyHandle;

/// Serves the pages forever.
pub async fn serve(listener: TcpListener, health: HealthCheck, topology: TopologyHandle) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let health = health.clone();
        let topology = topology.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &health, &topology).await {
                tracing::debug!(error = %e, "http request failed");
            }
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    health: &HealthCheck,
    topology: &TopologyHandle,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/health" | "/debug/health" => ("200 OK", "ok\n".to_string()),
        "/debug/status" | "/" => ("200 OK", status_page(health)),
        "/debug/query_plans" => ("200 OK", query_plans_page(topology)),
        _ => ("404 Not Found", "not found\n".to_string()),
    };
    let response = format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn status_page(health: &HealthCheck) -> String {
    let mut out = String::from("vtgate\n\nAlias\tKeyspace\tShard\tType\tServing\tLag\tError\n");
    for h in health.all() {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            h.conn().alias,
            h.keyspace,
            h.shard,
            h.tablet_type.as_str_name(),
            h.serving,
            h.replication_lag,
            h.health_error
        );
    }
    out
}

fn query_plans_page(topology: &TopologyHandle) -> String {
    let topo = topology.get();
    let keys = topo.plans().keys();
    let mut out = format!("{} plans\n\nKeyspace\tTabletType\tQuery\n", keys.len());
    for k in keys {
        let tablet_type = proto::topodata::TabletType::try_from(k.tablet_type)
            .map_or("UNKNOWN", |t| t.as_str_name());
        let _ = writeln!(out, "{}\t{}\t{}", k.keyspace, tablet_type, k.sql);
    }
    out
}
