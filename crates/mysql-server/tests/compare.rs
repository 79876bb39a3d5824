//! Differential tests: the same statements through the proxy (this crate + pass-through
//! backend) and against MariaDB directly must give the same columns (all metadata), values,
//! OK info and errors, with mysql_async (text and prepared) and with the `mariadb` CLI.

mod support;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};
use mysql_server::ServerConfig;
use support::{Proxy, Twins, SETUP};

/// Everything a driver sees of a column.
type Meta = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    u16,
    u32,
    u8,
    u16,
    u8,
);

/// Replaces test database names (`msrv_test_<pid>_<n>`) by `<db>`.
fn normalise(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("msrv_test_") {
        out.push_str(&rest[..at]);
        out.push_str("<db>");
        rest = rest[at + "msrv_test_".len()..]
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    }
    out.push_str(rest);
    out
}

/// The schema is normalised: the direct and proxied sides use twin databases.
fn meta(c: &mysql_async::Column) -> Meta {
    let schema = c.schema_ref();
    let schema = if schema.starts_with(b"msrv_test_") {
        b"<db>".to_vec()
    } else {
        schema.to_vec()
    };
    (
        schema,
        c.table_ref().to_vec(),
        c.org_table_ref().to_vec(),
        c.name_ref().to_vec(),
        c.org_name_ref().to_vec(),
        c.character_set(),
        c.column_length(),
        c.column_type() as u8,
        c.flags().bits(),
        c.decimals(),
    )
}

/// One result of a command: columns and rows, or OK info.
#[derive(Debug, PartialEq)]
enum Answer {
    Rows(Vec<Meta>, Vec<Vec<Value>>),
    Ok(u64, Option<u64>, String),
}

type Outcome = Result<Vec<Answer>, (u16, String, String)>;

/// Error messages are normalised: the twin databases have different names.
fn server_error(e: mysql_async::Error) -> (u16, String, String) {
    match e {
        mysql_async::Error::Server(e) => (e.code, e.state, normalise(&e.message)),
        other => panic!("not a server error: {other}"),
    }
}

async fn collect<P: mysql_async::prelude::Protocol>(
    mut r: mysql_async::QueryResult<'_, '_, P>,
) -> Outcome {
    let mut answers = Vec::new();
    loop {
        match r.columns().filter(|c| !c.is_empty()) {
            Some(cols) => {
                let metas = cols.iter().map(meta).collect();
                let mut rows = Vec::new();
                while let Some(row) = r.next().await.map_err(server_error)? {
                    rows.push(row.unwrap());
                }
                answers.push(Answer::Rows(metas, rows));
            }
            None => {
                let ok = Answer::Ok(r.affected_rows(), r.last_insert_id(), r.info().into_owned());
                r.next().await.map_err(server_error)?;
                answers.push(ok);
            }
        }
        if r.is_empty() {
            return Ok(answers);
        }
    }
}

async fn text(c: &mut Conn, sql: &str) -> Outcome {
    let r = c.query_iter(sql).await.map_err(server_error)?;
    collect(r).await
}

