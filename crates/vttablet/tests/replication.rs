//! Two real mariadbd (from mysqlctl), one tablet each: InitPrimary and
//! SetReplicationSource through the TabletManager service make a write on the
//! primary visible on the replica; types, shard primary, health and
//! replication status follow.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use mysqlctl::{Mysqld, MysqldConfig};
use proto::query::StreamHealthRequest;
use proto::tabletmanagerdata::*;
use proto::topodata::{TabletAlias, TabletType};

use topo::testutil::free_port;

/// Kills a test's mariadbd if the test panics before tearing it down.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_primary_and_replica_replicate_writes() {
    let root = tempfile::Builder::new()
        .prefix("vtrepl")
        .tempdir_in("/tmp")
        .unwrap();
    let mysqld = |uid| {
        let mut config = MysqldConfig::new(uid, free_port(), root.path());
        config.buffer_pool_mib = 16;
        Guard(Mysqld::new(config).unwrap())
    };
    let (db_a, db_b) = (mysqld(301), mysqld(302));
    let (a, b) = tokio::join!(db_a.0.init(), db_b.0.init());
    a.unwrap();
    b.unwrap();

    let topo = topo().await;
    let keyspace = unique("rks");
    let addr = topo.etcd.address();
    let tablet_a = start(
        &topo.server,
        flags(&addr, 301, &keyspace, "replica", db_a.0.config().port, None),
    )
    .await;
    let tablet_b = start(
        &topo.server,
        flags(&addr, 302, &keyspace, "replica", db_b.0.config().port, None),
    )
    .await;
    assert_eq!(tablet_a.tablet.db_name, format!("vt_{keyspace}"));
    let mut tm_a = manager_client(&tablet_a).await;
    let mut tm_b = manager_client(&tablet_b).await;
    let ping = tm_a
        .ping(PingRequest {
            payload: "hello".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ping.payload, "hello");

    let mut q_a = query_client(&tablet_a).await;
    let mut health_a = q_a
        .stream_health(StreamHealthRequest {})
        .await
        .unwrap()
        .into_inner();
    let first = health_a.next().await.unwrap().unwrap();
    assert_eq!(first.target.unwrap().tablet_type(), TabletType::Replica);
    assert_eq!(first.primary_term_start_timestamp, 0);

    // Elect A.
    let position = tm_a
        .init_primary(InitPrimaryRequest::default())
        .await
        .unwrap()
        .into_inner()
        .position;
    assert!(position.starts_with("MariaDB/"), "{position}");
    let became_primary = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let msg = health_a.next().await.unwrap().unwrap();
            if msg.target.as_ref().unwrap().tablet_type() == TabletType::Primary {
                return msg.primary_term_start_timestamp;
            }
        }
    })
    .await
    .expect("health reports PRIMARY");
    assert!(became_primary > 0);
    let alias_a = TabletAlias::new("zone1", 301);
    let shard = topo.server.get_shard(&keyspace, "0").await.unwrap();
    assert_eq!(shard.primary_alias.as_ref(), Some(&alias_a));
    assert_eq!(
        topo.server.get_tablet(&alias_a).await.unwrap().r#type(),
        TabletType::Primary
    );

    // B replicates from A.
    tm_b.set_replication_source(SetReplicationSourceRequest {
        parent: Some(alias_a.clone()),
        ..SetReplicationSourceRequest::default()
    })
    .await
    .unwrap();

    tm_a.apply_schema(ApplySchemaRequest {
        sql: "create table t (id int primary key, v varchar(10)); create table u (id int primary key)".into(),
        allow_replication: true,
        ..ApplySchemaRequest::default()
    })
    .await
    .unwrap();
    let primary = target(&keyspace, TabletType::Primary);
    execute(
        &mut q_a,
        &primary,
        "insert into t values (1, 'one'), (2, 'two')",
        0,
    )
    .await
    .unwrap();
    let position = tm_a
        .primary_position(PrimaryPositionRequest {})
        .await
        .unwrap()
        .into_inner()
        .position;
    tm_b.wait_for_position(WaitForPositionRequest {
        position: position.clone(),
    })
    .await
    .unwrap();

    let mut q_b = query_client(&tablet_b).await;
    let replica = target(&keyspace, TabletType::Replica);
    let read = execute(&mut q_b, &replica, "select id, v from t order by id", 0)
        .await
        .unwrap();
    assert_eq!(
        rows(&read),
        [
            [Some("1".to_string()), Some("one".to_string())],
            [Some("2".to_string()), Some("two".to_string())]
        ]
    );
    let status = tm_b
        .replication_status(ReplicationStatusRequest {})
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert!(
        status.io_thread_running && status.sql_thread_running,
        "{status:?}"
    );
    assert_eq!(status.source_port, i32::from(db_a.0.config().port));
    let applied: mysqlctl::Position = status.position.parse().unwrap();
    assert!(applied.at_least(&position.parse().unwrap()));

    // Read-only flags, as the DBA sees them.
    let read_only =
        |result: Option<proto::query::QueryResult>| rows(&result.unwrap())[0][0].clone();
    let ro_b = tm_b
        .execute_fetch_as_dba(ExecuteFetchAsDbaRequest {
            query: b"select @@global.read_only".to_vec(),
            ..ExecuteFetchAsDbaRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result;
    assert_eq!(read_only(ro_b).as_deref(), Some("1"));
    let ro_a = tm_a
        .execute_fetch_as_dba(ExecuteFetchAsDbaRequest {
            query: b"select @@global.read_only".to_vec(),
            ..ExecuteFetchAsDbaRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result;
    assert_eq!(read_only(ro_a).as_deref(), Some("0"));
    assert!(execute(&mut q_b, &replica, "insert into u values (1)", 0)
        .await
        .is_err());

    // Stop and start replication; writes arrive after the restart.
    tm_b.stop_replication(StopReplicationRequest {})
        .await
        .unwrap();
    let stopped = tm_b
        .replication_status(ReplicationStatusRequest {})
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert!(!stopped.io_thread_running && !stopped.sql_thread_running);
    execute(&mut q_a, &primary, "insert into u values (7)", 0)
        .await
        .unwrap();
    tm_b.start_replication(StartReplicationRequest::default())
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(20), || {
        let mut q_b = q_b.clone();
        let replica = replica.clone();
        async move {
            execute(&mut q_b, &replica, "select id from u", 0)
                .await
                .is_ok_and(|r| r.rows.len() == 1)
        }
    })
    .await;
    assert!(seen, "row written while replication was stopped arrives");

    // ChangeType moves B to RDONLY in topo and in its target.
    tm_b.change_type(ChangeTypeRequest {
        tablet_type: TabletType::Rdonly as i32,
        ..ChangeTypeRequest::default()
    })
    .await
    .unwrap();
    let alias_b = TabletAlias::new("zone1", 302);
    assert_eq!(
        topo.server.get_tablet(&alias_b).await.unwrap().r#type(),
        TabletType::Rdonly
    );
    let rdonly = target(&keyspace, TabletType::Rdonly);
    execute(&mut q_b, &rdonly, "select 1", 0).await.unwrap();
    assert!(execute(&mut q_b, &replica, "select 1", 0).await.is_err());

    // A conflicting local write breaks replication on B; its health says so.
    let mut health_b = q_b
        .stream_health(StreamHealthRequest {})
        .await
        .unwrap()
        .into_inner();
    let healthy = health_b.next().await.unwrap().unwrap();
    assert_eq!(healthy.realtime_stats.unwrap().health_error, "");
    tm_b.execute_fetch_as_dba(ExecuteFetchAsDbaRequest {
        query: b"insert into u values (9)".to_vec(),
        db_name: tablet_b.tablet.db_name.clone(),
        disable_binlogs: true,
        ..ExecuteFetchAsDbaRequest::default()
    })
    .await
    .unwrap();
    execute(&mut q_a, &primary, "insert into u values (9)", 0)
        .await
        .unwrap();
    let broken = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let msg = health_b.next().await.unwrap().unwrap();
            let error = msg.realtime_stats.unwrap().health_error;
            if !error.is_empty() {
                return error;
            }
        }
    })
    .await
    .expect("health reports broken replication");
    assert!(
        broken.starts_with("replication is broken: ") && broken.contains("Duplicate entry"),
        "{broken}"
    );

    tablet_b.shutdown().await;
    tablet_a.shutdown().await;
    db_a.0.teardown().await.unwrap();
    db_b.0.teardown().await.unwrap();
}
