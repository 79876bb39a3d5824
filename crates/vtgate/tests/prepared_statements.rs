//! Prepared statements through vtgate keep libmariadb clients in sync: the COM_STMT_PREPARE
//! answer carries the columns the execute returns (libmariadb's `mysql_stmt_store_result`
//! reads nothing when prepare announced none, and the next statement then failed with 2014
//! "Commands out of sync", as sysbench `oltp_read_only --db-ps-mode=auto` did).
//!
//! `tests/ps_client.c`, built here with gcc against libmariadb (`mariadb_config`), runs
//! sysbench's sequence and executes that leave rows unread, on MariaDB and through vtgate;
//! what the library reports must be the same. Needs gcc and the libmariadb headers.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Cluster, MYSQL_PORT};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

const TABLE: &str = "create table sbtest1 (
    id int unsigned not null auto_increment primary key,
    k int unsigned not null default 0,
    c char(120) not null default '',
    pad char(60) not null default '',
    key k_1 (k))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libmariadb_prepared_statements_stay_in_sync() {
    let cluster = Cluster::start("vtgate_ps").await;
    let mut conn = cluster.conn(Some("commerce")).await;
    fill_sbtest(&mut conn).await;

    let client = build_client(cluster.dir.path());
    let direct = run_client(&client, MYSQL_PORT, &cluster.db);
    let via = run_client(&client, cluster.vtgate_port, "commerce");
    assert!(
        direct.contains("1 rows 100 fields 1") && direct.ends_with("done\n"),
        "{direct}"
    );
    assert_eq!(via, direct, "vtgate log:\n{}", cluster.vtgate_log());

    prepare_metadata_matches(&cluster, &mut conn).await;
}

/// sysbench's table with 1000 rows (`c` differs per row, `k` repeats).
async fn fill_sbtest(conn: &mut Conn) {
    conn.query_drop(TABLE).await.unwrap();
    let rows: Vec<String> = (1..=1000)
        .map(|i| {
            format!(
                "({}, '{:011}-{:0>100}', 'pad{i}')",
                i % 37,
                i * 7919 % 1000,
                i
            )
        })
        .collect();
    conn.query_drop(format!(
        "insert into sbtest1 (k, c, pad) values {}",
        rows.join(",")
    ))
    .await
    .unwrap();
}

fn build_client(dir: &Path) -> std::path::PathBuf {
    let flags = Command::new("mariadb_config")
        .args(["--cflags", "--libs"])
        .output()
        .expect("mariadb_config (libmariadb-dev) is installed");
    assert!(flags.status.success());
    let flags = String::from_utf8(flags.stdout).unwrap();
    let out = dir.join("ps_client");
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ps_client.c");
    let built = Command::new("gcc")
        .args(["-Wall", "-o"])
        .arg(&out)
        .arg(source)
        .args(flags.split_whitespace())
        .output()
        .expect("gcc is installed");
    assert!(
        built.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

fn run_client(client: &Path, port: u16, db: &str) -> String {
    let out = Command::new(client)
        .args([&port.to_string(), db])
        .output()
        .expect("ps_client runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ps_client on port {port} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Column names and types of the prepare answer, as mysql_async sees them, equal MariaDB's,
/// also for a join, a union, an aggregate with HAVING and a select of no table.
async fn prepare_metadata_matches(cluster: &Cluster, via: &mut Conn) {
    let mut direct = Conn::new(common::opts(MYSQL_PORT, Some(&cluster.db)))
        .await
        .unwrap();
    let statements = [
        "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
        "SELECT id, k, c, pad FROM sbtest1 WHERE id = ? FOR UPDATE",
        "SELECT a.id, b.pad FROM sbtest1 a JOIN sbtest1 b ON a.k = b.id WHERE a.id < ? LIMIT 3",
        "SELECT id FROM sbtest1 WHERE id < ? UNION SELECT k FROM sbtest1 WHERE id = ?",
        "SELECT k, COUNT(*) AS n FROM sbtest1 GROUP BY k HAVING COUNT(*) > ? ORDER BY n",
        "SELECT 1 AS one, 'x' AS s",
    ];
    for sql in statements {
        let mine = columns(via, sql).await;
        let theirs = columns(&mut direct, sql).await;
        assert!(!mine.is_empty(), "{sql}");
        assert_eq!(mine, theirs, "{sql}");
    }
    // Not a select: no columns, and preparing it runs nothing.
    assert!(columns(via, "UPDATE sbtest1 SET k = ? WHERE id = ?")
        .await
        .is_empty());
}

async fn columns(conn: &mut Conn, sql: &str) -> Vec<(String, String)> {
    let stmt = conn.prep(sql).await.unwrap();
    let cols = stmt
        .columns()
        .iter()
        .map(|c| (c.name_str().into_owned(), format!("{:?}", c.column_type())))
        .collect();
    conn.close(stmt).await.unwrap();
    cols
}
