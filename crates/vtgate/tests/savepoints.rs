//! Savepoints across shards, compared step by step with one plain MariaDB database running
//! the same statements: every statement must succeed on both or fail on both with the same
//! error, and after each scenario both hold the same rows. Customer ids 1, 2 and 5 live on
//! `-80`, 4 and 6 on `80-` (the `hash` vindex); `warehouse` is in the unsharded `commerce`.
//!
//! vtgate keeps the transaction's savepoints and replays them on a shard that joins the
//! transaction later, so `ROLLBACK TO` / `RELEASE` reach every shard (without that, a
//! shard that never saw the savepoint answers 1305 after the others rolled back, and its
//! rows survive the commit).

mod sharded_cluster;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use sharded_cluster::{opts, plain_database, ShardedCluster, TWO_SHARDS};

/// A connection through vtgate and one to the plain database, driven in step.
struct Pair {
    vt: Conn,
    plain: Conn,
}

/// What a statement gave: rows (as text), or an error's number and, for errors vtgate
/// answers itself, its message.
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows(Vec<Vec<Option<String>>>),
    Error(u16, String),
}

async fn run(conn: &mut Conn, sql: &str) -> Outcome {
    match conn.query::<Row, _>(sql).await {
        Ok(rows) => Outcome::Rows(
            rows.into_iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.get::<Option<String>, _>(i).flatten())
                        .collect()
                })
                .collect(),
        ),
        Err(mysql_async::Error::Server(e)) => {
            // Tablet errors are wrapped by vtgate (`target: ...`); vtgate's own 1305 is not.
            let msg = if e.code == 1305 {
                e.message
            } else {
                String::new()
            };
            Outcome::Error(e.code, msg)
        }
        Err(e) => panic!("{sql}: {e}"),
    }
}

impl Pair {
    /// Runs `sql` on both sides and fails on any difference (the plain database holds
    /// `warehouse` next to the customer tables: `commerce.` is dropped there).
    async fn step(&mut self, sql: &str) -> Outcome {
        let vt = run(&mut self.vt, sql).await;
        let plain = run(
            &mut self.plain,
            &sql.replace("commerce.warehouse", "warehouse"),
        )
        .await;
        assert_eq!(
            vt, plain,
            "`{sql}`: vtgate (left) and MariaDB (right) differ"
        );
        vt
    }

    /// Runs a script of `;`-separated statements step by step.
    async fn script(&mut self, script: &str) {
        for sql in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            self.step(sql).await;
        }
    }

    /// `sql` must fail with 1305 on both sides.
    async fn no_savepoint(&mut self, sql: &str) {
        match self.step(sql).await {
            Outcome::Error(1305, _) => {}
            other => panic!("`{sql}` should fail with 1305, got {other:?}"),
        }
    }

    /// Both sides hold the same rows in both tables (read by a new vtgate connection, so
    /// only committed rows count).
    async fn same_tables(&mut self, cluster: &ShardedCluster, scenario: &str) {
        let mut fresh = cluster.conn(Some("customer")).await;
        for sql in [
            "select customer_id, email, score from customer order by customer_id",
            "select sku, stock from commerce.warehouse order by sku",
        ] {
            let vt = run(&mut fresh, sql).await;
            let plain = run(
                &mut self.plain,
                &sql.replace("commerce.warehouse", "warehouse"),
            )
            .await;
            assert_eq!(vt, plain, "{scenario}: `{sql}` differs after the scenario");
        }
    }

    /// Empties both tables on both sides (autocommit).
    async fn reset(&mut self) {
        self.script("delete from customer; delete from commerce.warehouse")
            .await;
    }
}

