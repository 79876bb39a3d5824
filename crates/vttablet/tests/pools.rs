//! The tablet's connection limits against the shared MariaDB (3306): transactions use
//! their own capped pool and are killed after the transaction timeout, waits for a
//! connection are bounded, JSON typing needs no second pool connection, and a cancelled
//! stream gives its connection back at once. Each tablet runs with a one-connection
//! query pool, so any second use of that pool would hang. The query pool itself hands a
//! connection out again only when its statement ran to its end.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use proto::query::{BeginExecuteRequest, BeginRequest, StreamExecuteRequest, Type};
use proto::topodata::TabletType;

/// Fails the test instead of hanging when `future` does not finish within `seconds`.
async fn bounded<F: std::future::Future>(seconds: u64, what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in {seconds}s"))
}

async fn one_connection_tablet(
    topo: &Topo,
    keyspace: &str,
    db: &str,
    extra: &[&str],
) -> vttablet::RunningTablet {
    let mut args = vec!["--queryserver-config-pool-size", "1"];
    args.extend_from_slice(extra);
    start(
        &topo.server,
        flags_with(
            &topo.etcd.address(),
            100,
            keyspace,
            "primary",
            SHARED_MYSQL_PORT,
            Some(db),
            &args,
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_have_a_capped_pool_and_a_timeout() {
    let topo = topo().await;
    let keyspace = unique("txks");
    let db = unique("vt_txpool");
    let tablet = one_connection_tablet(
        &topo,
        &keyspace,
        &db,
        &[
            "--queryserver-config-transaction-cap",
            "2",
            "--queryserver-config-txpool-timeout",
            "300ms",
            "--queryserver-config-transaction-timeout",
            "2s",
        ],
    )
    .await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    execute(
        &mut client,
        &primary,
        "create table t (id int primary key)",
        0,
    )
    .await
    .unwrap();

    // Two open transactions (the cap) leave the one query-pool connection free.
    let mut ids = Vec::new();
    for n in 1..=2 {
        let response = client
            .begin_execute(BeginExecuteRequest {
                target: Some(primary.clone()),
                query: request(&primary, &format!("insert into t values ({n})"), &[], 0).query,
                ..BeginExecuteRequest::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(response.error.is_none(), "{:?}", response.error);
        ids.push(response.transaction_id);
    }
    let outside = bounded(10, "a query beside open transactions", async {
        execute(&mut client, &primary, "select count(*) from t", 0).await
    })
    .await
    .unwrap();
    assert_eq!(rows(&outside), [[Some("0".to_string())]]);

    // A third transaction waits txpool-timeout, then is refused as Vitess refuses it.
    let begin = BeginRequest {
        target: Some(primary.clone()),
        ..BeginRequest::default()
    };
    let err = bounded(10, "a Begin over the cap", client.begin(begin.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert_eq!(err.message(), "transaction pool connection limit exceeded");

    // After the transaction timeout both are rolled back and their ids say why.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let err = execute(&mut client, &primary, "select 1", ids[0])
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted);
    let prefix = format!("transaction {}: ended at ", ids[0]);
    assert!(err.message().starts_with(&prefix), "{}", err.message());
    assert!(
        err.message().contains(" UTC (exceeded timeout: 2s)"),
        "{}",
        err.message()
    );
    let counted = execute(&mut client, &primary, "select count(*) from t", 0)
        .await
        .unwrap();
    assert_eq!(rows(&counted), [[Some("0".to_string())]], "rolled back");
    assert!(tablet.tablet.txs.is_empty());
    let fresh = client.begin(begin).await.unwrap().into_inner();
    assert_ne!(fresh.transaction_id, 0);
    drop_shared_db(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_expired_transaction_is_killed_and_its_slot_reused() {
    let topo = topo().await;
    let keyspace = unique("tkks");
    let db = unique("vt_txkill");
    let tablet = one_connection_tablet(
        &topo,
        &keyspace,
        &db,
        &[
            "--queryserver-config-transaction-cap",
            "1",
            "--queryserver-config-transaction-timeout",
            "1s",
        ],
    )
    .await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    let started = std::time::Instant::now();
    let response = bounded(10, "a transaction killed while busy", async {
        client
            .begin_execute(BeginExecuteRequest {
                target: Some(primary.clone()),
                query: request(&primary, "select sleep(30)", &[], 0).query,
                ..BeginExecuteRequest::default()
            })
            .await
    })
    .await
    .unwrap()
    .into_inner();
    assert!(started.elapsed() < Duration::from_secs(5));
    let killed = response.transaction_id;
    // MariaDB reports a killed connection as lost; a killed SLEEP may just return 1.
    if let Some(result) = &response.result {
        assert_eq!(rows(result), [[Some("1".to_string())]]);
    }
    let err = execute(&mut client, &primary, "select 1", killed)
        .await
        .unwrap_err();
    assert!(
        err.message().contains("(exceeded timeout: 1s)"),
        "{}",
        err.message()
    );
    // The only transaction slot is free again and its connection works.
    let id = client
        .begin(BeginRequest {
            target: Some(primary.clone()),
            ..BeginRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transaction_id;
    let one = execute(&mut client, &primary, "select 1", id)
        .await
        .unwrap();
    assert_eq!(rows(&one), [[Some("1".to_string())]]);
    drop_shared_db(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_query_connection_is_bounded() {
    let topo = topo().await;
    let keyspace = unique("qpks");
    let db = unique("vt_qpool");
    let tablet = one_connection_tablet(
        &topo,
        &keyspace,
        &db,
        &["--queryserver-config-query-pool-timeout", "300ms"],
    )
    .await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    let mut sleeper = client.clone();
    let slow_target = primary.clone();
    let slow =
        tokio::spawn(
            async move { execute(&mut sleeper, &slow_target, "select sleep(3)", 0).await },
        );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let err = execute(&mut client, &primary, "select 1", 0)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert!(err.message().starts_with("resource pool timed out"));
    slow.await.unwrap().unwrap();
    execute(&mut client, &primary, "select 1", 0).await.unwrap();
    drop_shared_db(&db).await;
}

fn stream_request(target: &proto::query::Target, sql: &str) -> StreamExecuteRequest {
    let query = request(target, sql, &[], 0);
    StreamExecuteRequest {
        target: query.target,
        query: query.query,
        ..StreamExecuteRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_json_types_and_cancelled_streams_free_the_connection() {
    let topo = topo().await;
    let keyspace = unique("stks");
    let db = unique("vt_stream");
    let tablet = one_connection_tablet(&topo, &keyspace, &db, &[]).await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    execute(
        &mut client,
        &primary,
        "create table j (id int primary key, doc json)",
        0,
    )
    .await
    .unwrap();
    execute(
        &mut client,
        &primary,
        "insert into j values (1, '{\"a\": 1}')",
        0,
    )
    .await
    .unwrap();

    // The JSON list is loaded (after the DDL) while the stream holds the only connection.
    let results: Vec<_> = bounded(15, "a streaming select of a JSON column", async {
        client
            .stream_execute(stream_request(&primary, "select doc from j"))
            .await
            .unwrap()
            .into_inner()
            .collect::<Vec<_>>()
            .await
    })
    .await;
    let fields = &results[0].as_ref().unwrap().result.as_ref().unwrap().fields;
    assert_eq!(fields[0].r#type(), Type::Json);

    // A huge stream abandoned by its reader is killed, not read to its end.
    let mut huge = client
        .stream_execute(stream_request(
            &primary,
            "select a.seq, repeat('x', 100) from seq_1_to_1000000000 a",
        ))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..3 {
        huge.next().await.unwrap().unwrap();
    }
    drop(huge);
    let after = bounded(15, "a query after a cancelled stream", async {
        execute(&mut client, &primary, "select 1", 0).await
    })
    .await
    .unwrap();
    assert_eq!(rows(&after), [[Some("1".to_string())]]);
    drop_shared_db(&db).await;
}

/// Whether MariaDB still has a connection with this id (polled: a closed connection goes
/// away when MariaDB notices).
async fn connection_gone(admin: &mut mysql_async::Conn, id: u32) -> bool {
    use mysql_async::prelude::Queryable;
    for _ in 0..50 {
        let found: Option<u64> = admin
            .exec_first(
                "select id from information_schema.processlist where id = ?",
                (id,),
            )
            .await
            .unwrap();
        if found.is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_pool_reuses_only_connections_whose_statements_ended() {
    use mysql_async::prelude::Queryable;
    use vttablet::conn_pool::{ConnPool, PoolError};
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(SHARED_MYSQL_PORT)
        .user(Some("root"));
    let mut admin = mysql_async::Conn::new(opts.clone()).await.unwrap();
    let pool = ConnPool::new(opts.into(), 1);
    let wait = Duration::from_millis(200);

    // A finished connection comes back; while it is out, a second one is refused in time.
    let mut conn = pool.get(wait).await.unwrap();
    conn.query_drop("set @marker = 1").await.unwrap();
    let first = conn.id();
    conn.finished();
    let started = std::time::Instant::now();
    assert!(matches!(pool.get(wait).await, Err(PoolError::TimedOut)));
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(conn);
    let mut conn = pool.get(wait).await.unwrap();
    assert_eq!(conn.id(), first);
    let marker: Option<i64> = conn.query_first("select @marker").await.unwrap();
    assert_eq!(marker, Some(1));

    // Used again without being marked finished (as when a statement is abandoned or its
    // connection fails): closed, and the next one is new.
    drop(conn);
    assert!(connection_gone(&mut admin, first).await);
    let mut conn = pool.get(wait).await.unwrap();
    let second = conn.id();
    assert_ne!(second, first);
    let marker: Option<Option<i64>> = conn.query_first("select @marker").await.unwrap();
    assert_eq!(marker, Some(None));
    conn.finished();
    drop(conn);

    // Closing the pool closes its idle connections.
    pool.close().await;
    assert!(connection_gone(&mut admin, second).await);
}
