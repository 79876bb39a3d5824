//! Differential test against real MariaDB: the same rows loaded into two
//! "shard" databases (split by the `hash` vindex, as vtgate would place
//! them) and into one plain database; every query planned and executed by
//! the engine over the shards must return exactly what the plain database
//! returns. Uses MariaDB at 127.0.0.1:3306 (root, no password) with
//! databases unique to this run; skipped when MariaDB is not reachable.

use std::collections::HashMap;

use async_trait::async_trait;
use engine::{EngineError, ShardQuery, VCursor};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};
use proto::query::{Field, QueryResult, Row as ProtoRow};
use tokio::sync::Mutex;

mod differential_binds;
mod differential_multicol;

const SHARDS: [&str; 2] = ["-80", "80-"];

const VSCHEMA: &str = r#"{"keyspaces": {"ks": {"sharded": true,
  "vindexes": {"hash": {"type": "hash"}, "other_hash": {"type": "hash"}},
  "tables": {
    "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
    "extra": {"column_vindexes": [{"column": "user_id", "name": "hash"}],
              "columns": [{"name": "user_id", "type": "INT64"}, {"name": "k", "type": "INT32"},
                          {"name": "v", "type": "VARCHAR"}],
              "column_list_authoritative": true},
    "ref": {"type": "reference"},
    "elsewhere": {"column_vindexes": [{"column": "user_id", "name": "other_hash"}]},
    "auto_t": {"column_vindexes": [{"column": "id", "name": "hash"}],
               "auto_increment": {"column": "id", "sequence": "seqks.auto_seq"}}}},
  "seqks": {"tables": {"auto_seq": {"type": "sequence"}}}}}"#;

const SCHEMA: &[&str] = &[
    "create table user (id bigint primary key, name varchar(20) collate utf8mb4_general_ci, \
     col int, x decimal(10,2), f double, b varbinary(8))",
    "create table extra (user_id bigint, k int, v varchar(10), primary key (user_id, k))",
    "create table ref (id int primary key, label varchar(10))",
    "create table auto_t (id bigint primary key, v varchar(10))",
    "create table auto_seq (id int, next_id bigint, cache bigint, primary key (id))",
    "insert into auto_seq values (0, 1, 1000)",
];

/// One connection per database: the shards of the sharded keyspace (in key order), and
/// `plain`, which also serves the unsharded keyspace `seqks`.
struct Cluster {
    shard_names: Vec<String>,
    shards: HashMap<String, Mutex<Conn>>,
    plain: Mutex<Conn>,
    dbs: Vec<String>,
}

impl Cluster {
    /// Connects to the databases of a loaded fixture: one per shard of `shard_names`, in order,
    /// then the plain database holding every row.
    async fn connect(shard_names: &[&str], dbs: Vec<String>) -> Result<Self, mysql_async::Error> {
        let mut shards = HashMap::new();
        for (s, db) in shard_names.iter().zip(&dbs) {
            shards.insert(s.to_string(), Mutex::new(Conn::new(opts(Some(db))).await?));
        }
        let plain = Mutex::new(Conn::new(opts(Some(&dbs[shard_names.len()]))).await?);
        Ok(Cluster {
            shard_names: shard_names.iter().map(|s| s.to_string()).collect(),
            shards,
            plain,
            dbs,
        })
    }
}

fn opts(db: Option<&str>) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(3306)
        .user(Some("root"))
        .db_name(db)
}

fn to_result(columns: &[mysql_async::Column], rows: &[Row]) -> QueryResult {
    let fields = columns
        .iter()
        .map(|c| {
            let flags = u32::from(c.flags().bits());
            let charset = u32::from(c.character_set());
            let mut f = Field {
                name: c.name_str().into_owned(),
                charset,
                flags,
                decimals: u32::from(c.decimals()),
                ..Field::default()
            };
            f.set_type(proto::sqltypes::type_from_mysql(
                c.column_type() as u8,
                flags,
                charset,
            ));
            f
        })
        .collect();
    let rows = rows
        .iter()
        .map(|r| {
            let mut out = ProtoRow::default();
            for i in 0..r.len() {
                match r.as_ref(i) {
                    Some(Value::Bytes(b)) => out.push(Some(b)),
                    _ => out.push(None),
                }
            }
            out
        })
        .collect();
    QueryResult {
        fields,
        rows,
        ..Default::default()
    }
}

async fn run(conn: &mut Conn, sql: &str) -> Result<QueryResult, mysql_async::Error> {
    let mut result = conn.query_iter(sql).await?;
    let columns = result.columns().map(|c| c.to_vec()).unwrap_or_default();
    let affected = result.affected_rows();
    let insert_id = result.last_insert_id().unwrap_or(0);
    let rows: Vec<Row> = result.collect().await?;
    let mut out = to_result(&columns, &rows);
    if columns.is_empty() {
        out.rows_affected = affected;
        out.insert_id = insert_id;
    }
    Ok(out)
}

#[async_trait]
impl VCursor for Cluster {
    fn shards(&self, keyspace: &str) -> engine::Result<Vec<String>> {
        Ok(match keyspace {
            "seqks" => vec!["0".to_string()],
            _ => self.shard_names.clone(),
        })
    }

    async fn execute_multi(
        &self,
        ks: &str,
        queries: &[ShardQuery],
    ) -> engine::Result<Vec<QueryResult>> {
        let mut out = Vec::new();
        for q in queries {
            let conn = match ks {
                "seqks" => &self.plain,
                _ => self
                    .shards
                    .get(&q.shard)
                    .ok_or_else(|| EngineError::BadResult("no shard".into()))?,
            };
            let r = run(&mut *conn.lock().await, &q.sql)
                .await
                .map_err(|e| EngineError::Cursor(Box::new(e)))?;
            out.push(r);
        }
        Ok(out)
    }

    fn max_memory_rows(&self) -> usize {
        10_000
    }
}

