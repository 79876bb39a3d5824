//! End to end with real processes: etcd, a `vttablet` (primary of `commerce/0`) on the shared
//! MariaDB, and the `vtgate` binary, driven by mysql_async and the `mariadb` CLI. Results are
//! compared with the same statements run on a plain MariaDB database.

mod common;

use common::{http_get, mariadb, run_cli, server_error, Cluster, MYSQL_PORT};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commerce_cluster_end_to_end() {
    let cluster = Cluster::start("vtgate_it").await;
    let reference = format!("vtgate_ref_{}", std::process::id());
    let _cleanup = common::DropDatabase(reference.clone());
    commerce_example_matches_mariadb(&cluster, &reference).await;
    show_and_use_forms(&cluster).await;
    errors_keep_the_connection_usable(&cluster).await;
    transactions_commit_and_roll_back(&cluster).await;
    vtgate_answers_itself(&cluster).await;
    http_status_port_answers(&cluster).await;
    session_settings_apply_per_session(&cluster).await;
    column_types_match_mariadb(&cluster, &reference).await;
    big_selects_stream(&cluster).await;
    python_clients_match_mariadb(&cluster, &reference);
}

fn read_config(name: &str) -> String {
    std::fs::read_to_string(common::config_dir().join(name)).unwrap()
}

fn stdout_ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The example's schema (DDL through vtgate), its inserts with no `use` (tables resolve
/// through the VSchema) and its selects print what plain MariaDB prints.
async fn commerce_example_matches_mariadb(cluster: &Cluster, reference: &str) {
    let schema = read_config("create_commerce_schema.sql");
    let inserts = read_config("insert_commerce_data.sql");
    let selects = read_config("select_commerce_data.sql");
    stdout_ok(
        cluster.cli(&["-D", "commerce"], &schema),
        "schema via vtgate",
    );
    stdout_ok(cluster.cli(&[], &inserts), "inserts via vtgate");
    let via_vtgate = stdout_ok(cluster.cli(&["--table"], &selects), "selects via vtgate");

    let mut admin = mariadb().await;
    admin
        .query_drop(format!(
            "DROP DATABASE IF EXISTS {reference}; CREATE DATABASE {reference}"
        ))
        .await
        .unwrap();
    stdout_ok(
        run_cli(MYSQL_PORT, &["-D", reference], &schema),
        "schema direct",
    );
    stdout_ok(
        run_cli(MYSQL_PORT, &["-D", reference], &inserts),
        "inserts direct",
    );
    let direct_selects = selects.replace("use commerce;", &format!("use {reference};"));
    let direct = stdout_ok(
        run_cli(MYSQL_PORT, &["--table"], &direct_selects),
        "selects direct",
    );
    assert!(via_vtgate.contains("alice@domain.com"), "{via_vtgate}");
    assert!(via_vtgate.contains("SKU-1002"), "{via_vtgate}");
    assert_eq!(via_vtgate, direct);
}

async fn strings(conn: &mut Conn, sql: &str) -> Vec<String> {
    conn.query::<String, _>(sql).await.unwrap()
}

async fn show_and_use_forms(cluster: &Cluster) {
    let mut conn = cluster.conn(None).await;
    let dbs = strings(&mut conn, "show databases").await;
    for want in [
        "commerce",
        "information_schema",
        "mysql",
        "sys",
        "performance_schema",
    ] {
        assert!(dbs.contains(&want.to_string()), "{dbs:?}");
    }
    conn.query_drop("use `commerce/0`").await.unwrap();
    let result = conn.query_iter("show tables").await.unwrap();
    let columns = result.columns().unwrap();
    assert_eq!(columns[0].name_str(), "Tables_in_commerce");
    drop(result);
    assert_eq!(
        strings(&mut conn, "show tables").await,
        ["corder", "customer", "product"]
    );
    for target in [
        "commerce",
        "commerce:0",
        "commerce@primary",
        "commerce/0@primary",
    ] {
        conn.query_drop(format!("use `{target}`")).await.unwrap();
        assert_eq!(strings(&mut conn, "show vitess_target").await, [target]);
        assert_eq!(
            strings(&mut conn, "select count(*) from product").await,
            ["2"]
        );
    }
    conn.query_drop("use commerce").await.unwrap();
    assert_eq!(
        strings(&mut conn, "show vschema tables").await,
        ["corder", "customer", "dual", "product"]
    );
    assert_eq!(
        strings(&mut conn, "show vitess_shards").await,
        ["commerce/0"]
    );
    let tablets: Vec<Row> = conn.query("show vitess_tablets").await.unwrap();
    assert_eq!(tablets.len(), 1);
    let t: (String, String, String, String, String, String) = (
        tablets[0].get(0).unwrap(),
        tablets[0].get(1).unwrap(),
        tablets[0].get(2).unwrap(),
        tablets[0].get(3).unwrap(),
        tablets[0].get(4).unwrap(),
        tablets[0].get(5).unwrap(),
    );
    assert_eq!(
        t,
        (
            "zone1".into(),
            "commerce".into(),
            "0".into(),
            "PRIMARY".into(),
            "SERVING".into(),
            "zone1-0000000100".into()
        )
    );
    // The CLI: database in the handshake, and `use` as COM_INIT_DB.
    let out = stdout_ok(
        cluster.cli(&["-D", "commerce", "-N", "-e", "select database()"], ""),
        "handshake db",
    );
    assert_eq!(out.trim(), "commerce");
    let out = stdout_ok(
        cluster.cli(
            &["-N"],
            "use commerce/0\nshow vitess_target;\nselect count(*) from customer;\n",
        ),
        "COM_INIT_DB",
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["commerce/0", "5"]
    );
}

