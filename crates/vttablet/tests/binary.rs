//! The real `vttablet` binary: it registers in etcd, serves queries and
//! health on the port it wrote to its Tablet record, answers
//! `/debug/health`, and exits cleanly on SIGTERM.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use proto::query::StreamHealthRequest;
use proto::queryservice::query_client::QueryClient;
use proto::topodata::{TabletAlias, TabletType};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_and_stops_on_sigterm() {
    let topo = topo().await;
    let keyspace = unique("bks");
    let db = unique("vt_btest");
    let child = Command::new(env!("CARGO_BIN_EXE_vttablet"))
        .args([
            "--tablet-path",
            "zone1-0000000500",
            "--init-keyspace",
            &keyspace,
            "--init-shard",
            "0",
            "--init-tablet-type",
            "primary",
            "--bind-address",
            "127.0.0.1",
            "--topo-implementation",
            "etcd2",
            "--topo-global-server-address",
            &topo.etcd.address(),
            "--topo-global-root",
            "/vitess/global",
            "--db-host",
            "127.0.0.1",
            "--db-port",
            "3306",
            "--db-user",
            "root",
            "--init-db-name-override",
            &db,
            "--service-map",
            "grpc-queryservice,grpc-tabletmanager",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);

    let alias = TabletAlias::new("zone1", 500);
    let mut record = None;
    for _ in 0..200 {
        if let Ok(t) = topo.server.get_tablet(&alias).await {
            record = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let record = record.expect("the binary registers its tablet");
    assert_eq!(record.r#type(), TabletType::Primary);
    let grpc = record.port_map["grpc"];
    let mut client = QueryClient::connect(format!("http://127.0.0.1:{grpc}"))
        .await
        .unwrap();
    let result = execute(
        &mut client,
        &target(&keyspace, TabletType::Primary),
        "select database()",
        0,
    )
    .await
    .unwrap();
    assert_eq!(rows(&result)[0][0].as_deref(), Some(db.as_str()));
    let mut health = client
        .stream_health(StreamHealthRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(health.next().await.unwrap().unwrap().serving);

    let mut http =
        std::net::TcpStream::connect(("127.0.0.1", record.port_map["vt"] as u16)).unwrap();
    http.write_all(b"GET /debug/health HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    http.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("ok"),
        "{answer}"
    );

    let pid = child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    // The health stream reports not serving, then ends.
    let mut saw_not_serving = false;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), health.next()).await
    {
        if !msg.serving {
            saw_not_serving = true;
        }
    }
    assert!(saw_not_serving);
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.0.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(exited.expect("exits after SIGTERM").success());
    drop_shared_db(&db).await;
}
