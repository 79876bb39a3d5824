//! Lookup vindexes through a real sharded cluster: `customer` (sharded by `hash` on
//! `customer_id`) owns a `consistent_lookup_unique` on `email` (lookup table unsharded, in
//! `commerce`) and a non-unique `lookup` on `name` (lookup table in `customer`, sharded by
//! its `from` column with `unicode_loose_md5`). Inserts, updates and deletes keep both lookup
//! tables exactly the rows the owner rows imply; selects by a lookup column reach only the
//! shards the lookup table names and answer as one MariaDB database holding the same rows; a
//! duplicate on the unique lookup is MySQL's 1062 and leaves nothing written (inside a
//! transaction, the transaction is rolled back). `wallet`, sharded by a two-column
//! `multicol` vindex on `(region, acct)`, owns a `lookup_unique` on `code`: its lookup rows
//! carry the keyspace id of both columns through inserts, updates and deletes routed by one,
//! both or neither of them.

mod sharded_cluster;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sharded_cluster::{
    opts, server_error, text_rows, DropOnExit, ShardedCluster, COMMERCE_VSCHEMA, CUSTOMER_TABLES,
    TWO_SHARDS,
};

const CUSTOMER_VSCHEMA: &str = r#"{
  "sharded": true,
  "vindexes": {
    "hash": {"type": "hash"},
    "md5": {"type": "unicode_loose_md5"},
    "customer_email_lookup": {
      "type": "consistent_lookup_unique", "owner": "customer",
      "params": {"table": "commerce.customer_email_idx", "from": "email", "to": "keyspace_id",
                 "ignore_nulls": "true"}
    },
    "mc": {"type": "multicol", "params": {"column_count": "2"}},
    "wallet_code_lookup": {
      "type": "lookup_unique", "owner": "wallet",
      "params": {"table": "commerce.wallet_code_idx", "from": "code", "to": "keyspace_id",
                 "ignore_nulls": "true"}
    },
    "customer_name_lookup": {
      "type": "lookup", "owner": "customer",
      "params": {"table": "customer.customer_name_idx", "from": "name", "to": "keyspace_id",
                 "ignore_nulls": "true"}
    }
  },
  "tables": {
    "customer": {
      "column_vindexes": [
        {"column": "customer_id", "name": "hash"},
        {"column": "email", "name": "customer_email_lookup"},
        {"column": "name", "name": "customer_name_lookup"}
      ],
      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
    },
    "corder": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
      "auto_increment": {"column": "order_id", "sequence": "commerce.order_seq"}
    },
    "customer_name_idx": {"column_vindexes": [{"column": "name", "name": "md5"}]},
    "wallet": {
      "column_vindexes": [
        {"columns": ["region", "acct"], "name": "mc"},
        {"column": "code", "name": "wallet_code_lookup"}
      ]
    },
    "product": {"type": "reference"}
  }
}"#;

const NAME_IDX: &str = "create table customer_name_idx (name varchar(32) collate \
     utf8mb4_general_ci not null, keyspace_id varbinary(10) not null, \
     primary key (name, keyspace_id))";

const EMAIL_IDX: &str = "create table customer_email_idx (email varchar(64) collate \
     utf8mb4_general_ci not null, keyspace_id varbinary(10), primary key (email))";

const WALLET: &str = "create table wallet (region int not null, acct bigint not null, \
     code varchar(32), balance int, primary key (region, acct))";

const WALLET_CODE_IDX: &str = "create table wallet_code_idx (code varchar(32) not null, \
     keyspace_id varbinary(16), primary key (code))";

