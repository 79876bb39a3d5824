//! The user's walkthrough of Vitess's local example (101 → 307) as one test, driving the real
//! `vtlocal` and `vtctl` binaries and checking what clients see through vtgate, while a writer
//! keeps inserting, updating and deleting through vtgate the whole time. The tablets' MariaDBs
//! are used directly only to set the scene (bulk rows, marker rows) and to watch the copy:
//!
//! 1. `vtlocal up` (commerce/0: primary, replica, rdonly; vtgate), the example data, and 50,000
//!    more customers written straight into commerce's MariaDB so that the copy takes a while.
//! 2. `vtlocal add-shard customer/0`, `MoveTables create`; the target primary's vttablet is
//!    killed (SIGKILL) in the middle of the copy and brought back by `vtlocal up`; the copy
//!    resumes. `VDiff create` / `VDiff show last` find no difference.
//! 3. `switchtraffic --tablet-types rdonly,replica`: `commerce@replica` and `@rdonly` reads of
//!    `customer` go to the customer keyspace, primary reads stay. `switchtraffic --tablet-types
//!    primary`: `use commerce/0; select * from customer` is refused with 1105 `disallowed due to
//!    rule: enforce denied tables`. `complete`: commerce keeps `product` only.
//! 4. Sequences and the sharded VSchema (301), `add-shard customer/-80` and `customer/80-`,
//!    `Reshard create`, VDiff, switch reads, switch writes, `complete` (302-306); `vtlocal
//!    remove-shard customer/0` and `DeleteShards --recursive customer/0` (306-307).
//! 5. Every acknowledged write is visible through vtgate and nothing else; each shard holds
//!    only rows of its key range. Writes reported failed during the switches are counted.
//!
//! Needs every binary of the workspace built (`cargo build --workspace --bins`), etcd and the
//! MariaDB server binaries.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::writer::{opts, Model, Writer};
use support::{mariadb, read_config, reserve_port_offset, vtlocal, workspace_root, Down};

/// Customers written straight into commerce's MariaDB before MoveTables, ids from `BULK_FIRST`.
const BULK: i64 = 50_000;
const BULK_FIRST: i64 = 10_001;
/// A row written on one tablet's MariaDB only (binlog off), to tell which tablet answered.
const MARKER: i64 = 9_000_000_000;
const DENIED: &str = "disallowed due to rule: enforce denied tables";

fn ports() -> Vec<u16> {
    let mut p = vec![2379, 2380, 15306, 15001];
    for first in [100, 200, 300, 400] {
        for uid in first..first + 3 {
            p.extend([15000 + uid, 16000 + uid, 17000 + uid]);
        }
    }
    p
}

/// The cluster of this test: its data root, port offset and a runtime for client calls.
struct Walk {
    dataroot: PathBuf,
    offset: u16,
    rt: tokio::runtime::Runtime,
}

impl Walk {
    fn vtgate_port(&self) -> u16 {
        15306 + self.offset
    }

    fn mysql_port(&self, uid: u16) -> u16 {
        17000 + uid + self.offset
    }

