//! Differential test of the sharded path: a fixture of thousands of rows is loaded through
//! vtgate into keyspace `customer` (two shards, `hash` vindex) and the same rows into one
//! plain MariaDB database; several hundred generated SELECTs and DML sequences must give
//! the same rows on both (ordered compare when the query has a total ORDER BY, multiset
//! otherwise) or an honest `VT12001` (counted and printed). A wrong row fails the test.

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};
use sharded_cluster::{drop_database, opts, ShardedCluster, FOUR_SHARDS, TWO_SHARDS};

mod sharded_fixture;
use sharded_fixture::{
    dml_sequences, fixture_inserts, prepared, prepared_dml, product_inserts, queries, random_dml,
    random_queries, refused_correlated, risky_dml, warehouse_insert, Query,
};

type Rows = Vec<Vec<Option<String>>>;

/// Random SELECTs each run checks, besides the hand-written ones.
const RANDOM_QUERIES: usize = 300;

/// Random DML statements each run applies to both sides, last.
const RANDOM_DML: usize = 60;

fn cell(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true)),
    }
}

/// Rows of a query, or (errno, message).
async fn fetch(conn: &mut Conn, sql: &str) -> Result<Rows, (u16, String)> {
    match conn.query::<mysql_async::Row, _>(sql).await {
        Ok(rows) => Ok(rows
            .into_iter()
            .map(|r| r.unwrap().into_iter().map(cell).collect())
            .collect()),
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.message)),
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Column names and rows of a query, or (errno, message).
async fn fetch_named(conn: &mut Conn, sql: &str) -> Result<(Vec<String>, Rows), (u16, String)> {
    let mut result = match conn.query_iter(sql).await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(e)) => return Err((e.code, e.message)),
        Err(e) => panic!("{sql}: {e}"),
    };
    let names = result
        .columns()
        .map(|cols| cols.iter().map(|c| c.name_str().into_owned()).collect())
        .unwrap_or_default();
    match result.collect::<mysql_async::Row>().await {
        Ok(rows) => Ok((
            names,
            rows.into_iter()
                .map(|r| r.unwrap().into_iter().map(cell).collect())
                .collect(),
        )),
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.message)),
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Rows of a prepared statement run with `params` (binary protocol), or (errno, message).
async fn fetch_prepared(
    conn: &mut Conn,
    sql: &str,
    params: Vec<Value>,
) -> Result<Rows, (u16, String)> {
    match conn.exec::<mysql_async::Row, _, _>(sql, params).await {
        Ok(rows) => Ok(rows
            .into_iter()
            .map(|r| r.unwrap().into_iter().map(cell).collect())
            .collect()),
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.message)),
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Each prepared statement run with each of its parameter rows in turn, on both sides.
async fn prepared_differential(gate: &mut Conn, plain: &mut Conn) -> (usize, Vec<String>) {
    let (mut same, mut wrong) = (0, Vec::new());
    for (sql, runs) in prepared() {
        for params in runs {
            let want = fetch_prepared(plain, sql, params.clone()).await;
            let got = fetch_prepared(gate, sql, params.clone()).await;
            match (want, got) {
                (Ok(mut w), Ok(mut g)) => {
                    w.sort();
                    g.sort();
                    if w == g {
                        same += 1;
                    } else {
                        wrong.push(format!(
                            "{sql} {params:?}\n   mariadb {w:?}\n   vtgate {g:?}"
                        ));
                    }
                }
                (Ok(_), Err((1235, m))) if m.contains("VT12001") => same += 1,
                (Err(_), Err(_)) => same += 1,
                (w, g) => wrong.push(format!(
                    "{sql} {params:?}\n   mariadb {w:?}\n   vtgate {g:?}"
                )),
            }
        }
    }
    (same, wrong)
}

/// What one query gave on both sides.
#[derive(Default)]
struct Tally {
    same: usize,
    /// Same rows except the letter case or trailing spaces of a group's representative
    /// value, which MySQL takes from whichever row it reads first.
    same_ci: usize,
    unsupported: Vec<String>,
    /// Queries both sides refused, with MariaDB's error.
    both_failed: Vec<String>,
    wrong: Vec<String>,
    /// Queries answered with other column names than MariaDB's.
    names: Vec<String>,
}

