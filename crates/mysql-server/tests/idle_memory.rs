//! 2,000 concurrent idle connections hold with bounded memory: measures the resident memory
//! the process gains per logged-in idle connection (server task + client socket of the test),
//! prints it, and requires it to stay small. Uses a trivial in-process handler, so MariaDB's
//! own connection limit does not interfere.

mod support;

use std::time::Duration;

use mysql_server::{serve, ServerConfig};
use support::echo::EchoFactory;
use support::raw::{read_packet, Raw};

const CONNECTIONS: usize = 2000;
/// Generous bound: a connection's task, buffers and both sockets' user-space state.
const MAX_BYTES_PER_CONNECTION: usize = 32 << 10;

fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_use_little_memory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(listener, ServerConfig::default(), EchoFactory, shutdown)
            .await
            .unwrap();
    });
    // Warm up allocator and runtime so the measurement sees per-connection cost only.
    let mut warm = Vec::new();
    for _ in 0..50 {
        warm.push(Raw::login(addr).await);
    }
    let before = resident_bytes();
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut c = Raw::login(addr).await;
        let (_, count) = c.command(b"\x03ping").await.unwrap();
        assert_eq!(count, [1]);
        for _ in 0..4 {
            read_packet(&mut c.stream).await.unwrap();
        }
        conns.push(c);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let per_connection = resident_bytes().saturating_sub(before) / CONNECTIONS;
    println!("{CONNECTIONS} idle connections: {per_connection} resident bytes per connection");
    assert!(
        per_connection < MAX_BYTES_PER_CONNECTION,
        "{per_connection} bytes per idle connection"
    );
    // All of them still answer.
    for c in conns.iter_mut().step_by(97) {
        let (_, count) = c.command(b"\x03again").await.unwrap();
        assert_eq!(count, [1]);
        for _ in 0..4 {
            read_packet(&mut c.stream).await.unwrap();
        }
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("shutdown with 2,000 idle connections hung")
        .unwrap();
    drop(conns);
    drop(warm);
}
