//! Differential test of routing by a multi-column vindex: a table on
//! `multicol(a, b)` (one byte of `a`'s hash, seven of `b`'s) over three
//! shards whose boundary `40 80` splits the key range of every `a` whose
//! hash starts with 0x40, so a route on `a` alone (`SubShard`) must reach
//! two shards. Rows are inserted through the engine; every row must sit on
//! the shard of its keyspace id, and every query, UPDATE and DELETE must
//! give what one plain MariaDB database gives.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sql::literal::{BindValue, BindVars};
use vschema::{Destination, Value, Vindex};

use super::{cells, crate_rows, opts, run, sorted, Cluster};

const SHARDS: [&str; 3] = ["-4080", "4080-c0", "c0-"];

const VSCHEMA: &str = r#"{"keyspaces": {"mk": {"sharded": true,
  "vindexes": {"mc": {"type": "multicol",
                      "params": {"column_count": "2", "column_bytes": "1,7"}}},
  "tables": {"mc": {"column_vindexes": [{"columns": ["a", "b"], "name": "mc"}]}}}}}"#;

const SCHEMA: &str = "create table mc (a bigint, b bigint, v varchar(10), n int, \
                      primary key (a, b))";

async fn setup() -> Result<Cluster, mysql_async::Error> {
    let tag = format!("engine_mcdiff_{}", std::process::id());
    let mut admin = Conn::new(opts(None)).await?;
    let mut dbs = Vec::new();
    for suffix in ["s0", "s1", "s2", "plain"] {
        let db = format!("{tag}_{suffix}");
        admin
            .query_drop(format!("drop database if exists {db}"))
            .await?;
        admin.query_drop(format!("create database {db}")).await?;
        admin.query_drop(format!("use {db}")).await?;
        admin.query_drop(SCHEMA).await?;
        dbs.push(db);
    }
    Cluster::connect(&SHARDS, dbs).await
}

/// The smallest `a` whose hash starts with 0x40: its key range straddles
/// the boundary between the first two shards.
fn straddling_a(vindex: &dyn Vindex) -> i64 {
    (1..100_000)
        .find(|&a| {
            matches!(vindex.map_rows(&[vec![Value::Int(a)]]).as_deref(),
                Ok([Destination::KeyRange(r)]) if r.start.first() == Some(&0x40))
        })
        .expect("some value hashes to 0x40..")
}

/// Rows for `a` in 1..=8 and the straddling value, `b` in 1..=20.
fn initial_insert(s: i64) -> String {
    let mut rows = Vec::new();
    for a in (1..=8).chain([s]) {
        for b in 1..=20 {
            rows.push(format!("({a}, {b}, 'v{}', {})", (a * b) % 7, (a + b) % 5));
        }
    }
    format!("insert into mc (a, b, v, n) values {}", rows.join(", "))
}

fn dml(s: i64) -> Vec<String> {
    [
        "update mc set v = 'u1' where a = 2 and b = 3",
        "update mc set n = n + 10 where a = S",
        "update mc set v = 'u2' where a in (1, 5) and b in (1, 2, 3)",
        "delete from mc where (a, b) in ((3, 3), (S, 4), (null, 5))",
        "delete from mc where a = 6",
        "update mc set v = 'lim' where a = 7 and b = 1 limit 1",
        "update mc set v = 'or' where a = 8 and b = 8 or a = S and b = 9",
        "delete from mc where b = 20 and a in (S, 4, 999)",
        "insert into mc (a, b, v, n) values (100, 1, 'new', 1), (S, 100, 'n2', 2)",
    ]
    .iter()
    .map(|q| q.replace('S', &s.to_string()))
    .collect()
}