impl Tally {
    /// `q` as a prepared statement without parameters on both sides: vtgate's prepared path
    /// and its binary rows against MariaDB's.
    async fn check_prepared(&mut self, gate: &mut Conn, plain: &mut Conn, q: &Query) {
        let want = fetch_prepared(plain, &q.sql.replace("commerce.", ""), Vec::new()).await;
        let got = fetch_prepared(gate, &q.sql, Vec::new()).await;
        match (want, got) {
            (Ok(mut want), Ok(mut got)) => {
                if !q.ordered {
                    want.sort();
                    got.sort();
                }
                let same_ci = || dedups(&q.sql) && fold(&want, q.ordered) == fold(&got, q.ordered);
                if want == got || same_ci() {
                    self.same += 1;
                } else {
                    self.wrong.push(format!(
                        "{} (prepared)\n   mariadb {} rows, vtgate {} rows",
                        q.sql,
                        want.len(),
                        got.len()
                    ));
                }
            }
            (Ok(_), Err((1235, m))) if m.contains("VT12001") => {
                self.unsupported
                    .push(format!("{} (prepared) -> {m}", q.sql));
            }
            (Err((code, m)), Err(_)) => self
                .both_failed
                .push(format!("{} (prepared) -> {code} {m}", q.sql)),
            (w, g) => self.wrong.push(format!(
                "{} (prepared)\n   mariadb {w:?}\n   vtgate {g:?}",
                q.sql
            )),
        }
    }

    async fn check(&mut self, gate: &mut Conn, plain: &mut Conn, q: &Query) {
        // The plain database holds the unsharded keyspace's table too, unqualified.
        let want = fetch_named(plain, &q.sql.replace("commerce.", "")).await;
        let got = fetch_named(gate, &q.sql).await;
        match (want, got) {
            (Ok((want_names, mut want)), Ok((got_names, mut got))) => {
                if want_names != got_names {
                    self.names.push(format!(
                        "{}\n   mariadb {want_names:?}\n   vtgate {got_names:?}",
                        q.sql
                    ));
                }
                if !q.ordered {
                    want.sort();
                    got.sort();
                }
                if want == got {
                    self.same += 1;
                } else if dedups(&q.sql) && fold(&want, q.ordered) == fold(&got, q.ordered) {
                    self.same_ci += 1;
                } else {
                    let first = want
                        .iter()
                        .zip(&got)
                        .position(|(a, b)| a != b)
                        .unwrap_or(want.len().min(got.len()));
                    self.wrong.push(format!(
                        "{}\n   mariadb {} rows, vtgate {} rows; first difference at {first}: \
                         mariadb {:?} vtgate {:?}",
                        q.sql,
                        want.len(),
                        got.len(),
                        want.get(first),
                        got.get(first)
                    ));
                }
            }
            (Ok(_), Err((1235, m))) if m.contains("VT12001") => {
                self.unsupported.push(format!("{} -> {m}", q.sql));
            }
            (Err((code, m)), Err(_)) => self.both_failed.push(format!("{} -> {code} {m}", q.sql)),
            (Ok(_), Err((code, m))) => self
                .wrong
                .push(format!("{}\n   vtgate error {code}: {m}", q.sql)),
            (Err((code, m)), Ok(_)) => self.wrong.push(format!(
                "{}\n   mariadb error {code} ({m}) but vtgate answered",
                q.sql
            )),
        }
    }
}

/// Whether the query merges rows by value (GROUP BY, DISTINCT, UNION, MIN, MAX), so a `_ci`
/// column may show any of the equal values' spellings.
fn dedups(sql: &str) -> bool {
    let s = sql.to_ascii_lowercase();
    ["group by", "distinct", " union ", "min(", "max("]
        .iter()
        .any(|w| s.contains(w))
}

/// Rows with text replaced by its `utf8mb4_general_ci` weights without trailing spaces
/// (`'José'`, `'JOSE '` and `'jose'` are one group, shown by any of its spellings), sorted
/// unless the query's order is total.
fn fold(rows: &Rows, ordered: bool) -> Rows {
    let fold = |v: &String| match engine::cell::general_ci_key(v.as_bytes()) {
        Ok(key) => key.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => v.clone(),
    };
    let mut out: Rows = rows
        .iter()
        .map(|r| r.iter().map(|c| c.as_ref().map(fold)).collect())
        .collect();
    if !ordered {
        out.sort();
    }
    out
}