async fn expect_error(conn: &mut Conn, sql: &str, code: u16, state: &str) -> String {
    let err = conn.query_drop(sql).await.expect_err(sql);
    let (c, s, message) = server_error(err);
    assert_eq!((c, s.as_str()), (code, state), "{sql}: {message}");
    // The connection stays usable (a statement vtgate answers; tablet paths are checked by
    // the callers).
    assert_eq!(strings(conn, "select @@version").await, ["8.0.40-Vitess"]);
    message
}

async fn errors_keep_the_connection_usable(cluster: &Cluster) {
    let mut conn = cluster.conn(None).await;
    let msg = expect_error(&mut conn, "use nope", 1049, "42000").await;
    assert_eq!(msg, "VT05003: unknown database 'nope' in vschema");
    let msg = expect_error(&mut conn, "create table t1 (a int)", 1046, "3D000").await;
    assert_eq!(
        msg,
        "VT09005: no database selected: use keyspace<:shard><@type> or keyspace<[range]><@type> (<> are optional)"
    );
    let msg = expect_error(&mut conn, "select * from no_such_table", 1109, "42S02").await;
    assert_eq!(msg, "VT05004: table 'no_such_table' does not exist");

    conn.query_drop("use commerce").await.unwrap();
    let msg = expect_error(&mut conn, "select * from no_such_table", 1146, "42S02").await;
    assert!(
        msg.starts_with("target: commerce.0.primary: vttablet: "),
        "{msg}"
    );
    assert!(msg.contains("no_such_table"), "{msg}");
    expect_error(
        &mut conn,
        "insert into product(sku, description, price) values('SKU-1001', 'dup', 1)",
        1062,
        "23000",
    )
    .await;
    expect_error(&mut conn, "selec 1", 1064, "42000").await;
    assert_eq!(
        strings(&mut conn, "select 'still here'").await,
        ["still here"]
    );

    conn.query_drop("use commerce@replica").await.unwrap();
    let msg = expect_error(
        &mut conn,
        "insert into customer(email) values('replica@x')",
        1874,
        "HY000",
    )
    .await;
    assert_eq!(msg, "VT09002: insert statement with a replica target");
    let msg = expect_error(&mut conn, "select * from customer", 1105, "HY000").await;
    assert!(msg.contains("no healthy tablet available for"), "{msg}");
    conn.query_drop("use commerce").await.unwrap();
    assert_eq!(
        strings(&mut conn, "select 'still here'").await,
        ["still here"]
    );
}

async fn count(conn: &mut Conn, email: &str) -> String {
    strings(
        conn,
        &format!("select count(*) from customer where email = '{email}'"),
    )
    .await
    .remove(0)
}

