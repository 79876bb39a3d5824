//! The sharded keyspace through a real vtgate: `VEXPLAIN`, honest `VT12001` refusals that
//! leave the connection usable, a vindex selected as a table, sequences, `transaction_mode` SINGLE and MULTI, a very deep
//! statement, and the same answers for PyMySQL, mysql-connector-python (prepared) and the
//! `mariadb` CLI as plain MariaDB holding the same rows.

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sharded_cluster::{
    http_get, opts, run_cli, server_error, DropOnExit, ShardedCluster, CUSTOMER_TABLES, TWO_SHARDS,
};

/// Rows both sides get: ids 1 and 4 hash to different shards (`-80` and `80-`).
const ROWS: &[&str] = &[
    "insert into customer (customer_id, email, name, score, balance, big, region) values \
     (1, 'a@X.com', 'Alice', 10, 1.50, 9223372036854775807, 'us'), \
     (2, 'b@x.com', 'bob', NULL, 20.00, -5, 'eu'), \
     (4, 'c@x.com', 'ALICE', 30, NULL, 7, 'us'), \
     (6, 'd@x.com', NULL, -3, 4.25, NULL, NULL)",
    "insert into corder (order_id, customer_id, sku, price, qty) values \
     (10, 1, 'SKU1', 10, 1), (11, 4, 'SKU2', 20, 2), (12, 6, NULL, 30, NULL)",
];