/// SHOW and DESCRIBE of a sharded table (answered by one shard, as Vitess sends them to
/// AnyShard) show what the plain database shows of the same table. `FROM customer` names the
/// keyspace, whose tablets' databases have other names. Of SHOW INDEX and SHOW TABLE STATUS,
/// only the columns that do not count rows are compared: a shard holds part of them.
async fn table_definitions_match(gate: &mut Conn, plain: &mut Conn) {
    let whole = |sql: &str| (sql.to_string(), sql.to_string(), None);
    let cases: Vec<(String, String, Option<usize>)> = vec![
        whole("describe customer"),
        whole("desc corder"),
        whole("show columns from customer"),
        whole("show full columns from corder"),
        whole("show fields from customer like 'c%'"),
        whole("show create table corder"),
        (
            "show full fields from corder from customer".into(),
            "show full fields from corder".into(),
            None,
        ),
        (
            "show index from corder".into(),
            "show index from corder".into(),
            Some(5),
        ),
        (
            "show keys from customer in customer".into(),
            "show keys from customer".into(),
            Some(5),
        ),
        (
            "show table status from customer like 'c%'".into(),
            "show table status like 'c%'".into(),
            Some(2),
        ),
    ];
    for (gate_sql, plain_sql, prefix) in cases {
        let cut = |rows: Rows| -> Rows {
            rows.into_iter()
                .map(|r| r.into_iter().take(prefix.unwrap_or(usize::MAX)).collect())
                .collect()
        };
        let got = fetch(gate, &gate_sql).await.map(cut);
        let want = fetch(plain, &plain_sql).await.map(cut);
        assert!(
            want.as_ref().is_ok_and(|w| !w.is_empty()),
            "{plain_sql}: {want:?}"
        );
        assert_eq!(got, want, "{gate_sql}");
    }
    // EXPLAIN goes to one shard too, and answers with MariaDB's plan columns.
    let explain = fetch(gate, "explain select * from corder where customer_id = 5").await;
    assert!(explain.is_ok_and(|rows| rows.len() == 1 && rows[0].len() == 10));
}

