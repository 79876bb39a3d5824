//! Session values kept by vtgate: user variables (`SET @x`, binary ones byte for byte) are
//! read back across statements; what vtgate could only answer wrongly is refused with
//! VT12001 (1235/42000), leaving the connection usable: a statement that assigns a variable
//! itself, and sql_mode flags that change how statements are parsed.

mod common;

use common::{server_error, Cluster};
use mysql_async::prelude::Queryable;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_values_round_trip_and_wrong_answers_are_refused() {
    let cluster = Cluster::start("vtgate_uvar").await;
    let mut conn = cluster.conn(Some("commerce")).await;
    conn.query_drop("set @x = 41").await.expect("set @x");
    let got: Option<i64> = conn.query_first("select @x + 1").await.expect("read @x");
    assert_eq!(got, Some(42));

    for sql in [
        "select @n := @n + 1 from product, (select @n := 0) r",
        "select count(*) into @c from product",
    ] {
        let err = conn.query_drop(sql).await.expect_err(sql);
        let (code, state, msg) = server_error(err);
        assert_eq!((code, state.as_str()), (1235, "42000"), "{sql}: {msg}");
        assert!(msg.starts_with("VT12001: unsupported: "), "{msg}");
    }
    let got: Option<i64> = conn
        .query_first("select @x")
        .await
        .expect("connection still usable");
    assert_eq!(got, Some(41));

    conn.query_drop("set @b = unhex('FF00C3')")
        .await
        .expect("set a binary value");
    let hex: Option<String> = conn.query_first("select hex(@b)").await.expect("read @b");
    assert_eq!(hex.as_deref(), Some("FF00C3"));

    let err = conn
        .query_drop("set sql_mode = 'STRICT_TRANS_TABLES,ANSI_QUOTES'")
        .await
        .expect_err("ANSI_QUOTES cannot be honoured per statement");
    let (code, _, msg) = server_error(err);
    assert_eq!(code, 1235, "{msg}");
    conn.query_drop("set sql_mode = 'STRICT_TRANS_TABLES'")
        .await
        .expect("other modes are fine");
    let got: Option<String> = conn
        .query_first("select 'a' || 'b'")
        .await
        .expect("still usable");
    assert_eq!(
        got.as_deref(),
        Some("0"),
        "without PIPES_AS_CONCAT || is OR, as in MariaDB"
    );
}
