//! MoveTables end to end, with real etcd, two mariadbd (binlogs on), two
//! tablets and the `vtctl` binary: create -> copy while a client keeps
//! writing -> switch reads -> switch writes -> the source refuses the moved
//! tables -> reverse -> switch again -> complete. The client follows the
//! routing rules as vtgate does (on a denied-tables error it re-reads them
//! and retries, holding the write while they still point at the denying
//! side) and records every acknowledged write; at the end the target must
//! hold exactly that. The target tablet is restarted during the copy.
//!
//! A second test cancels a workflow before its writes are switched.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use proto::queryservice::query_client::QueryClient;
use tonic::transport::Channel;
use topo::testutil::EtcdProcess;
use topo::TopoServer;

const INITIAL: i64 = 10000;
const DENIED: &str = "disallowed due to rule: enforce denied tables";

/// What the client believes the tables hold: every acknowledged write.
#[derive(Debug, Default, Clone, PartialEq)]
struct Model {
    customer: BTreeMap<i64, String>,
    corder: BTreeMap<i64, i64>,
}

/// A client writing through the tablets, following the routing rules.
struct Writer {
    ts: TopoServer,
    clients: BTreeMap<String, QueryClient<Channel>>,
    model: Model,
    /// Statements that were refused with the denied-tables error and retried.
    retried: u64,
}

impl Writer {
    /// Runs `sql` where the rules send `customer` writes; on a denied-tables
    /// error waits for the rules to move and retries.
    async fn write(&mut self, sql: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let keyspace = routed_keyspace(&self.ts, "customer", "commerce").await;
            let client = self
                .clients
                .get_mut(&keyspace)
                .expect("a tablet for the keyspace");
            match execute(client, &keyspace, sql).await {
                Ok(_) => return,
                Err(status) if status.message().contains(DENIED) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "writes held for too long: {sql}"
                    );
                    self.retried += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(status) => panic!("write {sql} on {keyspace} failed: {status:?}"),
            }
        }
    }

    async fn step(&mut self, n: i64) {
        let id = INITIAL + n;
        self.write(&format!(
            "insert into customer (customer_id, email) values ({id}, 'w{n}')"
        ))
        .await;
        self.model.customer.insert(id, format!("w{n}"));
        let victim = (n * 7919) % (INITIAL + n) + 1;
        self.write(&format!(
            "update customer set email = concat(email, '+') where customer_id = {victim}"
        ))
        .await;
        if let Some(email) = self.model.customer.get_mut(&victim) {
            email.push('+');
        }
        let gone = (n * 104_729) % INITIAL + 1;
        self.write(&format!("delete from customer where customer_id = {gone}"))
            .await;
        self.model.customer.remove(&gone);
        self.write(&format!("insert into corder (order_id, customer_id, sku, price) values ({id}, {n}, 'SKU-1', {n})")).await;
        self.model.corder.insert(id, n);
        let order = (n * 31) % INITIAL + 1;
        self.write(&format!(
            "update corder set price = price + 1 where order_id = {order}"
        ))
        .await;
        if let Some(price) = self.model.corder.get_mut(&order) {
            *price += 1;
        }
    }
}

async fn read_model(server: &Server, db: &str) -> Model {
    let mut conn = server.conn(db).await;
    let customer: Vec<(i64, String)> = conn
        .query("SELECT customer_id, email FROM customer ORDER BY customer_id")
        .await
        .unwrap();
    let corder: Vec<(i64, i64)> = conn
        .query("SELECT order_id, price FROM corder ORDER BY order_id")
        .await
        .unwrap();
    Model {
        customer: customer.into_iter().collect(),
        corder: corder.into_iter().collect(),
    }
}

fn show_states(out: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(out).expect("show prints JSON");
    value["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| s["state"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn customer_rows(server: &Server) -> Option<i64> {
    let mut conn = server.conn("vt_customer").await;
    conn.query_first("SELECT COUNT(*) FROM customer")
        .await
        .unwrap()
}

/// `VDiff create`, then its report as `VDiff show last --format json --verbose` prints it.
async fn vdiff(etcd: &EtcdProcess) -> serde_json::Value {
    let vdiff = |action: &'static [&'static str]| async move {
        let mut args = vec![
            "VDiff",
            "--workflow",
            "commerce2customer",
            "--target-keyspace",
            "customer",
        ];
        args.extend(action);
        vtctl_ok(etcd, &args).await
    };
    let created = vdiff(&["create"]).await;
    assert!(created.contains("scheduled on target shards"), "{created}");
    let out = vdiff(&["show", "last", "--format", "json", "--verbose"]).await;
    let report: serde_json::Value = serde_json::from_str(&out).expect("VDiff show prints JSON");
    assert!(
        created.contains(report["UUID"].as_str().unwrap_or("no uuid")),
        "show last is the VDiff just created: {created} {report}"
    );
    report
}

