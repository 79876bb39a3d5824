//! `SET workload = 'olap'` on a sharded keyspace: results stream from the shards to the
//! client, as Vitess's StreamExecute sends them.
//!
//! The tablets answer Execute with at most 100 rows (`--queryserver-config-max-result-size`)
//! and vtgate holds at most 1,000 rows of a shard read in memory (`--max-memory-rows`). Two
//! shards of 1,500 customers each are then too many for the OLTP path, which must say so;
//! the OLAP path sends every row (merged in order where the statement sorts, cut short by
//! a LIMIT) and answers as one MariaDB database holding the same rows.

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sharded_cluster::{plain_database, server_error, text_rows, ShardedCluster, TWO_SHARDS};

const CUSTOMERS: i64 = 3000;

/// Statements compared with the plain database; `true`: ordered, compared row by row.
const QUERIES: &[(&str, bool)] = &[
    ("select customer_id, name, score from customer", false),
    (
        "select customer_id, name, score from customer order by score desc, customer_id",
        true,
    ),
    (
        "select name, customer_id from customer order by name, customer_id desc",
        true,
    ),
    (
        "select customer_id from customer order by customer_id limit 10 offset 2995",
        true,
    ),
    (
        "select customer_id, score from customer order by score, customer_id limit 7",
        true,
    ),
    ("select customer_id from customer limit 0", true),
    (
        "select customer_id, name from customer where customer_id in (5, 1500, 2999)",
        false,
    ),
    ("select name from customer where customer_id = 42", true),
    ("select customer_id from customer where score < 0", false),
    // Run whole first, then sent (not a route alone).
    ("select count(*), sum(score) from customer", true),
    (
        "select score % 7 as s, count(*) from customer group by s order by s",
        true,
    ),
];

async fn rows(c: &mut Conn, sql: &str) -> Vec<Vec<Option<String>>> {
    let rows: Vec<mysql_async::Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    text_rows(rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn olap_reads_stream_every_row_from_the_shards() {
    let cluster = ShardedCluster::start_with(
        "vtg_stream",
        TWO_SHARDS,
        &["--max-memory-rows", "1000"],
        &["--queryserver-config-max-result-size", "100"],
    )
    .await;
    let mut c = cluster.conn(Some("customer")).await;
    let (_name, _drop, mut plain) = plain_database("vtg_stream").await;
    for start in (1..=CUSTOMERS).step_by(500) {
        let values: Vec<String> = (start..start + 500)
            .map(|id| {
                format!(
                    "({id}, 'n{:04}', {})",
                    (id * 7919) % 1000,
                    (id * 31) % 97 - 40
                )
            })
            .collect();
        let sql = format!(
            "insert into customer (customer_id, name, score) values {}",
            values.join(", ")
        );
        c.query_drop(&sql).await.unwrap();
        plain.query_drop(&sql).await.unwrap();
    }

    // OLTP: each shard's 1,500 rows are over both limits.
    let e = c
        .query_drop("select customer_id from customer")
        .await
        .unwrap_err();
    let (_, _, message) = server_error(e);
    assert!(message.contains("row count exceeded"), "{message}");

    c.query_drop("set workload = 'olap'").await.unwrap();
    for (sql, ordered) in QUERIES {
        let mut ours = rows(&mut c, sql).await;
        let mut theirs = rows(&mut plain, sql).await;
        if !ordered {
            ours.sort();
            theirs.sort();
        }
        assert_eq!(ours.len(), theirs.len(), "{sql}: row count");
        assert_eq!(ours, theirs, "{sql}");
    }
    assert_eq!(
        rows(&mut c, "select count(*) from customer").await,
        [[Some(CUSTOMERS.to_string())]]
    );

    // A statement the shards refuse: MySQL's error, and the connection goes on.
    let e = c.query_drop("select nope from customer").await.unwrap_err();
    assert_eq!(server_error(e).0, 1054);
    assert_eq!(
        rows(
            &mut c,
            "select customer_id from customer order by customer_id limit 1"
        )
        .await,
        [[Some("1".to_string())]]
    );

    // Inside a transaction reads are not streamed, and the limits hold again.
    c.query_drop("begin").await.unwrap();
    assert!(c
        .query_drop("select customer_id from customer")
        .await
        .is_err());
    c.query_drop("rollback").await.unwrap();

    c.query_drop("set workload = 'oltp'").await.unwrap();
    assert_eq!(
        rows(&mut c, "select name from customer where customer_id = 42").await,
        rows(
            &mut plain,
            "select name from customer where customer_id = 42"
        )
        .await
    );
}
