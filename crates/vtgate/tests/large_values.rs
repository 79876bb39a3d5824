//! Values larger than gRPC's default 4 MiB message limit cross vtgate -> vttablet both ways:
//! an INSERT carrying a 6 MiB value, then reading it back inside a transaction (Execute, not
//! StreamExecute) and outside one (streamed), byte for byte.

mod common;

use common::Cluster;
use mysql_async::prelude::Queryable;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_mib_values_round_trip() {
    let cluster = Cluster::start("vtgate_big").await;
    let mut conn = cluster.conn(Some("commerce")).await;
    // The session's max_allowed_packet must admit the statement on the tablet's MariaDB too.
    conn.query_drop("create table big_values (id int primary key, v longblob)")
        .await
        .expect("create table");
    let value: Vec<u8> = (0..6 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    conn.exec_drop("insert into big_values values (1, ?)", (value.clone(),))
        .await
        .expect("insert a 6 MiB value");
    let streamed: Option<Vec<u8>> = conn
        .query_first("select v from big_values where id = 1")
        .await
        .expect("streamed select");
    assert!(
        streamed.as_deref() == Some(&value[..]),
        "streamed value differs"
    );
    conn.query_drop("begin").await.expect("begin");
    let in_tx: Option<Vec<u8>> = conn
        .query_first("select v from big_values where id = 1")
        .await
        .expect("select in a transaction");
    conn.query_drop("commit").await.expect("commit");
    assert!(
        in_tx.as_deref() == Some(&value[..]),
        "value read in a transaction differs"
    );
}
