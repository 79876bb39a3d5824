//! Failure handling with real processes: a killed tablet gives a clear error while it is
//! down and serves again after a restart without restarting vtgate; with etcd stopped,
//! vtgate keeps serving from its cache.

mod common;

use std::time::{Duration, Instant};

use common::{server_error, Cluster};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

async fn probe(conn: &mut Conn) -> Result<Vec<String>, (u16, String, String)> {
    conn.query::<String, _>("select 'up'")
        .await
        .map_err(server_error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_restart_and_etcd_outage() {
    let mut cluster = Cluster::start("vtgate_res").await;
    let mut conn = cluster.conn(Some("commerce")).await;
    assert_eq!(probe(&mut conn).await.unwrap(), ["up"]);

    cluster.kill_tablet();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match probe(&mut conn).await {
            Err((1105, state, msg)) if msg.contains("no healthy tablet available") => {
                assert_eq!(state, "HY000");
                assert!(msg.starts_with("target: commerce.0.primary: "), "{msg}");
                break;
            }
            other => assert!(Instant::now() < deadline, "tablet still used: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    cluster.restart_tablet();
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe(&mut conn).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "tablet not back; vtgate log:\n{}",
            cluster.vtgate_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    cluster.etcd.stop();
    // Longer than the tablet refresh interval: the cached serving graph and tablets stay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(probe(&mut conn).await.unwrap(), ["up"]);
    let mut fresh = cluster.conn(None).await;
    fresh.query_drop("use commerce").await.unwrap();
    assert_eq!(probe(&mut fresh).await.unwrap(), ["up"]);
    let shards: Vec<String> = fresh.query("show vitess_shards").await.unwrap();
    assert_eq!(shards, ["commerce/0"]);

    cluster.etcd.restart().expect("etcd restarts");
    assert_eq!(probe(&mut conn).await.unwrap(), ["up"]);
}