async fn transactions_commit_and_roll_back(cluster: &Cluster) {
    let mut a = cluster.conn(Some("commerce")).await;
    let mut b = cluster.conn(Some("commerce")).await;
    a.query_drop("begin").await.unwrap();
    a.query_drop("insert into customer(email) values('tx1')")
        .await
        .unwrap();
    assert_eq!(count(&mut a, "tx1").await, "1");
    assert_eq!(count(&mut b, "tx1").await, "0");
    a.query_drop("rollback").await.unwrap();
    assert_eq!(count(&mut a, "tx1").await, "0");

    a.query_drop("start transaction").await.unwrap();
    a.query_drop("insert into customer(email) values('tx2')")
        .await
        .unwrap();
    assert_eq!(count(&mut b, "tx2").await, "0");
    a.query_drop("commit").await.unwrap();
    assert_eq!(count(&mut b, "tx2").await, "1");

    a.query_drop("set autocommit = 0").await.unwrap();
    a.query_drop("insert into customer(email) values('tx3')")
        .await
        .unwrap();
    assert_eq!(count(&mut b, "tx3").await, "0");
    a.query_drop("commit").await.unwrap();
    assert_eq!(count(&mut b, "tx3").await, "1");
    a.query_drop("insert into customer(email) values('tx4')")
        .await
        .unwrap();
    a.query_drop("set autocommit = 1").await.unwrap();
    assert_eq!(count(&mut b, "tx4").await, "1");
}

async fn vtgate_answers_itself(cluster: &Cluster) {
    let mut conn = cluster.conn(Some("commerce")).await;
    conn.query_drop("insert into customer(email) values('id@x')")
        .await
        .unwrap();
    let id = conn.last_insert_id().unwrap();
    assert!(id > 0);
    let row: Row = conn
        .query_first("select @@version, @@version_comment, database(), last_insert_id()")
        .await
        .unwrap()
        .unwrap();
    let (version, comment, db, last): (String, String, String, u64) = (
        row.get(0).unwrap(),
        row.get(1).unwrap(),
        row.get(2).unwrap(),
        row.get(3).unwrap(),
    );
    assert_eq!(version, "8.0.40-Vitess");
    assert!(comment.starts_with("Version: "), "{comment}");
    assert_eq!((db.as_str(), last), ("commerce", id));
    // The columns keep the names MariaDB gives them (the text of each select item).
    let names: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "@@version",
            "@@version_comment",
            "database()",
            "last_insert_id()"
        ]
    );
    conn.query_drop("set @n = 5").await.unwrap();
    let row: Row = conn
        .query_first("select @n, @n as n, FOUND_ROWS(), schema() s")
        .await
        .unwrap()
        .unwrap();
    let names: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    assert_eq!(names, ["@n", "n", "FOUND_ROWS()", "s"]);
    // last_insert_id() inside a query sent to the tablet is vtgate's value too.
    let ids = strings(
        &mut conn,
        "select customer_id from customer where customer_id = last_insert_id()",
    )
    .await;
    assert_eq!(ids, [id.to_string()]);
}

async fn session_settings_apply_per_session(cluster: &Cluster) {
    let mut a = cluster.conn(Some("commerce")).await;
    let mut b = cluster.conn(Some("commerce")).await;
    a.query_drop("SET NAMES utf8mb4").await.unwrap();
    a.query_drop("set time_zone = '+05:00', sql_mode = 'NO_ENGINE_SUBSTITUTION'")
        .await
        .unwrap();
    assert_eq!(strings(&mut a, "select @@time_zone").await, ["+05:00"]);
    assert_eq!(
        strings(&mut a, "select @@sql_mode from dual").await,
        ["NO_ENGINE_SUBSTITUTION"]
    );
    assert_ne!(strings(&mut b, "select @@time_zone").await, ["+05:00"]);
    a.query_drop("set sql_mode = concat(@@sql_mode, ',NO_ZERO_DATE')")
        .await
        .unwrap();
    assert_eq!(
        strings(&mut a, "select @@sql_mode from dual").await,
        ["NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION"]
    );
    a.query_drop("set @x = 41").await.unwrap();
    assert_eq!(strings(&mut a, "select @x + 1").await, ["42"]);
    a.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await
        .unwrap();
    a.query_drop("begin").await.unwrap();
    assert_eq!(count(&mut a, "nobody").await, "0");
    a.query_drop("commit").await.unwrap();
    let err = a
        .query_drop("set time_zone = 'Nowhere/Nope'")
        .await
        .unwrap_err();
    assert_eq!(server_error(err).0, 1298);
    assert_eq!(strings(&mut a, "select @@time_zone").await, ["+05:00"]);
}

const TYPES_DDL: &str = "create table types_t (
  id int primary key, i8 tinyint, u8 tinyint unsigned, i64 bigint, u64 bigint unsigned,
  d decimal(10,3), f float, dbl double, dt date, dtm datetime(3), ts timestamp null,
  tm time, yr year, ch char(3), vc varchar(20), vb varbinary(20), bl blob, tx text,
  js json, en enum('a','b'), n int null)";

