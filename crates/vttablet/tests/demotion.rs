//! DemotePrimary and UndoDemotePrimary on a real mariadbd (mysqlctl) and tablet:
//! a demoted primary refuses queries (NOT_SERVING) and says so in its health, lets a
//! transaction commit during its grace and ends the one left open, is read-only, and returns
//! a position that holds every committed write; undoing it serves writes again.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use mysqlctl::{Mysqld, MysqldConfig, Position};
use proto::query::{BeginRequest, CommitRequest, StreamHealthRequest};
use proto::tabletmanagerdata::*;
use proto::topodata::TabletType;
use topo::testutil::free_port;

/// Kills the test's mariadbd if the test panics before tearing it down.
struct Guard(Mysqld);

impl Drop for Guard {
    fn drop(&mut self) {
        if self.0.is_running() {
            if let Ok(pid) = std::fs::read_to_string(&self.0.paths().pid_file) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", pid.trim()])
                    .status();
            }
        }
    }
}

/// Begins a transaction on `target`; its id.
async fn begin(
    q: &mut proto::queryservice::query_client::QueryClient<tonic::transport::Channel>,
    target: &proto::query::Target,
) -> i64 {
    q.begin(BeginRequest {
        target: Some(target.clone()),
        ..BeginRequest::default()
    })
    .await
    .unwrap()
    .into_inner()
    .transaction_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demoted_primary_stops_writes_and_undo_restores_them() {
    let root = tempfile::Builder::new()
        .prefix("vtdemote")
        .tempdir_in("/tmp")
        .unwrap();
    let mut config = MysqldConfig::new(331, free_port(), root.path());
    config.buffer_pool_mib = 16;
    let db = Guard(Mysqld::new(config).unwrap());
    db.0.init().await.unwrap();

    let topo = topo().await;
    let keyspace = unique("dks");
    let tablet = start(
        &topo.server,
        flags(
            &topo.etcd.address(),
            331,
            &keyspace,
            "replica",
            db.0.config().port,
            None,
        ),
    )
    .await;
    let mut tm = manager_client(&tablet).await;
    let mut q = query_client(&tablet).await;
    tm.init_primary(InitPrimaryRequest::default())
        .await
        .unwrap();
    tm.apply_schema(ApplySchemaRequest {
        sql: "create table t (id int primary key)".into(),
        allow_replication: true,
        ..ApplySchemaRequest::default()
    })
    .await
    .unwrap();
    let primary = target(&keyspace, TabletType::Primary);
    execute(&mut q, &primary, "insert into t values (1)", 0)
        .await
        .unwrap();
    let mut health = q
        .stream_health(StreamHealthRequest {})
        .await
        .unwrap()
        .into_inner();

    // Two open transactions: one commits during the demotion's grace, one never does.
    let committing = begin(&mut q, &primary).await;
    execute(&mut q, &primary, "insert into t values (2)", committing)
        .await
        .unwrap();
    let abandoned = begin(&mut q, &primary).await;
    execute(&mut q, &primary, "insert into t values (3)", abandoned)
        .await
        .unwrap();

    let demotion = {
        let mut tm = tm.clone();
        tokio::spawn(async move { tm.demote_primary(DemotePrimaryRequest {}).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = execute(&mut q, &primary, "insert into t values (4)", 0)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("NOT_SERVING"),
        "{}",
        refused.message()
    );
    q.commit(CommitRequest {
        target: Some(primary.clone()),
        transaction_id: committing,
        ..CommitRequest::default()
    })
    .await
    .expect("a transaction may commit during the demotion's grace");
    let position = demotion
        .await
        .unwrap()
        .expect("DemotePrimary")
        .into_inner()
        .primary_status
        .unwrap()
        .position;

    let late = q
        .commit(CommitRequest {
            target: Some(primary.clone()),
            transaction_id: abandoned,
            ..CommitRequest::default()
        })
        .await
        .unwrap_err();
    assert!(late.message().contains("primary demoted"), "{late:?}");
    let demoted: Position = position.parse().unwrap();
    let now: Position = tm
        .primary_position(PrimaryPositionRequest {})
        .await
        .unwrap()
        .into_inner()
        .position
        .parse()
        .unwrap();
    assert_eq!(now, demoted, "nothing is written after the demotion");
    let mut conn = mysql_async::Conn::new(db.0.tcp_opts()).await.unwrap();
    assert!(mysqlctl::replication::is_read_only(&mut conn)
        .await
        .unwrap());
    let not_serving = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let msg = health.next().await.unwrap().unwrap();
            if !msg.serving {
                return msg;
            }
        }
    })
    .await
    .expect("health reports not serving");
    assert_eq!(
        not_serving.target.unwrap().tablet_type(),
        TabletType::Primary,
        "a demoted primary stays PRIMARY until it is pointed at the new one"
    );
    // Idempotent: a second demotion returns the same position.
    let again = tm
        .demote_primary(DemotePrimaryRequest {})
        .await
        .unwrap()
        .into_inner()
        .primary_status
        .unwrap()
        .position;
    assert_eq!(again, position);

    tm.undo_demote_primary(UndoDemotePrimaryRequest::default())
        .await
        .unwrap();
    execute(&mut q, &primary, "insert into t values (5)", 0)
        .await
        .expect("writes are served again");
    let ids = execute(&mut q, &primary, "select id from t order by id", 0)
        .await
        .unwrap();
    assert_eq!(
        rows(&ids),
        [
            [Some("1".to_string())],
            [Some("2".to_string())],
            [Some("5".to_string())]
        ]
    );
    assert!(!mysqlctl::replication::is_read_only(&mut conn)
        .await
        .unwrap());
    drop(conn);

    tablet.shutdown().await;
    db.0.teardown().await.unwrap();
}
