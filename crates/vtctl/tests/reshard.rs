//! Reshard `customer/0` into `customer/-80` and `customer/80-` with real
//! etcd, mariadbd and tablets, while four writers keep inserting, updating and
//! deleting through the tablets the way vtgate would: each routes its writes by
//! the SrvKeyspace PRIMARY partition and the row's hash, and retries when a
//! tablet refuses (the write switch window). Reads switch, writes switch,
//! writes switch back and forth again, then `complete` and `DeleteShards`.
//! At the end the two target shards are disjoint, each row sits in its hash
//! half, and together they hold exactly the acknowledged writes.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use proto::query::{BoundQuery, ExecuteRequest, Target, VtGateCallerId};
use proto::queryservice::query_client::QueryClient;
use proto::topodata::TabletType;
use tonic::transport::Channel;
use topo::migrate::served_shards;
use topo::TopoServer;
use vschema::{Value, Vindex};

const VSCHEMA: &str = r#"{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
  "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}"#;

type Rows = BTreeMap<i64, String>;

async fn customers(server: &Server) -> Rows {
    let mut conn = server.conn("vt_customer").await;
    let rows: Vec<(i64, String)> = conn
        .query("SELECT customer_id, email FROM customer")
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// The keyspace id of `id` under the `hash` vindex.
fn ksid(hash: &dyn Vindex, id: i64) -> Vec<u8> {
    hash.hash(&Value::Int(id)).unwrap()
}

/// Writes like vtgate: routes by SrvKeyspace, retries refused writes.
struct Writer {
    ts: TopoServer,
    hash: Arc<dyn Vindex>,
    clients: HashMap<String, QueryClient<Channel>>,
    /// What every acknowledged write leaves in the table.
    model: Arc<Mutex<Rows>>,
    /// Acknowledged writes per shard.
    per_shard: Arc<Mutex<HashMap<String, usize>>>,
    /// Which of the `LANES` concurrent writers this is: each owns its rows.
    lane: i64,
}

/// Concurrent writers, each on its own rows (inserts above 2000, updates
/// and deletes in its 500-row slice of the first 2000).
const LANES: i64 = 4;

impl Writer {
    /// The primary shard that serves `id` now, and a client of its primary.
    async fn route(&mut self, id: i64) -> Option<(String, QueryClient<Channel>)> {
        let srv = self.ts.get_srv_keyspace("zone1", "customer").await.ok()?;
        let key = ksid(self.hash.as_ref(), id);
        let partition = srv
            .partitions
            .iter()
            .find(|p| p.served_type == TabletType::Primary as i32)?;
        let shard = partition
            .shard_references
            .iter()
            .find(|r| topo::keyrange::contains(r.key_range.as_ref(), &key))?
            .name
            .clone();
        if !self.clients.contains_key(&shard) {
            let record = self.ts.get_shard("customer", &shard).await.ok()?;
            let tablet = self.ts.get_tablet(&record.primary_alias?).await.ok()?;
            let port = tablet.port_map.get("grpc")?;
            let client = QueryClient::connect(format!("http://127.0.0.1:{port}"))
                .await
                .ok()?;
            self.clients.insert(shard.clone(), client);
        }
        Some((shard.clone(), self.clients[&shard].clone()))
    }

    /// Runs one idempotent write on the row `id` until a tablet acknowledges it.
    async fn write(&mut self, id: i64, sql: String) -> String {
        for _ in 0..600 {
            if let Some((shard, mut client)) = self.route(id).await {
                let request = ExecuteRequest {
                    target: Some(Target {
                        keyspace: "customer".into(),
                        shard: shard.clone(),
                        tablet_type: TabletType::Primary as i32,
                        cell: "zone1".into(),
                    }),
                    query: Some(BoundQuery {
                        sql: sql.clone(),
                        bind_variables: Default::default(),
                    }),
                    immediate_caller_id: Some(VtGateCallerId {
                        username: "test".into(),
                        groups: vec![],
                    }),
                    ..ExecuteRequest::default()
                };
                if client.execute(request).await.is_ok() {
                    *self
                        .per_shard
                        .lock()
                        .unwrap()
                        .entry(shard.clone())
                        .or_default() += 1;
                    return shard;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("write {sql} was refused for 30 s");
    }

    async fn run(mut self, writing: Arc<AtomicBool>, done: Arc<AtomicUsize>) {
        let mut n: i64 = 0;
        while writing.load(Ordering::Relaxed) {
            n += 1;
            let id = 2000 + n * LANES + self.lane;
            let email = format!("new{n}");
            self.write(
                id,
                format!("REPLACE INTO customer VALUES ({id}, '{email}')"),
            )
            .await;
            self.model.lock().unwrap().insert(id, email);
            let id = n * 13 % 500 + 1 + 500 * self.lane;
            let email = format!("u{n}");
            self.write(
                id,
                format!("UPDATE customer SET email = '{email}' WHERE customer_id = {id}"),
            )
            .await;
            if let Some(v) = self.model.lock().unwrap().get_mut(&id) {
                *v = email;
            }
            let id = n * 29 % 500 + 1 + 500 * self.lane;
            self.write(id, format!("DELETE FROM customer WHERE customer_id = {id}"))
                .await;
            self.model.lock().unwrap().remove(&id);
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn served(ts: &TopoServer, tablet_type: TabletType) -> Vec<String> {
    served_shards(
        &ts.get_srv_keyspace("zone1", "customer").await.unwrap(),
        tablet_type,
    )
}

async fn serving(ts: &TopoServer, shard: &str) -> bool {
    ts.get_shard("customer", shard)
        .await
        .unwrap()
        .is_primary_serving
}

/// Waits until the writer has acknowledged `more` further rounds.
async fn more_writes(done: &AtomicUsize, more: usize) {
    let start = done.load(Ordering::Relaxed);
    assert!(
        eventually(60, || async {
            done.load(Ordering::Relaxed) >= start + more
        })
        .await,
        "the writer keeps writing"
    );
}

/// etcd, `customer/0` (2000 rows, hash-sharded VSchema) and the empty,
/// not yet serving `customer/-80` and `customer/80-`, each with a primary.
struct Cluster {
    _root: tempfile::TempDir,
    etcd: topo::testutil::EtcdProcess,
    ts: TopoServer,
    source_db: Server,
    low_db: Server,
    high_db: Server,
    source: vttablet::RunningTablet,
    low: vttablet::RunningTablet,
    high: vttablet::RunningTablet,
}

impl Cluster {
    async fn start(prefix: &str, uid: u32) -> Cluster {
        let root = temp_root(prefix);
        let etcd = topo::testutil::EtcdProcess::start().expect("etcd");
        let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
            .await
            .unwrap();
        let (source_db, low_db, high_db) = tokio::join!(
            Server::start(root.path(), uid),
            Server::start(root.path(), uid + 1),
            Server::start(root.path(), uid + 2)
        );
        let source = shard_tablet(&ts, &etcd, 101, "customer", "0", &source_db, free_port()).await;
        vtctl_ok(
            &etcd,
            &[
                "InitShardPrimary",
                "--force",
                "customer/0",
                "zone1-0000000101",
            ],
        )
        .await;
        vtctl_ok(
            &etcd,
            &[
                "ApplySchema",
                "--sql",
                "CREATE TABLE customer (customer_id BIGINT NOT NULL, email VARCHAR(128), PRIMARY KEY (customer_id))",
                "customer",
            ],
        )
        .await;
        vtctl_ok(&etcd, &["ApplyVSchema", "--vschema", VSCHEMA, "customer"]).await;
        let mut src = source_db.conn("vt_customer").await;
        let values: Vec<String> = (1..=2000).map(|i| format!("({i}, 'c{i}')")).collect();
        src.query_drop(format!("INSERT INTO customer VALUES {}", values.join(",")))
            .await
            .unwrap();
        let low = shard_tablet(&ts, &etcd, 201, "customer", "-80", &low_db, free_port()).await;
        let high = shard_tablet(&ts, &etcd, 301, "customer", "80-", &high_db, free_port()).await;
        vtctl_ok(
            &etcd,
            &[
                "InitShardPrimary",
                "--force",
                "customer/-80",
                "zone1-0000000201",
            ],
        )
        .await;
        vtctl_ok(
            &etcd,
            &[
                "InitShardPrimary",
                "--force",
                "customer/80-",
                "zone1-0000000301",
            ],
        )
        .await;
        assert!(serving(&ts, "0").await);
        assert!(!serving(&ts, "-80").await && !serving(&ts, "80-").await);
        for t in [TabletType::Primary, TabletType::Replica, TabletType::Rdonly] {
            assert_eq!(served(&ts, t).await, ["0"], "{t:?} before the workflow");
        }
        Cluster {
            _root: root,
            etcd,
            ts,
            source_db,
            low_db,
            high_db,
            source,
            low,
            high,
        }
    }

    async fn shutdown(self) {
        self.low.shutdown().await;
        self.high.shutdown().await;
        self.source.shutdown().await;
    }
}

const WORKFLOW: [&str; 5] = [
    "Reshard",
    "--workflow",
    "cust2cust",
    "--target-keyspace",
    "customer",
];

fn reshard(args: &[&'static str]) -> Vec<&'static str> {
    let mut all = WORKFLOW.to_vec();
    all.extend_from_slice(args);
    all
}

/// Waits until every stream of the workflow is Running (the copy is done).
async fn copied(etcd: &topo::testutil::EtcdProcess) -> bool {
    eventually(120, || async {
        let out = vtctl_ok(etcd, &reshard(&["show"])).await;
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["streams"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "Running")
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reshard_splits_a_shard_while_writes_go_on() {
    let cluster = Cluster::start("rsh", 431).await;
    let (etcd, ts) = (&cluster.etcd, &cluster.ts);
    let (source_db, low_db, high_db) = (&cluster.source_db, &cluster.low_db, &cluster.high_db);
    let source = &cluster.source;
    let mut src = source_db.conn("vt_customer").await;
    let mut model = Rows::new();
    model.extend((1..=2000).map(|i| (i, format!("c{i}"))));

    let hash = vschema::create_vindex("hash", "hash", &Default::default()).unwrap();
    let model = Arc::new(Mutex::new(model));
    let per_shard = Arc::new(Mutex::new(HashMap::new()));
    let writing = Arc::new(AtomicBool::new(true));
    let done = Arc::new(AtomicUsize::new(0));
    let writes: Vec<_> = (0..LANES)
        .map(|lane| {
            let writer = Writer {
                ts: ts.clone(),
                hash: hash.clone(),
                clients: HashMap::new(),
                model: model.clone(),
                per_shard: per_shard.clone(),
                lane,
            };
            tokio::spawn(writer.run(writing.clone(), done.clone()))
        })
        .collect();
    more_writes(&done, 20).await;

    vtctl_ok(
        etcd,
        &reshard(&[
            "create",
            "--source-shards",
            "0",
            "--target-shards",
            "-80,80-",
        ]),
    )
    .await;
    let show: serde_json::Value =
        serde_json::from_str(&vtctl_ok(etcd, &reshard(&["show"])).await).unwrap();
    let streams = show["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2, "{show}");
    assert_eq!(streams[0]["shard"], "-80");
    assert_eq!(
        streams[0]["filter"][0],
        "select * from customer where in_keyrange(customer_id, 'hash', '-80')"
    );
    assert_eq!(streams[1]["shard"], "80-");
    assert_eq!(streams[1]["source_shard"], "customer/0");
    // A second create of the same workflow is refused.
    let (ok, _, err) = vtctl(
        etcd,
        &reshard(&[
            "create",
            "--source-shards",
            "0",
            "--target-shards",
            "-80,80-",
        ]),
    )
    .await;
    assert!(!ok && err.contains("already exists"), "{err}");
    assert!(copied(etcd).await, "the copy finishes");
    more_writes(&done, 20).await;

    // Reads move; primary traffic stays on the source shard.
    let out = vtctl_ok(
        etcd,
        &reshard(&["switchtraffic", "--tablet-types", "rdonly,replica"]),
    )
    .await;
    assert!(
        out.contains("Current State: All Reads Switched. Writes Not Switched"),
        "{out}"
    );
    assert_eq!(served(ts, TabletType::Replica).await, ["-80", "80-"]);
    assert_eq!(served(ts, TabletType::Rdonly).await, ["-80", "80-"]);
    assert_eq!(served(ts, TabletType::Primary).await, ["0"]);
    assert!(per_shard.lock().unwrap().get("-80").is_none());
    more_writes(&done, 20).await;

    // Writes move while the writer goes on.
    let out = vtctl_ok(
        etcd,
        &reshard(&["switchtraffic", "--tablet-types", "primary"]),
    )
    .await;
    assert!(
        out.contains("Current State: All Reads Switched. Writes Switched"),
        "{out}"
    );
    assert_eq!(served(ts, TabletType::Primary).await, ["-80", "80-"]);
    assert!(!serving(ts, "0").await && serving(ts, "-80").await && serving(ts, "80-").await);
    // The source primary refuses queries: its query service is disabled.
    let refused = execute(&mut query_client(source).await, "customer", "SELECT 1")
        .await
        .unwrap_err();
    assert!(refused.message().contains("NOT_SERVING"), "{refused:?}");
    more_writes(&done, 30).await;
    {
        let counts = per_shard.lock().unwrap();
        assert!(counts.get("-80").is_some_and(|n| *n > 0), "{counts:?}");
        assert!(counts.get("80-").is_some_and(|n| *n > 0), "{counts:?}");
    }
    // The reverse streams keep the source current: reversetraffic puts every
    // type back on shard 0, with the writes made on the targets.
    let out = vtctl_ok(etcd, &reshard(&["reversetraffic"])).await;
    assert!(
        out.contains("Current State: Reads Not Switched. Writes Not Switched"),
        "{out}"
    );
    for t in [TabletType::Primary, TabletType::Replica, TabletType::Rdonly] {
        assert_eq!(served(ts, t).await, ["0"], "{t:?} after reversetraffic");
    }
    let zero_before = per_shard.lock().unwrap().get("0").copied().unwrap_or(0);
    more_writes(&done, 20).await;
    assert!(per_shard.lock().unwrap()["0"] > zero_before);

    // All types forward again, then stop writing and compare.
    let out = vtctl_ok(etcd, &reshard(&["switchtraffic"])).await;
    assert!(
        out.contains("Current State: All Reads Switched. Writes Switched"),
        "{out}"
    );
    more_writes(&done, 20).await;
    writing.store(false, Ordering::Relaxed);
    for w in writes {
        w.await.unwrap();
    }
    let (ok, _, err) = vtctl(etcd, &reshard(&["cancel"])).await;
    assert!(!ok && err.contains("writes have been switched"), "{err}");
    let out = vtctl_ok(etcd, &reshard(&["complete"])).await;
    assert!(out.contains("Successfully completed"), "{out}");
    let (ok, _, err) = vtctl(etcd, &reshard(&["show"])).await;
    assert!(!ok && err.contains("not found"), "{err}");
    let reverse: Vec<i64> = src
        .query("SELECT id FROM _vt.vreplication WHERE workflow = 'cust2cust_reverse'")
        .await
        .unwrap();
    assert!(reverse.is_empty(), "complete deletes the reverse streams");

    let want = model.lock().unwrap().clone();
    let (low_rows, high_rows) = (customers(low_db).await, customers(high_db).await);
    assert!(!low_rows.is_empty() && !high_rows.is_empty());
    for id in low_rows.keys() {
        assert!(
            ksid(hash.as_ref(), *id)[0] < 0x80,
            "row {id} belongs in 80-"
        );
        assert!(!high_rows.contains_key(id), "row {id} is in both shards");
    }
    for id in high_rows.keys() {
        assert!(
            ksid(hash.as_ref(), *id)[0] >= 0x80,
            "row {id} belongs in -80"
        );
    }
    let mut union = low_rows;
    union.extend(high_rows);
    assert_eq!(union.len(), want.len(), "row count");
    assert!(
        union == want,
        "the shards hold exactly the acknowledged writes"
    );

    // The source shard no longer serves and can go.
    let (ok, _, err) = vtctl(etcd, &["DeleteShards", "customer/0"]).await;
    assert!(!ok && err.contains("--recursive"), "{err}");
    vtctl_ok(etcd, &["DeleteShards", "--recursive", "customer/0"]).await;
    assert_eq!(
        ts.get_shard_names("customer").await.unwrap(),
        ["-80", "80-"]
    );
    for t in [TabletType::Primary, TabletType::Replica, TabletType::Rdonly] {
        assert_eq!(served(ts, t).await, ["-80", "80-"], "{t:?} at the end");
    }
    drop(src);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reshard_cancel_puts_reads_back_and_removes_the_copies() {
    let cluster = Cluster::start("rsc", 441).await;
    let (etcd, ts) = (&cluster.etcd, &cluster.ts);
    // Refusals: a source that does not serve, a target that is also a source.
    let (ok, _, err) = vtctl(
        etcd,
        &reshard(&["create", "--source-shards", "-80", "--target-shards", "0"]),
    )
    .await;
    assert!(!ok && err.contains("is not serving"), "{err}");
    let (ok, _, err) = vtctl(
        etcd,
        &reshard(&["create", "--source-shards", "0", "--target-shards", "0"]),
    )
    .await;
    assert!(!ok && err.contains("both a source and a target"), "{err}");
    vtctl_ok(
        etcd,
        &reshard(&[
            "create",
            "--source-shards",
            "0",
            "--target-shards",
            "-80,80-",
        ]),
    )
    .await;
    assert!(copied(etcd).await, "the copy finishes");
    let low_rows = customers(&cluster.low_db).await;
    assert!(
        !low_rows.is_empty() && low_rows.len() < 2000,
        "{}",
        low_rows.len()
    );
    let out = vtctl_ok(
        etcd,
        &reshard(&["switchtraffic", "--tablet-types", "replica"]),
    )
    .await;
    assert!(
        out.contains("Reads partially switched: replica. Writes Not Switched"),
        "{out}"
    );
    assert_eq!(served(ts, TabletType::Replica).await, ["-80", "80-"]);
    assert_eq!(served(ts, TabletType::Rdonly).await, ["0"]);
    let srv: serde_json::Value =
        serde_json::from_str(&vtctl_ok(etcd, &["GetSrvKeyspaces", "customer", "zone1"]).await)
            .unwrap();
    let partitions = srv["zone1"]["partitions"].as_array().unwrap();
    let replica = partitions
        .iter()
        .find(|p| p["served_type"] == "REPLICA")
        .unwrap();
    assert_eq!(
        replica["shard_references"],
        serde_json::json!([{"name": "-80", "key_range": {"end": "gA=="}}, {"name": "80-", "key_range": {"start": "gA=="}}])
    );
    let (ok, _, err) = vtctl(etcd, &reshard(&["complete"])).await;
    assert!(
        !ok && err.contains("writes have not been switched"),
        "{err}"
    );
    let (ok, _, err) = vtctl(
        etcd,
        &reshard(&["reversetraffic", "--tablet-types", "primary"]),
    )
    .await;
    assert!(!ok && err.contains("nothing to reverse"), "{err}");

    vtctl_ok(etcd, &reshard(&["cancel"])).await;
    for t in [TabletType::Primary, TabletType::Replica, TabletType::Rdonly] {
        assert_eq!(served(ts, t).await, ["0"], "{t:?} after cancel");
    }
    let (ok, _, err) = vtctl(etcd, &reshard(&["show"])).await;
    assert!(!ok && err.contains("not found"), "{err}");
    assert!(cluster.low_db.tables("vt_customer").await.is_empty());
    assert!(cluster.high_db.tables("vt_customer").await.is_empty());
    assert!(serving(ts, "0").await && !serving(ts, "-80").await);
    // The serving source cannot be deleted by mistake.
    let (ok, _, err) = vtctl(etcd, &["DeleteShards", "--recursive", "customer/0"]).await;
    assert!(!ok && err.contains("is still serving"), "{err}");
    cluster.shutdown().await;
}
