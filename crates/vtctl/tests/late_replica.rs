//! Replicas the election did not attach, with real etcd, mariadbd (mysqlctl), in-process tablets
//! and the `vtctl` binary:
//!
//! * an rdonly tablet started after InitShardPrimary replicates from the primary on its own
//!   (fresh MariaDB: from the start of the primary's binlog), and resumes after its MariaDB and
//!   tablet restart with their data;
//! * PlannedReparentShard to the current primary re-points a replica whose replication was
//!   cleared by hand.

mod common;

use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use mysqlctl::replication;
use proto::topodata::{TabletAlias, TabletType};
use topo::testutil::EtcdProcess;
use topo::TopoServer;
use vttablet::RunningTablet;

const KEYSPACE: &str = "ks";
const DB: &str = "vt_ks";

/// etcd, a topology client, and a primary with one replica elected by InitShardPrimary,
/// holding table `t` with rows 1..=3.
struct Elected {
    etcd: EtcdProcess,
    ts: TopoServer,
    primary_db: Server,
    replica_db: Server,
    primary: RunningTablet,
    replica: RunningTablet,
}

impl Elected {
    async fn start(root: &std::path::Path, primary_uid: u32) -> Elected {
        let etcd = EtcdProcess::start().expect("etcd");
        let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
            .await
            .unwrap();
        let (primary_db, replica_db) = tokio::join!(
            Server::start(root, primary_uid),
            Server::start(root, primary_uid + 1)
        );
        let primary = tablet(&ts, &etcd, primary_uid, KEYSPACE, &primary_db, free_port()).await;
        let replica = tablet(
            &ts,
            &etcd,
            primary_uid + 1,
            KEYSPACE,
            &replica_db,
            free_port(),
        )
        .await;
        let alias = TabletAlias::new("zone1", primary_uid).to_string();
        vtctl_ok(&etcd, &["InitShardPrimary", "--force", "ks/0", &alias]).await;
        vtctl_ok(
            &etcd,
            &[
                "ApplySchema",
                "--sql",
                "create table t (id int primary key, v varchar(10))",
                KEYSPACE,
            ],
        )
        .await;
        let elected = Elected {
            etcd,
            ts,
            primary_db,
            replica_db,
            primary,
            replica,
        };
        elected
            .write("insert into t values (1, 'a'), (2, 'b'), (3, 'c')")
            .await;
        elected
    }

    fn primary_alias(&self) -> String {
        self.primary.tablet.alias.to_string()
    }

    async fn write(&self, sql: &str) {
        self.primary_db
            .conn(DB)
            .await
            .query_drop(sql)
            .await
            .unwrap();
    }

    async fn shutdown(self) {
        self.replica.shutdown().await;
        self.primary.shutdown().await;
    }
}

/// The ids in `t` on `server`, or None while the table is missing.
async fn ids(server: &Server) -> Option<Vec<i64>> {
    let mut conn = server.conn(DB).await;
    conn.query("select id from t order by id").await.ok()
}

/// Waits up to 30 s for `server`'s `t` to hold exactly `expected`.
async fn holds(server: &Server, expected: &[i64]) -> bool {
    eventually(30, || async {
        ids(server).await.as_deref() == Some(expected)
    })
    .await
}

