//! PlannedReparentShard away from a live primary, with real etcd, mariadbd (mysqlctl),
//! in-process tablets and the `vtctl` binary: a shard with a primary, a replica and an
//! rdonly tablet.
//!
//! * PRS to the replica: it takes writes; the old primary replicates them (it does not ask for
//!   its own writes again: no duplicate-key stop); the rdonly follows the new primary.
//! * PRS back to the original primary works the same way.
//! * PRS to a tablet that is not in the shard, or whose replication is broken, fails with a
//!   clear error and the primary keeps taking writes.
//! * PRS to a replica that cannot catch up after the demotion (a transaction committed during
//!   the demotion's grace, replication delayed) undoes the demotion: the commit is kept and
//!   the primary takes writes again.

mod common;

use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use mysqlctl::replication;
use proto::query::{BeginRequest, BoundQuery, CommitRequest, ExecuteRequest, Target};
use proto::topodata::{TabletAlias, TabletType};
use topo::testutil::EtcdProcess;
use topo::TopoServer;
use vttablet::RunningTablet;

const KEYSPACE: &str = "ks";
const DB: &str = "vt_ks";

/// One tablet and its MariaDB.
struct Member {
    db: Server,
    tablet: RunningTablet,
}

impl Member {
    fn alias(&self) -> String {
        self.tablet.tablet.alias.to_string()
    }

    /// Runs `sql` through this tablet's query service with target PRIMARY.
    async fn write(&self, sql: &str) -> Result<(), tonic::Status> {
        let mut client = query_client(&self.tablet).await;
        execute(&mut client, KEYSPACE, sql).await.map(|_| ())
    }

    /// The ids in `t`, or None while the table is missing.
    async fn ids(&self) -> Option<Vec<i64>> {
        let mut conn = self.db.conn(DB).await;
        conn.query("select id from t order by id").await.ok()
    }

    /// Waits up to 30 s for `t` to hold exactly `expected`.
    async fn holds(&self, expected: &[i64]) -> bool {
        eventually(30, || async {
            self.ids().await.as_deref() == Some(expected)
        })
        .await
    }

    async fn status(&self) -> Option<replication::ReplicationStatus> {
        let mut conn = mysql_async::Conn::new(self.db.0.tcp_opts()).await.unwrap();
        replication::replication_status(&mut conn).await.unwrap()
    }

    /// Starts a new binary log and purges the older ones, as expiry does on a server that runs
    /// for a while: whoever replicates from this server can only ask for what is after it.
    async fn purge_binlogs(&self) {
        let mut conn = self.db.conn(DB).await;
        conn.query_drop("FLUSH BINARY LOGS").await.unwrap();
        let status: mysql_async::Row = conn
            .query_first("SHOW MASTER STATUS")
            .await
            .unwrap()
            .expect("binary log on");
        let file: String = status.get("File").expect("File column");
        conn.query_drop(format!("PURGE BINARY LOGS TO '{file}'"))
            .await
            .unwrap();
    }

    /// Replication runs, from `source`'s MariaDB, with no error.
    async fn replicates_from(&self, source: &Member) {
        let status = self.status().await.expect("replication configured");
        assert!(
            status.is_running()
                && status.last_sql_error.is_empty()
                && status.last_io_error.is_empty(),
            "{}: {status:?}",
            self.alias()
        );
        assert_eq!(status.source_port, source.db.port(), "{}", self.alias());
    }
}

struct Cluster {
    etcd: EtcdProcess,
    ts: TopoServer,
    members: Vec<Member>,
}

impl Cluster {
    /// Primary `uid`, replica `uid + 1`, rdonly `uid + 2`; table `t` with rows 1..=3.
    async fn start(root: &std::path::Path, uid: u32) -> Cluster {
        let etcd = EtcdProcess::start().expect("etcd");
        let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
            .await
            .unwrap();
        let (a, b, c) = tokio::join!(
            Server::start(root, uid),
            Server::start(root, uid + 1),
            Server::start(root, uid + 2)
        );
        let mut members = Vec::new();
        for (offset, db, tablet_type) in [(0, a, "replica"), (1, b, "replica"), (2, c, "rdonly")] {
            let tablet = typed_tablet(
                &ts,
                &etcd,
                uid + offset,
                KEYSPACE,
                "0",
                &db,
                free_port(),
                tablet_type,
            )
            .await;
            members.push(Member { db, tablet });
        }
        let primary = members[0].alias();
        vtctl_ok(&etcd, &["InitShardPrimary", "--force", "ks/0", &primary]).await;
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
        members[0]
            .write("insert into t values (1, 'a'), (2, 'b'), (3, 'c')")
            .await
            .unwrap();
        Cluster { etcd, ts, members }
    }

