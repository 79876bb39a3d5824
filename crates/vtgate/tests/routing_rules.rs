//! Routing rules and buffering through a real vtgate, as during a MoveTables of `customer`
//! from `commerce` to a `customer` keyspace: both keyspaces list `customer`, and every
//! tablet (primary, replica, rdonly of `commerce/0` and `customer/0`) holds a row that names
//! it, so a read shows which tablet answered. The rules are written with the topo API as
//! MoveTables writes them; vtgate (with `--enable-buffer`) must follow them per tablet type,
//! for unqualified and qualified names, on an open connection, and hold a write through a
//! simulated write switch (denied on the source, rules flipped shortly after).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{drop_database, free_port, mariadb, opts, Proc, MYSQL_PORT};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use proto::topodata::shard::TabletControl;
use proto::topodata::{Keyspace, TabletType};
use proto::vschema::{RoutingRule, RoutingRules};
use topo::testutil::EtcdProcess;
use topo::TopoServer;

/// How long vtgate holds a statement (`--buffer-window`).
const WINDOW: Duration = Duration::from_secs(4);

const TYPES: [&str; 3] = ["primary", "replica", "rdonly"];

/// etcd, six tablets, vtgate; databases dropped on drop.
struct MoveCluster {
    _etcd: EtcdProcess,
    topo: TopoServer,
    _procs: Vec<Proc>,
    vtgate_port: u16,
    /// (keyspace, tablet type, database).
    dbs: Vec<(String, String, String)>,
    dir: tempfile::TempDir,
}

impl Drop for MoveCluster {
    fn drop(&mut self) {
        self._procs.clear();
        for (_, _, db) in &self.dbs {
            drop_database(db);
        }
    }
}

fn binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_vtgate")).with_file_name(name);
    assert!(path.exists(), "{} missing: build it first", path.display());
    path
}

fn vschema(json: &str) -> proto::vschema::Keyspace {
    vschema::model::Keyspace::from_json(json)
        .expect("vschema")
        .into()
}

fn rule(from: &str, to: &str) -> RoutingRule {
    RoutingRule {
        from_table: from.into(),
        to_tables: vec![to.into()],
    }
}

/// MoveTables' rules: each of `t`, `commerce.t`, `customer.t` with the suffixes `""`,
/// `@replica`, `@rdonly` points at `reads` for replica/rdonly and at `writes` otherwise.
fn movetables_rules(reads: &str, writes: &str) -> RoutingRules {
    let mut rules = Vec::new();
    for from in ["customer", "commerce.customer", "customer.customer"] {
        if !(writes == "customer" && from == "customer.customer") {
            rules.push(rule(from, &format!("{writes}.customer")));
        }
        for suffix in ["@replica", "@rdonly"] {
            rules.push(rule(
                &format!("{from}{suffix}"),
                &format!("{reads}.customer"),
            ));
        }
    }
    RoutingRules { rules }
}

