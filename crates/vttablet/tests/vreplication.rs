//! The `vttablet` binary hosts a VReplication stream: created through
//! `VReplicationExec`, copying from the source shard's primary it finds in
//! the topology while the source keeps writing; the tablet process is
//! killed (SIGKILL) in the middle of the copy and started again; the stream
//! resumes, `VReplicationWaitForPos` returns once it has applied the
//! source's final position, and both tables are then equal row for row.
//! Stopping the stream through `VReplicationExec` stops the applying.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use mysqlctl::{Mysqld, MysqldConfig, Position};
use proto::binlogdata::{BinlogSource, Filter, Rule};
use proto::tabletmanagerdata::{VReplicationExecRequest, VReplicationWaitForPosRequest};
use proto::tabletmanagerservice::tablet_manager_client::TabletManagerClient;
use proto::topodata::{Tablet as TabletRecord, TabletAlias, TabletType};
use tonic::transport::Channel;
use topo::TopoServer;

const ROWS: u64 = 40_000;
const TABLE: &str =
    "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64), qty INT) ENGINE=InnoDB";

/// A mariadbd killed when the test ends (also on panic).
struct Server(Mysqld);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0.paths().pid_file) {
            if self.0.is_running() {
                let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
            }
        }
    }
}

impl Server {
    async fn start(root: &std::path::Path, uid: u32) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = MysqldConfig::new(uid, port, root);
        config.buffer_pool_mib = 32;
        let server = Server(Mysqld::new(config).unwrap());
        server.0.init().await.unwrap();
        server
    }

    async fn conn(&self, db: Option<&str>) -> Conn {
        let opts: OptsBuilder = self.0.tcp_opts();
        Conn::new(opts.db_name(db)).await.unwrap()
    }

    async fn rows(&self, db: &str) -> Vec<(u64, Option<String>, Option<i32>)> {
        let mut conn = self.conn(Some(db)).await;
        conn.query("SELECT id, name, qty FROM item ORDER BY id")
            .await
            .unwrap()
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_tablet(etcd: &str, mysql_port: u16) -> KillOnDrop {
    let child = Command::new(env!("CARGO_BIN_EXE_vttablet"))
        .args([
            "--tablet-path",
            "zone1-0000000602",
            "--init-keyspace",
            "dst",
            "--init-shard",
            "0",
            "--init-tablet-type",
            "primary",
            "--bind-address",
            "127.0.0.1",
            "--topo-global-server-address",
            etcd,
            "--db-port",
            &mysql_port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    KillOnDrop(child)
}

/// The tablet manager of the tablet once it (re-)registered after `since`.
async fn manager(ts: &TopoServer, since: i64) -> TabletManagerClient<Channel> {
    let alias = TabletAlias::new("zone1", 602);
    for _ in 0..300 {
        if let Ok(t) = ts.get_tablet(&alias).await {
            let started = t.tablet_start_time.as_ref().map_or(0, |s| s.seconds);
            if started >= since {
                let port = t.port_map["grpc"];
                if let Ok(c) =
                    TabletManagerClient::connect(format!("http://127.0.0.1:{port}")).await
                {
                    return c;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the tablet did not come up");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn exec(
    client: &mut TabletManagerClient<Channel>,
    query: &str,
) -> Result<Vec<Vec<Option<String>>>, tonic::Status> {
    let result = client
        .v_replication_exec(VReplicationExecRequest {
            query: query.into(),
        })
        .await?
        .into_inner()
        .result
        .unwrap_or_default();
    Ok(rows(&result))
}

async fn position(server: &Server) -> Position {
    let mut c = server.conn(None).await;
    let pos: String = c
        .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
        .unwrap()
        .unwrap();
    Position::parse_gtid_list(&pos).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_hosts_a_stream_that_survives_sigkill_mid_copy() {
    let topo = topo().await;
    let root = tempfile::Builder::new()
        .prefix("vrt")
        .tempdir_in("/tmp")
        .unwrap();
    let (source, target) = tokio::join!(
        Server::start(root.path(), 611),
        Server::start(root.path(), 612)
    );

    // The source shard's primary, as the topology describes it (no tablet needed).
    let source_alias = TabletAlias::new("zone1", 601);
    topo.server
        .create_keyspace("src", &Default::default())
        .await
        .unwrap();
    topo.server.create_shard("src", "0").await.unwrap();
    let mut record = TabletRecord {
        alias: Some(source_alias.clone()),
        hostname: "127.0.0.1".into(),
        mysql_hostname: "127.0.0.1".into(),
        mysql_port: i32::from(source.0.config().port),
        keyspace: "src".into(),
        shard: "0".into(),
        ..Default::default()
    };
    record.set_type(TabletType::Primary);
    topo.server.create_tablet(&record).await.unwrap();
    topo.server
        .update_shard_fields("src", "0", move |s| {
            s.primary_alias = Some(source_alias.clone());
            Ok(())
        })
        .await
        .unwrap();

    let mut src = source.conn(None).await;
    src.query_drop("CREATE DATABASE vt_src").await.unwrap();
    src.query_drop("USE vt_src").await.unwrap();
    src.query_drop(TABLE).await.unwrap();
    for chunk in 0..(ROWS / 1000) {
        let values: Vec<String> = (chunk * 1000 + 1..=chunk * 1000 + 1000)
            .map(|i| format!("({i}, 'item {i}', {})", i % 100))
            .collect();
        src.query_drop(format!("INSERT INTO item VALUES {}", values.join(",")))
            .await
            .unwrap();
    }
    let mut tgt = target.conn(None).await;
    tgt.query_drop("CREATE DATABASE vt_dst").await.unwrap();
    tgt.query_drop("USE vt_dst").await.unwrap();
    tgt.query_drop(TABLE).await.unwrap();

    let etcd = topo.etcd.address();
    let mut tablet = start_tablet(&etcd, target.0.config().port);
    let mut client = manager(&topo.server, 0).await;

    // Only the sidecar tables are accepted.
    let refused = exec(&mut client, "delete from vt_dst.item")
        .await
        .unwrap_err();
    assert!(
        refused.message().contains("invalid table name"),
        "{refused:?}"
    );

    let binlog_source = BinlogSource {
        keyspace: "src".into(),
        shard: "0".into(),
        filter: Some(Filter {
            rules: vec![Rule {
                r#match: "item".into(),
                filter: "select * from item".into(),
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let text = vreplication::source_text::encode(&binlog_source).replace('\'', "\\'");
    exec(
        &mut client,
        &format!(
            "insert into _vt.vreplication (workflow, source, pos, max_tps, max_replication_lag, time_updated, \
             transaction_timestamp, state, db_name, workflow_type, options) \
             values ('wf', '{text}', '', 9223372036854775807, 9223372036854775807, 0, 0, 'Init', 'vt_dst', 1, '{{}}')"
        ),
    )
    .await
    .unwrap();
    let id: i32 = exec(
        &mut client,
        "select id from _vt.vreplication where workflow = 'wf'",
    )
    .await
    .unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();

    // The source keeps writing during the copy.
    let writing = Arc::new(AtomicBool::new(true));
    let flag = writing.clone();
    let mut writer_conn = source.conn(Some("vt_src")).await;
    let writer = tokio::spawn(async move {
        let mut n: u64 = 0;
        while flag.load(Ordering::Relaxed) {
            n += 1;
            writer_conn.query_drop("BEGIN").await.unwrap();
            writer_conn
                .query_drop(format!(
                    "INSERT INTO item VALUES ({}, 'new {n}', 1)",
                    ROWS + n
                ))
                .await
                .unwrap();
            writer_conn
                .query_drop(format!(
                    "UPDATE item SET qty = qty + 1 WHERE id = {}",
                    (n * 7919) % ROWS + 1
                ))
                .await
                .unwrap();
            writer_conn
                .query_drop(format!(
                    "DELETE FROM item WHERE id = {}",
                    (n * 104_729) % ROWS + 1
                ))
                .await
                .unwrap();
            writer_conn.query_drop("COMMIT").await.unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    });

    // SIGKILL the tablet once part of the table is copied.
    let mut copied_before_kill = None;
    for _ in 0..600 {
        let lastpk: Option<Option<String>> = tgt
            .query_first("SELECT lastpk FROM _vt.copy_state")
            .await
            .unwrap();
        if let Some(Some(pk)) = lastpk {
            copied_before_kill = Some(pk);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let copied_before_kill = copied_before_kill.expect("the copy starts");
    tablet.0.kill().unwrap();
    tablet.0.wait().unwrap();
    let state: Option<String> = tgt
        .query_first("SELECT state FROM _vt.vreplication")
        .await
        .unwrap();
    assert_eq!(
        state.as_deref(),
        Some("Copying"),
        "killed mid-copy (lastpk {copied_before_kill})"
    );

    let restarted_at = now();
    tablet = start_tablet(&etcd, target.0.config().port);
    let mut client = manager(&topo.server, restarted_at).await;
    assert!(
        eventually(Duration::from_secs(120), || {
            let mut c = client.clone();
            async move {
                exec(&mut c, "select state from _vt.vreplication")
                    .await
                    .unwrap()[0][0]
                    .as_deref()
                    == Some("Running")
            }
        })
        .await,
        "the copy finishes after the restart"
    );
    writing.store(false, Ordering::Relaxed);
    writer.await.unwrap();
    let final_pos = position(&source).await;
    client
        .v_replication_wait_for_pos(VReplicationWaitForPosRequest {
            id,
            position: final_pos.to_string(),
        })
        .await
        .expect("the stream reaches the source position");
    let (want, have) = (source.rows("vt_src").await, target.rows("vt_dst").await);
    assert_eq!(want.len(), have.len());
    assert!(want == have, "target differs from source");

    // A stopped stream applies nothing; started again, it catches up.
    exec(
        &mut client,
        &format!("update _vt.vreplication set state = 'Stopped' where id = {id}"),
    )
    .await
    .unwrap();
    let late = ROWS * 10;
    src.query_drop(format!("INSERT INTO item VALUES ({late}, 'after stop', 0)"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let query = format!("SELECT name FROM vt_dst.item WHERE id = {late}");
    let name: Option<String> = tgt.query_first(&query).await.unwrap();
    assert_eq!(name, None, "a stopped stream applies nothing");
    exec(
        &mut client,
        &format!("update _vt.vreplication set state = 'Running' where id = {id}"),
    )
    .await
    .unwrap();
    client
        .v_replication_wait_for_pos(VReplicationWaitForPosRequest {
            id,
            position: position(&source).await.to_string(),
        })
        .await
        .unwrap();
    let name: Option<String> = tgt.query_first(&query).await.unwrap();
    assert_eq!(name.as_deref(), Some("after stop"));
    drop(tablet);
}
