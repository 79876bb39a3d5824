//! The client matrix through vtgate: `tests/clients/run_matrix.py` runs PyMySQL,
//! mysql-connector-python (pure, C extension, prepared), mysqlclient and Node's mysql2
//! (query and execute) against MariaDB directly and through a real etcd + vttablet + vtgate
//! cluster, and diffs every value, type, column description and error. Any difference not in
//! [`ALLOWED`] fails the test; each allowed one is explained there and in the crate README.
//! Needs the drivers `tests/clients/install.sh` installs.

mod common;

use common::{Cluster, DropDatabase, MYSQL_PORT};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

/// Differences inherent to serving through vtgate, per driver: paths of run_matrix.py's
/// report; a path allows everything under it too.
const ALLOWED: &[(&str, &[&str])] = &[
    // MariaDB adds SERVER_QUERY_NO_INDEX_USED (32) to a DELETE's OK packet; the flag is a
    // per-statement optimizer hint the tablet does not forward (Vitess does not either).
    //
    // `SELECT ? AS p` with a bound parameter: MariaDB types the column after the parameter's
    // wire type (TINY, LONGLONG, CHAR, BLOB, old DECIMAL, unsigned) and length; vtgate sends
    // the value as a literal, whose type follows the value (same values, same Python/JS types).
    // `CAST(… AS FLOAT)`, the only FLOAT literal, is nullable ([6] null_ok, [7] flags).
    //
    // The C extension binds 3.14e300 as a FLOAT, which MariaDB turns into inf; SQL has no
    // literal for inf, so vtgate refuses the parameter with an error instead.
    (
        "connector-prepared",
        &[
            "/params_select/bool[0]/columns[0][1]",
            "/params_select/zero[0]/columns[0][1]",
            "/params_select/decimal[0]/columns[0][1]",
            "/params_select/str_emoji[0]/columns[0][1]",
            "/params_select/float[0]/columns[0][6]",
            "/params_select/float[0]/columns[0][7]",
            "/params_select/float_big",
        ],
    ),
    (
        "connector-pure-prepared",
        &[
            "/params_select/bool[0]/columns[0][1]",
            "/params_select/bool[0]/columns[0][7]",
            "/params_select/zero[0]/columns[0][1]",
            "/params_select/zero[0]/columns[0][7]",
            "/params_select/int_max[0]/columns[0][7]",
            "/params_select/decimal[0]/columns[0][1]",
            "/params_select/str_emoji[0]/columns[0][1]",
            "/params_select/bytes_invalid_utf8[0]/columns[0][1]",
        ],
    ),
    ("mysql2-query", &["/dml/delete/ok/serverStatus"]),
    (
        "mysql2-execute",
        &[
            "/dml/delete/ok/serverStatus",
            "/params_select/bool/fields[0]/columnLength",
            "/params_select/bool/fields[0]/columnType",
            "/params_select/buffer_invalid_utf8/fields[0]/columnType",
            "/params_select/datetime_ms/fields[0]/columnLength",
            "/params_select/float/fields[0]/columnLength",
            "/params_select/float_big/fields[0]/columnLength",
            "/params_select/zero/fields[0]/columnLength",
        ],
    ),
];

fn allowed(driver: &str, path: &str) -> bool {
    ALLOWED
        .iter()
        .filter(|(d, _)| *d == driver)
        .flat_map(|(_, paths)| paths.iter())
        .any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '[']))
        })
}

/// One driver's section of run_matrix.py's report: its name, the count it reported, and
/// the difference paths it listed.
#[derive(Debug, Default)]
struct Section {
    driver: String,
    count: usize,
    paths: Vec<String>,
}

fn parse(report: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in report.lines() {
        if let Some(item) = line.strip_prefix("  ") {
            let path = item.split(':').next().unwrap_or(item).to_string();
            sections
                .last_mut()
                .expect("a driver line first")
                .paths
                .push(path);
        } else if let Some((driver, status)) = line.split_once(": ") {
            let count = match status {
                "ok" => 0,
                s => s
                    .strip_suffix(" differences")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected status line: {line}")),
            };
            sections.push(Section {
                driver: driver.to_string(),
                count,
                paths: Vec::new(),
            });
        }
    }
    sections
}

