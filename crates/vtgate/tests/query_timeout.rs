//! Query timeouts end to end (etcd, a vttablet on the shared MariaDB, the vtgate binary):
//! `/*vt+ QUERY_TIMEOUT_MS=N */` and `SET query_timeout` end a long statement with Vitess's
//! 1317 error (streamed OLAP reads too), the statement no longer runs on MariaDB afterwards,
//! the connection stays usable, inside a transaction only the statement ends (the
//! transaction commits the rest), and an interrupted write is undone.

mod common;

use std::time::{Duration, Instant};

use common::{server_error, Cluster};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Runs `sql`, expecting the query-timeout error; returns how long it took.
async fn times_out(c: &mut Conn, sql: &str) -> Duration {
    let start = Instant::now();
    let err = c.query_drop(sql).await.expect_err(sql);
    let took = start.elapsed();
    let (code, state, message) = server_error(err);
    assert_eq!((code, state.as_str()), (1317, "70100"), "{sql}: {message}");
    assert!(
        message.starts_with(
            "target: commerce.0.primary: vttablet: rpc error: code = DeadlineExceeded \
             desc = context deadline exceeded"
        ),
        "{sql}: {message}"
    );
    took
}

/// How many statements MariaDB runs whose text contains `needle`.
async fn running(c: &mut Conn, needle: &str) -> u64 {
    // The pattern is built by concat() so this statement's own text does not match it.
    let (head, tail) = needle.split_at(needle.len() / 2);
    c.query_first(format!(
        "select count(*) from information_schema.processlist \
         where info like concat('%', '{head}', '{tail}', '%')"
    ))
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_statements_end_at_their_query_timeout() {
    let cluster = Cluster::start("vtgate_qto").await;
    let mut c = cluster.conn(Some("commerce")).await;

    // The directive: the statement ends near its 300 ms, and MariaDB no longer runs it.
    let took = times_out(&mut c, "select /*vt+ QUERY_TIMEOUT_MS=300 */ sleep(4.321)").await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(running(&mut c, "sleep(4.321)").await, 0);
    let one: u64 = c.query_first("select 1").await.unwrap().unwrap();
    assert_eq!(one, 1);

    // A statement done before its deadline is not touched.
    let quick: u64 = c
        .query_first("select /*vt+ QUERY_TIMEOUT_MS=5000 */ sleep(0.1)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quick, 0);

    // The session's query_timeout, and the directive overriding it; 0 turns it off.
    c.query_drop("set query_timeout = 300").await.unwrap();
    let took = times_out(&mut c, "select sleep(4.322)").await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    let unbounded: u64 = c
        .query_first("select /*vt+ QUERY_TIMEOUT_MS=0 */ sleep(0.6)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unbounded, 0);
    c.query_drop("set query_timeout = 0").await.unwrap();
    let unbounded: u64 = c.query_first("select sleep(0.6)").await.unwrap().unwrap();
    assert_eq!(unbounded, 0);

    // A streamed read (OLAP) ends the same way.
    c.query_drop("set workload = 'olap'").await.unwrap();
    let took = times_out(&mut c, "select /*vt+ QUERY_TIMEOUT_MS=300 */ sleep(4.325)").await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    c.query_drop("set workload = 'oltp'").await.unwrap();

    // Inside a transaction the timed-out statement ends alone; the rest commits.
    c.query_drop("create table qto (id int primary key)")
        .await
        .unwrap();
    c.query_drop("begin").await.unwrap();
    c.query_drop("insert into qto values (1)").await.unwrap();
    times_out(&mut c, "select /*vt+ QUERY_TIMEOUT_MS=200 */ sleep(4.323)").await;
    c.query_drop("insert into qto values (2)").await.unwrap();
    c.query_drop("commit").await.unwrap();
    let ids: Vec<i64> = c.query("select id from qto order by id").await.unwrap();
    assert_eq!(ids, [1, 2]);

    // An interrupted write is undone by MariaDB and reported as timed out.
    times_out(
        &mut c,
        "insert /*vt+ QUERY_TIMEOUT_MS=200 */ into qto select 3 from dual where sleep(4.324) = 0",
    )
    .await;
    let ids: Vec<i64> = c.query("select id from qto order by id").await.unwrap();
    assert_eq!(ids, [1, 2]);
    assert_eq!(running(&mut c, "sleep(4.32").await, 0);
}