/// Deterministic rows: ids spread over both shards, NULLs, mixed case, negatives.
fn rows() -> Vec<String> {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let names = [
        "alice", "Bob", "ALICE", "carol", "bob ", "dave", "Eve", "eve", "eve\\t", "carl\\t ",
    ];
    (1..=200)
        .map(|id| {
            let name = match next() % 10 {
                0 => "NULL".to_string(),
                n => format!("'{}'", names[n as usize % names.len()]),
            };
            let col = match next() % 7 {
                0 => "NULL".to_string(),
                n => format!("{}", (n as i64) - 3),
            };
            let x = format!("{}.{:02}", (next() % 2000) as i64 - 1000, next() % 100);
            let f = format!("{}", (next() % 1000) as f64 / 8.0);
            let b = format!("0x{:02x}{:02x}", next() % 256, next() % 256);
            format!("({id}, {name}, {col}, {x}, {f}, {b})")
        })
        .collect()
}

async fn setup(vschema: &vschema::VSchema) -> Result<Cluster, mysql_async::Error> {
    let tag = format!("engine_diff_{}", std::process::id());
    let mut admin = Conn::new(opts(None)).await?;
    let mut dbs = Vec::new();
    for suffix in ["s0", "s1", "plain"] {
        let db = format!("{tag}_{suffix}");
        admin
            .query_drop(format!("drop database if exists {db}"))
            .await?;
        admin.query_drop(format!("create database {db}")).await?;
        for stmt in SCHEMA {
            admin.query_drop(format!("use {db}")).await?;
            admin.query_drop(*stmt).await?;
        }
        dbs.push(db);
    }
    let hash = vschema.keyspace("ks").unwrap().vindexes["hash"].clone();
    for row in rows() {
        let id: i64 = row[1..row.find(',').unwrap()].parse().unwrap();
        let dest = hash.map(&[vschema::Value::Int(id)]).unwrap().remove(0);
        let shard = dest.resolve(&SHARDS).unwrap()[0];
        let k = id % 3;
        for db in [&dbs[shard], &dbs[2]] {
            admin
                .query_drop(format!("insert into {db}.user values {row}"))
                .await?;
            for j in 0..k {
                admin
                    .query_drop(format!(
                        "insert into {db}.extra values ({id}, {j}, 'v{}')",
                        (id + j) % 4
                    ))
                    .await?;
            }
        }
    }
    for db in &dbs {
        admin
            .query_drop(format!(
                "insert into {db}.ref values (1, 'one'), (2, 'two'), (-1, 'neg')"
            ))
            .await?;
    }
    Cluster::connect(&SHARDS, dbs).await
}

/// DML run through the engine and on the plain database before the queries.
/// DML statements whose ids the engine takes from a sequence, each with the
/// plain database's version.
const SEQUENCE_DML: &[(&str, &str)] = &[
    (
        "insert into auto_t (v) values ('a'), ('b'), ('c')",
        "insert into auto_t (id, v) values (1, 'a'), (2, 'b'), (3, 'c')",
    ),
    (
        "insert into auto_t (v) select label from ref order by id",
        "insert into auto_t (id, v) values (4, 'neg'), (5, 'one'), (6, 'two')",
    ),
    (
        "insert into auto_t (id, v) select null, 'n' from ref where id = 1",
        "insert into auto_t (id, v) values (7, 'n')",
    ),
];

const DML: &[&str] = &[
    "insert into user (id, name, col, x, f, b) values (1001, 'new', 1, 1.00, 0.5, 0x01), \
     (1002, 'New2', 2, -2.50, 1.5, 0x02), (1003, null, null, 0, 0, 0x03), (1004, 'it''s', 3, 4.5, 2, 'x')",
    "insert into user (id, name, col, x, f, b) values (-5, 'neg', -1, -0.01, -1, '')",
    "update user set col = 9 where id = 11 or (id = 12 and col is null) or id in (13, 1001)",
    "delete from extra where (user_id, k) in ((20, 0), (21, 1), (22, 5))",
    "insert into extra values (20, 77, 'auth'), (1001, 70, 'x')",
    "insert into extra (user_id, k, v) values (1001, 1, 'a'), (1004, 1, 'b\\c')",
    "update user set col = col + 1 where id = 1002",
    "update user set name = 'upd' where col = 2",
    "update user set x = x * 2 where id in (7, 8, 9, 1004)",
    "delete from user where id in (1001, 5)",
    "delete from user where col is null and id > 150",
    "delete from extra where user_id = 1004 and v = 'b\\c'",
    "delete from extra where user_id in (select id from user where col = 3)",
    "insert into extra (user_id, k, v) select id, 7, name from user where id between 20 and 60 and name is not null",
    "update user set x = x + 1 where id in (select user_id from extra where k = 1) and col = 0",
];