#[test]
fn allowlist_matching() {
    let prepared = "connector-prepared";
    assert!(allowed(prepared, "/params_select/float_big"));
    assert!(allowed(prepared, "/params_select/float_big/errno"));
    assert!(allowed(prepared, "/params_select/bool[0]/columns[0][1][1]"));
    assert!(!allowed(prepared, "/params_select/float_big_other"));
    assert!(!allowed(prepared, "/params_select/bool[0]/rows"));
    assert!(!allowed("pymysql", "/params_select/float_big"));
    let sections =
        parse("pymysql: ok\nmysqldb: 2 differences\n  /a/b: direct=1 server=2\n  /c: x\n");
    assert_eq!(sections.len(), 2);
    assert_eq!(
        (sections[1].count, sections[1].paths.clone()),
        (2, vec!["/a/b".into(), "/c".into()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_driver_sees_what_mariadb_gives() {
    let cluster = Cluster::start("vtg_matrix").await;
    let _drop = DropDatabase(cluster.db.clone());
    client_found_rows_counts_matched_rows(&cluster).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/clients/run_matrix.py"
    );
    let cluster_ref = &cluster;
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new("python3")
            .arg(script)
            .args(["--port", &cluster_ref.vtgate_port.to_string()])
            .args(["--direct-port", &MYSQL_PORT.to_string()])
            .args(["--db", &cluster_ref.db, "--server-db", "commerce"])
            .args(["--keep-db", "--wrapped-errors"])
            .output()
            .expect("python3 runs")
    });
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let sections = parse(&report);
    assert_eq!(
        sections.len(),
        8,
        "run_matrix.py did not run every driver (install them with tests/clients/install.sh)\n\
         stdout:\n{report}\nstderr:\n{stderr}\nvtgate log:\n{}",
        cluster.vtgate_log()
    );
    let mut unexpected = Vec::new();
    for s in &sections {
        if s.count > s.paths.len() {
            unexpected.push(format!(
                "{}: {} differences, only {} listed",
                s.driver,
                s.count,
                s.paths.len()
            ));
        }
        for p in s.paths.iter().filter(|p| !allowed(&s.driver, p)) {
            unexpected.push(format!("{}: {p}", s.driver));
        }
    }
    assert!(
        unexpected.is_empty(),
        "differences through vtgate not in the allowlist:\n{}\n\nfull report:\n{report}",
        unexpected.join("\n")
    );
}

/// With CLIENT_FOUND_ROWS an UPDATE that changes nothing reports the rows it matched, as
/// MariaDB does; without it, the rows it changed.
async fn client_found_rows_counts_matched_rows(cluster: &Cluster) {
    let connect = |found_rows: bool| {
        let opts = OptsBuilder::from_opts(common::opts(cluster.vtgate_port, Some("commerce")))
            .client_found_rows(found_rows);
        Conn::new(opts)
    };
    let mut plain = connect(false).await.unwrap();
    plain
        .query_drop("CREATE TABLE found_rows_t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    plain
        .query_drop("INSERT INTO found_rows_t VALUES (1, 1), (2, 1)")
        .await
        .unwrap();
    let update = "UPDATE found_rows_t SET v = 1";
    plain.query_drop(update).await.unwrap();
    assert_eq!(plain.affected_rows(), 0);
    let mut found = connect(true).await.unwrap();
    found.query_drop(update).await.unwrap();
    assert_eq!(found.affected_rows(), 2);
    // Also inside a transaction (the flag travels with BeginExecute).
    found.query_drop("BEGIN").await.unwrap();
    found.query_drop(update).await.unwrap();
    assert_eq!(found.affected_rows(), 2);
    found.query_drop("COMMIT").await.unwrap();
    plain.query_drop(update).await.unwrap();
    assert_eq!(plain.affected_rows(), 0);
}