async fn prepared(c: &mut Conn, sql: &str, params: Params) -> Outcome {
    let stmt = c.prep(sql).await.map_err(server_error)?;
    let r = c.exec_iter(&stmt, params).await.map_err(server_error)?;
    collect(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_protocol_matches_mariadb() {
    let db = Twins::create(SETUP).await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let (mut direct, mut proxied) = db.connect(&proxy).await;
    for sql in [
        "SELECT * FROM t ORDER BY id",
        "SELECT id, d * 2, f + 1, CONCAT(vc, 'x'), NULL AS n, 1 AS one FROM t ORDER BY id",
        "SELECT * FROM t WHERE id = 99",
        "UPDATE t SET si = si WHERE id = 1",
        "INSERT INTO t (id) VALUES (10), (11)",
        "SHOW WARNINGS",
        "SELECT @@version_comment IS NOT NULL, @@autocommit",
    ] {
        let want = text(&mut direct, sql).await;
        let got = text(&mut proxied, sql).await;
        assert!(want.is_ok(), "{sql}: {want:?}");
        assert_eq!(got, want, "{sql}");
    }
    proxied.disconnect().await.unwrap();
    direct.disconnect().await.unwrap();
    proxy.stop().await;
    db.drop_dbs().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_match_mariadb() {
    let db = Twins::create(SETUP).await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let (mut direct, mut proxied) = db.connect(&proxy).await;
    let cases: Vec<(&str, Params)> = vec![
        (
            "SELECT * FROM t WHERE id >= ? ORDER BY id",
            Params::Positional(vec![Value::Int(0)]),
        ),
        (
            "SELECT ?, ?, ?, ?, ?, ?, ?",
            Params::Positional(vec![
                Value::Int(-5),
                Value::UInt(u64::MAX),
                Value::Double(2.5),
                Value::Bytes(vec![0xff, 0x00, 0x80]),
                Value::NULL,
                Value::Date(2024, 2, 29, 13, 14, 15, 16),
                Value::Time(true, 1, 2, 3, 4, 5),
            ]),
        ),
        ("SELECT COUNT(*) FROM t", Params::Empty),
        (
            "UPDATE t SET ti = ? WHERE id = ?",
            Params::Positional(vec![Value::Int(5), Value::Int(2)]),
        ),
        ("SELECT * FROM missing", Params::Empty),
    ];
    for (sql, params) in cases {
        let want = prepared(&mut direct, sql, params.clone()).await;
        let got = prepared(&mut proxied, sql, params).await;
        assert_eq!(got, want, "{sql}");
    }
    proxied.disconnect().await.unwrap();
    direct.disconnect().await.unwrap();
    proxy.stop().await;
    db.drop_dbs().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_pass_through_and_the_connection_stays_usable() {
    let db = Twins::create("CREATE TABLE u (id INT PRIMARY KEY)").await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let (mut direct, mut proxied) = db.connect(&proxy).await;
    for sql in [
        "SELECT * FROM nosuch",
        "SELEC 1",
        "INSERT INTO u VALUES (1), (1)",
        "SELECT 1",
        "USE no_such_database",
    ] {
        let want = text(&mut direct, sql).await;
        let got = text(&mut proxied, sql).await;
        assert_eq!(got, want, "{sql}");
    }
    // (A wrong parameter count is tested over a raw socket in hostile.rs: mysql_async
    // refuses it client-side and drops its connection.)
    assert_eq!(
        text(&mut proxied, "SELECT 2").await,
        text(&mut direct, "SELECT 2").await
    );
    proxied.disconnect().await.unwrap();
    direct.disconnect().await.unwrap();
    proxy.stop().await;
    db.drop_dbs().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_statements_give_every_result() {
    let db = Twins::create("CREATE TABLE m (id INT AUTO_INCREMENT PRIMARY KEY, v INT)").await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let (mut direct, mut proxied) = db.connect(&proxy).await;
    for sql in [
        "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c",
        "INSERT INTO m (v) VALUES (1), (2); SELECT * FROM m ORDER BY id; UPDATE m SET v = 0",
        "SELECT 1; SELECT * FROM nosuch; SELECT 3",
        "DELETE FROM m; INSERT INTO m (v) VALUES (7)",
    ] {
        let want = text(&mut direct, sql).await;
        let got = text(&mut proxied, sql).await;
        assert_eq!(got, want, "{sql}");
    }
    proxied.disconnect().await.unwrap();
    direct.disconnect().await.unwrap();
    proxy.stop().await;
    db.drop_dbs().await;
}

fn cli(port: u16, db: &str, extra: &[&str], sql: &str) -> (bool, String, String) {
    // Timings differ from run to run: "1 row in set (0.000 sec)".
    let norm = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(db, "<db>")
            .lines()
            .map(|l| match l.rfind(" (") {
                Some(at) if l.ends_with(" sec)") => &l[..at],
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let out = std::process::Command::new("/usr/bin/mariadb")
        .args(["-h127.0.0.1", &format!("-P{port}"), "-uroot", "-D", db])
        .args(extra)
        .args(["-e", sql])
        .output()
        .unwrap();
    (out.status.success(), norm(&out.stdout), norm(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_output_is_the_same() {
    let db = Twins::create(SETUP).await;
    let proxy = Proxy::start(ServerConfig::default()).await;
    let port = proxy.addr.port();
    let (direct_db, proxied_db) = (db.direct.name.clone(), db.proxied.name.clone());
    let checks = tokio::task::spawn_blocking(move || {
        for (extra, sql) in [
            (&[][..], "SELECT * FROM t ORDER BY id"),
            (&["--column-type-info"][..], "SELECT * FROM t ORDER BY id"),
            (
                &["--binary-as-hex"][..],
                "SELECT vb, bl FROM t; SELECT 1; UPDATE t SET ti = ti",
            ),
            (&["-vvv"][..], "SELECT 1; DELETE FROM t WHERE id = 42"),
            (&[][..], "SELECT * FROM nosuch"),
        ] {
            let want = cli(3306, &direct_db, extra, sql);
            let got = cli(port, &proxied_db, extra, sql);
            assert_eq!(got.0, want.0, "{sql}: {got:?}");
            assert_eq!(got.1, want.1, "{sql}");
            assert_eq!(got.2, want.2, "{sql}");
        }
    });
    checks.await.unwrap();
    proxy.stop().await;
    db.drop_dbs().await;
}