/// Queries and whether their ORDER BY fixes the row order.
fn queries(s: i64) -> Vec<(String, bool)> {
    [
        ("select * from mc where a = 3 and b = 5", false),
        ("select * from mc where b = 5 and a = S", false),
        ("select * from mc where (a, b) = (2, 7)", false),
        (
            "select * from mc where a in (1, 2, S) and b in (3, 4, 5)",
            false,
        ),
        (
            "select * from mc where (a, b) in ((1, 2), (S, 3), (5, 19), (null, 2), (2, 99))",
            false,
        ),
        (
            "select * from mc where (a, n) in ((1, 3), (2, 4)) and b = 2",
            false,
        ),
        ("select * from mc where a = S", false),
        ("select * from mc where a = 4", false),
        ("select count(*), sum(n) from mc where a = S", true),
        (
            "select a, count(*) from mc where a in (3, S) group by a",
            false,
        ),
        ("select * from mc where a in (3, S)", false),
        (
            "select * from mc where a = 1 and b = 2 or a = S and b = 9",
            false,
        ),
        ("select * from mc where a = '3' and b = '04'", false),
        ("select * from mc where a = 3.0 and b = 4", false),
        ("select * from mc where a = null and b = 1", false),
        ("select * from mc where a in (null, 2) and b = 3", false),
        ("select a, b from mc where b = 3", false),
        (
            "select * from mc where a = 2 and b = 2 order by v limit 1",
            true,
        ),
        (
            "select * from mc where a = S and b > 10 order by b desc limit 3",
            true,
        ),
        ("select * from mc where a = 999 and b = 1", false),
        ("select * from mc where a = 100 or a = S", false),
        ("select * from mc order by a, b", true),
    ]
    .iter()
    .map(|(q, o)| (q.replace('S', &s.to_string()), *o))
    .collect()
}

/// Shapes planned once with bind variables, run with values of several types.
const BIND_SHAPES: &[&str] = &[
    "select * from mc where a = :x and b = :y",
    "select * from mc where a = :x",
    "select * from mc where a in (:x, 2) and b = :y",
];

fn bind_values(s: i64) -> Vec<(BindValue, BindValue)> {
    let text = |v: &str| BindValue::VarChar(v.as_bytes().to_vec());
    vec![
        (BindValue::Int64(3), BindValue::Int64(4)),
        (BindValue::Int64(s), BindValue::Int64(7)),
        (text("3"), text("4")),
        (text("03"), BindValue::Int64(4)),
        (BindValue::Decimal("3.0".into()), BindValue::Int64(4)),
        (text("3abc"), BindValue::Int64(4)),
        (BindValue::Null, BindValue::Int64(4)),
        (BindValue::Int64(3), BindValue::Null),
        (BindValue::Uint64(u64::MAX), BindValue::Int64(1)),
    ]
}

/// Every row of every shard must be on the shard of its keyspace id; the
/// straddling `a` must have rows on both shards it spans.
async fn check_placement(cluster: &Cluster, vindex: &dyn Vindex, s: i64) -> Vec<String> {
    let mut failures = Vec::new();
    let mut straddler_shards = Vec::new();
    for (i, shard) in SHARDS.iter().enumerate() {
        let conn = &cluster.shards[*shard];
        let r = run(&mut *conn.lock().await, "select a, b from mc")
            .await
            .unwrap();
        for row in cells(&r) {
            let num = |c: &Option<Vec<u8>>| {
                let text = String::from_utf8_lossy(c.as_deref().unwrap_or_default()).into_owned();
                text.parse::<i64>().unwrap()
            };
            let (a, b) = (num(&row[0]), num(&row[1]));
            let dest = vindex
                .map_rows(&[vec![Value::Int(a), Value::Int(b)]])
                .unwrap();
            if dest[0].resolve(&SHARDS).unwrap() != [i] {
                failures.push(format!("row ({a}, {b}) on shard {shard}, not its own"));
            }
            if a == s && !straddler_shards.contains(&i) {
                straddler_shards.push(i);
            }
        }
    }
    straddler_shards.sort_unstable();
    if straddler_shards != [0, 1] {
        failures.push(format!(
            "rows of a = {s} on shards {straddler_shards:?}, want both halves of its key range"
        ));
    }
    failures
}

