//! Large values and large results cross vtgate -> vttablet whole:
//! - values larger than gRPC's default 4 MiB message limit, both ways: an INSERT carrying a
//!   6 MiB value, then reading it back inside a transaction and outside one, byte for byte;
//! - results over the tablet's Execute row limit (`--queryserver-config-max-result-size`,
//!   10,000 as in Vitess): vtgate streams them instead, so the client gets every row, outside
//!   and inside a transaction and with `SET workload = 'olap'`.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_over_the_tablet_row_limit_arrive_whole() {
    const ROWS: u64 = 12_345;
    let cluster = Cluster::start("vtgate_rows").await;
    let mut direct = common::mariadb().await;
    direct
        .query_drop(format!(
            "create table {db}.many (id int primary key); \
             insert into {db}.many select seq from {db}.seq_1_to_{ROWS}",
            db = cluster.db
        ))
        .await
        .expect("fill many");
    let mut conn = cluster.conn(Some("commerce")).await;
    let check = |ids: Vec<u64>, how: &str| {
        assert_eq!(ids.len() as u64, ROWS, "{how}: row count");
        assert!(
            ids.iter().copied().eq(1..=ROWS),
            "{how}: rows differ from 1..={ROWS}"
        );
    };
    let sql = "select id from many order by id";
    check(
        conn.query(sql).await.expect("autocommit read"),
        "autocommit",
    );
    conn.query_drop("begin").await.expect("begin");
    check(
        conn.query(sql).await.expect("read in a transaction"),
        "transaction",
    );
    conn.query_drop("commit").await.expect("commit");
    conn.query_drop("set workload = 'olap'")
        .await
        .expect("olap");
    check(conn.query(sql).await.expect("olap read"), "olap");
    // Below the limit nothing changes.
    let small: Vec<u64> = conn
        .query("select id from many where id <= 3 order by id")
        .await
        .expect("small read");
    assert_eq!(small, [1, 2, 3]);
}
