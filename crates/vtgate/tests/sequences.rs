//! Sequences through a real cluster (etcd, vttablets, vtgate): auto-increment values of a
//! sharded table come from `commerce.customer_seq` in blocks of its `cache`, reserved by the
//! commerce primary (`select next N values`), and a client's own `select next N values`
//! is routed to that primary as Vitess's `Next` route; INSERT ... SELECT takes ids the same way.

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sharded_cluster::{opts, server_error, ShardedCluster, TWO_SHARDS};

/// The sequence row's `next_id`, read from the commerce tablet's MariaDB database.
async fn next_id(commerce_db: &str) -> i64 {
    let mut direct = Conn::new(opts(3306, Some(commerce_db))).await.unwrap();
    let id: i64 = direct
        .query_first("select next_id from customer_seq where id = 0")
        .await
        .unwrap()
        .unwrap();
    direct.disconnect().await.unwrap();
    id
}

/// Inserts one customer through vtgate and returns its generated id.
async fn insert_one(c: &mut Conn, email: &str) -> i64 {
    c.query_drop(format!("insert into customer (email) values ('{email}')"))
        .await
        .unwrap();
    i64::try_from(c.last_insert_id().expect("insert id")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_values_come_in_blocks_of_the_cache() {
    let cluster = ShardedCluster::start("vtg_seq", TWO_SHARDS).await;
    let commerce_db = cluster
        .dbs
        .iter()
        .find(|(ks, _, _)| ks == "commerce")
        .map(|(_, _, db)| db.clone())
        .unwrap();
    // A cache of 10, set before anything took a value.
    let mut commerce = cluster.conn(Some("commerce")).await;
    commerce
        .query_drop("update customer_seq set next_id = 1000, cache = 10 where id = 0")
        .await
        .unwrap();

    // Three single-row inserts: distinct increasing ids, and next_id moved by one block of
    // 10, not by 3 (each insert used to write the sequence row).
    let mut c = cluster.conn(Some("customer")).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(insert_one(&mut c, &format!("single{n}@x")).await);
    }
    assert_eq!(ids, [1000, 1001, 1002]);
    assert_eq!(next_id(&commerce_db).await, 1010);
    // The rows are where their ids hash to.
    for id in &ids {
        let email: Option<String> = c
            .query_first(format!(
                "select email from customer where customer_id = {id}"
            ))
            .await
            .unwrap();
        assert!(email.is_some(), "row {id} not found by its vindex");
    }

    // A multi-row insert of more than the cache gets consecutive ids: the rest of the block
    // (1003..1009) continues into the new blocks.
    let values: Vec<String> = (0..25).map(|n| format!("('multi{n:02}@x')")).collect();
    c.query_drop(format!(
        "insert into customer (email) values {}",
        values.join(", ")
    ))
    .await
    .unwrap();
    assert_eq!(c.last_insert_id(), Some(1003));
    let got: Vec<(i64, String)> = c
        .query("select customer_id, email from customer where email like 'multi%' order by email")
        .await
        .unwrap();
    let want: Vec<(i64, String)> = (0..25)
        .map(|n| (1003 + n, format!("multi{n:02}@x")))
        .collect();
    assert_eq!(got, want);
    assert_eq!(next_id(&commerce_db).await, 1030);

    // A client's own `select next`: routed to the commerce primary from a sharded session,
    // keyspace-qualified...
    let first: i64 = c
        .query_first("select next 5 values from commerce.customer_seq")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, 1028);
    assert_eq!(next_id(&commerce_db).await, 1040);
    // ...or resolved through the VSchema with no database selected, with the field vtgate
    // got from the tablet.
    let mut none = cluster.conn(None).await;
    let mut result = none
        .query_iter("select next value from customer_seq")
        .await
        .unwrap();
    let columns = result.columns().unwrap();
    assert_eq!(columns[0].name_str(), "nextval");
    let rows: Vec<i64> = result.collect().await.unwrap();
    assert_eq!(rows, [1033]);
    // The values taken by clients are never handed out again.
    assert_eq!(insert_one(&mut c, "after@x").await, 1034);

    // Values are taken outside the session's transaction: a rollback does not give them back.
    c.query_drop("begin").await.unwrap();
    assert_eq!(insert_one(&mut c, "rolled@x").await, 1035);
    c.query_drop("rollback").await.unwrap();
    assert_eq!(insert_one(&mut c, "kept@x").await, 1036);

    // VEXPLAIN QUERIES of a write runs it, so only with Vitess's directive; without it the
    // insert is refused before anything runs (no sequence value is taken, no row written).
    let explained = "queries insert into customer (email) values ('shown@x'), ('shown2@x')";
    let err = c
        .query_drop(format!("vexplain {explained}"))
        .await
        .unwrap_err();
    let (code, _, message) = server_error(err);
    assert_eq!(
        (code, message.as_str()),
        (
            1105,
            "VT09008: vexplain queries/all will actually run queries"
        )
    );
    let shown: Option<i64> = c
        .query_first("select count(*) from customer where email = 'shown@x'")
        .await
        .unwrap();
    assert_eq!(shown, Some(0));
    // With it, VEXPLAIN QUERIES shows what the insert asks the sequence's primary.
    let sent: Vec<(u32, String, String, String)> = c
        .query(format!("vexplain /*vt+ EXECUTE_DML_QUERIES */ {explained}"))
        .await
        .unwrap();
    assert!(
        sent.iter().any(|(_, ks, shard, sql)| ks == "commerce"
            && shard == "0"
            && sql == "select next 2 values from `customer_seq`"),
        "{sent:?}"
    );

    // Errors as Vitess gives them.
    let err = c
        .query_drop("select next 0 values from commerce.customer_seq")
        .await
        .unwrap_err();
    let (_, _, message) = server_error(err);
    assert!(
        message.contains("invalid increment for sequence customer_seq: 0"),
        "{message}"
    );
    let err = c
        .query_drop("select next value from commerce.warehouse")
        .await
        .unwrap_err();
    let (code, _, message) = server_error(err);
    assert_eq!(code, 1105, "{message}");
    assert_eq!(
        message,
        "VT03018: NEXT used on a non-sequence table `warehouse`"
    );
    // The connection is still usable and the sequence still serves.
    assert_eq!(insert_one(&mut c, "last@x").await, 1039);

    // INSERT ... SELECT takes its ids from the sequence too, in the SELECT's row order.
    c.query_drop(
        "insert into customer (email) select concat('copy-', email) from customer \
         where email like 'multi0%' order by email",
    )
    .await
    .unwrap();
    assert_eq!(c.last_insert_id(), Some(1040));
    let got: Vec<(i64, String)> = c
        .query("select customer_id, email from customer where email like 'copy-%' order by customer_id")
        .await
        .unwrap();
    let want: Vec<(i64, String)> = (0..10)
        .map(|n| (1040 + n, format!("copy-multi{n:02}@x")))
        .collect();
    assert_eq!(got, want);
    let all: Vec<i64> = c
        .query("select customer_id from customer order by customer_id")
        .await
        .unwrap();
    let mut distinct = all.clone();
    distinct.dedup();
    assert_eq!(all, distinct, "ids are distinct");
}