async fn load_plain(db: &str) -> Conn {
    let mut admin = Conn::new(opts(3306, None)).await.unwrap();
    admin
        .query_drop(format!("drop database if exists {db}"))
        .await
        .unwrap();
    admin
        .query_drop(format!("create database {db}"))
        .await
        .unwrap();
    let mut plain = Conn::new(opts(3306, Some(db))).await.unwrap();
    for sql in CUSTOMER_TABLES.iter().chain(ROWS) {
        plain.query_drop(*sql).await.unwrap();
    }
    plain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_keyspace_behaviour() {
    let cluster = ShardedCluster::start("vtg_sharded", TWO_SHARDS).await;
    let plain_db = format!("vtg_sharded_{}_plain", std::process::id());
    let _drop_plain = DropOnExit(plain_db.clone());
    let mut plain = load_plain(&plain_db).await;
    let mut c = cluster.conn(Some("customer")).await;
    for sql in ROWS {
        c.query_drop(*sql).await.unwrap();
    }

    // VEXPLAIN PLAN: Vitess's field names; a point select is EqualUnique on the hash vindex.
    let json: String = c
        .query_first("vexplain plan select * from customer where customer_id = 4")
        .await
        .unwrap()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["OperatorType"], "Route", "{json}");
    assert_eq!(plan["Variant"], "EqualUnique", "{json}");
    assert_eq!(plan["Keyspace"]["Name"], "customer", "{json}");
    assert_eq!(plan["Vindex"], "hash", "{json}");
    // A join whose sides are pinned to one shard by one vindex value is one route.
    let json: String = c
        .query_first(
            "vexplain plan select t.cid, o.order_id from (select customer_id as cid from customer \
             where customer_id = 4) t left join corder o on o.customer_id = t.cid",
        )
        .await
        .unwrap()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["OperatorType"], "Route", "{json}");
    assert_eq!(plan["Variant"], "EqualUnique", "{json}");
    // Through the plan cache too: equal literals share one bind variable (`:vtg1`), which pins
    // both tables to one shard, so the cached plan is one route; its rows are MariaDB's, for an
    // id with rows on either shard and for one without any (count(*) is still 0).
    let join = "select c.customer_id, c.name, o.order_id from customer c join corder o \
                on o.price > 0 where c.customer_id = {} and o.customer_id = {}";
    let count = "select count(*), max(o.price) from customer c join corder o \
                 on o.price > 0 where c.customer_id = {} and o.customer_id = {}";
    for id in ["1", "4", "3"] {
        let sql = join.replace("{}", id);
        let mut got: Vec<(i64, Option<String>, i64)> = c.query(&sql).await.unwrap();
        let mut want: Vec<(i64, Option<String>, i64)> = plain.query(&sql).await.unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{sql}");
        let sql = count.replace("{}", id);
        let got: Vec<(i64, Option<i64>)> = c.query(&sql).await.unwrap();
        let want: Vec<(i64, Option<i64>)> = plain.query(&sql).await.unwrap();
        assert_eq!(got, want, "{sql}");
    }
    let plans = http_get(cluster.http_port, "/debug/query_plans").await;
    for template in [join, count] {
        let template = template.replace("{}", ":vtg1");
        assert_eq!(plans.matches(&template).count(), 1, "{plans}");
        let json: String = c
            .query_first(format!("vexplain plan {template}"))
            .await
            .unwrap()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(plan["OperatorType"], "Route", "{json}");
        assert_eq!(plan["Variant"], "EqualUnique", "{json}");
        assert_eq!(plan["Values"][0], ":vtg1", "{json}");
    }
    // VEXPLAIN QUERIES: a scatter count reaches both shards.
    let sent: Vec<(u32, String, String, String)> = c
        .query("vexplain queries select count(*) from customer")
        .await
        .unwrap();
    let mut shards: Vec<&str> = sent.iter().map(|r| r.2.as_str()).collect();
    shards.sort();
    assert_eq!(shards, ["-80", "80-"], "{sent:?}");
    // An UPDATE aimed at shards by its table's qualifier (a key range, a shard name) changes
    // the rows of those shards only, whatever its WHERE says.
    let mut one = cluster.conn(Some("customer")).await;
    let mut on_shard = 0u64;
    let mut shard = "";
    for s in ["80-", "-80"] {
        one.query_drop(format!("use `customer/{s}`")).await.unwrap();
        on_shard = one
            .query_first("select count(*) from corder")
            .await
            .unwrap()
            .unwrap();
        shard = s;
        if on_shard > 0 {
            break;
        }
    }
    assert!(on_shard > 0, "no corder row on either shard");
    let json: String = c
        .query_first(format!(
            "vexplain plan update `customer[{shard}]`.corder set price = 1"
        ))
        .await
        .unwrap()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["Variant"], "ByDestination", "{json}");
    c.query_drop(format!(
        "update `customer[{shard}]`.corder set price = price + 1000"
    ))
    .await
    .unwrap();
    assert_eq!(c.affected_rows(), on_shard);
    let raised: u64 = c
        .query_first("select count(*) from corder where price > 1000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raised, on_shard);
    c.query_drop(format!(
        "update `customer:{shard}`.corder set price = price - 1000 where price > 1000"
    ))
    .await
    .unwrap();
    assert_eq!(c.affected_rows(), on_shard);
    drop(one);
    // A hex literal is the number 55 against the BIGINT column: it reaches that id's one
    // shard, written as the client wrote it.
    let sent: Vec<(u32, String, String, String)> = c
        .query("vexplain queries select email from customer where customer_id = 0x37")
        .await
        .unwrap();
    let by_number: Vec<(u32, String, String, String)> = c
        .query("vexplain queries select email from customer where customer_id = 55")
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].2, by_number[0].2, "{sent:?} {by_number:?}");
    assert!(sent.iter().all(|r| r.3.contains("= 0x37")), "{sent:?}");

    // An unsupported shape is refused with VT12001 and the connection stays usable
    // (a window frame over rows of several shards: vtgate computes default frames only).
    let err = c
        .query_drop(
            "select row_number() over (order by email rows between 1 preceding and current row) \
             from customer",
        )
        .await
        .unwrap_err();
    let (code, state, message) = server_error(err);
    assert_eq!((code, state.as_str()), (1235, "42000"), "{message}");
    assert!(message.starts_with("VT12001: unsupported: "), "{message}");
    let n: u64 = c
        .query_first("select count(*) from customer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    // `0x..` and `0b..` literals reach the shards as written: compared with the BIGINT vindex
    // column `0x37` is 55, as MariaDB reads it (the parser alone would print `X'37'`, the
    // string '7'), and stored in a text column as its bytes.
    c.query_drop("insert into customer (customer_id, email) values (55, 0x68657840), (56, 'b@x')")
        .await
        .unwrap();
    let hex: Vec<(i64, String)> = c
        .query(
            "select customer_id, email from customer \
             where customer_id in (0x37, 0b111000) or email = 0x68657840 order by customer_id",
        )
        .await
        .unwrap();
    assert_eq!(hex, vec![(55, "hex@".to_string()), (56, "b@x".to_string())]);
    // As a vindex value of a row it is refused (a vindex has one reading of it, MariaDB two),
    // and nothing is written.
    let sql = "insert into customer (customer_id, email) values (0x39, 'hex@x')";
    let (code, _, message) = server_error(c.query_drop(sql).await.unwrap_err());
    assert_eq!(code, 1235, "{sql}: {message}");
    assert!(message.contains("0x39"), "{message}");
    let written: u64 = c
        .query_first("select count(*) from customer where customer_id in (55, 56, 57, 0x39)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written, 2);
    c.query_drop("delete from customer where customer_id in (55, 56)")
        .await
        .unwrap();
    // An INSERT without a column list is written out with the tracked columns (the
    // VSchema lists none); too few values is MySQL's 1136 with Vitess's VT03006.
    let (code, state, message) = server_error(
        c.query_drop("insert into customer values (57, 'v@x')")
            .await
            .unwrap_err(),
    );
    assert_eq!((code, state.as_str()), (1136, "21S01"), "{message}");
    assert!(message.starts_with("VT03006: column count"), "{message}");

    // A vindex read as a table (Vitess's VindexFunc): each value's keyspace id, hex, shard
    // and the shard's key range, exactly as the vindex maps it; no shard is queried.
    let hash = vschema::create_vindex("hash", "hash", &Default::default()).unwrap();
    let expect = |id: i64| {
        let dest = hash.map(&[vschema::Value::Int(id)]).unwrap().remove(0);
        let vschema::Destination::KeyspaceId(kid) = &dest else {
            panic!("{dest:?}")
        };
        let shard = TWO_SHARDS[dest.resolve(TWO_SHARDS).unwrap()[0]];
        let range = vschema::KeyRange::parse_shard_name(shard).unwrap();
        let hex = vschema::hex::encode(&kid.0);
        (
            id.to_string(),
            kid.0.clone(),
            range.start,
            range.end,
            hex,
            shard.to_string(),
        )
    };
    type VindexRow = (String, Vec<u8>, Vec<u8>, Vec<u8>, String, String);
    let got: Vec<VindexRow> = c
        .query("select * from hash where id in (1, 4, 6, null) order by hex_keyspace_id")
        .await
        .unwrap();
    let mut want: Vec<VindexRow> = [1, 4, 6].into_iter().map(expect).collect();
    want.sort_by(|a, b| a.4.cmp(&b.4));
    assert_eq!(got, want);
    let mut unqualified_session = cluster.conn(None).await;
    let got: Vec<(Vec<u8>, String, String)> = unqualified_session
        .query("select keyspace_id, shard, id as v from customer.hash where id = 4")
        .await
        .unwrap();
    let (_, kid, _, _, _, shard) = expect(4);
    assert_eq!(got, vec![(kid.clone(), shard.clone(), "4".to_string())]);
    // Unqualified, with no keyspace selected: the vindex's name is unique.
    let got: Vec<(Vec<u8>, String, String)> = unqualified_session
        .query("select keyspace_id, shard, id from hash where id = 4")
        .await
        .unwrap();
    assert_eq!(got, vec![(kid, shard, "4".to_string())]);
    let err = c
        .query_drop("select keyspace_id from hash where id > 1")
        .await
        .unwrap_err();
    let (_, _, message) = server_error(err);
    assert!(message.starts_with("VT09018: "), "{message}");

    // Session settings reach every shard query (`SET STATEMENT ... FOR`), as MariaDB applies
    // them to its own session.
    let avg_sql = "select customer_id, balance / 7 from customer order by customer_id";
    for conn in [&mut c, &mut plain] {
        conn.query_drop("set session div_precision_increment = 9")
            .await
            .unwrap();
    }
    let got: Vec<(u64, Option<String>)> = c.query(avg_sql).await.unwrap();
    let want: Vec<(u64, Option<String>)> = plain.query(avg_sql).await.unwrap();
    assert_eq!(got, want);
    assert!(got[0].1.as_deref().is_some_and(|v| v.len() > 10), "{got:?}");
    c.query_drop("set session div_precision_increment = 4")
        .await
        .unwrap();

    // GROUP_CONCAT across shards joins the shards' partial values; within the session's
    // group_concat_max_len ("1,2,4,6" is 7 bytes) it has MariaDB's values (in shard order),
    // beyond it vtgate refuses where MariaDB would cut the value, and the session goes on.
    let concat_sql = "select group_concat(customer_id) from customer";
    let parts = |v: Option<String>| {
        let mut p: Vec<String> = v
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        p.sort();
        p
    };
    for conn in [&mut c, &mut plain] {
        conn.query_drop("set session group_concat_max_len = 7")
            .await
            .unwrap();
    }
    let got: Option<String> = c.query_first(concat_sql).await.unwrap().flatten();
    let want: Option<String> = plain.query_first(concat_sql).await.unwrap().flatten();
    assert_eq!(parts(got), parts(want));
    c.query_drop("set session group_concat_max_len = 6")
        .await
        .unwrap();
    let err = c.query_drop(concat_sql).await.unwrap_err();
    let (code, _, message) = server_error(err);
    assert_eq!(code, 1235, "{message}");
    assert!(
        message.contains("longer than group_concat_max_len (6 bytes)"),
        "{message}"
    );
    c.query_drop("set session group_concat_max_len = default")
        .await
        .unwrap();
    let got: Option<String> = c.query_first(concat_sql).await.unwrap().flatten();
    assert_eq!(parts(got), ["1", "2", "4", "6"]);

    // Literals compared in WHERE become bind variables: point selects with different ids
    // share one cached plan, and each still finds its own row.
    for (id, email) in [(1, "a@X.com"), (4, "c@x.com"), (6, "d@x.com")] {
        let got: Option<String> = c
            .query_first(format!(
                "select email from customer where customer_id = {id} and email = '{email}'"
            ))
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some(email));
    }
    let none: Option<String> = c
        .query_first("select email from customer where customer_id = 2 and email = 'a@X.com'")
        .await
        .unwrap();
    assert_eq!(none, None);
    let plans = http_get(cluster.http_port, "/debug/query_plans").await;
    let template = "select email from customer where customer_id = :vtg1 and email = :vtg2";
    assert_eq!(plans.matches(template).count(), 1, "{plans}");
    assert!(!plans.contains("customer_id = 4"), "{plans}");

    // information_schema stays on the pass-through path (one shard answers).
    let n: u64 = c
        .query_first(
            "select count(*) from information_schema.columns where table_name = 'corder' \
             and column_name = 'order_id'",
        )
        .await
        .unwrap()
        .unwrap();
    assert!(n >= 1);

    // Sequences: ids come from commerce.customer_seq and land on the right shard.
    c.query_drop("insert into customer (email) values ('s1@x'), ('s2@x')")
        .await
        .unwrap();
    let first = c.last_insert_id().expect("insert id");
    assert_eq!(first, 100000);
    for id in [first, first + 1] {
        let found: Option<String> = c
            .query_first(format!(
                "select email from customer where customer_id = {id}"
            ))
            .await
            .unwrap();
        assert!(found.is_some(), "sequence row {id} not found by its vindex");
    }
    c.query_drop("delete from customer where customer_id >= 100000")
        .await
        .unwrap();

    // transaction_mode MULTI (default): a transaction spans shards; rollback undoes both.
    c.query_drop("begin").await.unwrap();
    c.query_drop("update customer set score = 99 where customer_id = 1")
        .await
        .unwrap();
    c.query_drop("update customer set score = 99 where customer_id = 4")
        .await
        .unwrap();
    c.query_drop("rollback").await.unwrap();
    let n: u64 = c
        .query_first("select count(*) from customer where score = 99")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    // SINGLE refuses the second shard.
    c.query_drop("set transaction_mode = 'single'")
        .await
        .unwrap();
    c.query_drop("begin").await.unwrap();
    c.query_drop("update customer set score = 98 where customer_id = 1")
        .await
        .unwrap();
    let err = c
        .query_drop("update customer set score = 98 where customer_id = 4")
        .await
        .unwrap_err();
    let (_, _, message) = server_error(err);
    assert!(
        message.contains("multi-db transaction attempted"),
        "{message}"
    );
    c.query_drop("rollback").await.unwrap();
    c.query_drop("set transaction_mode = 'multi'")
        .await
        .unwrap();
    // A write to several shards that fails on one of them, inside a transaction: the whole
    // transaction is rolled back, as Vitess does, rather than left holding the other shards'
    // half of the statement. Here only the row with id 4 divides by zero (strict mode).
    c.query_drop("begin").await.unwrap();
    c.query_drop("update customer set score = 97 where customer_id = 1")
        .await
        .unwrap();
    let err = c
        .query_drop("update customer set score = 96 + 0 * (1 / (customer_id - 4))")
        .await
        .unwrap_err();
    let (code, _, message) = server_error(err);
    assert_eq!(code, 1365, "{message}");
    assert!(
        message.contains("transaction rolled back to reverse changes of partial DML execution"),
        "{message}"
    );
    let n: u64 = c
        .query_first("select count(*) from customer where score in (96, 97)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);

    // A very deep statement (Vitess's long OR filter) is answered, vtgate stays up.
    let ors: Vec<String> = (0..6000).map(|i| format!("customer_id = {i}")).collect();
    let deep = format!("select count(*) from customer where {}", ors.join(" or "));
    assert!(deep.len() > 76_000);
    match c.query_first::<u64, _>(&deep).await {
        Ok(n) => assert_eq!(n, Some(4)),
        Err(e) => {
            let (code, _, m) = server_error(e);
            assert_eq!(code, 1235, "{m}");
        }
    }
    let one: u64 = c.query_first("select 1").await.unwrap().unwrap();
    assert_eq!(one, 1);
    // The same on the unsharded pass-through path.
    let ors: Vec<String> = (0..6000).map(|i| format!("id = {i}")).collect();
    let deep = format!(
        "select count(*) from commerce.customer_seq where {}",
        ors.join(" or ")
    );
    if let Err(e) = c.query_drop(&deep).await {
        let (code, _, m) = server_error(e);
        assert_eq!(code, 1235, "{m}");
    }
    let one: u64 = c.query_first("select 1").await.unwrap().unwrap();
    assert_eq!(one, 1);

    found_rows_match_mariadb(&mut c, &mut plain).await;
    information_schema_names_keyspaces(&mut c, &mut plain).await;
    schema_tracking_follows_ddl(&cluster, &mut c).await;
    clients_match_mariadb(&cluster, &plain_db);
    dump_and_restore_through_vtgate(&cluster, &mut c).await;
}

async fn row_counts(c: &mut Conn, tables: &[String]) -> Vec<u64> {
    let mut counts = Vec::new();
    for t in tables {
        let n: Option<u64> = c
            .query_first(format!("select count(*) from `{t}`"))
            .await
            .unwrap();
        counts.push(n.unwrap_or_default());
    }
    counts
}

/// `mariadb-dump` of the sharded keyspace through vtgate (executable comments, LOCK TABLES,
/// SHOW CREATE DATABASE and TABLE, a scatter `SELECT *` per table), then the dump replayed through vtgate
/// with the `mariadb` CLI (DROP and CREATE on every shard, `INSERT` without a column list
/// split by the vindex): the same rows come back, each on the shard its vindex names.
async fn dump_and_restore_through_vtgate(cluster: &ShardedCluster, c: &mut Conn) {
    let customers = "select customer_id, email, name, score, balance, big, region \
                     from customer order by customer_id";
    let orders = "select order_id, customer_id, sku, price, qty from corder order by order_id";
    type Customer = (
        i64,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    type Order = (i64, Option<i64>, Option<String>, Option<i64>, Option<i64>);
    let before: (Vec<Customer>, Vec<Order>) = (
        c.query(customers).await.unwrap(),
        c.query(orders).await.unwrap(),
    );
    assert!(before.0.len() >= 4 && before.1.len() >= 3);

    let dump = std::process::Command::new("mariadb-dump")
        .args(["--no-defaults", "-h127.0.0.1", "-uroot"])
        .arg(format!("-P{}", cluster.vtgate_port))
        // As a keyspace's whole backup is taken: `CREATE DATABASE IF NOT EXISTS`, `USE`.
        .args(["--databases", "customer"])
        .output()
        .expect("mariadb-dump runs");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).unwrap();
    assert!(dump.contains("LOCK TABLES `customer` WRITE"), "{dump}");
    // SHOW CREATE DATABASE answers for the keyspace, under its name.
    assert!(
        dump.contains(
            "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `customer` /*!40100 DEFAULT CHARACTER SET"
        ),
        "{dump}"
    );
    let (name, create): (String, String) = c
        .query_first("show create database customer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(name, "customer");
    assert!(
        create.starts_with("CREATE DATABASE `customer` /*!40100 DEFAULT CHARACTER SET utf8mb4"),
        "{create}"
    );

    let tables: Vec<String> = c.query("show tables").await.unwrap();
    let counts_before = row_counts(c, &tables).await;

    let out = run_cli(cluster.vtgate_port, &[], &dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: (Vec<Customer>, Vec<Order>) = (
        c.query(customers).await.unwrap(),
        c.query(orders).await.unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(row_counts(c, &tables).await, counts_before, "{tables:?}");
    // Each row is where its vindex routes a point select.
    for (id, ..) in &before.0 {
        let n: u64 = c
            .query_first(format!(
                "select count(*) from customer where customer_id = {id}"
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 1, "customer {id}");
    }
}

/// `SELECT SQL_CALC_FOUND_ROWS ... LIMIT` then `FOUND_ROWS()`: the rows without the LIMIT,
/// across shards and on the unsharded pass-through path, whose pooled connections would
/// otherwise answer for another statement.
async fn found_rows_match_mariadb(c: &mut Conn, plain: &mut Conn) {
    for sql in [
        "select sql_calc_found_rows customer_id from customer order by customer_id limit 2",
        "select SQL_CALC_FOUND_ROWS customer_id from customer where customer_id > 1 \
         order by customer_id limit 1, 1",
        "select sql_calc_found_rows region, count(*) from customer group by region \
         order by region limit 1",
        "select sql_calc_found_rows * from customer c join corder o \
         on o.customer_id = c.customer_id order by o.order_id limit 1",
        "select sql_calc_found_rows customer_id from customer order by customer_id",
        "select sql_calc_found_rows customer_id from customer where customer_id = 4 limit 0",
    ] {
        let mut answers = Vec::new();
        for conn in [&mut *c, &mut *plain] {
            let rows: Vec<mysql_async::Row> = conn.query(sql).await.unwrap();
            let found: u64 = conn
                .query_first("select found_rows()")
                .await
                .unwrap()
                .unwrap();
            answers.push((rows.len(), found));
        }
        assert_eq!(answers[0], answers[1], "{sql}");
    }
    // Unsharded: the sequence table has one row.
    let rows: Vec<u64> = c
        .query("select sql_calc_found_rows id from commerce.customer_seq limit 0")
        .await
        .unwrap();
    assert!(rows.is_empty());
    let found: u64 = c.query_first("select found_rows()").await.unwrap().unwrap();
    assert_eq!(found, 1);
}

/// `information_schema` filtered by a keyspace's name (the tablets' databases have other
/// names): the keyspace's tablets answer for their own database, as Vitess's
/// `__vtschemaname` makes them.
async fn information_schema_names_keyspaces(c: &mut Conn, plain: &mut Conn) {
    let tables: Vec<String> = c.query("show tables").await.unwrap();
    for sql in [
        "select table_name from information_schema.tables where table_schema = 'customer' \
         order by table_name",
        "select table_name from information_schema.tables where table_schema = database() \
         order by table_name",
        "select t.table_name from information_schema.tables t \
         where 'customer@primary' = t.TABLE_SCHEMA order by 1",
    ] {
        let got: Vec<String> = c.query(sql).await.unwrap();
        assert_eq!(got, tables, "{sql}");
    }
    let columns = "select column_name, column_type, is_nullable, column_key \
                   from information_schema.columns \
                   where table_schema = database() and table_name = 'customer' \
                   order by ordinal_position";
    let got: Vec<(String, String, String, String)> = c.query(columns).await.unwrap();
    let want: Vec<(String, String, String, String)> = plain.query(columns).await.unwrap();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // Another keyspace's schema, named from this one.
    let seq: Vec<String> = c
        .query(
            "select table_name from information_schema.tables \
             where table_schema = 'commerce' and table_name like '%seq'",
        )
        .await
        .unwrap();
    assert!(seq.contains(&"customer_seq".to_string()), "{seq:?}");
}

/// vtgate knows the columns the VSchema does not list (schema tracking): at once after DDL
/// through vtgate, within `--schema-change-signal-interval` (10 s) after DDL elsewhere.
async fn schema_tracking_follows_ddl(cluster: &ShardedCluster, c: &mut Conn) {
    c.query_drop("alter table tally add column extra int")
        .await
        .unwrap();
    // No column list: written out from the tracked columns (VT09004 without them).
    c.query_drop("insert into tally values (1, 1, 100), (2, 2, 200), (3, 1, 300)")
        .await
        .unwrap();
    // `extra` and `price` are each in one table only: a cross-shard join resolves them.
    let mut got: Vec<(i64, i64)> = c
        .query("select extra, price from tally t join corder o on t.n = o.qty")
        .await
        .unwrap();
    got.sort();
    assert_eq!(got, [(100, 10), (200, 20), (300, 10)]);
    // USING, planned as ON with the column qualified, keeps the column names as written.
    let mut r = c
        .query_iter("select count(n), max(n) + 1 from tally t join tally u using (n)")
        .await
        .unwrap();
    let names: Vec<String> = r
        .columns()
        .unwrap()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    assert_eq!(names, ["count(n)", "max(n) + 1"]);
    let counts: Vec<(i64, i64)> = r.collect().await.unwrap();
    assert_eq!(counts, [(5, 3)]);

    // DDL straight on the shards' databases, as vtctl ApplySchema would do it.
    for (ks, _, db) in &cluster.dbs {
        if ks == "customer" {
            let mut shard = Conn::new(opts(3306, Some(db))).await.unwrap();
            shard
                .query_drop("alter table tally add column late int")
                .await
                .unwrap();
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match c
            .query_drop("insert into tally values (4, 2, 400, 7)")
            .await
        {
            Ok(()) => break,
            // Until the reload, vtgate knows three columns for four values: VT03006, 1136.
            Err(e) => {
                let (code, _, m) = server_error(e);
                assert_eq!(code, 1136, "{m}");
                assert!(
                    std::time::Instant::now() < deadline,
                    "columns never reloaded"
                );
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let late: Vec<(i64, Option<i64>)> = c
        .query("select t.id, late from tally t join corder o on t.n = o.qty order by t.id")
        .await
        .unwrap();
    assert_eq!(late, [(1, None), (2, None), (3, None), (4, Some(7))]);
}

/// PyMySQL, mysql-connector-python (prepared) and the `mariadb` CLI see the same rows.
fn clients_match_mariadb(cluster: &ShardedCluster, plain_db: &str) {
    let queries = "select customer_id, email, score, balance, big from customer order by customer_id;\n\
                   select region, count(*), sum(score), avg(balance) from customer group by region order by region;\n\
                   select c.customer_id, o.order_id from customer c join corder o on c.customer_id = o.customer_id order by o.order_id;\n\
                   select customer_id from customer where customer_id = 4;\n";
    let cli = |port: u16, db: &str| {
        let out = run_cli(port, &["--batch", db], queries);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(cli(cluster.vtgate_port, "customer"), cli(3306, plain_db));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sharded_clients.py");
    let run = |port: u16, db: &str| {
        let out = std::process::Command::new("python3")
            .args([script, &port.to_string(), db])
            .output()
            .expect("python3 runs");
        if out.status.code() == Some(77) {
            return None;
        }
        assert!(
            out.status.success(),
            "sharded_clients.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(via) = run(cluster.vtgate_port, "customer") else {
        eprintln!("skipping python clients: PyMySQL or mysql-connector-python missing");
        return;
    };
    let direct = run(3306, plain_db).expect("same python");
    assert_eq!(via, direct);
}