fn insert(id: u32) -> String {
    format!("insert into customer (customer_id, email, score) values ({id}, 'c{id}', {id})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn savepoints_behave_as_on_one_mariadb() {
    let cluster = ShardedCluster::start("vtg_savepoints", TWO_SHARDS).await;
    let (plain_db, _drop_plain, plain) = plain_database("vtg_savepoints").await;
    let mut p = Pair {
        vt: cluster.conn(Some("customer")).await,
        plain,
    };

    // The ids the scenarios rely on sit where the module doc says.
    p.script(&format!("{}; {}", insert(1), insert(4))).await;
    let mut low = cluster.conn(Some("customer/-80")).await;
    let ids: Vec<u32> = low
        .query("select customer_id from customer order by customer_id")
        .await
        .unwrap();
    assert_eq!(ids, [1], "id 1 on -80, id 4 on 80-");
    drop(low);
    p.reset().await;

    // A savepoint taken before any shard session: the shard that begins later has it.
    p.script(&format!(
        "begin; savepoint a; {}; rollback to a; {}; commit",
        insert(1),
        insert(2)
    ))
    .await;
    p.same_tables(&cluster, "savepoint before any shard").await;
    p.reset().await;

    // A savepoint taken with -80 open; 80- joins after it: ROLLBACK TO reaches both.
    p.script(&format!(
        "begin; {}; savepoint a; {}; rollback to a; \
         select customer_id from customer order by customer_id; commit",
        insert(1),
        insert(4)
    ))
    .await;
    p.same_tables(&cluster, "second shard after the savepoint")
        .await;
    p.reset().await;

    // The same through a scattered UPDATE that begins the second shard.
    p.script(&format!(
        "{}; begin; {}; savepoint a; update customer set score = score + 100; \
         rollback to a; select customer_id, score from customer order by customer_id; commit",
        insert(4),
        insert(1)
    ))
    .await;
    p.same_tables(&cluster, "scatter update after the savepoint")
        .await;
    p.reset().await;

    // Nested: rolling back to `a` drops `b`, which is then unknown; `a` stays.
    p.script(&format!(
        "begin; {}; savepoint a; {}; savepoint b; {}; rollback to a",
        insert(1),
        insert(4),
        insert(2)
    ))
    .await;
    p.no_savepoint("rollback to b").await;
    p.no_savepoint("release savepoint b").await;
    p.script(&format!(
        "{}; rollback to savepoint a; {}; commit",
        insert(6),
        insert(5)
    ))
    .await;
    p.same_tables(&cluster, "nested savepoints").await;
    p.reset().await;

    // RELEASE drops the savepoint and the later ones, keeps the rows; it reaches a shard
    // that joined after the savepoint.
    p.script(&format!(
        "begin; savepoint a; {}; savepoint b; {}; release savepoint a",
        insert(1),
        insert(4)
    ))
    .await;
    p.no_savepoint("rollback to b").await;
    p.no_savepoint("rollback to a").await;
    p.script("commit").await;
    p.same_tables(&cluster, "release").await;
    p.reset().await;
    p.script(&format!(
        "begin; {}; savepoint a; {}; release savepoint a; commit",
        insert(1),
        insert(4)
    ))
    .await;
    p.same_tables(&cluster, "release with a shard joined later")
        .await;
    p.reset().await;

    // Rolling back to the same savepoint twice, with writes on both shards in between.
    p.script(&format!(
        "begin; {}; savepoint a; {}; rollback to a; {}; {}; rollback to a; {}; commit",
        insert(1),
        insert(4),
        insert(6),
        insert(2),
        insert(5)
    ))
    .await;
    p.same_tables(&cluster, "rollback to the same savepoint twice")
        .await;
    p.reset().await;

    // A name taken again moves (names compare case-insensitively): rolling back to it
    // keeps what came before its second use.
    p.script(&format!(
        "begin; savepoint a; {}; savepoint A; {}; rollback to `a`; commit",
        insert(1),
        insert(4)
    ))
    .await;
    p.same_tables(&cluster, "savepoint name reused").await;
    p.reset().await;

    // Outside a transaction a savepoint is accepted and forgotten; COMMIT and ROLLBACK
    // forget them too.
    p.script("savepoint a").await;
    p.no_savepoint("rollback to a").await;
    p.no_savepoint("release savepoint a").await;
    p.script(&format!("begin; savepoint a; {}; commit", insert(1)))
        .await;
    p.no_savepoint("rollback to a").await;
    p.script("begin; savepoint a; rollback").await;
    p.no_savepoint("release savepoint a").await;
    p.script("begin; savepoint a; begin").await;
    p.no_savepoint("rollback to a").await;
    p.script("commit").await;
    p.same_tables(&cluster, "savepoints outside a transaction")
        .await;
    p.reset().await;

    // autocommit off: the savepoint opens the transaction.
    p.script(&format!(
        "set autocommit = 0; savepoint a; {}; {}; rollback to a; {}; commit; set autocommit = 1",
        insert(1),
        insert(4),
        insert(2)
    ))
    .await;
    p.same_tables(&cluster, "autocommit off").await;
    p.reset().await;

    // The unsharded keyspace's pass-through path, alone and next to the sharded shards.
    let w = |sku: &str| {
        format!("insert into commerce.warehouse (sku, stock, city) values ('{sku}', 1, 'x')")
    };
    p.script(&format!(
        "begin; savepoint a; {}; savepoint b; {}; rollback to b; release savepoint a",
        w("w1"),
        w("w2")
    ))
    .await;
    p.no_savepoint("rollback to b").await;
    p.script("commit").await;
    p.same_tables(&cluster, "unsharded keyspace").await;
    p.reset().await;
    p.script(&format!(
        "begin; {}; savepoint a; {}; {}; select sku from commerce.warehouse; rollback to a; \
         select sku from commerce.warehouse; {}; commit",
        insert(1),
        w("w3"),
        insert(4),
        w("w4")
    ))
    .await;
    p.same_tables(&cluster, "unsharded and sharded in one transaction")
        .await;
    p.reset().await;

    // A session on the unsharded keyspace: its statements pass through to the one shard.
    let mut u = Pair {
        vt: cluster.conn(Some("commerce")).await,
        plain: Conn::new(opts(3306, Some(&plain_db))).await.unwrap(),
    };
    let w =
        |sku: &str| format!("insert into warehouse (sku, stock, city) values ('{sku}', 1, 'x')");
    u.script(&format!(
        "begin; savepoint a; {}; savepoint b; {}; rollback to a; {}; savepoint b; \
         release savepoint b; select sku from warehouse",
        w("u1"),
        w("u2"),
        w("u3")
    ))
    .await;
    u.no_savepoint("rollback to b").await;
    u.script(&format!("rollback to a; {}; commit", w("u4")))
        .await;
    u.same_tables(&cluster, "pass-through to the unsharded keyspace")
        .await;
}