    async fn prs(&self, new_primary: &str, extra: &[&str]) -> (bool, String, String) {
        let mut args = vec!["PlannedReparentShard", "--new-primary", new_primary];
        args.extend_from_slice(extra);
        args.push("ks/0");
        vtctl(&self.etcd, &args).await
    }

    async fn shard_primary(&self) -> Option<TabletAlias> {
        self.ts
            .get_shard(KEYSPACE, "0")
            .await
            .unwrap()
            .primary_alias
    }

    async fn tablet_type(&self, member: usize) -> TabletType {
        self.ts
            .get_tablet(&self.members[member].tablet.tablet.alias)
            .await
            .unwrap()
            .r#type()
    }

    async fn shutdown(self) {
        for member in self.members {
            member.tablet.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reparent_moves_the_primary_and_back() {
    let root = temp_root("prs");
    let cluster = Cluster::start(root.path(), 541).await;
    let [a, b, c] = &cluster.members[..] else {
        unreachable!()
    };
    assert!(b.holds(&[1, 2, 3]).await && c.holds(&[1, 2, 3]).await);

    // PRS to the replica, whose older binlogs are purged (as expiry does): the old primary must
    // still find where to start in what is left.
    b.purge_binlogs().await;
    let (ok, out, err) = cluster.prs(&b.alias(), &[]).await;
    assert!(ok, "PRS to the replica failed:\n{out}\n{err}");
    assert_eq!(
        cluster.shard_primary().await.map(|p| p.to_string()),
        Some(b.alias())
    );
    assert_eq!(cluster.tablet_type(0).await, TabletType::Replica);
    assert_eq!(cluster.tablet_type(1).await, TabletType::Primary);
    assert_eq!(cluster.tablet_type(2).await, TabletType::Rdonly);
    // (a) The new primary takes writes; the old one refuses them as a primary.
    b.write("insert into t values (4, 'd')")
        .await
        .expect("the new primary takes writes");
    let refused = a.write("insert into t values (40, 'x')").await.unwrap_err();
    assert!(
        refused.message().contains("wrong tablet type"),
        "{refused:?}"
    );
    // (b) The old primary replicates the new writes, without asking for its own again.
    assert!(
        a.holds(&[1, 2, 3, 4]).await,
        "old primary: {:?}",
        a.ids().await
    );
    a.replicates_from(b).await;
    // (c) The rdonly follows the new primary.
    assert!(c.holds(&[1, 2, 3, 4]).await, "rdonly: {:?}", c.ids().await);
    c.replicates_from(b).await;

    // (d) And back to the original primary, its binlogs purged likewise.
    a.purge_binlogs().await;
    let (ok, out, err) = cluster.prs(&a.alias(), &[]).await;
    assert!(ok, "PRS back failed:\n{out}\n{err}");
    assert_eq!(
        cluster.shard_primary().await.map(|p| p.to_string()),
        Some(a.alias())
    );
    assert_eq!(cluster.tablet_type(0).await, TabletType::Primary);
    assert_eq!(cluster.tablet_type(1).await, TabletType::Replica);
    a.write("insert into t values (5, 'e')").await.unwrap();
    assert!(
        b.holds(&[1, 2, 3, 4, 5]).await,
        "replica: {:?}",
        b.ids().await
    );
    assert!(
        c.holds(&[1, 2, 3, 4, 5]).await,
        "rdonly: {:?}",
        c.ids().await
    );
    b.replicates_from(a).await;
    c.replicates_from(a).await;

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reparent_refuses_unsafe_targets_and_keeps_the_primary() {
    let root = temp_root("prsno");
    let cluster = Cluster::start(root.path(), 551).await;
    let [a, _b, c] = &cluster.members[..] else {
        unreachable!()
    };
    assert!(c.holds(&[1, 2, 3]).await);

    // (e) A tablet that is not in the shard.
    let (ok, _, err) = cluster.prs("zone1-0000000999", &[]).await;
    assert!(!ok);
    assert!(err.contains("is not in shard ks/0"), "{err}");
    a.write("insert into t values (4, 'd')")
        .await
        .expect("the primary still takes writes");

    // (e) A tablet whose replication is broken: a local row collides with the primary's.
    c.db.conn(DB)
        .await
        .query_drop("set sql_log_bin = 0; insert into t values (100, 'local')")
        .await
        .unwrap();
    a.write("insert into t values (100, 'primary')")
        .await
        .unwrap();
    let broke = eventually(20, || async {
        c.status()
            .await
            .is_some_and(|s| !s.sql_running && s.last_sql_error.contains("Duplicate entry"))
    })
    .await;
    assert!(broke, "{:?}", c.status().await);
    let (ok, _, err) = cluster
        .prs(&c.alias(), &["--wait-replicas-timeout", "5s"])
        .await;
    assert!(!ok);
    assert!(
        err.contains("is broken") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        cluster.shard_primary().await.map(|p| p.to_string()),
        Some(a.alias())
    );
    assert_eq!(cluster.tablet_type(0).await, TabletType::Primary);
    a.write("insert into t values (5, 'e')")
        .await
        .expect("the primary still takes writes");

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reparent_undoes_the_demotion_when_the_elect_lags_behind() {
    let root = temp_root("prsundo");
    let cluster = Cluster::start(root.path(), 561).await;
    let [a, b, _c] = &cluster.members[..] else {
        unreachable!()
    };
    assert!(b.holds(&[1, 2, 3]).await);
    // The replica applies events 4s after they were written: it is caught up with everything
    // before the reparent starts, but not with a commit made during the demotion's grace.
    b.db.conn(DB)
        .await
        .query_drop("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 4; START SLAVE")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut client = query_client(&a.tablet).await;
    let target = Target {
        keyspace: KEYSPACE.into(),
        shard: "0".into(),
        tablet_type: TabletType::Primary as i32,
        cell: "zone1".into(),
    };
    let tx = client
        .begin(BeginRequest {
            target: Some(target.clone()),
            ..BeginRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transaction_id;
    client
        .execute(ExecuteRequest {
            target: Some(target.clone()),
            query: Some(BoundQuery {
                sql: "insert into t values (6, 'f')".into(),
                bind_variables: Default::default(),
            }),
            transaction_id: tx,
            ..ExecuteRequest::default()
        })
        .await
        .unwrap();

    let commit_when_demoted = async {
        let demoted = eventually(20, || async { a.tablet.tablet.state.snapshot().demoted }).await;
        assert!(demoted, "the primary was never demoted");
        client
            .commit(CommitRequest {
                target: Some(target.clone()),
                transaction_id: tx,
                ..CommitRequest::default()
            })
            .await
    };
    let elect = b.alias();
    let ((ok, _, err), committed) = tokio::join!(
        cluster.prs(&elect, &["--wait-replicas-timeout", "2s"]),
        commit_when_demoted
    );
    committed.expect("a transaction commits during the demotion's grace");
    assert!(!ok, "PRS to a lagging replica succeeded");
    assert!(
        err.contains("did not catch up") && err.contains("the demotion was undone"),
        "{err}"
    );
    assert_eq!(
        cluster.shard_primary().await.map(|p| p.to_string()),
        Some(a.alias())
    );
    assert_eq!(cluster.tablet_type(0).await, TabletType::Primary);
    assert_eq!(cluster.tablet_type(1).await, TabletType::Replica);
    a.write("insert into t values (7, 'g')")
        .await
        .expect("the primary takes writes again");
    assert_eq!(a.ids().await.as_deref(), Some(&[1, 2, 3, 6, 7][..]));
    assert!(
        b.holds(&[1, 2, 3, 6, 7]).await,
        "the replica still replicates: {:?}",
        b.ids().await
    );

    cluster.shutdown().await;
}
