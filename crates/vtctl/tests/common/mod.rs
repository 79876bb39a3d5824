//! A small cluster for workflow tests: etcd, one mariadbd per tablet
//! (mysqlctl, with binlogs), tablets served in-process on loopback gRPC
//! ports, and the `vtctl` binary run as a process.

#![allow(dead_code)]

use std::path::Path;

use clap::Parser;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysqlctl::{Mysqld, MysqldConfig};
use proto::query::{BoundQuery, ExecuteRequest, QueryResult, Target, VtGateCallerId};
use proto::queryservice::query_client::QueryClient;
use proto::topodata::TabletType;
use tonic::transport::Channel;
use topo::testutil::EtcdProcess;
use topo::TopoServer;
use vttablet::{Flags, RunningTablet, TabletConfig};

pub use topo::testutil::free_port;

/// A mariadbd killed when the test ends (also on panic).
pub struct Server(pub Mysqld);

impl Drop for Server {
    fn drop(&mut self) {
        // Found by its command line, not its pid file: the data root may be deleted before this
        // runs (a TempDir dropped first), and a restarted server has a new pid.
        let defaults = format!("--defaults-file={}", self.0.paths().my_cnf.display());
        let _ = std::process::Command::new("pkill")
            .args(["-9", "-f", "--"])
            .arg(defaults)
            .status();
    }
}

impl Server {
    /// Starts (initializing) server `uid` under `root`.
    pub async fn start(root: &Path, uid: u32) -> Server {
        let mut config = MysqldConfig::new(uid, free_port(), root);
        config.buffer_pool_mib = 32;
        let server = Server(Mysqld::new(config).unwrap());
        server.0.init().await.unwrap();
        server
    }

    pub fn port(&self) -> u16 {
        self.0.config().port
    }

    /// A root connection with `db` selected.
    pub async fn conn(&self, db: &str) -> Conn {
        let opts: mysql_async::OptsBuilder = self.0.tcp_opts();
        Conn::new(opts.db_name(Some(db))).await.unwrap()
    }

    /// Tables of `db`, sorted.
    pub async fn tables(&self, db: &str) -> Vec<String> {
        let mut conn = self.conn(db).await;
        let mut names: Vec<String> = conn.query("SHOW TABLES").await.unwrap();
        names.sort();
        names
    }
}

/// A temporary data root under /tmp (short paths keep the socket path legal).
pub fn temp_root(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
}

/// Starts tablet `uid` of `keyspace/0` on `mysql`, serving gRPC on `grpc_port`.
pub async fn tablet(
    ts: &TopoServer,
    etcd: &EtcdProcess,
    uid: u32,
    keyspace: &str,
    mysql: &Server,
    grpc_port: u16,
) -> RunningTablet {
    shard_tablet(ts, etcd, uid, keyspace, "0", mysql, grpc_port).await
}

/// Starts tablet `uid` of `keyspace/shard` on `mysql`, serving gRPC on `grpc_port`.
pub async fn shard_tablet(
    ts: &TopoServer,
    etcd: &EtcdProcess,
    uid: u32,
    keyspace: &str,
    shard: &str,
    mysql: &Server,
    grpc_port: u16,
) -> RunningTablet {
    typed_tablet(ts, etcd, uid, keyspace, shard, mysql, grpc_port, "replica").await
}

/// Like [`shard_tablet`], with `--init-tablet-type tablet_type`.
#[allow(clippy::too_many_arguments)]
pub async fn typed_tablet(
    ts: &TopoServer,
    etcd: &EtcdProcess,
    uid: u32,
    keyspace: &str,
    shard: &str,
    mysql: &Server,
    grpc_port: u16,
    tablet_type: &str,
) -> RunningTablet {
    let alias = format!("zone1-{uid:010}");
    let port = mysql.port().to_string();
    let grpc_port = grpc_port.to_string();
    let init_shard = format!("--init-shard={shard}");
    let address = etcd.address();
    let flags = Flags::try_parse_from([
        "vttablet",
        "--tablet-path",
        &alias,
        "--init-keyspace",
        keyspace,
        &init_shard,
        "--init-tablet-type",
        tablet_type,
        "--bind-address",
        "127.0.0.1",
        "--topo-global-server-address",
        &address,
        "--db-port",
        &port,
        "--grpc-port",
        &grpc_port,
        "--health-check-interval",
        "300ms",
    ])
    .unwrap();
    vttablet::start(TabletConfig::from_flags(flags).unwrap(), ts.clone())
        .await
        .unwrap()
}

/// Runs the `vtctl` binary against `etcd`: (success, stdout, stderr).
pub async fn vtctl(etcd: &EtcdProcess, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_vtctl"))
        .args(["--topo-server", &etcd.address()])
        .args(args)
        .output()
        .await
        .expect("run vtctl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `vtctl` and fails the test when it fails; returns stdout.
pub async fn vtctl_ok(etcd: &EtcdProcess, args: &[&str]) -> String {
    let (ok, out, err) = vtctl(etcd, args).await;
    assert!(ok, "vtctl {args:?} failed:\n{out}\n{err}");
    out
}

/// A gRPC query client of a tablet.
pub async fn query_client(tablet: &RunningTablet) -> QueryClient<Channel> {
    QueryClient::connect(format!("http://{}", tablet.grpc_addr))
        .await
        .unwrap()
}

/// Runs `sql` on the primary of `keyspace/0` through `client`.
pub async fn execute(
    client: &mut QueryClient<Channel>,
    keyspace: &str,
    sql: &str,
) -> Result<QueryResult, tonic::Status> {
    let request = ExecuteRequest {
        target: Some(Target {
            keyspace: keyspace.into(),
            shard: "0".into(),
            tablet_type: TabletType::Primary as i32,
            cell: "zone1".into(),
        }),
        query: Some(BoundQuery {
            sql: sql.into(),
            bind_variables: Default::default(),
        }),
        immediate_caller_id: Some(VtGateCallerId {
            username: "test".into(),
            groups: vec![],
        }),
        ..ExecuteRequest::default()
    };
    client
        .execute(request)
        .await
        .map(|r| r.into_inner().result.unwrap_or_default())
}

/// The keyspace the routing rules send primary traffic for `table` to (`default` without a rule).
pub async fn routed_keyspace(ts: &TopoServer, table: &str, default: &str) -> String {
    let rules = ts.get_routing_rules().await.unwrap();
    rules
        .rules
        .iter()
        .find(|r| r.from_table == table)
        .and_then(|r| r.to_tables.first())
        .and_then(|t| t.split_once('.'))
        .map_or_else(|| default.to_owned(), |(ks, _)| ks.to_owned())
}

/// Polls `check` every 100 ms until it is true or `seconds` pass.
pub async fn eventually<F, Fut>(seconds: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