/// The replication status of `server`'s MariaDB.
async fn status(server: &Server) -> Option<replication::ReplicationStatus> {
    let mut conn = mysql_async::Conn::new(server.0.tcp_opts()).await.unwrap();
    replication::replication_status(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdonly_started_after_the_election_replicates_from_the_primary() {
    let root = temp_root("late");
    let cluster = Elected::start(root.path(), 511).await;
    let late_db = Server::start(root.path(), 513).await;
    assert!(
        status(&late_db).await.is_none(),
        "a fresh MariaDB replicates from nobody"
    );

    // No vtctl command after the tablet starts: it finds the primary in the Shard record.
    let grpc = free_port();
    let late = typed_tablet(
        &cluster.ts,
        &cluster.etcd,
        513,
        KEYSPACE,
        "0",
        &late_db,
        grpc,
        "rdonly",
    )
    .await;
    assert!(
        holds(&late_db, &[1, 2, 3]).await,
        "the late rdonly gets the schema and rows: {:?}",
        ids(&late_db).await
    );
    cluster.write("insert into t values (4, 'd')").await;
    assert!(holds(&late_db, &[1, 2, 3, 4]).await, "and later writes");
    let joined = status(&late_db).await.expect("replicating");
    assert!(joined.is_running(), "{joined:?}");
    assert_eq!(joined.source_port, cluster.primary_db.port());
    let record = cluster.ts.get_tablet(&late.tablet.alias).await.unwrap();
    assert_eq!(record.r#type(), TabletType::Rdonly);

    // Restarted with its data (mariadbd starts with replication stopped): it resumes from its
    // own position, neither reset nor replaying what it has (that would stop on duplicate keys).
    late.shutdown().await;
    late_db.0.shutdown().await.unwrap();
    cluster.write("insert into t values (5, 'e')").await;
    late_db.0.start().await.unwrap();
    let restarted = status(&late_db).await.expect("source kept");
    assert!(!restarted.is_running(), "skip-slave-start: {restarted:?}");
    let late = typed_tablet(
        &cluster.ts,
        &cluster.etcd,
        513,
        KEYSPACE,
        "0",
        &late_db,
        grpc,
        "rdonly",
    )
    .await;
    assert!(
        holds(&late_db, &[1, 2, 3, 4, 5]).await,
        "the restarted rdonly resumes: {:?} {:?}",
        ids(&late_db).await,
        status(&late_db).await
    );
    let resumed = status(&late_db).await.expect("replicating");
    assert!(
        resumed.is_running() && resumed.last_sql_error.is_empty(),
        "{resumed:?}"
    );

    // The primary restarted keeps being the primary: it does not replicate from itself.
    let primary_uid = cluster.primary.tablet.alias.uid;
    let Elected {
        etcd,
        ts,
        primary_db,
        replica_db,
        primary,
        replica,
    } = cluster;
    primary.shutdown().await;
    let primary = tablet(&ts, &etcd, primary_uid, KEYSPACE, &primary_db, free_port()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        status(&primary_db).await.is_none(),
        "the primary replicates from nobody"
    );
    assert_eq!(
        primary.tablet.state.snapshot().tablet_type,
        TabletType::Primary
    );

    late.shutdown().await;
    replica.shutdown().await;
    primary.shutdown().await;
    drop((replica_db, late_db));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reparent_to_the_current_primary_repoints_replicas() {
    let root = temp_root("reprs");
    let cluster = Elected::start(root.path(), 521).await;
    assert!(
        holds(&cluster.replica_db, &[1, 2, 3]).await,
        "the elected replica replicates"
    );

    // Replication cleared by hand: later writes do not arrive.
    {
        let mut conn = cluster.replica_db.conn(DB).await;
        replication::reset_replication(&mut conn).await.unwrap();
    }
    cluster.write("insert into t values (4, 'd')").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ids(&cluster.replica_db).await.as_deref(),
        Some(&[1, 2, 3][..])
    );

    let out = vtctl_ok(
        &cluster.etcd,
        &[
            "PlannedReparentShard",
            "--new-primary",
            &cluster.primary_alias(),
            "ks/0",
        ],
    )
    .await;
    assert!(out.contains("1 replica(s) pointed at it"), "{out}");
    assert!(
        holds(&cluster.replica_db, &[1, 2, 3, 4]).await,
        "the replica catches up: {:?}",
        ids(&cluster.replica_db).await
    );
    let repaired = status(&cluster.replica_db).await.expect("replicating");
    assert!(repaired.is_running(), "{repaired:?}");
    assert_eq!(repaired.source_port, cluster.primary_db.port());

    // Again, with the replica already replicating: nothing breaks.
    vtctl_ok(
        &cluster.etcd,
        &[
            "PlannedReparentShard",
            "--new-primary",
            &cluster.primary_alias(),
            "ks/0",
        ],
    )
    .await;
    cluster.write("insert into t values (5, 'e')").await;
    assert!(holds(&cluster.replica_db, &[1, 2, 3, 4, 5]).await);
    cluster.shutdown().await;
}