async fn compare(cluster: &Cluster, vschema: &vschema::VSchema, s: i64) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut compared = 0;
    let plan = |sql: &str| engine::planner::plan(&sql::parse::parse(sql).unwrap(), vschema, None);
    for sql in std::iter::once(initial_insert(s)).chain(dml(s)) {
        let got = match plan(&sql) {
            Ok(p) => p.execute(cluster, &BindVars::default()).await,
            Err(e) => Err(e),
        };
        let want = run(&mut *cluster.plain.lock().await, &sql).await.unwrap();
        match got {
            Ok(r) if r.rows_affected == want.rows_affected && want.rows_affected > 0 => {}
            Ok(r) => failures.push(format!(
                "{sql}: {} rows affected, want {}",
                r.rows_affected, want.rows_affected
            )),
            Err(e) => failures.push(format!("{sql}: {e}")),
        }
    }
    for (sql, ordered) in queries(s) {
        let want = run(&mut *cluster.plain.lock().await, &sql).await.unwrap();
        compared += want.rows.len();
        let got = match plan(&sql) {
            Ok(p) => p.execute(cluster, &BindVars::default()).await,
            Err(e) => Err(e),
        };
        match got {
            Ok(got) if sorted(cells(&got), ordered) == sorted(cells(&want), ordered) => {}
            Ok(got) => failures.push(format!(
                "{sql}: rows differ\n got {:?}\nwant {:?}",
                crate_rows(&got),
                crate_rows(&want)
            )),
            Err(e) => failures.push(format!("{sql}: {e}")),
        }
    }
    for shape in BIND_SHAPES {
        let p = plan(shape).unwrap();
        for (x, y) in bind_values(s) {
            let vars = BindVars::from_iter([("x".to_string(), x), ("y".to_string(), y)]);
            let literal = engine::bind::substitute(shape, &vars).unwrap();
            let want = run(&mut *cluster.plain.lock().await, &literal)
                .await
                .unwrap();
            compared += want.rows.len();
            match p.execute(cluster, &vars).await {
                Ok(got) if sorted(cells(&got), false) == sorted(cells(&want), false) => {}
                Ok(got) => failures.push(format!(
                    "{literal}: rows differ\n got {:?}\nwant {:?}",
                    crate_rows(&got),
                    crate_rows(&want)
                )),
                Err(e) => failures.push(format!("{literal}: {e}")),
            }
        }
    }
    (failures, compared)
}

/// The variants the planner picks for the shapes above, so the test is
/// known to exercise each of them.
fn check_variants(vschema: &vschema::VSchema, s: i64) -> Vec<String> {
    let expect = [
        ("select * from mc where b = 5 and a = S", "EqualUnique"),
        (
            "select * from mc where a in (1, 2, S) and b in (3, 4, 5)",
            "IN",
        ),
        (
            "select * from mc where (a, b) in ((1, 2), (S, 3))",
            "MultiEqual",
        ),
        ("select * from mc where a = S", "SubShard"),
        ("update mc set n = n + 10 where a = S", "SubShard"),
        (
            "delete from mc where (a, b) in ((3, 3), (S, 4))",
            "MultiEqual",
        ),
        ("select a, b from mc where b = 3", "Scatter"),
    ];
    let mut failures = Vec::new();
    for (sql, variant) in expect {
        let sql = sql.replace('S', &s.to_string());
        let stmt = sql::parse::parse(&sql).unwrap();
        let d = engine::planner::plan(&stmt, vschema, None)
            .unwrap()
            .description()
            .to_json();
        if d["Variant"] != variant {
            failures.push(format!("{sql}: variant {}, want {variant}", d["Variant"]));
        }
    }
    failures
}

#[tokio::test]
async fn multicol_routes_match_one_database() {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    assert_eq!(vschema.keyspace_errors().count(), 0);
    let cluster = match setup().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("MariaDB not available, skipped: {e}");
            return;
        }
    };
    let vindex = vschema.keyspace("mk").unwrap().vindexes["mc"].clone();
    let s = straddling_a(vindex.as_ref());
    let mut failures = check_variants(&vschema, s);
    let (diffs, compared) = compare(&cluster, &vschema, s).await;
    failures.extend(diffs);
    failures.extend(check_placement(&cluster, vindex.as_ref(), s).await);
    let mut admin = Conn::new(opts(None)).await.unwrap();
    for db in &cluster.dbs {
        admin
            .query_drop(format!("drop database {db}"))
            .await
            .unwrap();
    }
    println!("multicol: {compared} rows compared, straddling a = {s}");
    assert!(compared > 300, "too few rows compared: {compared}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