/// Queries and whether their ORDER BY fixes the row order completely.
const QUERIES: &[(&str, bool)] = &[
    ("select * from user where id = 7", true),
    // OR of vindex values (IN), tuples (MultiEqual), NULL lists (None).
    (
        "select id, name from user where id = 3 or id = 7 or (id = 150 and col > 0)",
        false,
    ),
    (
        "select id from user where (id = 5 and name = 'x') or (id = 5 and col is not null)",
        false,
    ),
    (
        "select id, col from user where (id, col) in ((1, 3), (2, -1), (7, col), ('8', 2))",
        false,
    ),
    (
        "select id from user where ((id, col), name) in (((4, 1), 'bob'), ((9, 2), 'EVE'))",
        false,
    ),
    ("select id, name from user where (id, name) = (7, name)", false),
    ("select count(*) from user where id in (null)", true),
    ("select id from user where id not in (null, 1, 2)", false),
    ("select id from user where 1 = 0", false),
    ("select id, col from user where user.id = user.col and user.col = 2", false),
    ("select id, col from user where id = col and col = 3 or id = 150", false),
    ("select 42 from dual where false", true),
    ("select count(*), 42 from dual where 1 = 0", true),
    // SUM(DISTINCT): shards group by the argument, vtgate sums distinct values.
    (
        "select col, count(distinct x), sum(distinct x) from user group by col",
        false,
    ),
    ("select sum(distinct col), count(distinct col), count(*) from user", true),
    ("select col, sum(distinct id) from user where id < 90 group by col order by col", true),
    ("select sum(distinct f) from user where id > 100", true),
    ("select sum(distinct x) from user where id = 0", true),
    ("select id, name from user where id in (9) order by name limit 1", true),
    ("select id, col from user where id = 1 or 2 < 1 or id = 3 * 5 - 1", false),
    ("select id from user where 2 > 1 and (id = 12 or id in (13, 14))", false),
    (
        "select id, name from user where id in (1, 2, 3, 150, 999)",
        false,
    ),
    ("select id, name from user where id = null", true),
    ("select * from user", false),
    ("select id, name from user order by id desc limit 7", true),
    ("select id from user order by id limit 5 offset 11", true),
    ("select id, x from user order by x, id limit 20", true),
    ("select id, f from user order by f desc, id", true),
    ("select name, id from user order by name, id", true),
    ("select id from user order by col, id desc", true),
    ("select id from user order by b, id", true),
    (
        "select count(*), count(name), sum(x), min(x), max(x), avg(x), avg(col), sum(f) from user",
        true,
    ),
    ("select count(*) from user where id = null", true),
    (
        "select sum(col), avg(x), min(name), max(name) from user where id = 0",
        true,
    ),
    (
        "select col, count(*), sum(x), avg(x) from user group by col",
        true,
    ),
    (
        "select lower(name), count(*), max(id) from user group by lower(name)",
        false,
    ),
    (
        "select col, count(distinct name) from user group by col",
        true,
    ),
    ("select count(distinct col), count(*) from user", true),
    ("select distinct col from user", false),
    ("select distinct lower(name) from user", false),
    ("select * from user where id > 100 order by name, id", true),
    (
        "select col, count(*) as c from user group by col order by c desc, col limit 3",
        true,
    ),
    (
        "select col, sum(x) from user where id in (1,2,3,4,5,6,7,8,9,10) group by col order by 2",
        true,
    ),
    (
        "select u.id, e.k, e.v from user u join extra e on u.id = e.user_id order by u.id, e.k",
        true,
    ),
    (
        "select u.id, count(*) from user u join extra e on u.id = e.user_id group by u.id",
        true,
    ),
    (
        "select u.id, e.k from user u left join extra e on u.id = e.user_id where u.id < 20",
        false,
    ),
    (
        "select u.id, r.label from user u join ref r on u.col = r.id order by u.id",
        true,
    ),
    (
        "select trim(lower(e.v)), count(*), sum(e.k) from extra e group by trim(lower(e.v))",
        true,
    ),
    ("select * from ref order by id", true),
    ("select u.id, e.k * 2 + 1 from user u left join extra e on e.k = u.col where u.id < 25", false),
    ("select u.id, count(e.k), count(*), sum(e.k) from user u left join extra e on e.k = u.col + 1 where u.id < 30 group by u.id", false),
    ("select col from user group by col order by count(*) desc, col", true),
    ("select col, sum(x) from user group by col having count(*) > 5 order by max(id) desc", true),
    ("select u.col from user u join extra e on e.k = u.col group by u.col order by sum(e.k) desc, u.col", true),
    ("select * from auto_t order by id", true),
    ("select next_id from auto_seq", true),
    ("select t.n, count(*), sum(t.x) from (select id, lower(name) as n, x from user where id < 150) as t group by t.n", false),
    ("select * from (select id, col from user where id = 7) t", true),
    ("select max(t.id) from (select id from user where col = 1) as t", true),
    ("select t.id from (select id, name from user) t order by t.name, t.id limit 5", true),
    ("select u.col, max(e.v) from user u join extra e on e.k = u.col group by u.col having count(*) > 100 and sum(e.k) >= 0", false),
    ("select u.col, count(*), count(e.v), sum(e.k), avg(e.k), min(e.v), max(u.id) from user u join extra e on e.k = u.col group by u.col", false),
    ("select count(*), sum(u.x), avg(u.x) from user u join extra e on e.k + 1 = u.col", true),
    ("select distinct e.v from user u join extra e on e.k = u.col where u.id < 30", false),
    ("select u.col, count(distinct e.v), count(e.k) from user u left join extra e on e.k = u.col + 5 group by u.col", false),
    ("select e.v, count(*) as n from extra e join user u on u.col = e.k group by e.v order by n desc, e.v limit 2", true),
    ("select id, name from user where id in (select user_id from extra where k = 1) and col > 0", false),
    ("select id from user where col not in (select k from extra where user_id < 9) and id < 40", false),
    ("select id from user where col not in (select k from extra where user_id < 0)", false),
    ("select id from user where id = (select min(user_id) from extra where user_id > 1)", true),
    ("select count(*) from user where exists (select 1 from ref where id = 2) and col = 1", true),
    ("select count(*) from user where not exists (select 1 from ref where id = 7)", true),
    // Correlated subqueries merged into the outer route (correlation on the shared vindex
    // column, or a reference table inside).
    ("select u.id from user u where exists (select 1 from extra e where e.user_id = u.id and e.k > 0)", false),
    ("select u.id from user u where not exists (select 1 from extra e where e.user_id = u.id)", false),
    ("select u.id, u.name from user u where u.id in (select e.user_id from extra e where e.user_id = u.id and e.k > 0)", false),
    ("select u.id, (select count(*) from extra e where e.user_id = u.id) from user u", false),
    ("select u.id, (select sum(e.k) from extra e where e.user_id = u.id) as s from user u order by s desc, u.id limit 7", true),
    ("select u.id, u.col from user u where u.col > (select min(e.k) from extra e where e.user_id = u.id)", false),
    ("select u.id from user u where exists (select 1 from ref r where r.id = u.col)", false),
    ("select count(*), sum(u.col) from user u where exists (select 1 from extra e where e.user_id = u.id)", true),
    ("select u.id, (select count(*) from extra e where e.user_id = u.id) from user u where u.id in (3, 17, 150)", false),
    ("select u.id from user u where u.col < 0 or exists (select 1 from extra e where e.user_id = u.id and e.k = 1)", false),
    ("select u.id from user u where u.id = 5 and exists (select 1 from extra e where u.id = e.user_id)", true),
    // Window functions whose partitions span shards, computed in vtgate.
    ("select id, row_number() over (partition by col order by id) as rn from user", false),
    ("select id, rank() over (order by col) as r, dense_rank() over (order by col desc) as d from user order by id", true),
    ("select id, count(*) over (partition by col) as c, sum(x) over (partition by col) as s, count(x) over () as n from user", false),
    ("select id, sum(x) over (partition by col order by id) as running, avg(x) over (partition by col) as a, avg(col) over (order by col) as ac from user where id < 100", false),
    ("select id, lag(x) over (order by id) as p, lead(col, 2) over (partition by col order by id) as n, lag(name, 0) over (order by id) as same from user", false),
    ("select id, min(id) over (partition by col) as m, max(x) over (order by col) as mx, sum(f) over (partition by col) as sf from user", false),
    ("select id, row_number() over (order by x desc, id) as rn from user order by rn limit 5", true),
    ("select id, col, row_number() over (order by id desc) as rn from user where id > 10 order by col, rn desc limit 7 offset 2", true),
    ("select id, count(x) over (partition by x is null) as c from user", false),
    ("select name, row_number() over (partition by name order by id) as rn from user", false),
    ("select u.id, sum(u.col) over (partition by u.col % 3 order by u.id) as s from user u where u.col is not null order by u.id", true),
    ("select id, rank() over (partition by col order by x) as r from user order by id", true),
    // ... over a nested-loop join's, a co-located join's and a derived table's rows.
    ("select u.id, e.k, row_number() over (partition by u.col order by u.id, e.k) as rn from user u join extra e on e.k = u.col where u.id < 50", false),
    ("select u.id, e.k, count(*) over (partition by e.k) as n, lag(e.v) over (order by u.id, e.k) as p from user u join extra e on e.user_id = u.id", false),
    ("select t.c, t.n, rank() over (order by t.n desc) as r from (select col as c, count(*) as n from user group by col) t", false),
    ("select t.id, sum(t.x) over (order by t.id) as s from (select id, x from user where id < 40 order by id limit 20) t order by t.id", true),
    // The outer WHERE narrows a derived join's own routing (and still filters its rows).
    ("select t.id, t.k from (select u.id, e.k from user u join extra e on e.k = u.col) t where t.id = 5", false),
    ("select t.id, t.v from (select u.id, e.v from user u left join extra e on e.user_id = u.id) t where t.id in (3, 17, 150) and t.v is null", false),
    ("select t.uid, t.n from (select u.id as uid, u.name as n, e.k from user u join extra e on e.k = u.col) t where t.k = 2 and t.n like 'a%'", false),
    ("select count(*), max(t.k) from (select u.id, e.k from user u join extra e on e.k = u.col) t where t.id > 100 or t.k = 1", false),
    ("select t.id from (select u.id, e.k from user u join extra e on e.user_id = u.id where e.k > 0) t where t.id = 7 order by t.id, t.k", true),
    // A row-by-row derived table merged into the query over it: its expressions, grouping
    // and ordering planned as if written on the joined tables.
    ("select t.id div 10 as d, lower(t.name) as ln, t.k from (select u.id, u.name, e.k from user u join extra e on e.k = u.col) t where t.id < 50", false),
    ("select t.c, count(*) as cnt, sum(t.k) as s from (select u.col as c, e.k from user u join extra e on e.k = u.col) t group by t.c order by t.c", true),
    ("select * from (select u.id, e.k as kk from user u join extra e on e.user_id = u.id where e.k > 0) t where t.kk < 3 order by t.id, t.kk", true),
    ("select t.p * 2 as p2, t.id from (select u.x + 1 as p, u.id from user u join extra e on e.k = u.col) t where t.id in (3, 17, 40)", false),
    ("select t.id + 1 as k from (select u.id, e.k from user u join extra e on e.k = u.col) t order by k desc limit 5", true),
    ("select t.a, t.b from (select u.id as a, e.k as b, 2 as two from user u join extra e on e.user_id = u.id) t order by t.two, t.b desc, t.a", true),
    ("select t.id + 1 as col, t.col as c from (select u.id, u.col from user u join extra e on e.k = u.col) t order by t.col, col", true),
    ("select t.id, t.v from (select u.id, e.v from user u left join extra e on e.user_id = u.id and e.k = 1) t where t.id < 30 and coalesce(t.v, 'none') <> 'x' order by t.id", true),
    // A parenthesized group with a LEFT JOIN, inner-joined: flattened into the chain.
    ("select u.id, e.k, r.label from user u join (extra e left join ref r on r.id = e.k) on e.user_id = u.col where u.id < 60", false),
    ("select e.k, u.id, x.v from (extra e left join user u on u.id = e.user_id + 1) join extra x on x.user_id = e.user_id and x.k = e.k", false),
    ("select u.id, count(w.id) as n from user u join (extra e left join user w on w.col = e.k) on e.user_id = u.id group by u.id order by u.id", true),
    // A group the chain cannot take in place (on the right of a LEFT JOIN, or before a RIGHT
    // JOIN), planned as a derived table.
    ("select u.id, e.k, w.id as wid from user u left join (extra e join user w on w.col = e.k) on e.user_id = u.id where u.id < 40", false),
    ("select r.id, u.id as uid, e.k from user u join extra e on e.user_id = u.id right join ref r on r.id = u.col", false),
    ("select u.id, count(w.id) as n from user u left join (extra e join user w on w.col = e.k) on e.user_id = u.id group by u.id order by n desc, u.id limit 7", true),
    ("select u.id, e.k from user u left join (extra e join user w on w.id = e.user_id + 1) on e.user_id = u.id where w.id is null and u.id < 50", false),
    ("select u.id, e.k, w.id as wid from user u join (extra e left join user w on w.id = e.user_id + 1) on w.col = u.col where u.id < 30", false),
    ("select u.id, if(w.col is null, 0, 1) as h, e.k % 7 as m, e.k div 2 as d, substring(w.name, 2, 3) as s, coalesce(w.x, -1) as x from user u left join (extra e join user w on w.col = e.k) on e.user_id = u.id where u.id < 40", false),
    ("select u.id, coalesce(t.n, 0) as n, t.col is null as missing, t.n is not null as found from user u left join (select col, count(*) as n from user where id > 100 group by col) t on t.col = u.col where u.id < 20", false),
    // ... beside correlated subqueries: over the rows the semi-joins keep, with their values
    // (merged into the shards' query when anchored on the shared vindex column).
    ("select u.id, max(u.x) over (partition by u.id order by u.id) as w, (select count(*) from extra e where e.user_id = u.id) as n from user u where u.col > 0", false),
    ("select distinct sum(u.col) over (partition by u.id) as w, (select count(*) from extra e where e.user_id = u.id) as n from user u", false),
    ("select u.id, row_number() over (order by u.id) as rn from user u where exists (select 1 from extra e where e.k = u.col)", false),
    ("select u.id, (select count(*) from extra e where e.k = u.col) as n, rank() over (order by u.col) as r from user u where u.id < 60", false),
    ("select u.id, count(*) over (partition by u.col) as c from user u where not exists (select 1 from extra e where e.k = u.id) order by c desc, u.id limit 9", true),
    ("select u.id, (select max(e.v) from extra e where e.k = u.col) as m, sum(u.x) over (order by u.id) as s from user u where u.col > 0 order by m, u.id", true),
    // ... over groups: GROUP BY, aggregates and HAVING first (on the shards when each holds
    // its groups whole), then the windows over one row per group.
    ("select col, count(*) as n, rank() over (order by col) as r from user group by col", false),
    ("select col, count(*) as n, sum(x) as s, rank() over (order by sum(x) desc) as r, dense_rank() over (order by count(*)) as d from user group by col order by col", true),
    ("select col, sum(sum(x)) over (order by col) as running, max(count(*)) over () as most from user group by col order by col", true),
    ("select col, count(*) as n, row_number() over (order by count(*) desc, col) as rn from user group by col having count(*) > 20 order by rn", true),
    ("select count(*) as n, row_number() over () as rn from user", false),
    ("select id, count(*) as n, rank() over (order by count(*) desc, id) as r from user group by id order by r limit 5", true),
    ("select col, count(*) as n, lag(count(*)) over (order by col) as p, lead(sum(x), 2) over (order by count(*), col) as l from user group by col order by col", true),
    ("select u.col, count(*) as n, rank() over (order by u.col) as r from user u join extra e on e.k = u.col group by u.col", false),
    ("select e.k, max(e.v) as m, lag(max(e.v)) over (order by e.k) as p from extra e group by e.k", false),
    ("select distinct count(*) as n, rank() over (order by count(*)) as r from user group by col", false),
    ("select t.c, count(*) as n, sum(count(*)) over (order by t.c) as s from (select col as c from user where id < 150) t group by t.c", false),
    // DISTINCT after the windows, in vtgate (never in the rows' own plan).
    ("select distinct col, count(*) over (partition by col) as n from user", false),
    ("select distinct u.col, rank() over (order by u.col) as r from user u join extra e on e.k = u.col", false),
    ("select distinct t.c, rank() over (order by t.c) as r from (select col as c from user order by id limit 10) t order by r, t.c", true),
    ("select distinct e.k, count(*) over (partition by e.k) as n from user u join extra e on e.user_id = u.id order by n desc, e.k limit 3", true),
    // DISTINCT over a merged subquery's value: each shard's values, then vtgate's.
    ("select distinct (select count(*) from extra e where e.user_id = u.id) as n from user u order by n", true),
    ("select distinct u.col, (select max(e.k) from extra e where e.user_id = u.id) as m from user u where u.id < 80 order by m desc, u.col limit 5", true),
    ("select distinct u.col, (select count(*) from extra x where x.user_id = u.id) as n from user u join extra e on e.user_id = u.id where u.id < 60", false),
    ("select distinct (select min(e.k) + 1 from extra e where e.user_id = u.id) as v from user u", false),
    // Nested ones, each anchored to a table around it by the shared vindex column.
    ("select u.id from user u where exists (select 1 from extra e where e.user_id = u.id and e.k in (select x.k from extra x where x.user_id = u.id and x.v > e.v))", false),
    ("select u.id, (select count(*) from extra e where e.user_id = u.id and exists (select 1 from extra x where x.user_id = e.user_id and x.k > e.k)) as n from user u", false),
    ("select u.id from user u where u.col = (select max(e.k) from extra e where e.user_id = u.id and not exists (select 1 from ref r where r.id = e.k))", false),
    ("select u.id from user u where exists (select 1 from extra e where e.user_id = u.id and e.k = (select min(w.col) from user w where w.id = e.user_id))", false),
    ("select u.id, e.k, r.label from user u join extra e on e.k = u.col join ref r on r.id = e.k + u.col - 1 where u.id < 40 order by u.id, e.k", true),
    ("select u.id, e.k, r.label from user u left join extra e on e.user_id = u.id + 1 left join ref r on r.id = e.k where u.id between 5 and 25", false),
    ("select u.id, e.v, r.id from user u, extra e, ref r where e.user_id = u.id and r.id = u.col and e.k = 0 and u.id < 50", false),
    ("select e.user_id, u.name, v.id from extra e join user u on u.id = e.k + 2 join user v on v.col = u.col and v.id < 4 where e.user_id < 30", false),
    ("select id from user where id in ('3', 4.0, '5x', -5, 18446744073709551615)", false),
    ("select id, name from user where id = '7'", true),
    ("select id from user where id = 7.0", true),
    ("select id from user where id = -5", true),
    ("select count(*) from user where id = 7.5", true),
    ("select id from user order by id limit 0", true),
    ("select count(*), col from user group by col having count(*) > 0 order by count(*) desc, col limit 2 offset 1", true),
    ("select col, count(*) as c, sum(x) from user group by col having c > 20 and sum(x) < 0 or col is null", false),
    ("select lower(name), max(id) from user group by lower(name) having count(*) between 10 and 30", false),
    ("select count(*) from user having count(*) > 1000", true),
    ("select distinct count(*) from extra group by user_id", false),
    ("select distinct count(*) from user", true),
    ("select distinct count(*), max(col), 7 from user where id < 30", true),
    ("select distinct sum(x) from user having sum(x) > 1000000", true),
    ("select id from user where id < 20 union all select user_id from extra where user_id < 20", false),
    ("select col from user union select k from extra", false),
    ("select lower(name) from user union select lower(v) from extra order by 1 desc limit 4", true),
    ("select u.id, e.k, e.v from user u join extra e on u.col = e.k where u.id < 60 order by u.id, e.k, e.v", true),
    ("select u.id, e.v from user u left join extra e on u.id = e.k + 1 where u.id between 10 and 40", false),
    ("select e.user_id, u.name from extra e, user u where u.id = e.k and e.user_id < 50", false),
    ("select u.id as a, r.label from user u join ref r on r.id = u.col + 1 order by a limit 9", true),
    ("select * from user order by id", true),
    ("select * from extra order by user_id, k", true),
    (
        "select id from user where id = 33 order by name limit 1",
        true,
    ),
    // Arithmetic over aggregates, computed in vtgate.
    ("select sum(x) + 1, count(*) * 2, count(*) - 1, -sum(col), sum(x) / count(*) from user", true),
    ("select col, sum(x) / count(*), avg(x), max(id) - min(id), sum(x) * sum(x) from user group by col", false),
    ("select col, (sum(x) - min(x)) / (count(*) + 1) as r from user group by col order by max(id) - col, col", true),
    ("select col, count(*) from user group by col having sum(x) * 3 > count(*) + 100 and count(*) < 40", false),
    ("select col, max(id) - min(id) as spread from user group by col order by spread desc, col", true),
    ("select sum(f) * 2, sum(f) / count(*), max(f) - 1, sum(f) + sum(x) from user", true),
    ("select col, count(*) / 0, sum(x) / sum(col - col) from user group by col", false),
    ("select col + 1, count(*) + col, 2 * (sum(col) - 3.5) from user group by col", false),
    ("select u.col, count(*) * 10, sum(e.k) / count(*), max(e.k) + 1 from user u join extra e on e.k = u.col group by u.col", false),
    ("select u.col from user u join extra e on e.k = u.col group by u.col having sum(e.k) - count(*) >= 1 order by sum(e.k) * -1, u.col", true),
    ("select 'x' as k, count(*), 1.50, -7, null from user", true),
    ("select 'none', count(*), sum(x) from user where id = 0", true),
    ("select 'none', count(*), sum(x) from user where col = 99", true),
    ("select col, ifnull(sum(x), 0), coalesce(max(id), 0), coalesce(min(col), -1), ifnull(sum(f), 0), coalesce(max(col), 1.5) from user group by col", false),
    ("select coalesce(sum(x), 0), ifnull(count(*), 0), coalesce(max(col), max(id), 7) from user where col = 99", true),
    ("select col from user group by col having coalesce(sum(x), 0) > 100", false),
    ("select coalesce(t.s, 0), ifnull(t.col, 5) from (select col, sum(x) as s from user group by col) t", false),
    // Queries over derived tables the shards cannot compute alone.
    ("select t.col, t.n from (select col, count(*) as n from user group by col) t", false),
    ("select * from (select col, sum(x) as s from user group by col) t where s > 0 order by col", true),
    ("select count(*), sum(t.s), min(t.col) from (select col, sum(x) as s from user group by col) as t", true),
    ("select n, count(*) from (select col, count(*) as n from user group by col) t group by n", false),
    ("select t.id from (select id, x from user order by x desc, id limit 10) t order by t.id", true),
    ("select count(*), max(t.x), count(t.name) from (select id, x, name from user where id > 12 order by id limit 10) as t", true),
    ("select a.s / a.c, a.s - 1, a.c from (select sum(x) as s, count(*) as c from user) a", true),
    ("select distinct c from (select lower(name) as n, count(*) as c from user group by lower(name)) t", false),
    ("select col from (select col, count(*) as c from user group by col) t where c between 20 and 40 or col in (1, 2) order by col", true),
    ("select * from (select distinct col from user) t order by col", true),
    ("select t.col, t.c * 2 from (select col, count(*) c from user where id = 7 group by col) t", true),
    ("select t.col, t.m - 1 as d from (select col, max(id) as m from user group by col) t order by d desc limit 3", true),
    ("select u.id, t.n from user u join (select col, count(*) as n from user group by col) t on t.col = u.col where u.id < 20", false),
    ("select t.maxid, u.name from (select max(id) as maxid from user where col = 1) t join user u on u.id = t.maxid", true),
    ("select u.id, e.k from user u join (select user_id, k from extra order by user_id, k limit 10) e on u.id = e.user_id", false),
    ("select r.label, t.c from ref r join (select col, count(*) c from user group by col) t on t.col = r.id", false),
    ("select * from (select u.id, e.k from user u join extra e on e.user_id = u.id where u.id < 30) as t", false),
    ("select t.col, count(*) from (select u.col from user u join extra e on e.k = u.col where u.id < 50) t group by t.col", false),
    ("select id, e.k from user u join (select user_id, k from extra order by user_id, k limit 10) e on u.id = e.user_id", false),
    ("select name, t.n from user join (select col as c, count(*) as n from user group by col) t on t.c = user.col where user.id < 30", false),
    ("select id from user where id in (select * from (select * from (select id from user where col = 1 order by id limit 5) a) b)", false),
    ("select t.id from (select id from user where id < 10 union all select user_id from extra where user_id < 10) t order by t.id", true),
    ("select count(*), sum(t.v), count(distinct t.v) from (select col as v from user union select k from extra) t", true),
    ("select t.title, u.col from (select 'hello' as title) as t left join user u on u.id = 1", false),
    ("select t.title, u.id from (select 'hello' as title) as t join user u on u.id <= 4", false),
    // Hash joins: asked for by the directive, or with a derived table computed in vtgate.
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, e.k, e.v from user u join extra e on e.k = u.col where u.id < 60", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, e.user_id, e.v from user u left join extra e on e.k = u.col where u.id < 40", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, e.user_id from user u left join extra e on u.col = e.k and e.v = 'v1' where u.id < 40", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ e.user_id, e.k, u.name from extra e join user u on u.id = e.k", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, v.id from user u join user v on v.x = u.x where u.id < 100", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, v.id, v.name from user u join user v on v.name = u.name where u.id < 30 and v.id < 60", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, u.name, v.id from user u left join user v on v.name = u.name and v.id > 150 where u.id < 50", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, v.id from user u join user v on u.b = v.b where u.id < 120", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ e.user_id, e.k, v.user_id from extra e join extra v on v.v = e.v where e.user_id < 20 and v.user_id < 30", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, e.user_id, e.k from user u join extra e on u.col = e.k order by u.id, e.user_id, e.k limit 7", true),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.col, count(*), count(e.v) from user u left join extra e on e.k = u.col group by u.col", false),
    ("select /*vt+ ALLOW_HASH_JOIN */ u.id, e.k, r.label from user u join extra e on e.user_id = u.id join ref r on r.id = e.k where u.id < 50", false),
    ("select u.id, t.n from user u left join (select col, count(*) as n from user where id > 100 group by col) t on t.col = u.col where u.id < 40", false),
    ("select u.id, t.s from user u join (select col, sum(x) as s from user group by col) t on t.col = u.col where u.id < 30 order by u.id", true),
    ("select u.id, t.c from user u join (select name, count(*) as c from user group by name) t on t.name = u.name where u.id < 40", false),
    ("select u.id, t.m from user u left join (select distinct x as m from user where id < 20) t on t.m = u.x where u.id < 60", false),
    // Joins whose sharded items are all pinned to one shard by the same vindex value: one route.
    ("select u.id, u.col, e.k, e.v from user u join extra e on e.k >= u.col where u.id = 8 and e.user_id = 8", false),
    ("select u.id, u.col, e.k, e.v from user u, extra e where u.id = 11 and e.user_id = 11 and e.k <> u.col", false),
    ("select u.id, e.k, e.v from user u left join extra e on e.user_id = 8 and e.k > u.col where u.id = 8", false),
    ("select u.id, e.k, e.v from user u left join extra e on e.user_id = 9 where u.id = 9", false),
    ("select u.id, e.k from user u left join extra e on e.user_id = 9 and e.k = u.col where u.id = 9", false),
    ("select u.id, u.col, e.k from user u left join extra e on e.user_id = 14 and e.k = u.col where u.id = 14", false),
    ("select t.id, t.col, e.k from (select id, col from user where id = 14) t join extra e on e.k <> t.col where e.user_id = 14", false),
    ("select t.c, e.k, e.v from (select count(*) as c from user where id = 14) t left join extra e on e.user_id = 14 and e.k < t.c", false),
    ("select u.col, e.k from (select col from user where id = 17 limit 10) u join (select k from extra where user_id = 17 limit 10) e on e.k <> u.col", false),
    ("select u.col, e.k from (select col from user where id = 20) u left join (select k, v from extra where user_id = 20) e on e.k = u.col", false),
    ("select r.id, r.label, u.id from ref r left join user u on u.id = 5 and u.col = r.id", false),
    ("select r.label, u.id, e.k from user u join ref r on r.id = u.col left join extra e on e.user_id = 5 and e.k = r.id where u.id = 5", false),
    ("select u.id, e.k, count(*) from user u join extra e on e.k <= u.id where u.id = 11 and e.user_id = 11 group by u.id, e.k order by e.k desc limit 1", true),
    // The pinned value flowing through an ON equality of the vindex columns.
    ("select t.id, e.k, e.v from (select id from user where id = 8) t join extra e on e.user_id = t.id", false),
    ("select t.uid, e.k from (select id as uid, col from user where id = 9) t left join extra e on e.user_id = t.uid", false),
    ("select t.uid, t.col, e.k from (select id as uid, col from user where id = 14) t left join extra e on e.user_id = t.uid and e.k = t.col", false),
    ("select e.k, t.id from extra e join (select id, name from user where id = 11) t on t.id = e.user_id where e.k > 0", false),
    ("select t.id, e.k from (select id, col from user where id = 8) t join extra e on e.user_id = t.col", false),
    // Different values or a second shard: not merged, same rows.
    ("select u.id, e.k from user u join extra e on e.k <> u.col where u.id = 8 and e.user_id = 11", false),
    ("select u.id, e.user_id, e.k from user u left join extra e on e.user_id = 11 where u.id in (8, 11)", false),
    // Every SELECT pinned to one keyspace id: the whole statement on its shard.
    ("select max((select min(k) from extra where user_id = 7))", true),
    ("select exists (select id from user where id = 4), 1 + (select count(*) from extra where user_id = 4)", true),
    ("select exists (select id from user where id = 100000)", true),
    ("select (select u.name from user as u where u.id = 14), a.col from user as a where a.id = 14", true),
    ("select (select count(*) from extra where user_id = 3 and k < u.col) from user u where u.id = 3", true),
    ("select id from user where id = 5 and 1 = (select count(*) from extra where user_id = 5 and k = 0)", true),
    ("select t.c, (select label from ref where id = 1) from (select count(*) as c, max(v) as m from extra where user_id = 5) as t", true),
    ("select id, name from user where id = 10 union select user_id, v from extra where user_id = 10", false),
    // Plain derived tables: the outer WHERE, renamed onto the table, routes.
    ("select t.uid, t.nm from (select id as uid, name as nm from user) as t where t.uid = 7", false),
    ("select uid from (select id as uid, col from user where col > 0) t where uid in (3, 4, 5, 6) order by uid", true),
    ("select * from (select x as y from (select id as x, name from user) as a where name is not null) as b where y = 12", false),
    ("select count(*), max(col) from (select id, col from user) t where id = 9 and col is not null", true),
    ("select u.b from (select id as b, name from user) u where u.b = 33 or u.b = 34", false),
    ("select f from (select id + 1 as f from user) t where f = 8", false),
    ("select uid, kk from (select user_id as uid, k as kk from extra) e where uid = 5 order by kk", true),
    // Correlated across shards: semi-joins, the subquery run per outer row.
    ("select u.id from user u where exists (select 1 from extra e where e.k = u.col)", false),
    ("select u.id from user u where exists (select 1 from extra e where e.user_id = u.col)", false),
    ("select u.id from user u where exists (select 1 from extra e where e.user_id = u.id or e.k = 1)", false),
    ("select u.id from user u where not exists (select 1 from extra e where e.user_id = u.col)", false),
    ("select u.id, u.name from user u where u.col in (select e.k from extra e where e.user_id = u.id + 1)", false),
    // In a select item: run per outer row.
    ("select u.id, (select count(*) from extra e where e.k = u.id) from user u", false),
    ("select u.id, (select max(e.v) from extra e where e.k = u.col) as m from user u order by u.id", true),
    // Ordered by the value, or DISTINCT: sorted and deduplicated in vtgate.
    ("select u.id, (select count(*) from extra e where e.k = u.id) as n from user u order by n, u.id", true),
    ("select distinct (select count(*) from extra e where e.k = u.id) as n from user u order by n", true),
];

