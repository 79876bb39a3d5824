//! Shared set-up for the integration tests: a real etcd, a TopoServer, unique
//! keyspace and database names, tablets started in-process on loopback ports,
//! and gRPC clients.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use clap::Parser;
use proto::query::{BindVariable, BoundQuery, ExecuteRequest, QueryResult, Target, VtGateCallerId};
use proto::queryservice::query_client::QueryClient;
use proto::tabletmanagerservice::tablet_manager_client::TabletManagerClient;
use proto::topodata::TabletType;
use tonic::transport::Channel;
use topo::testutil::EtcdProcess;
use topo::TopoServer;
use vttablet::{Flags, RunningTablet, TabletConfig};

/// The shared MariaDB every engineer's tests use.
pub const SHARED_MYSQL_PORT: u16 = 3306;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this test process and call: `<prefix><pid>x<n>`.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// etcd plus a topology client on it.
pub struct Topo {
    pub etcd: EtcdProcess,
    pub server: TopoServer,
}

pub async fn topo() -> Topo {
    let etcd = EtcdProcess::start().expect("etcd starts");
    let server = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .expect("topo connects");
    Topo { etcd, server }
}

/// Flags for a tablet on loopback with free ports.
pub fn flags(
    topo_addr: &str,
    uid: u32,
    keyspace: &str,
    tablet_type: &str,
    mysql_port: u16,
    db_name: Option<&str>,
) -> Flags {
    flags_with(
        topo_addr,
        uid,
        keyspace,
        tablet_type,
        mysql_port,
        db_name,
        &[],
    )
}

/// Like [`flags`], with `extra` arguments appended.
pub fn flags_with(
    topo_addr: &str,
    uid: u32,
    keyspace: &str,
    tablet_type: &str,
    mysql_port: u16,
    db_name: Option<&str>,
    extra: &[&str],
) -> Flags {
    let alias = format!("zone1-{uid:010}");
    let port = mysql_port.to_string();
    let mut args = vec![
        "vttablet",
        "--tablet-path",
        &alias,
        "--init-keyspace",
        keyspace,
        "--init-shard",
        "0",
        "--init-tablet-type",
        tablet_type,
        "--bind-address",
        "127.0.0.1",
        "--topo-global-server-address",
        topo_addr,
        "--db-port",
        &port,
        "--health-check-interval",
        "300ms",
    ];
    if let Some(db) = db_name {
        args.push("--init-db-name-override");
        args.push(db);
    }
    args.extend_from_slice(extra);
    Flags::try_parse_from(args).expect("flags parse")
}

/// Tablet `uid`, primary of `keyspace`, on the shared MariaDB in database `db`.
pub async fn start_shared_primary(
    topo: &Topo,
    uid: u32,
    keyspace: &str,
    db: &str,
) -> RunningTablet {
    let flags = flags(
        &topo.etcd.address(),
        uid,
        keyspace,
        "primary",
        SHARED_MYSQL_PORT,
        Some(db),
    );
    start(&topo.server, flags).await
}

pub async fn start(topo: &TopoServer, flags: Flags) -> RunningTablet {
    let config = TabletConfig::from_flags(flags).expect("valid flags");
    vttablet::start(config, topo.clone())
        .await
        .expect("tablet starts")
}

pub async fn query_client(tablet: &RunningTablet) -> QueryClient<Channel> {
    QueryClient::connect(format!("http://{}", tablet.grpc_addr))
        .await
        .expect("grpc connects")
}

pub async fn manager_client(tablet: &RunningTablet) -> TabletManagerClient<Channel> {
    TabletManagerClient::connect(format!("http://{}", tablet.grpc_addr))
        .await
        .expect("grpc connects")
}

pub fn target(keyspace: &str, tablet_type: TabletType) -> Target {
    Target {
        keyspace: keyspace.into(),
        shard: "0".into(),
        tablet_type: tablet_type as i32,
        cell: "zone1".into(),
    }
}

pub fn request(
    target: &Target,
    sql: &str,
    binds: &[(&str, BindVariable)],
    tx: i64,
) -> ExecuteRequest {
    ExecuteRequest {
        target: Some(target.clone()),
        query: Some(BoundQuery {
            sql: sql.into(),
            bind_variables: binds
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect::<HashMap<_, _>>(),
        }),
        transaction_id: tx,
        immediate_caller_id: Some(VtGateCallerId {
            username: "userData1".into(),
            groups: vec![],
        }),
        ..ExecuteRequest::default()
    }
}

pub async fn execute(
    client: &mut QueryClient<Channel>,
    target: &Target,
    sql: &str,
    tx: i64,
) -> Result<QueryResult, tonic::Status> {
    client
        .execute(request(target, sql, &[], tx))
        .await
        .map(|r| r.into_inner().result.unwrap_or_default())
}

/// Values of a result as text, NULL as None.
pub fn rows(result: &QueryResult) -> Vec<Vec<Option<String>>> {
    result
        .rows
        .iter()
        .map(|row| {
            row.split_values()
                .expect("row decodes")
                .into_iter()
                .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
                .collect()
        })
        .collect()
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Drops a database on the shared MariaDB.
pub async fn drop_shared_db(name: &str) {
    use mysql_async::prelude::Queryable;
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(SHARED_MYSQL_PORT)
        .user(Some("root"));
    if let Ok(mut conn) = mysql_async::Conn::new(opts).await {
        let _ = conn
            .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .await;
        let _ = conn.disconnect().await;
    }
}
