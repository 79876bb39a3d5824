//! Two streams from one source split a table by `in_keyrange(id, 'hash', ...)`
//! (Reshard into -80 and 80-), while the source keeps writing: each half
//! gets exactly its rows, and together they equal the source.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Value;
use proto::binlogdata::{BinlogSource, Filter, Rule};
use vreplication::sidecar;
use vreplication::VReplicationStream;

fn half(shard: &str) -> BinlogSource {
    BinlogSource {
        keyspace: "customer".into(),
        shard: "0".into(),
        filter: Some(Filter {
            rules: vec![Rule {
                r#match: "customer".into(),
                filter: format!("select * from customer where in_keyrange(id, 'hash', '{shard}')"),
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn ids(conn: &mut mysql_async::Conn, db: &str) -> Vec<(i64, String)> {
    conn.query(format!("SELECT id, name FROM {db}.customer ORDER BY id"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_key_range_streams_split_a_table() {
    let root = common::temp_root("vrrsh");
    let (source, target) = common::pair(root.path()).await;
    let ddl =
        "CREATE TABLE customer (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB";
    let mut src = source.conn(None).await;
    src.query_drop("CREATE DATABASE vt_customer").await.unwrap();
    src.query_drop("USE vt_customer").await.unwrap();
    src.query_drop(ddl).await.unwrap();
    let values: Vec<String> = (1..=2000).map(|i| format!("({i}, 'c{i}')")).collect();
    src.query_drop(format!("INSERT INTO customer VALUES {}", values.join(",")))
        .await
        .unwrap();

    let mut tgt = target.conn(None).await;
    let mut streams = Vec::new();
    for (db, shard) in [("vt_lower", "-80"), ("vt_upper", "80-")] {
        tgt.query_drop(format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
        tgt.query_drop(format!(
            "CREATE TABLE {db}.{}",
            &ddl["CREATE TABLE ".len()..]
        ))
        .await
        .unwrap();
        let id = sidecar::create_stream(&mut tgt, "reshard", &half(shard), db, 4)
            .await
            .unwrap();
        streams.push(
            VReplicationStream::start_with_batch_rows(
                target.opts(None),
                source.opts(None),
                id,
                100,
            )
            .await
            .unwrap(),
        );
    }

    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let writing = writing.clone();
        let mut conn = source.conn(Some("vt_customer")).await;
        tokio::spawn(async move {
            let mut n = 0i64;
            while writing.load(Ordering::Relaxed) {
                n += 1;
                conn.query_drop("BEGIN").await.unwrap();
                conn.query_drop(format!("INSERT INTO customer VALUES ({}, 'new')", 2000 + n))
                    .await
                    .unwrap();
                conn.query_drop(format!(
                    "UPDATE customer SET name = CONCAT(name, '*') WHERE id = {}",
                    n * 13 % 2000 + 1
                ))
                .await
                .unwrap();
                // Moving a row to another id can move it to the other half.
                conn.query_drop(format!(
                    "UPDATE customer SET id = id + 100000 WHERE id = {}",
                    n * 31 % 2000 + 1
                ))
                .await
                .unwrap();
                conn.query_drop(format!(
                    "DELETE FROM customer WHERE id = {}",
                    n * 17 % 2000 + 1
                ))
                .await
                .unwrap();
                conn.query_drop("COMMIT").await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            n
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while streams.iter().any(|s| s.status().state != "Running") {
        assert!(Instant::now() < deadline, "streams did not reach Running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing.store(false, Ordering::Relaxed);
    assert!(writer.await.unwrap() > 10);
    let pos = source.position().await;
    for s in &streams {
        sidecar::wait_for_pos(&mut tgt, s.id(), &pos, Duration::from_secs(60))
            .await
            .unwrap();
    }
    let want = ids(&mut src, "vt_customer").await;
    let lower = ids(&mut tgt, "vt_lower").await;
    let upper = ids(&mut tgt, "vt_upper").await;
    assert!(!lower.is_empty() && !upper.is_empty());
    let mut union: Vec<(i64, String)> = lower.iter().chain(upper.iter()).cloned().collect();
    union.sort();
    assert_eq!(
        union.len(),
        want.len(),
        "no row lost or duplicated across halves"
    );
    assert!(union == want, "halves together equal the source");
    // Every row sits in the half its hash says.
    let check = vreplication::filter::TableFilter::from_source(&half("-80")).unwrap();
    let rule = check.rule("customer").unwrap();
    let cols = vec!["id".to_string(), "name".to_string()];
    for (id, _) in &lower {
        assert!(rule
            .matches(&cols, &[Value::Int(*id), Value::NULL])
            .unwrap());
    }
    for (id, _) in &upper {
        assert!(!rule
            .matches(&cols, &[Value::Int(*id), Value::NULL])
            .unwrap());
    }
    for s in streams {
        s.stop().await;
    }
    source.0.shutdown().await.unwrap();
    target.0.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_after_copy_stops_and_stays_stopped() {
    let root = common::temp_root("vrsac");
    let (source, target) = common::pair(root.path()).await;
    let mut src = source.conn(None).await;
    src.query_drop("CREATE DATABASE vt_customer").await.unwrap();
    src.query_drop("CREATE TABLE vt_customer.customer (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .unwrap();
    let values: Vec<String> = (1..=300).map(|i| format!("({i}, 'c{i}')")).collect();
    src.query_drop(format!(
        "INSERT INTO vt_customer.customer VALUES {}",
        values.join(",")
    ))
    .await
    .unwrap();
    let mut tgt = target.conn(None).await;
    tgt.query_drop("CREATE DATABASE vt_copy").await.unwrap();
    tgt.query_drop("CREATE TABLE vt_copy.customer (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .unwrap();
    let mut bs = half("-");
    bs.stop_after_copy = true;
    let id = sidecar::create_stream(&mut tgt, "once", &bs, "vt_copy", 0)
        .await
        .unwrap();
    assert_eq!(
        sidecar::stream_ids(&mut tgt, "vt_copy").await.unwrap(),
        vec![id]
    );
    let stream = VReplicationStream::start(target.opts(None), source.opts(None), id)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stream.status().state != "Stopped" {
        assert!(
            Instant::now() < deadline,
            "never stopped: {:?}",
            stream.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stream.status().message,
        vreplication::stream::STOPPED_AFTER_COPY
    );
    stream.stop().await;
    // Later writes are not replicated, also not after a restart.
    src.query_drop("INSERT INTO vt_customer.customer VALUES (1000, 'late')")
        .await
        .unwrap();
    let stream = VReplicationStream::start(target.opts(None), source.opts(None), id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stream.status().state, "Stopped");
    stream.stop().await;
    let row = sidecar::read_stream(&mut tgt, id).await.unwrap();
    assert_eq!(row.state, "Stopped");
    let got = ids(&mut tgt, "vt_copy").await;
    assert_eq!(got.len(), 300);
    assert_eq!(got[299], (300, "c300".to_string()));
    source.0.shutdown().await.unwrap();
    target.0.shutdown().await.unwrap();
}