/// Writes to `wallet`, each followed by its consistency check: routed by both primary vindex
/// columns (one shard), by the first (the shards of its range), by the lookup, and scattered.
const WALLET_WRITES: &[&str] = &[
    "insert into wallet (region, acct, code, balance) values (1, 10, 'w1', 5), \
     (1, 11, 'w2', 6), (2, 10, 'w3', 7), (2, 12, NULL, 8), (3, 30, 'w5', 9), (4, 40, 'w6', 10)",
    "update wallet set code = 'w1b' where region = 1 and acct = 10",
    "update wallet set code = 'w4' where region = 2 and acct = 12",
    "update wallet set code = NULL, balance = 0 where region = 1",
    "update wallet set balance = balance + 1 where code = 'w3'",
    "update wallet set code = 'w7' where code = 'w5'",
    "delete from wallet where region = 2 and acct in (10, 99)",
    "delete from wallet where code = 'w6'",
    "delete from wallet where balance < 9",
];

/// Statements run on both sides, each followed by the consistency check.
const WRITES: &[&str] = &[
    "insert into customer (customer_id, email, name, score) values \
     (1, 'a@x.com', 'Alice', 10), (2, 'b@x.com', 'bob', 20), (4, 'c@x.com', 'ALICE', 30), \
     (6, NULL, NULL, 40), (7, 'e@x.com', 'bob', 50), (9, 'f@x.com', 'zed', 60)",
    "insert into customer (customer_id, email, name, score) values (11, 'g@x.com', 'Alice', 5)",
    "update customer set email = 'a2@x.com' where customer_id = 1",
    "update customer set name = 'carol' where email = 'c@x.com'",
    "update customer set email = NULL, name = 'bob' where customer_id = 2",
    "update customer set email = 'n@x.com', name = 'nina' where customer_id = 6",
    "update customer set score = score + 1 where name = 'bob'",
    "update customer set name = 'dan' where score > 45",
    "delete from customer where customer_id = 4",
    "delete from customer where email = 'e@x.com'",
    "delete from customer where name in ('Alice', 'nobody')",
    "delete from customer where score < 22",
];

/// Selects compared with plain MariaDB after the writes above.
const SELECTS: &[&str] = &[
    "select customer_id, email, name, score from customer where email = 'n@x.com'",
    "select customer_id, email, name from customer where email = 'nobody@x.com'",
    "select customer_id, name from customer where email in ('n@x.com', 'f@x.com', 'zz') \
     order by customer_id",
    "select customer_id, email from customer where name = 'DAN' order by customer_id",
    "select count(*) from customer where name = 'dan'",
    "select customer_id from customer where name = 'nina' and score > 0",
];