impl MoveCluster {
    async fn start() -> MoveCluster {
        let pid = std::process::id();
        let mut dbs = Vec::new();
        let mut admin = mariadb().await;
        for ks in ["commerce", "customer"] {
            for tt in TYPES {
                let db = format!("vtg_routing_{pid}_{ks}_{tt}");
                admin
                    .query_drop(format!("drop database if exists {db}"))
                    .await
                    .unwrap();
                admin
                    .query_drop(format!("create database {db}"))
                    .await
                    .unwrap();
                admin
                    .query_drop(format!(
                        "create table {db}.customer (customer_id bigint primary key, \
                         email varchar(64))"
                    ))
                    .await
                    .unwrap();
                admin
                    .query_drop(format!("insert into {db}.customer values (1, '{ks}-{tt}')"))
                    .await
                    .unwrap();
                if ks == "commerce" {
                    admin
                        .query_drop(format!(
                            "create table {db}.product (sku varchar(16) primary key)"
                        ))
                        .await
                        .unwrap();
                }
                dbs.push((ks.to_string(), tt.to_string(), db));
            }
        }
        let etcd = EtcdProcess::start().expect("etcd starts");
        let addr = etcd.address();
        let topo = TopoServer::connect_etcd(&addr, "/vitess/global")
            .await
            .expect("topo connects");
        topo.add_cell_info("zone1", &addr, "/vitess/zone1")
            .await
            .unwrap();
        for (ks, json) in [
            ("commerce", r#"{"tables": {"customer": {}, "product": {}}}"#),
            ("customer", r#"{"tables": {"customer": {}}}"#),
        ] {
            topo.create_keyspace(ks, &Keyspace::default())
                .await
                .unwrap();
            topo.save_vschema(ks, &vschema(json)).await.unwrap();
            topo.create_shard(ks, "0").await.unwrap();
            topo.rebuild_keyspace_graph(ks, &[]).await.unwrap();
        }
        topo.save_routing_rules(&movetables_rules("commerce", "commerce"))
            .await
            .unwrap();
        topo.rebuild_vschema_graph(&[]).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut procs = Vec::new();
        for (uid, (ks, tt, db)) in (100u32..).zip(&dbs) {
            procs.push(start_tablet(&addr, ks, tt, uid, db, &dir));
        }
        let vtgate_port = free_port();
        let log = std::fs::File::create(dir.path().join("vtgate.log")).unwrap();
        let vtgate = Command::new(env!("CARGO_BIN_EXE_vtgate"))
            .args(["--mysql-server-port", &vtgate_port.to_string()])
            .args(["--mysql-server-bind-address", "127.0.0.1"])
            .args(["--port", &free_port().to_string()])
            .args(["--cell", "zone1", "--topo-global-server-address", &addr])
            .args(["--mysql-auth-server-impl", "none"])
            .args(["--tablet-refresh-interval", "500ms"])
            .args(["--enable-buffer", "--buffer-window", "4s"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("vtgate starts");
        procs.push(Proc(vtgate));
        let cluster = MoveCluster {
            _etcd: etcd,
            topo,
            _procs: procs,
            vtgate_port,
            dbs,
            dir,
        };
        cluster.wait_serving().await;
        cluster
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    async fn conn(&self, db: Option<&str>) -> Conn {
        Conn::new(opts(self.vtgate_port, db)).await.unwrap()
    }

    fn db(&self, ks: &str, tt: &str) -> &str {
        let found = self.dbs.iter().find(|(k, t, _)| k == ks && t == tt);
        &found.expect("database").2
    }

    /// Waits until every tablet answers through vtgate (shard targets bypass the rules).
    async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        for (ks, tt, _) in &self.dbs {
            let target = format!("{ks}/0@{tt}");
            loop {
                let last = match Conn::new(opts(self.vtgate_port, Some(&target))).await {
                    Ok(mut c) => match c.query_drop("select 1 from dual").await {
                        Ok(()) => break,
                        Err(e) => e.to_string(),
                    },
                    Err(e) => e.to_string(),
                };
                assert!(
                    Instant::now() < deadline,
                    "{target} not serving ({last}); vtgate log:\n{}",
                    self.log("vtgate.log")
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Writes `rules` and rebuilds the SrvVSchema, as a workflow step does.
    async fn set_rules(&self, rules: RoutingRules) {
        self.topo.save_routing_rules(&rules).await.unwrap();
        self.topo.rebuild_vschema_graph(&[]).await.unwrap();
    }

    /// Denies `tables` on the primary of `keyspace/0` (the source side of a write switch).
    async fn deny(&self, keyspace: &str, tables: &[&str]) {
        let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        self.topo
            .update_shard_fields(keyspace, "0", move |s| {
                s.tablet_controls
                    .retain(|c| c.tablet_type != TabletType::Primary as i32);
                s.tablet_controls.push(TabletControl {
                    tablet_type: TabletType::Primary as i32,
                    denied_tables: tables.clone(),
                    ..Default::default()
                });
                Ok(())
            })
            .await
            .unwrap();
    }
}

fn start_tablet(
    addr: &str,
    ks: &str,
    tt: &str,
    uid: u32,
    db: &str,
    dir: &tempfile::TempDir,
) -> Proc {
    let log = std::fs::File::create(dir.path().join(format!("vttablet-{uid}.log"))).unwrap();
    let child = Command::new(binary("vttablet"))
        .args(["--tablet-path", &format!("zone1-{uid:010}")])
        .args([
            "--init-keyspace",
            ks,
            "--init-shard=0",
            "--init-tablet-type",
            tt,
        ])
        .args([
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--bind-address",
            "127.0.0.1",
        ])
        .args([
            "--tablet-hostname",
            "127.0.0.1",
            "--topo-global-server-address",
            addr,
        ])
        .args([
            "--db-port",
            &MYSQL_PORT.to_string(),
            "--init-db-name-override",
            db,
        ])
        .args(["--health-check-interval", "1s"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("vttablet starts");
    Proc(child)
}

/// The `email` of customer 1 as `sql` reads it: names the tablet that answered.
async fn who(c: &mut Conn, sql: &str) -> String {
    match c.query_first::<String, _>(sql).await {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

/// Reads until `sql` answers `want` (the rules reach vtgate through a topo watch).
async fn eventually(c: &mut Conn, sql: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = who(c, sql).await;
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: got {got}, want {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vtgate_follows_routing_rules_and_buffers_the_write_switch() {
    let cluster = MoveCluster::start().await;
    let mut primary = cluster.conn(None).await;
    let mut replica = cluster.conn(Some("@replica")).await;
    let mut rdonly = cluster.conn(Some("@rdonly")).await;
    let mut in_commerce = cluster.conn(Some("commerce@replica")).await;
    let q = "select email from customer where customer_id = 1";
    let qualified = "select email from customer.customer where customer_id = 1";

    // After create: everything reads the source, though both keyspaces list `customer`.
    assert_eq!(who(&mut primary, q).await, "commerce-primary");
    assert_eq!(who(&mut primary, qualified).await, "commerce-primary");
    assert_eq!(who(&mut replica, q).await, "commerce-replica");
    assert_eq!(who(&mut rdonly, qualified).await, "commerce-rdonly");
    assert_eq!(who(&mut in_commerce, q).await, "commerce-replica");

    // SwitchTraffic for rdonly,replica: reads move on the open connections, writes stay.
    cluster
        .set_rules(movetables_rules("customer", "commerce"))
        .await;
    eventually(&mut replica, q, "customer-replica").await;
    assert_eq!(who(&mut rdonly, q).await, "customer-rdonly");
    assert_eq!(who(&mut in_commerce, q).await, "customer-replica");
    assert_eq!(
        who(
            &mut replica,
            "select email from commerce.customer where customer_id = 1"
        )
        .await,
        "customer-replica"
    );
    assert_eq!(who(&mut primary, q).await, "commerce-primary");
    assert_eq!(who(&mut primary, qualified).await, "commerce-primary");

    // SwitchTraffic for primary: deny on the source, flip the rules a moment later. A write
    // arriving in between is held by vtgate and lands on the target.
    cluster.deny("commerce", &["customer"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let port = cluster.vtgate_port;
    let writer = tokio::spawn(async move {
        let mut c = Conn::new(opts(port, None)).await.unwrap();
        let started = Instant::now();
        let res = c
            .query_drop("insert into customer (customer_id, email) values (2, 'buffered')")
            .await;
        (res.map_err(|e| e.to_string()), started.elapsed())
    });
    // The first write of a transaction is held too (its shard transaction is rolled back
    // and begun again on the target).
    let tx_writer = tokio::spawn(async move {
        let mut c = Conn::new(opts(port, None)).await.unwrap();
        c.query_drop("begin").await.unwrap();
        c.query_drop("insert into customer (customer_id, email) values (3, 'in tx')")
            .await
            .map_err(|e| e.to_string())?;
        c.query_drop("update customer set email = 'in tx 2' where customer_id = 3")
            .await
            .map_err(|e| e.to_string())?;
        c.query_drop("commit").await.map_err(|e| e.to_string())
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster
        .set_rules(movetables_rules("customer", "customer"))
        .await;
    let (res, took) = writer.await.unwrap();
    res.expect("the buffered write succeeds after the switch");
    assert!(took >= Duration::from_millis(1000), "not held: {took:?}");
    tx_writer
        .await
        .unwrap()
        .expect("the buffered transaction commits on the target");
    assert!(
        cluster.log("vtgate.log").contains("buffering a statement"),
        "{}",
        cluster.log("vtgate.log")
    );
    let mut admin = mariadb().await;
    let on = |ks: &str| {
        format!(
            "select group_concat(email order by customer_id) from {}.customer \
             where customer_id in (2, 3)",
            cluster.db(ks, "primary")
        )
    };
    let target: Option<String> = admin.query_first(on("customer")).await.unwrap().unwrap();
    let source: Option<String> = admin.query_first(on("commerce")).await.unwrap().unwrap();
    assert_eq!(
        (target.as_deref(), source.as_deref()),
        (Some("buffered,in tx 2"), None),
        "{}",
        cluster.log("vtgate.log")
    );

    // After the switch the source's name follows the rules, qualified or not, and the
    // statement sent names the target's database.
    assert_eq!(who(&mut primary, q).await, "customer-primary");
    assert_eq!(
        who(
            &mut primary,
            "select email from commerce.customer where customer_id = 1"
        )
        .await,
        "customer-primary"
    );
    primary
        .query_drop("update commerce.customer set email = 'moved' where customer_id = 1")
        .await
        .unwrap();
    let email: String = admin
        .query_first(format!(
            "select email from {}.customer where customer_id = 1",
            cluster.db("customer", "primary")
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(email, "moved");

    // Outside a switch a denied table's error reaches the client once the window is over,
    // with Vitess's text.
    cluster.deny("commerce", &["customer", "product"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    let err = primary
        .query_drop("select * from commerce.product")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("target: commerce.0.primary: vttablet: rpc error: code = FailedPrecondition desc = disallowed due to rule: enforce denied tables"),
        "{err}"
    );
    assert!(started.elapsed() >= WINDOW - Duration::from_millis(200));
}
