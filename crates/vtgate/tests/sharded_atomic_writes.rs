//! An autocommit write that fails on one shard must change no shard: the client is told the
//! statement failed, so no row may stay changed. Ids 1 and 2 live on `-80`, 4 on `80-`; a
//! unique key on `score` makes `update customer set score = 10` fail on `-80` only.

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use sharded_cluster::{server_error, ShardedCluster, TWO_SHARDS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scatter_update_failing_on_one_shard_changes_nothing() {
    let cluster = ShardedCluster::start("vtg_atomic", TWO_SHARDS).await;
    let mut c = cluster.conn(Some("customer")).await;
    c.query_drop("alter table customer add unique key score_u (score)")
        .await
        .expect("unique key on every shard");
    c.query_drop(
        "insert into customer (customer_id, email, score) values (1, 'a', 10), (2, 'b', 20), (4, 'c', 30)",
    )
    .await
    .expect("rows on both shards");

    let err = c
        .query_drop("update customer set score = 10")
        .await
        .expect_err("duplicate key on -80");
    let (code, _, msg) = server_error(err);
    assert_eq!(code, 1062, "{msg}");

    let scores: Vec<(i64, i64)> = c
        .query("select customer_id, score from customer order by customer_id")
        .await
        .expect("read back");
    assert_eq!(
        scores,
        [(1, 10), (2, 20), (4, 30)],
        "a shard kept a change of the failed update"
    );

    // The connection is still in autocommit: a good scatter write commits everywhere.
    c.query_drop("update customer set score = score + 1")
        .await
        .expect("scatter update");
    let scores: Vec<(i64, i64)> = cluster
        .conn(Some("customer"))
        .await
        .query("select customer_id, score from customer order by customer_id")
        .await
        .expect("read from a second connection");
    assert_eq!(scores, [(1, 11), (2, 21), (4, 31)]);
}