async fn exec_both(gate: &mut Conn, plain: &mut Conn, sql: &str) {
    plain
        .query_drop(sql.replace("commerce.", ""))
        .await
        .unwrap_or_else(|e| panic!("plain: {sql}: {e}"));
    gate.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("vtgate: {sql}: {e}"));
    assert_eq!(
        gate.affected_rows(),
        plain.affected_rows(),
        "affected rows of {sql}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_answer_like_one_mariadb() {
    differential("vtg_shdiff2", TWO_SHARDS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_answer_like_one_mariadb() {
    differential("vtg_shdiff4", FOUR_SHARDS).await;
}

async fn differential(prefix: &str, shards: &[&str]) {
    let cluster = ShardedCluster::start(prefix, shards).await;
    let (plain_db, _drop_plain, mut plain) = sharded_cluster::plain_database(prefix).await;
    // The reference table is loaded into every shard directly, as Vitess's reference
    // tables are kept in sync by their owner (here: the test).
    for db in cluster.shard_dbs().iter().chain([&plain_db]) {
        let mut c = Conn::new(opts(3306, Some(db))).await.unwrap();
        for sql in product_inserts() {
            c.query_drop(sql).await.unwrap();
        }
    }
    let mut gate = cluster.conn(Some("commerce")).await;
    let mut plain_commerce = Conn::new(opts(3306, Some(&plain_db))).await.unwrap();
    exec_both(&mut gate, &mut plain_commerce, &warehouse_insert()).await;
    let mut gate = cluster.conn(Some("customer")).await;
    let inserts = fixture_inserts();
    for sql in &inserts {
        exec_both(&mut gate, &mut plain, sql).await;
    }
    // Every row landed on the shard its hash names: each shard holds part of the rows and
    // point selects through vtgate find them.
    let mut per_shard = Vec::new();
    for db in cluster.shard_dbs() {
        let mut c = Conn::new(opts(3306, Some(&db))).await.unwrap();
        let n: u64 = c
            .query_first("select count(*) from customer")
            .await
            .unwrap()
            .unwrap();
        per_shard.push(n);
    }
    let total: u64 = plain
        .query_first("select count(*) from customer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(per_shard.iter().sum::<u64>(), total);
    let fair = total / (2 * per_shard.len() as u64);
    assert!(per_shard.iter().all(|&n| n > fair), "{per_shard:?}");

    table_definitions_match(&mut gate, &mut plain).await;

    // The hash join directive reaches the planner through vtgate's rewrites; without it
    // the same join is a nested loop; an aggregating derived table is hashed either way.
    for (sql, variant) in [
        (
            "select /*vt+ ALLOW_HASH_JOIN */ c.customer_id, o.order_id from customer c \
             join corder o on c.score = o.qty where c.customer_id < 9",
            "HashJoin",
        ),
        (
            "select c.customer_id, o.order_id from customer c \
             join corder o on c.score = o.qty where c.customer_id < 9",
            "Join",
        ),
        (
            "select c.customer_id, t.n from customer c left join (select qty, count(*) as n \
             from corder group by qty) t on t.qty = c.score",
            "HashLeftJoin",
        ),
    ] {
        let json: String = gate
            .query_first(format!("vexplain plan {sql}"))
            .await
            .unwrap()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(plan["Variant"], variant, "{sql}: {json}");
    }

    // Correlated subqueries: merged into the customer route when safe, else refused.
    for (sql, variant) in [
        (
            "select c.customer_id from customer c where exists \
             (select 1 from corder o where o.customer_id = c.customer_id)",
            "Scatter",
        ),
        (
            "select c.customer_id from customer c where c.customer_id = 7 and exists \
             (select 1 from corder o where o.customer_id = c.customer_id)",
            "EqualUnique",
        ),
    ] {
        let json: String = gate
            .query_first(format!("vexplain plan {sql}"))
            .await
            .unwrap()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (plan["OperatorType"].as_str(), plan["Variant"].as_str()),
            (Some("Route"), Some(variant)),
            "{sql}: {json}"
        );
    }
    for sql in refused_correlated() {
        match fetch(&mut gate, sql).await {
            Err((1235, m)) if m.contains("VT12001") => {}
            other => panic!("{sql}: want VT12001, got {other:?}"),
        }
        assert!(
            fetch(&mut plain, &sql.replace("commerce.", ""))
                .await
                .is_ok(),
            "{sql} fails on MariaDB"
        );
    }

    let mut tally = Tally::default();
    let all = queries();
    for q in &all {
        tally.check(&mut gate, &mut plain, q).await;
    }
    // Random SELECTs: a fixed seed per shard count, or DIFF_SEED / DIFF_RANDOM.
    let seed = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(shards.len() as u64);
    let count = std::env::var("DIFF_RANDOM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(RANDOM_QUERIES);
    let before = tally.wrong.len();
    for (i, q) in random_queries(seed, count).iter().enumerate() {
        tally.check(&mut gate, &mut plain, q).await;
        // Every fifth also through the binary protocol.
        if i % 5 == 0 {
            tally.check_prepared(&mut gate, &mut plain, q).await;
        }
    }
    println!(
        "random queries: seed {seed}, {count} queries, {} wrong",
        tally.wrong.len() - before
    );
    let (prepared_same, prepared_wrong) = prepared_differential(&mut gate, &mut plain).await;
    println!(
        "prepared statements: {prepared_same} same, {} wrong",
        prepared_wrong.len()
    );
    tally.wrong.extend(prepared_wrong);
    for (setup, checks) in dml_sequences() {
        for sql in &setup {
            exec_both(&mut gate, &mut plain, sql).await;
        }
        for q in &checks {
            tally.check(&mut gate, &mut plain, q).await;
        }
    }
    for (sql, runs) in prepared_dml() {
        for params in runs {
            let want = plain.exec_drop(sql, params.clone()).await;
            let got = gate.exec_drop(sql, params.clone()).await;
            match (want, got) {
                (Ok(()), Ok(())) if gate.affected_rows() == plain.affected_rows() => {}
                (Err(_), Err(_)) => {}
                (w, g) => tally.wrong.push(format!(
                    "{sql} {params:?}\n   mariadb {w:?} ({} rows), vtgate {g:?} ({} rows)",
                    plain.affected_rows(),
                    gate.affected_rows()
                )),
            }
        }
    }
    for sql in risky_dml() {
        match gate.query_drop(sql).await {
            Ok(()) => {
                let affected = gate.affected_rows();
                plain
                    .query_drop(sql)
                    .await
                    .unwrap_or_else(|e| panic!("plain: {sql}: {e}"));
                if affected != plain.affected_rows() {
                    tally.wrong.push(format!(
                        "{sql}\n   affected rows: vtgate {affected}, mariadb {}",
                        plain.affected_rows()
                    ));
                }
            }
            Err(mysql_async::Error::Server(e))
                if e.code == 1235 && e.message.contains("VT12001") =>
            {
                tally.unsupported.push(format!("{sql} -> {}", e.message));
            }
            Err(e) => {
                if plain.query_drop(sql).await.is_ok() {
                    tally.wrong.push(format!("{sql}\n   vtgate error {e}"));
                }
            }
        }
    }
    // Random DML: the same effect (affected rows here, whole tables below) or a refusal. What
    // vtgate refuses runs on MariaDB inside a rolled-back transaction, to tell which.
    let dml_count = std::env::var("DIFF_RANDOM_DML")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(RANDOM_DML);
    for sql in random_dml(seed, dml_count) {
        match gate.query_drop(&sql).await {
            Ok(()) => {
                let affected = gate.affected_rows();
                match plain.query_drop(&sql).await {
                    Ok(()) if plain.affected_rows() == affected => tally.same += 1,
                    other => tally.wrong.push(format!(
                        "{sql}\n   vtgate changed {affected} rows, mariadb {other:?} ({} rows)",
                        plain.affected_rows()
                    )),
                }
            }
            Err(e) => {
                plain.query_drop("start transaction").await.unwrap();
                let on_plain = plain.query_drop(&sql).await;
                plain.query_drop("rollback").await.unwrap();
                match (e, on_plain) {
                    (_, Err(_)) => tally.both_failed.push(format!("{sql} (DML)")),
                    (mysql_async::Error::Server(e), Ok(()))
                        if e.code == 1235 && e.message.contains("VT12001") =>
                    {
                        tally.unsupported.push(format!("{sql} -> {}", e.message));
                    }
                    (e, Ok(())) => tally.wrong.push(format!("{sql}\n   vtgate error {e}")),
                }
            }
        }
    }
    for sql in [
        "select * from customer order by customer_id",
        "select * from corder order by order_id",
    ] {
        tally
            .check(
                &mut gate,
                &mut plain,
                &Query {
                    sql: sql.into(),
                    ordered: true,
                },
            )
            .await;
    }
    println!(
        "sharded differential ({} shards): {} queries, {} same, {} same but for the spelling of a _ci group, \
         {} VT12001, {} failed on both, {} wrong",
        shards.len(),
        tally.same
            + tally.same_ci
            + tally.unsupported.len()
            + tally.both_failed.len()
            + tally.wrong.len(),
        tally.same,
        tally.same_ci,
        tally.unsupported.len(),
        tally.both_failed.len(),
        tally.wrong.len()
    );
    for u in &tally.unsupported {
        println!("  unsupported: {u}");
    }
    for f in &tally.both_failed {
        println!("  failed on both: {f}");
    }
    for w in &tally.wrong {
        println!("WRONG: {w}");
    }
    println!("column names differ in {} queries", tally.names.len());
    for n in &tally.names {
        println!("NAMES: {n}");
    }
    assert!(
        tally.wrong.is_empty(),
        "{} wrong answers",
        tally.wrong.len()
    );
    assert!(
        tally.names.is_empty(),
        "{} answers with other column names than MariaDB's",
        tally.names.len()
    );
    assert!(
        tally.same + tally.same_ci >= all.len() / 2,
        "too few queries answered"
    );
    drop(gate);
    drop(cluster);
    drop_database(&plain_db);
}
