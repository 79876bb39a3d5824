//! User variables live in the vtgate session: `SET @x` then reading `@x` works across
//! statements, and a statement that assigns a variable itself (which vtgate could only answer
//! with stale values) is refused with VT12001 (1235/42000), leaving the connection usable.

mod common;

use common::{server_error, Cluster};
use mysql_async::prelude::Queryable;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_variables_work_and_inline_assignments_are_refused() {
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
    let got: Option<i64> = conn.query_first("select @x").await.expect("connection still usable");
    assert_eq!(got, Some(41));
}