async fn rule(ts: &TopoServer, from: &str) -> Option<String> {
    let rules = ts.get_routing_rules().await.unwrap();
    rules
        .rules
        .iter()
        .find(|r| r.from_table == from)
        .map(|r| r.to_tables.join(","))
}

async fn primary_denied(ts: &TopoServer, keyspace: &str) -> Vec<String> {
    let shard = ts.get_shard(keyspace, "0").await.unwrap();
    shard
        .tablet_controls
        .iter()
        .flat_map(|c| c.denied_tables.clone())
        .collect()
}

const WF: [&str; 4] = [
    "MoveTables",
    "--workflow",
    "commerce2customer",
    "--target-keyspace",
];

async fn movetables(etcd: &EtcdProcess, args: &[&str]) -> String {
    let mut all: Vec<&str> = WF.to_vec();
    all.push("customer");
    all.extend_from_slice(args);
    vtctl_ok(etcd, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn movetables_moves_tables_while_writes_continue() {
    let root = temp_root("mt");
    let etcd = EtcdProcess::start().expect("etcd");
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    let (source_db, target_db) = tokio::join!(
        Server::start(root.path(), 401),
        Server::start(root.path(), 402)
    );
    let customer_grpc = free_port();
    let commerce = tablet(&ts, &etcd, 101, "commerce", &source_db, free_port()).await;
    let customer = tablet(&ts, &etcd, 201, "customer", &target_db, customer_grpc).await;
    vtctl_ok(
        &etcd,
        &[
            "InitShardPrimary",
            "--force",
            "commerce/0",
            "zone1-0000000101",
        ],
    )
    .await;
    vtctl_ok(
        &etcd,
        &[
            "InitShardPrimary",
            "--force",
            "customer/0",
            "zone1-0000000201",
        ],
    )
    .await;
    let config = |name: &str| format!("{}/../../config/{name}", env!("CARGO_MANIFEST_DIR"));
    vtctl_ok(
        &etcd,
        &[
            "ApplySchema",
            "--sql-file",
            &config("create_commerce_schema.sql"),
            "commerce",
        ],
    )
    .await;
    vtctl_ok(
        &etcd,
        &[
            "ApplyVSchema",
            "--vschema-file",
            &config("vschema_commerce_initial.json"),
            "commerce",
        ],
    )
    .await;
    {
        let mut conn = source_db.conn("vt_commerce").await;
        for chunk in 0..(INITIAL / 500) {
            let ids = chunk * 500 + 1..=chunk * 500 + 500;
            let customers: Vec<String> = ids.clone().map(|i| format!("({i}, 'c{i}')")).collect();
            let orders: Vec<String> = ids.map(|i| format!("({i}, {i}, 'SKU-1', 100)")).collect();
            conn.query_drop(format!(
                "INSERT INTO customer VALUES {}",
                customers.join(",")
            ))
            .await
            .unwrap();
            conn.query_drop(format!("INSERT INTO corder VALUES {}", orders.join(",")))
                .await
                .unwrap();
        }
        conn.query_drop("INSERT INTO product VALUES ('SKU-1', 'thing', 100)")
            .await
            .unwrap();
    }

    // A client writes during the whole workflow.
    let running = Arc::new(AtomicBool::new(true));
    let mut writer = Writer {
        ts: ts.clone(),
        clients: BTreeMap::from([
            ("commerce".to_owned(), query_client(&commerce).await),
            ("customer".to_owned(), query_client(&customer).await),
        ]),
        model: read_model(&source_db, "vt_commerce").await,
        retried: 0,
    };
    let flag = running.clone();
    let writes = tokio::spawn(async move {
        let mut n = 0;
        while flag.load(Ordering::Relaxed) {
            n += 1;
            writer.step(n).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        writer
    });

    // create: schema copied, every name routed to the source, target denied.
    movetables(
        &etcd,
        &[
            "create",
            "--source-keyspace",
            "commerce",
            "--tables",
            "customer,corder",
        ],
    )
    .await;
    assert_eq!(
        target_db.tables("vt_customer").await,
        ["corder", "customer"]
    );
    for (from, want) in [
        ("customer", "commerce.customer"),
        ("customer@replica", "commerce.customer"),
        ("customer@rdonly", "commerce.customer"),
        ("customer.customer", "commerce.customer"),
        ("commerce.corder@rdonly", "commerce.corder"),
        ("customer.corder@replica", "commerce.corder"),
    ] {
        assert_eq!(
            rule(&ts, from).await.as_deref(),
            Some(want),
            "rule for {from}"
        );
    }
    assert_eq!(
        primary_denied(&ts, "customer").await,
        ["customer", "corder"]
    );
    // The target tablet restarts during the copy: its streams resume from their rows.
    customer.shutdown().await;
    let customer = tablet(&ts, &etcd, 201, "customer", &target_db, customer_grpc).await;
    let srv = ts.get_srv_vschema("zone1").await.unwrap();
    assert!(srv
        .routing_rules
        .unwrap_or_default()
        .rules
        .iter()
        .any(|r| r.from_table == "customer@replica"));
    let mut customer_client = query_client(&customer).await;
    assert!(eventually(10, || {
        let mut c = customer_client.clone();
        async move {
            matches!(execute(&mut c, "customer", "select * from customer limit 1").await, Err(s) if s.message().contains(DENIED))
        }
    })
    .await, "the target refuses the tables before the switch");

    // The copy finishes and the streams run.
    assert!(
        eventually(120, || async {
            show_states(&movetables(&etcd, &["show"]).await) == ["Running"]
        })
        .await,
        "the copy did not finish: {}",
        movetables(&etcd, &["status"]).await
    );
    let status = movetables(&etcd, &["status"]).await;
    assert!(
        status.contains("Status: Running")
            && status.contains("Reads Not Switched. Writes Not Switched"),
        "{status}"
    );
    // VDiff agrees while the writes go on.
    let report = vdiff(&etcd).await;
    assert_eq!(report["HasMismatch"], false, "{report}");
    assert!(
        report["TableSummary"]["customer"]["MatchingRows"]
            .as_u64()
            .unwrap()
            >= INITIAL as u64,
        "{report}"
    );
    assert!(
        report["TableSummary"]["corder"]["MatchingRows"]
            .as_u64()
            .unwrap()
            >= INITIAL as u64,
        "{report}"
    );

    // Reads switch: replica and rdonly rules point at the target, primary still at the source.
    movetables(
        &etcd,
        &["switchtraffic", "--tablet-types", "rdonly,replica"],
    )
    .await;
    assert_eq!(
        rule(&ts, "customer@replica").await.as_deref(),
        Some("customer.customer")
    );
    assert_eq!(
        rule(&ts, "commerce.corder@rdonly").await.as_deref(),
        Some("customer.corder")
    );
    assert_eq!(
        rule(&ts, "customer").await.as_deref(),
        Some("commerce.customer")
    );

    // Writes switch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = movetables(&etcd, &["switchtraffic", "--tablet-types", "primary"]).await;
    assert!(out.contains("All Reads Switched. Writes Switched"), "{out}");
    assert_eq!(
        rule(&ts, "customer").await.as_deref(),
        Some("customer.customer")
    );
    assert_eq!(
        rule(&ts, "commerce.customer").await.as_deref(),
        Some("customer.customer")
    );
    assert_eq!(rule(&ts, "customer.customer").await, None);
    assert_eq!(
        primary_denied(&ts, "commerce").await,
        ["customer", "corder"]
    );
    assert!(primary_denied(&ts, "customer").await.is_empty());
    let mut commerce_client = query_client(&commerce).await;
    assert!(eventually(10, || {
        let mut c = commerce_client.clone();
        async move {
            matches!(execute(&mut c, "commerce", "select * from customer limit 1").await, Err(s) if s.message().contains(DENIED))
        }
    })
    .await, "the source refuses the moved tables");
    execute(&mut commerce_client, "commerce", "select * from product")
        .await
        .expect("product still served");
    execute(
        &mut customer_client,
        "customer",
        "select count(*) from customer",
    )
    .await
    .expect("target serves");

    // The reverse stream keeps the source current; reversetraffic moves everything back.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let out = movetables(&etcd, &["reversetraffic"]).await;
    assert!(
        out.contains("Reads Not Switched. Writes Not Switched"),
        "{out}"
    );
    assert_eq!(
        rule(&ts, "customer").await.as_deref(),
        Some("commerce.customer")
    );
    assert_eq!(
        rule(&ts, "customer@replica").await.as_deref(),
        Some("commerce.customer")
    );
    assert_eq!(
        primary_denied(&ts, "customer").await,
        ["customer", "corder"]
    );
    assert!(primary_denied(&ts, "commerce").await.is_empty());

    // And forward again, for good.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let out = movetables(&etcd, &["switchtraffic"]).await;
    assert!(out.contains("All Reads Switched. Writes Switched"), "{out}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    running.store(false, Ordering::Relaxed);
    let writer = writes.await.expect("writer finished");
    assert!(
        writer.retried > 0,
        "the write switches held at least one write"
    );

    // complete: source tables dropped, rules and denials gone, streams deleted.
    let out = movetables(&etcd, &["complete"]).await;
    assert!(out.contains("Successfully completed"), "{out}");
    assert_eq!(source_db.tables("vt_commerce").await, ["product"]);
    assert_eq!(
        target_db.tables("vt_customer").await,
        ["corder", "customer"]
    );
    assert!(ts.get_routing_rules().await.unwrap().rules.is_empty());
    assert!(primary_denied(&ts, "commerce").await.is_empty());
    assert!(primary_denied(&ts, "customer").await.is_empty());
    let vschema = ts.get_vschema("commerce").await.unwrap();
    assert_eq!(vschema.tables.keys().collect::<Vec<_>>(), ["product"]);
    let (ok, _, err) = vtctl(&etcd, &[WF[0], WF[1], WF[2], WF[3], "customer", "show"]).await;
    assert!(!ok && err.contains("not found"), "{err}");

    // Every acknowledged write, and nothing else, is in the target.
    let target = read_model(&target_db, "vt_customer").await;
    eprintln!(
        "customers {}, orders {}, writes held and retried {}",
        writer.model.customer.len(),
        writer.model.corder.len(),
        writer.retried
    );
    assert_eq!(target.customer.len(), writer.model.customer.len());
    assert!(
        target == writer.model,
        "target differs from the acknowledged writes"
    );
    assert!(writer.model.customer.len() as i64 > INITIAL / 2);

    customer.shutdown().await;
    commerce.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_undoes_create_and_refused_steps_change_nothing() {
    let root = temp_root("mtc");
    let etcd = EtcdProcess::start().expect("etcd");
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    let (source_db, target_db) = tokio::join!(
        Server::start(root.path(), 403),
        Server::start(root.path(), 404)
    );
    let commerce = tablet(&ts, &etcd, 101, "commerce", &source_db, free_port()).await;
    let customer = tablet(&ts, &etcd, 201, "customer", &target_db, free_port()).await;
    vtctl_ok(
        &etcd,
        &[
            "InitShardPrimary",
            "--force",
            "commerce/0",
            "zone1-0000000101",
        ],
    )
    .await;
    vtctl_ok(
        &etcd,
        &[
            "InitShardPrimary",
            "--force",
            "customer/0",
            "zone1-0000000201",
        ],
    )
    .await;
    let config = |name: &str| format!("{}/../../config/{name}", env!("CARGO_MANIFEST_DIR"));
    vtctl_ok(
        &etcd,
        &[
            "ApplySchema",
            "--sql-file",
            &config("create_commerce_schema.sql"),
            "commerce",
        ],
    )
    .await;
    vtctl_ok(
        &etcd,
        &[
            "ApplyVSchema",
            "--vschema-file",
            &config("vschema_commerce_initial.json"),
            "commerce",
        ],
    )
    .await;
    source_db
        .conn("vt_commerce")
        .await
        .query_drop("INSERT INTO customer VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();

    let wf = |args: &[&'static str]| {
        let mut all: Vec<&str> = WF.to_vec();
        all.push("customer");
        all.extend_from_slice(args);
        all
    };
    // Steps on a workflow that does not exist, or a missing table, are refused.
    let (ok, _, err) = vtctl(&etcd, &wf(&["show"])).await;
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = vtctl(
        &etcd,
        &wf(&[
            "create",
            "--source-keyspace",
            "commerce",
            "--tables",
            "nosuch",
        ]),
    )
    .await;
    assert!(!ok && err.contains("nosuch"), "{err}");
    assert!(ts.get_routing_rules().await.unwrap().rules.is_empty());

    // --all-tables less the excluded ones; --auto-start=false leaves the stream stopped.
    movetables(
        &etcd,
        &[
            "create",
            "--source-keyspace",
            "commerce",
            "--all-tables",
            "--exclude-tables",
            "product,corder",
            "--auto-start=false",
        ],
    )
    .await;
    assert_eq!(target_db.tables("vt_customer").await, ["customer"]);
    assert_eq!(
        show_states(&movetables(&etcd, &["show"]).await),
        ["Stopped"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        customer_rows(&target_db).await,
        Some(0),
        "a stopped stream copies nothing"
    );
    movetables(&etcd, &["start"]).await;
    let (ok, _, err) = vtctl(
        &etcd,
        &wf(&[
            "create",
            "--source-keyspace",
            "commerce",
            "--tables",
            "customer",
        ]),
    )
    .await;
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = vtctl(&etcd, &wf(&["complete"])).await;
    assert!(
        !ok && err.contains("writes have not been switched"),
        "{err}"
    );
    let (ok, _, err) = vtctl(&etcd, &wf(&["reversetraffic", "--tablet-types", "primary"])).await;
    assert!(!ok && err.contains("nothing to reverse"), "{err}");
    assert!(
        eventually(60, || async { customer_rows(&target_db).await == Some(2) }).await,
        "the copy reaches the target"
    );
    assert!(
        eventually(30, || async {
            show_states(&movetables(&etcd, &["show"]).await) == ["Running"]
        })
        .await,
        "the stream runs after its copy"
    );
    let report = vdiff(&etcd).await;
    assert_eq!(report["HasMismatch"], false, "{report}");
    assert_eq!(
        report["TableSummary"]["customer"]["MatchingRows"], 2,
        "{report}"
    );
    // Rows changed behind the stream's back are reported.
    let mut tgt = target_db.conn("vt_customer").await;
    tgt.query_drop("UPDATE customer SET email = 'tampered' WHERE customer_id = 1")
        .await
        .unwrap();
    tgt.query_drop("DELETE FROM customer WHERE customer_id = 2")
        .await
        .unwrap();
    let report = vdiff(&etcd).await;
    assert_eq!(report["HasMismatch"], true, "{report}");
    let table = &report["TableSummary"]["customer"];
    assert_eq!(
        (
            table["MismatchedRows"].as_u64(),
            table["ExtraRowsSource"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
    let mut keys: Vec<&str> = report["Reports"]["customer"]["0"]["MismatchedKeys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["1", "2"], "{report}");
    movetables(&etcd, &["stop"]).await;
    assert_eq!(
        show_states(&movetables(&etcd, &["show"]).await),
        ["Stopped"]
    );

    let out = movetables(&etcd, &["cancel"]).await;
    assert!(out.contains("Successfully cancelled"), "{out}");
    assert_eq!(target_db.tables("vt_customer").await, Vec::<String>::new());
    assert_eq!(
        source_db.tables("vt_commerce").await,
        ["corder", "customer", "product"]
    );
    assert!(ts.get_routing_rules().await.unwrap().rules.is_empty());
    assert!(primary_denied(&ts, "customer").await.is_empty());
    assert!(ts.get_vschema("customer").await.unwrap().tables.is_empty());
    let mut conn = target_db.conn("_vt").await;
    let streams: Option<i64> = conn
        .query_first("SELECT COUNT(*) FROM _vt.vreplication")
        .await
        .unwrap();
    assert_eq!(streams, Some(0));
    let mut commerce_client = query_client(&commerce).await;
    let result = execute(&mut commerce_client, "commerce", "select * from customer")
        .await
        .expect("source serves");
    assert_eq!(result.rows.len(), 2);

    customer.shutdown().await;
    commerce.shutdown().await;
}