/// Correlated subqueries whose inner rows may live on other shards than their outer row, in
/// a select item that is aggregated, or DISTINCT ordered by a column not selected: planning
/// must refuse them.
const REFUSED: &[&str] = &[
    "select id, row_number() over (order by id rows between 1 preceding and current row) from user",
    "select id, row_number() over (order by id) + 1 from user",
    "select col, count(*), rank() over (order by col rows unbounded preceding) from user group by col",
    "select id, first_value(id) over (order by id) from user",
    "select id, lag(id, 1, 0) over (order by id) from user",
    "select distinct col, count(*) over (partition by col) from user order by id",
    "select count(*), (select count(*) from extra e where e.k = u.id) from user u",
    "select distinct (select count(*) from extra e where e.k = u.id) from user u order by u.col",
];

#[test]
fn unsafe_correlated_subqueries_are_refused() {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    for sql in REFUSED {
        let stmt = sql::parse::parse(sql).unwrap();
        match engine::planner::plan(&stmt, &vschema, None) {
            Err(EngineError::Unsupported(_)) => {}
            other => panic!("{sql}: want VT12001, got {other:?}"),
        }
    }
}

fn sorted(mut rows: Vec<Vec<Option<Vec<u8>>>>, ordered: bool) -> Vec<Vec<Option<Vec<u8>>>> {
    if !ordered {
        rows.sort();
    }
    rows
}