/// Runs `sql` through vtgate and on the plain database: the same rows affected.
async fn same_rows_affected(c: &mut Conn, plain: &mut Conn, sql: &str) {
    let ours = c
        .query_iter(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .affected_rows();
    let theirs = plain.query_iter(sql).await.unwrap().affected_rows();
    assert_eq!(ours, theirs, "rows affected by {sql}");
}

async fn query(c: &mut Conn, sql: &str) -> Vec<Vec<Option<String>>> {
    let rows: Vec<mysql_async::Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    text_rows(rows)
}

/// `hash`'s keyspace id of a customer id, in upper-case hex.
fn ksid_hex(id: &str) -> String {
    let v = vschema::create_vindex("hash", "hash", &Default::default()).unwrap();
    let id: i64 = id.parse().unwrap();
    match v.map(&[vschema::Value::Int(id)]).unwrap().as_slice() {
        [vschema::Destination::KeyspaceId(k)] => k.0.iter().map(|b| format!("{b:02X}")).collect(),
        other => panic!("hash of {id}: {other:?}"),
    }
}

/// `wallet`'s `multicol` keyspace id of `(region, acct)`, in upper-case hex.
fn wallet_ksid_hex(region: &str, acct: &str) -> String {
    let params = [("column_count".to_string(), "2".to_string())]
        .into_iter()
        .collect();
    let v = vschema::create_vindex("multicol", "mc", &params).unwrap();
    let row = vec![
        vschema::Value::Int(region.parse().unwrap()),
        vschema::Value::Int(acct.parse().unwrap()),
    ];
    match v.map_rows(&[row]).unwrap().as_slice() {
        [vschema::Destination::KeyspaceId(k)] => k.0.iter().map(|b| format!("{b:02X}")).collect(),
        other => panic!("multicol of ({region}, {acct}): {other:?}"),
    }
}

/// `wallet_code_idx` holds exactly the rows `wallet`'s rows imply.
async fn assert_wallet_consistent(c: &mut Conn, after: &str) {
    let owners = query(c, "select region, acct, code from wallet").await;
    let mut want: Vec<(String, String)> = owners
        .iter()
        .filter_map(|r| {
            let ksid = wallet_ksid_hex(r[0].as_deref()?, r[1].as_deref()?);
            Some((r[2].clone()?, ksid))
        })
        .collect();
    want.sort();
    let mut got: Vec<(String, String)> = query(
        c,
        "select code, hex(keyspace_id) from commerce.wallet_code_idx",
    )
    .await
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
    .collect();
    got.sort();
    assert_eq!(got, want, "wallet_code_idx after {after}");
}

/// Both lookup tables hold exactly the rows the owner rows imply.
async fn assert_consistent(c: &mut Conn, after: &str) {
    let owners = query(c, "select customer_id, email, name from customer").await;
    for (col, table, column) in [
        (1, "commerce.customer_email_idx", "email"),
        (2, "customer.customer_name_idx", "name"),
    ] {
        let mut want: Vec<(String, String)> = owners
            .iter()
            .filter_map(|r| Some((r[col].clone()?, ksid_hex(r[0].as_deref()?))))
            .collect();
        want.sort();
        let sql = format!("select {column}, hex(keyspace_id) from {table}");
        let mut got: Vec<(String, String)> = query(c, &sql)
            .await
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{table} after {after}");
    }
}

/// The `customer` shards a statement's queries on `table` reach (VEXPLAIN QUERIES), and
/// whether one went to a lookup table in commerce.
async fn shards_reached(c: &mut Conn, table: &str, sql: &str) -> (Vec<String>, bool) {
    let sent: Vec<(u32, String, String, String)> =
        c.query(format!("vexplain queries {sql}")).await.unwrap();
    let shards = sent
        .iter()
        .filter(|q| q.1 == "customer" && q.3.to_lowercase().contains(&format!("from {table} ")))
        .map(|q| q.2.clone())
        .collect();
    (shards, sent.iter().any(|q| q.1 == "commerce"))
}

async fn wait_for_vschema(c: &mut Conn) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let json: Option<String> = c
            .query_first("vexplain plan select * from customer where email = 'x'")
            .await
            .unwrap();
        if json.is_some_and(|j| j.contains("customer_email_lookup")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "vtgate never saw the lookup VSchema"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_vindexes_route_and_stay_consistent() {
    let cluster = ShardedCluster::start("vtg_lookup", TWO_SHARDS).await;
    let mut c = cluster.conn(Some("customer")).await;
    c.query_drop(NAME_IDX).await.unwrap();
    c.query_drop(WALLET).await.unwrap();
    let mut commerce = cluster.conn(Some("commerce")).await;
    commerce.query_drop(EMAIL_IDX).await.unwrap();
    commerce.query_drop(WALLET_CODE_IDX).await.unwrap();
    let commerce_vschema = COMMERCE_VSCHEMA.replace(
        r#""warehouse": {}"#,
        r#""warehouse": {}, "customer_email_idx": {}, "wallet_code_idx": {}"#,
    );
    cluster
        .set_vschemas(CUSTOMER_VSCHEMA, &commerce_vschema)
        .await;
    wait_for_vschema(&mut c).await;

    let plain_db = format!("vtg_lookup_{}_plain", std::process::id());
    let _drop_plain = DropOnExit(plain_db.clone());
    let mut admin = Conn::new(opts(3306, None)).await.unwrap();
    admin
        .query_drop(format!("create database {plain_db}"))
        .await
        .unwrap();
    let mut plain = Conn::new(opts(3306, Some(&plain_db))).await.unwrap();
    plain.query_drop(CUSTOMER_TABLES[0]).await.unwrap();
    plain.query_drop(WALLET).await.unwrap();

    for (n, sql) in WRITES.iter().enumerate() {
        same_rows_affected(&mut c, &mut plain, sql).await;
        assert_consistent(&mut c, sql).await;
        if n == 1 {
            // Point selects by a lookup column reach one customer shard after one lookup.
            let (shards, looked_up) = shards_reached(
                &mut c,
                "customer",
                "select * from customer where email = 'b@x.com'",
            )
            .await;
            assert_eq!((shards.len(), looked_up), (1, true), "{shards:?}");
            let (shards, _) = shards_reached(
                &mut c,
                "customer",
                "select * from customer where name = 'zed'",
            )
            .await;
            assert_eq!(shards.len(), 1, "{shards:?}");
        }
    }
    for sql in WALLET_WRITES {
        same_rows_affected(&mut c, &mut plain, sql).await;
        assert_wallet_consistent(&mut c, sql).await;
    }
    let wallets = "select region, acct, code, balance from wallet order by region, acct";
    assert_eq!(
        query(&mut c, wallets).await,
        query(&mut plain, wallets).await
    );
    let by_code = "select region, acct from wallet where code = 'w7'";
    assert_eq!(
        query(&mut c, by_code).await,
        query(&mut plain, by_code).await
    );
    let (shards, looked_up) = shards_reached(&mut c, "wallet", by_code).await;
    assert!(looked_up && shards.len() <= 1, "{shards:?}");

    let all = "select customer_id, email, name, score from customer order by customer_id";
    assert_eq!(query(&mut c, all).await, query(&mut plain, all).await);
    for sql in SELECTS {
        assert_eq!(
            query(&mut c, sql).await,
            query(&mut plain, sql).await,
            "{sql}"
        );
    }

    // Only the letter case of a consistent lookup value: refused, nothing changes.
    let e = c
        .query_drop("update customer set email = 'N@X.com' where customer_id = 6")
        .await
        .unwrap_err();
    assert_eq!(server_error(e).0, 1235);
    assert_eq!(query(&mut c, all).await, query(&mut plain, all).await);

    // A generated id gets its lookup rows too.
    c.query_drop("insert into customer (email, name) values ('seq@x.com', 'sam')")
        .await
        .unwrap();
    assert_consistent(&mut c, "sequence insert").await;

    // A duplicate email: 1062, and neither row of the statement nor its lookup rows exist.
    let before = query(&mut c, all).await;
    let e = c
        .query_drop(
            "insert into customer (customer_id, email, name) values \
             (30, 'fresh@x.com', 'fred'), (31, 'n@x.com', 'nora')",
        )
        .await
        .unwrap_err();
    let (code, _, message) = server_error(e);
    assert_eq!(code, 1062, "{message}");
    assert_eq!(query(&mut c, all).await, before);
    assert_consistent(&mut c, "duplicate insert").await;

    // Two rows of one statement with the same email are a duplicate too.
    let e = c
        .query_drop(
            "insert into customer (customer_id, email, name) values \
             (32, 'same@x.com', 'a'), (33, 'SAME@x.com', 'b')",
        )
        .await
        .unwrap_err();
    assert_eq!(server_error(e).0, 1062);
    assert_eq!(query(&mut c, all).await, before);
    assert_consistent(&mut c, "duplicate within one insert").await;

    // A lookup row whose owner row is gone is taken over by the new owner.
    commerce
        .query_drop(format!(
            "insert into customer_email_idx (email, keyspace_id) values ('orphan@x.com', 0x{})",
            ksid_hex("99")
        ))
        .await
        .unwrap();
    c.query_drop(
        "insert into customer (customer_id, email, name) values (40, 'orphan@x.com', 'o')",
    )
    .await
    .unwrap();
    assert_consistent(&mut c, "take-over").await;

    // In a transaction: rolled back, nothing stays; committed, everything does.
    c.query_drop("begin").await.unwrap();
    c.query_drop("insert into customer (customer_id, email, name) values (50, 'tx@x.com', 't')")
        .await
        .unwrap();
    c.query_drop("delete from customer where customer_id = 40")
        .await
        .unwrap();
    c.query_drop("rollback").await.unwrap();
    assert_consistent(&mut c, "rollback").await;
    assert_eq!(
        query(
            &mut c,
            "select count(*) from customer where customer_id in (40, 50)"
        )
        .await,
        [[Some("1".to_string())]]
    );
    c.query_drop("begin").await.unwrap();
    c.query_drop("insert into customer (customer_id, email, name) values (50, 'tx@x.com', 't')")
        .await
        .unwrap();
    c.query_drop("update customer set email = 'tx2@x.com' where customer_id = 50")
        .await
        .unwrap();
    c.query_drop("commit").await.unwrap();
    assert_consistent(&mut c, "commit").await;
    let (shards, _) = shards_reached(
        &mut c,
        "customer",
        "select * from customer where email = 'tx2@x.com'",
    )
    .await;
    assert_eq!(shards.len(), 1);

    // A failed lookup write inside a transaction rolls the whole transaction back.
    c.query_drop("begin").await.unwrap();
    c.query_drop("insert into customer (customer_id, email, name) values (60, 'in@x.com', 'u')")
        .await
        .unwrap();
    let e = c
        .query_drop("insert into customer (customer_id, email, name) values (61, 'tx2@x.com', 'v')")
        .await
        .unwrap_err();
    let (code, _, message) = server_error(e);
    assert_eq!(code, 1062, "{message}");
    assert!(message.contains("transaction rolled back"), "{message}");
    c.query_drop("commit").await.unwrap();
    assert_eq!(
        query(
            &mut c,
            "select count(*) from customer where customer_id in (60, 61)"
        )
        .await,
        [[Some("0".to_string())]]
    );
    assert_consistent(&mut c, "rolled back transaction").await;

    // A savepoint does not cover the lookup rows' own transactions: rolling back to it is
    // refused, and the transaction stays whole.
    c.query_drop("begin").await.unwrap();
    c.query_drop("savepoint s1").await.unwrap();
    c.query_drop("insert into customer (customer_id, email, name) values (62, 'sp@x.com', 's')")
        .await
        .unwrap();
    let e = c.query_drop("rollback to savepoint s1").await.unwrap_err();
    assert_eq!(server_error(e).0, 1235);
    c.query_drop("commit").await.unwrap();
    assert_consistent(&mut c, "refused rollback to savepoint").await;

    // Re-creating a unique value deleted earlier in the same transaction would wait for the
    // post-session's lock: refused before anything of the statement is written.
    c.query_drop("begin").await.unwrap();
    c.query_drop("delete from customer where customer_id = 40")
        .await
        .unwrap();
    let e = c
        .query_drop(
            "insert into customer (customer_id, email, name) values (63, 'Orphan@x.com', 'p')",
        )
        .await
        .unwrap_err();
    assert_eq!(server_error(e).0, 1235);
    c.query_drop("commit").await.unwrap();
    assert_consistent(&mut c, "refused re-creation").await;
    assert_eq!(
        query(
            &mut c,
            "select count(*) from customer where customer_id in (40, 63)"
        )
        .await,
        [[Some("0".to_string())]]
    );

    // The primary vindex column cannot change.
    let e = c
        .query_drop("update customer set customer_id = 5 where customer_id = 50")
        .await
        .unwrap_err();
    let (code, _, message) = server_error(e);
    assert_eq!(code, 1235);
    assert!(
        message.contains("you cannot UPDATE primary vindex columns"),
        "{message}"
    );
}