    fn vtlocal_ok(&self, args: &[&str]) -> String {
        let out = vtlocal(&self.dataroot, self.offset, args);
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "vtlocal {args:?} failed:\n{text}");
        text
    }

    /// Runs the `vtctl` binary built next to `vtlocal`; returns (success, stdout, stderr).
    fn vtctl(&self, args: &[&str]) -> (bool, String, String) {
        let bin = Path::new(env!("CARGO_BIN_EXE_vtlocal")).with_file_name("vtctl");
        let out = Command::new(bin)
            .args([
                "--topo-server",
                &format!("127.0.0.1:{}", 2379 + self.offset),
            ])
            .args(args)
            .output()
            .expect("run vtctl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn vtctl_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.vtctl(args);
        assert!(ok, "vtctl {args:?} failed:\n{out}\n{err}");
        out
    }

    fn movetables(&self, args: &[&str]) -> String {
        let mut all = vec![
            "MoveTables",
            "--workflow",
            "commerce2customer",
            "--target-keyspace",
            "customer",
        ];
        all.extend(args);
        self.vtctl_ok(&all)
    }

    fn reshard(&self, args: &[&str]) -> String {
        let mut all = vec![
            "Reshard",
            "--workflow",
            "cust2cust",
            "--target-keyspace",
            "customer",
        ];
        all.extend(args);
        self.vtctl_ok(&all)
    }

    fn conn(&self, port: u16) -> Conn {
        self.rt.block_on(Conn::new(opts(port))).expect("connect")
    }

    /// Runs `sql` (after `use <target>` when given) through vtgate on a fresh connection.
    fn vtgate_query<T: mysql_async::prelude::FromRow + Send + 'static>(
        &self,
        target: Option<&str>,
        sql: &str,
    ) -> Result<Vec<T>, mysql_async::Error> {
        self.rt.block_on(async {
            let mut conn = Conn::new(opts(self.vtgate_port())).await?;
            if let Some(target) = target {
                conn.query_drop(format!("use `{target}`")).await?;
            }
            let rows = conn.query(sql).await;
            let _ = conn.disconnect().await;
            rows
        })
    }

    /// Runs statements on the MariaDB of tablet `uid` directly.
    fn on_tablet(&self, uid: u16, sql: &str) {
        let port = self.mysql_port(uid);
        let mut conn = self.conn(port);
        if let Err(e) = self.rt.block_on(conn.query_drop(sql)) {
            let first = uid / 100 * 100;
            let shard: Vec<String> = (first..first + 3).map(|u| self.describe(u)).collect();
            panic!(
                "tablet {uid} (MariaDB on {port}): {sql}: {e}\nthe MariaDBs of its shard:\n{}",
                shard.join("\n")
            );
        }
    }

    /// What a failure needs to know of tablet `uid`'s MariaDB: its replication and its tables.
    fn describe(&self, uid: u16) -> String {
        const POSITION: &str = "select concat('server_id=', @@server_id, ' read_only=', \
             @@read_only, ' gtid_binlog_pos=', @@gtid_binlog_pos, ' gtid_slave_pos=', \
             @@gtid_slave_pos)";
        const TABLES: &str = "select table_schema, group_concat(table_name order by table_name) \
             from information_schema.tables where table_schema like 'vt\\_%' group by table_schema";
        let port = self.mysql_port(uid);
        self.rt.block_on(async {
            let mut conn = match Conn::new(opts(port)).await {
                Ok(conn) => conn,
                Err(e) => return format!("  tablet {uid} (port {port}): cannot connect: {e}"),
            };
            let position: Result<Option<String>, _> = conn.query_first(POSITION).await;
            let source: Result<Option<mysql_async::Row>, _> =
                conn.query_first("show slave status").await;
            let column = |row: &mysql_async::Row, name: &str| {
                let value = row.get_opt::<String, _>(name).and_then(Result::ok);
                format!("{name}={}", value.unwrap_or_default())
            };
            let source = source.map(|row| {
                row.map(|row| {
                    [
                        "Master_Port",
                        "Slave_IO_Running",
                        "Slave_SQL_Running",
                        "Last_Error",
                    ]
                    .map(|name| column(&row, name))
                    .join(" ")
                })
            });
            let tables: Result<Vec<(String, String)>, _> = conn.query(TABLES).await;
            format!(
                "  tablet {uid} (port {port}): {position:?}\n    replication: {source:?}\n    \
                 tables: {tables:?}"
            )
        })
    }

    /// Waits until every stream of a workflow (`show` JSON) is Running, i.e. copied.
    fn wait_copied(&self, show: impl Fn() -> String) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let out = show();
            let json: serde_json::Value = serde_json::from_str(&out).expect("show prints JSON");
            let states: Vec<&str> = json["streams"]
                .as_array()
                .expect("streams")
                .iter()
                .map(|s| s["state"].as_str().unwrap_or(""))
                .collect();
            if !states.is_empty() && states.iter().all(|s| *s == "Running") {
                return;
            }
            assert!(Instant::now() < deadline, "copy did not finish: {out}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until vtgate reaches every tablet type of a new shard (as Vitess's example
    /// scripts wait for a healthy shard before going on).
    fn wait_serving(&self, keyspace_shard: &str) {
        for tablet_type in ["primary", "replica", "rdonly"] {
            let target = format!("{keyspace_shard}@{tablet_type}");
            let deadline = Instant::now() + Duration::from_secs(30);
            while let Err(e) = self.vtgate_query::<i64>(Some(&target), "select 1") {
                assert!(
                    Instant::now() < deadline,
                    "vtgate never reached {target}: {e}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    /// How many rows a `MARKER` lookup finds through vtgate at `target`.
    fn marker_count(&self, target: &str) -> i64 {
        let rows: Vec<i64> = self
            .vtgate_query(
                Some(target),
                &format!("select count(*) from customer where customer_id = {MARKER}"),
            )
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        rows[0]
    }

    /// The `MARKER` count at `target` once it is `want`, or after 10 s: vtgate follows a
    /// switch through its topology watches, a moment after `vtctl` returns.
    fn marker_after_switch(&self, target: &str, want: i64) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = self.marker_count(target);
            if n == want || Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn walkthrough_movetables_then_reshard_through_vtgate() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = workspace_root().join("config");
    let config_dir = config.to_str().expect("utf-8 path");
    let slot = reserve_port_offset(&ports());
    let walk = Walk {
        dataroot: dir.path().join("vtdataroot"),
        offset: slot.offset,
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    };
    let up = ["up", "--detach", "--config-dir", config_dir];
    let _down = Down(&walk.dataroot, walk.offset);
    let _logs = KeepLogsOnFailure(walk.dataroot.join("logs"));
    walk.vtlocal_ok(&up);
    let vtgate = walk.vtgate_port().to_string();

    eprintln!("{:>6.1?} 101", started.elapsed());
    // 101: the example data through vtgate, plus bulk customers straight into MariaDB.
    let (ok, _, err) = mariadb(&vtgate, &[], &read_config("insert_commerce_data.sql"));
    assert!(ok, "example inserts: {err}");
    {
        let mut conn = walk.conn(walk.mysql_port(100));
        walk.rt.block_on(async {
            for chunk in (BULK_FIRST..BULK_FIRST + BULK)
                .collect::<Vec<_>>()
                .chunks(5000)
            {
                let values: Vec<String> = chunk
                    .iter()
                    .map(|i| format!("({i}, 'bulk{i}@example.com')"))
                    .collect();
                conn.query_drop(format!(
                    "insert into vt_commerce.customer(customer_id, email) values {}",
                    values.join(",")
                ))
                .await
                .expect("bulk insert");
            }
        });
    }
    let initial = {
        let mut conn = walk.conn(walk.vtgate_port());
        walk.rt.block_on(Model::read(&mut conn)).expect("read")
    };
    assert_eq!(initial.customers.len() as i64, BULK + 5);
    let writer = Writer::start(walk.vtgate_port(), initial);

    eprintln!("{:>6.1?} 201", started.elapsed());
    // 201: the customer keyspace, MoveTables create.
    walk.vtlocal_ok(&["add-shard", "customer/0"]);
    walk.movetables(&[
        "create",
        "--source-keyspace",
        "commerce",
        "--tables",
        "customer,corder",
    ]);

    eprintln!("{:>6.1?} kill mid-copy", started.elapsed());
    // The target primary's vttablet dies in the middle of the customer copy; `vtlocal up`
    // restarts it, and the copy goes on after the last primary key it had committed.
    let lastpk = |conn: &mut Conn| -> Option<Option<String>> {
        walk.rt
            .block_on(conn.query_first(LASTPK))
            .expect("copy_state")
    };
    let mut conn = walk.conn(walk.mysql_port(200));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(lastpk(&mut conn), Some(Some(_))) {
        assert!(Instant::now() < deadline, "the customer copy never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = std::fs::read_to_string(walk.dataroot.join("pids/vttablet-200.pid"))
        .expect("pid file of the target primary");
    let status = Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .expect("kill");
    assert!(status.success());
    let Some(Some(at_kill)) = lastpk(&mut conn) else {
        panic!("the customer copy had finished before the kill");
    };
    let at_kill = pk_number(&at_kill);
    drop(conn);
    let watcher = watch_lastpk(walk.mysql_port(200));
    walk.vtlocal_ok(&up);
    walk.wait_copied(|| walk.movetables(&["show"]));
    let after_restart = watcher.join().expect("lastpk watcher");
    assert!(
        !after_restart.is_empty() && after_restart.iter().all(|&pk| pk >= at_kill),
        "the copy started again instead of resuming after {at_kill}: {after_restart:?}"
    );
    walk.wait_serving("customer/0");

    eprintln!("{:>6.1?} VDiff", started.elapsed());
    // VDiff: no difference between source and target.
    let vdiff = |args: &[&str]| {
        let mut all = vec![
            "VDiff",
            "--workflow",
            "commerce2customer",
            "--target-keyspace",
            "customer",
        ];
        all.extend(args);
        walk.vtctl_ok(&all)
    };
    let created = vdiff(&["create"]);
    assert!(
        created.contains("scheduled on target shards, use show to view progress"),
        "{created}"
    );
    let shown = vdiff(&["show", "last"]);
    assert!(
        shown.contains("VDiff Summary for customer.commerce2customer")
            && shown.contains("State:        completed")
            && shown.contains("HasMismatch:  false"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&vdiff(&["show", "last", "--format", "json"])).expect("json");
    assert_eq!(json["HasMismatch"], false, "{json}");
    assert!(
        json["RowsCompared"].as_u64().unwrap_or(0) > BULK as u64,
        "{json}"
    );

    // Reads of each tablet type tell which keyspace answered: a marker row only on the
    // MariaDB of commerce's tablets, not in the binlog, so nothing copies it.
    for uid in [100, 101, 102] {
        walk.on_tablet(
            uid,
            &format!(
                "set sql_log_bin = 0; insert into vt_commerce.customer values ({MARKER}, 'marker')"
            ),
        );
    }
    for target in [
        "commerce",
        "commerce@replica",
        "commerce@rdonly",
        "@replica",
    ] {
        assert_eq!(walk.marker_count(target), 1, "{target} reads commerce");
    }
    assert_eq!(walk.marker_count("customer@replica"), 1);

    eprintln!("{:>6.1?} 202", started.elapsed());
    // 202: switch reads.
    let out = walk.movetables(&["switchtraffic", "--tablet-types", "rdonly,replica"]);
    assert!(out.contains("Reads"), "{out}");
    for target in [
        "commerce@replica",
        "commerce@rdonly",
        "customer@replica",
        "customer@rdonly",
        "@replica",
    ] {
        assert_eq!(
            walk.marker_after_switch(target, 0),
            0,
            "{target} reads customer"
        );
    }
    assert_eq!(walk.marker_count("commerce"), 1, "primary reads stay");
    assert_eq!(walk.marker_count("commerce/0@replica"), 1, "a shard target");

    eprintln!("{:>6.1?} 203", started.elapsed());
    // 203: switch writes; the source refuses the moved tables.
    walk.movetables(&["switchtraffic", "--tablet-types", "primary"]);
    assert_eq!(
        walk.marker_after_switch("commerce", 0),
        0,
        "primary reads moved"
    );
    match walk.vtgate_query::<(i64, String)>(Some("commerce/0"), "select * from customer") {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!((e.code, e.state.as_str()), (1105, "HY000"), "{e:?}");
            assert!(
                e.message.starts_with(&format!(
                    "target: commerce.0.primary: vttablet: rpc error: code = FailedPrecondition desc = {DENIED} (CallerID: "
                )),
                "{}",
                e.message
            );
        }
        other => panic!("commerce/0 must refuse customer: {other:?}"),
    }

    eprintln!("{:>6.1?} 204", started.elapsed());
    // 204: complete.
    walk.movetables(&["complete"]);
    let tables = |target: &str| -> Vec<String> {
        walk.vtgate_query(Some(target), "show tables")
            .unwrap_or_else(|e| panic!("{target}: {e}"))
    };
    assert_eq!(tables("commerce/0"), ["product"]);
    assert_eq!(tables("customer/0"), ["corder", "customer"]);

    eprintln!("{:>6.1?} 301", started.elapsed());
    // 301: sequences in commerce, customer sharded by customer_id.
    let file = |name: &str| config.join(name).to_string_lossy().into_owned();
    walk.vtctl_ok(&[
        "ApplySchema",
        "--sql-file",
        &file("create_commerce_seq.sql"),
        "commerce",
    ]);
    walk.vtctl_ok(&[
        "ApplyVSchema",
        "--vschema-file",
        &file("vschema_commerce_seq.json"),
        "commerce",
    ]);
    walk.vtctl_ok(&[
        "ApplyVSchema",
        "--vschema-file",
        &file("vschema_customer_sharded.json"),
        "customer",
    ]);
    walk.vtctl_ok(&[
        "ApplySchema",
        "--sql-file",
        &file("create_customer_sharded.sql"),
        "customer",
    ]);

    eprintln!("{:>6.1?} 302-305", started.elapsed());
    // 302-305: new shards, Reshard, switch reads, switch writes, complete.
    for shard in ["customer/-80", "customer/80-"] {
        walk.vtlocal_ok(&["add-shard", shard]);
        walk.wait_serving(shard);
    }
    walk.reshard(&[
        "create",
        "--source-shards",
        "0",
        "--target-shards",
        "-80,80-",
    ]);
    walk.wait_copied(|| walk.reshard(&["show"]));
    let vdiff = |args: &[&str]| {
        let mut all = vec![
            "VDiff",
            "--workflow",
            "cust2cust",
            "--target-keyspace",
            "customer",
        ];
        all.extend(args);
        walk.vtctl_ok(&all)
    };
    vdiff(&["create"]);
    let json: serde_json::Value =
        serde_json::from_str(&vdiff(&["show", "last", "--format", "json"])).expect("json");
    assert_eq!(
        (&json["HasMismatch"], &json["Shards"]),
        (&serde_json::json!(false), &serde_json::json!("-80,80-")),
        "{json}"
    );
    assert!(
        json["RowsCompared"].as_u64().unwrap_or(0) > BULK as u64,
        "{json}"
    );
    walk.reshard(&["switchtraffic", "--tablet-types", "rdonly,replica"]);
    walk.reshard(&["switchtraffic", "--tablet-types", "primary"]);
    walk.reshard(&["complete"]);
    eprintln!("{:>6.1?} 306-307", started.elapsed());
    // 306/307: the old shard's tablets stop and its records go; vtgate keeps serving.
    walk.vtlocal_ok(&["remove-shard", "customer/0"]);
    walk.vtctl_ok(&["DeleteShards", "--recursive", "customer/0"]);
    let (ok, out, _) = walk.vtctl(&["GetShard", "customer/0"]);
    assert!(!ok, "customer/0 is still in the topology: {out}");
    std::thread::sleep(Duration::from_secs(1));
    let report = writer.stop();
    eprintln!(
        "writer: {} transactions committed, {} reported failed: {:#?}",
        report.committed, report.failed, report.errors
    );
    assert!(report.committed > 100, "the writer hardly wrote");

    eprintln!("{:>6.1?} final checks", started.elapsed());
    // Every acknowledged write, nothing else, through vtgate.
    let seen = {
        let mut conn = walk.conn(walk.vtgate_port());
        walk.rt.block_on(Model::read(&mut conn)).expect("read")
    };
    assert_eq!(seen.customers.len(), report.model.customers.len());
    assert!(seen == report.model, "{}", diff(&report.model, &seen));

    // Each shard holds only its key range, and together exactly the rows.
    let xxhash = vschema::create_vindex("xxhash", "xxhash", &Default::default()).expect("vindex");
    let mut union = Model::default();
    for shard in ["-80", "80-"] {
        let mut conn = walk.conn(walk.vtgate_port());
        let part = walk.rt.block_on(async {
            conn.query_drop(format!("use `customer/{shard}`")).await?;
            Model::read(&mut conn).await
        });
        let part = part.unwrap_or_else(|e| panic!("{shard}: {e}"));
        let in_range = |id: i64| {
            let ksid = xxhash.hash(&vschema::Value::Int(id)).expect("hash");
            (ksid[0] < 0x80) == (shard == "-80")
        };
        assert!(part.customers.keys().all(|&id| in_range(id)), "{shard}");
        assert!(part.orders.values().all(|o| in_range(o.0)), "{shard}");
        union.customers.extend(part.customers);
        union.orders.extend(part.orders);
    }
    assert!(union == report.model, "{}", diff(&report.model, &union));
    eprintln!("walkthrough took {:?}", started.elapsed());
}

/// The customer table's copy position on the target primary (no row once it is copied).
const LASTPK: &str = "select lastpk from _vt.copy_state where table_name = 'customer'";

/// The primary key in a `copy_state.lastpk` tuple such as `(12345)`; 0 for NULL.
fn pk_number(lastpk: &str) -> i64 {
    let digits: String = lastpk.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// Watches the customer copy on the MariaDB at `port` until it is done: every primary key
/// it was seen at (0 when its position was reset).
fn watch_lastpk(port: u16) -> std::thread::JoinHandle<Vec<i64>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut conn = Conn::new(opts(port)).await.expect("connect");
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(180);
            while Instant::now() < deadline {
                match conn.query_first::<Option<String>, _>(LASTPK).await {
                    Ok(Some(pk)) => seen.push(pk.as_deref().map_or(0, pk_number)),
                    Ok(None) => break,
                    Err(e) => panic!("copy_state: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        })
    })
}

/// Copies the cluster's logs (and each MariaDB's `error.log`) out of the temporary data root
/// when the test fails.
struct KeepLogsOnFailure(PathBuf);

impl Drop for KeepLogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let keep =
            std::env::temp_dir().join(format!("vtlocal-walkthrough-logs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&keep);
        for entry in std::fs::read_dir(&self.0).into_iter().flatten().flatten() {
            let _ = std::fs::copy(entry.path(), keep.join(entry.file_name()));
        }
        let dataroot = self.0.parent().map(PathBuf::from).unwrap_or_default();
        for entry in std::fs::read_dir(dataroot).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("vt_") {
                let _ = std::fs::copy(
                    entry.path().join("error.log"),
                    keep.join(format!("mariadb-{name}.log")),
                );
            }
        }
        eprintln!("cluster logs kept in {}", keep.display());
    }
}

/// The first differences between the expected and the seen rows.
fn diff(want: &Model, seen: &Model) -> String {
    let mut out = Vec::new();
    for (id, email) in &want.customers {
        if seen.customers.get(id) != Some(email) {
            out.push(format!(
                "customer {id}: want {email:?}, seen {:?}",
                seen.customers.get(id)
            ));
        }
    }
    for id in seen
        .customers
        .keys()
        .filter(|id| !want.customers.contains_key(id))
    {
        out.push(format!(
            "customer {id}: not written, seen {:?}",
            seen.customers[id]
        ));
    }
    for (id, order) in &want.orders {
        if seen.orders.get(id) != Some(order) {
            out.push(format!(
                "corder {id}: want {order:?}, seen {:?}",
                seen.orders.get(id)
            ));
        }
    }
    for id in seen
        .orders
        .keys()
        .filter(|id| !want.orders.contains_key(id))
    {
        out.push(format!(
            "corder {id}: not written, seen {:?}",
            seen.orders[id]
        ));
    }
    out.truncate(20);
    out.join("\n")
}