const TYPES_ROWS: &str = "insert into types_t values
  (1, -128, 255, -9223372036854775808, 18446744073709551615, -1234567.891, 1.5, 2.25e100,
   '2024-02-29', '2024-02-29 23:59:59.123', '2024-01-02 03:04:05', '-838:59:59', 2024, 'ab',
   'héllo', x'00ff10', x'deadbeef', 'text ''q''', '{\"a\": [1, null]}', 'b', null),
  (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
   null, null, null, null, null, null)";

async fn rows_and_meta(conn: &mut Conn, binary: bool) -> (Vec<Vec<Value>>, Vec<(u8, u16, String)>) {
    let rows: Vec<Row> = if binary {
        conn.exec("select * from types_t where id > ? order by id", (0,))
            .await
            .unwrap()
    } else {
        conn.query("select * from types_t order by id")
            .await
            .unwrap()
    };
    let meta = rows[0]
        .columns_ref()
        .iter()
        .map(|c| {
            (
                c.column_type() as u8,
                c.flags().bits(),
                c.name_str().to_string(),
            )
        })
        .collect();
    (rows.into_iter().map(Row::unwrap).collect(), meta)
}

async fn column_types_match_mariadb(cluster: &Cluster, reference: &str) {
    let mut via = cluster.conn(Some("commerce")).await;
    via.query_drop(TYPES_DDL).await.unwrap();
    via.query_drop(TYPES_ROWS).await.unwrap();
    let mut direct = Conn::new(common::opts(MYSQL_PORT, Some(reference)))
        .await
        .unwrap();
    direct.query_drop(TYPES_DDL).await.unwrap();
    direct.query_drop(TYPES_ROWS).await.unwrap();
    for binary in [false, true] {
        let (want_rows, want_meta) = rows_and_meta(&mut direct, binary).await;
        let (got_rows, got_meta) = rows_and_meta(&mut via, binary).await;
        assert_eq!(got_meta, want_meta, "column metadata, binary={binary}");
        assert_eq!(got_rows, want_rows, "values, binary={binary}");
    }
}

async fn big_selects_stream(cluster: &Cluster) {
    let mut conn = cluster.conn(Some("commerce")).await;
    conn.query_drop("create table big_t (id int primary key, pad varchar(200))")
        .await
        .unwrap();
    let values: Vec<String> = (0..5000)
        .map(|i| format!("({i}, '{}')", "x".repeat(150)))
        .collect();
    conn.query_drop(format!("insert into big_t values {}", values.join(",")))
        .await
        .unwrap();
    let ids: Vec<i64> = conn
        .query("select id from big_t order by id")
        .await
        .unwrap();
    assert_eq!(ids, (0..5000).collect::<Vec<i64>>());
    let rows: Vec<(i64, String)> = conn.query("select * from big_t").await.unwrap();
    assert_eq!(rows.len(), 5000);
    assert!(rows.iter().all(|(_, pad)| pad.len() == 150));
}

/// PyMySQL and mysql-connector-python (prepared statements) see through vtgate what they
/// see on plain MariaDB.
fn python_clients_match_mariadb(cluster: &Cluster, reference: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients.py");
    let run = |port: u16, db: &str| {
        let out = std::process::Command::new("python3")
            .args([script, &port.to_string(), db])
            .output()
            .expect("python3 runs");
        if out.status.code() == Some(77) {
            return None;
        }
        Some(stdout_ok(out, "clients.py"))
    };
    let Some(via) = run(cluster.vtgate_port, "commerce") else {
        eprintln!("skipping python clients: PyMySQL or mysql-connector-python missing");
        return;
    };
    let direct = run(MYSQL_PORT, reference).expect("same python");
    assert!(via.contains("pymysql error 1146"), "{via}");
    assert_eq!(via, direct);
}

async fn http_status_port_answers(cluster: &Cluster) {
    let health = http_get(cluster.http_port, "/health").await;
    assert!(health.starts_with("HTTP/1.0 200 OK"), "{health}");
    assert!(health.ends_with("\r\n\r\nok\n"), "{health}");
    let status = http_get(cluster.http_port, "/debug/status").await;
    assert!(
        status.contains("zone1-0000000100\tcommerce\t0\tPRIMARY\ttrue"),
        "{status}"
    );
    let missing = http_get(cluster.http_port, "/nope").await;
    assert!(missing.starts_with("HTTP/1.0 404"), "{missing}");
}