/// Rows as text, for failure messages.
fn crate_rows(r: &QueryResult) -> Vec<Vec<Option<String>>> {
    cells(r)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| c.map(|b| String::from_utf8_lossy(&b).into_owned()))
                .collect()
        })
        .collect()
}

fn cells(r: &QueryResult) -> Vec<Vec<Option<Vec<u8>>>> {
    r.rows
        .iter()
        .map(|row| {
            row.split_values()
                .unwrap()
                .into_iter()
                .map(|c| c.map(<[u8]>::to_vec))
                .collect()
        })
        .collect()
}

/// Compares every query; returns the failures and the number of rows compared.
async fn compare_all(cluster: &Cluster, vschema: &vschema::VSchema) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut compared = 0;
    let pairs = DML
        .iter()
        .map(|s| (*s, *s))
        .chain(SEQUENCE_DML.iter().copied());
    for (sql, plain_sql) in pairs {
        let stmt = sql::parse::parse(sql).unwrap();
        let got = match engine::planner::plan(&stmt, vschema, None) {
            Ok(p) => p.execute(cluster, &Default::default()).await,
            Err(e) => Err(e),
        };
        let want = run(&mut *cluster.plain.lock().await, plain_sql)
            .await
            .unwrap();
        match got {
            Ok(r) if r.rows_affected == want.rows_affected && want.rows_affected > 0 => {}
            Ok(r) => failures.push(format!(
                "{sql}: {} rows affected, want {}",
                r.rows_affected, want.rows_affected
            )),
            Err(e) => failures.push(format!("{sql}: {e}")),
        }
    }
    for (sql, ordered) in QUERIES {
        let stmt = sql::parse::parse(sql).unwrap();
        let options = engine::planner::PlanOptions::from_sql(sql);
        let primary = proto::topodata::TabletType::Primary;
        let got = match engine::planner::plan_with(&stmt, vschema, None, primary, options) {
            Ok(p) => p.execute(cluster, &Default::default()).await,
            Err(e) => Err(e),
        };
        let want = run(&mut *cluster.plain.lock().await, sql).await.unwrap();
        compared += want.rows.len();
        if std::env::var_os("DIFF_VERBOSE").is_some() {
            println!("{:5} rows: {sql}", want.rows.len());
        }
        match got {
            Err(e) => failures.push(format!("{sql}: {e}")),
            Ok(got) => {
                if got.fields.len() != want.fields.len()
                    || sorted(cells(&got), *ordered) != sorted(cells(&want), *ordered)
                {
                    failures.push(format!(
                        "{sql}: rows differ\n got {:?}\nwant {:?}",
                        crate_rows(&got),
                        crate_rows(&want)
                    ));
                }
                for (g, w) in got.fields.iter().zip(&want.fields) {
                    if g.r#type != w.r#type {
                        failures.push(format!(
                            "{sql}: column {} type {} != {}",
                            w.name, g.r#type, w.r#type
                        ));
                    }
                }
            }
        }
    }
    (failures, compared)
}

#[tokio::test]
async fn engine_matches_one_database() {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    let cluster = match setup(&vschema).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("MariaDB not available, skipped: {e}");
            return;
        }
    };
    let (mut failures, compared) = compare_all(&cluster, &vschema).await;
    let (bind_failures, bind_same) = differential_binds::compare_binds(&cluster, &vschema).await;
    println!("{bind_same} runs of plans made for bind variables gave MariaDB's rows");
    assert!(
        bind_same > 200,
        "too few bind-variable runs answered: {bind_same}"
    );
    failures.extend(bind_failures);
    println!("{} queries, {compared} rows compared", QUERIES.len());
    let mut admin = Conn::new(opts(None)).await.unwrap();
    for db in &cluster.dbs {
        admin
            .query_drop(format!("drop database {db}"))
            .await
            .unwrap();
    }
    assert!(compared > 1000, "too few rows compared: {compared}");
    assert!(
        failures.is_empty(),
        "{} of {} queries differ:\n{}",
        failures.len(),
        QUERIES.len(),
        failures.join("\n")
    );
}
