//! Real `mariadbd` instances in a temporary data root: initialization,
//! GTID replication between two servers, and restarts that keep data.

use std::path::Path;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysqlctl::replication::{self, ReplicationSource};
use mysqlctl::{Mysqld, MysqldConfig, REPLICATION_USER};

use topo::testutil::free_port;

/// Kills the server of a test that panicked before shutting it down.
struct KillOnDrop(Mysqld);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0.paths().pid_file) {
            if self.0.is_running() {
                let _ = std::process::Command::new("kill")
                    .arg("-9")
                    .arg(pid.trim())
                    .status();
            }
        }
    }
}

fn instance(root: &Path, uid: u32) -> KillOnDrop {
    let mut config = MysqldConfig::new(uid, free_port(), root);
    config.buffer_pool_mib = 16;
    KillOnDrop(Mysqld::new(config).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_between_two_servers_and_restart_keeps_data() {
    let root = tempfile::Builder::new()
        .prefix("myctl")
        .tempdir_in("/tmp")
        .unwrap();
    let primary = instance(root.path(), 101);
    let replica = instance(root.path(), 102);
    let (a, b) = tokio::join!(primary.0.init(), replica.0.init());
    a.unwrap();
    b.unwrap();
    assert!(primary.0.is_running() && replica.0.is_running());

    // root works over TCP on 127.0.0.1 without a password.
    let mut p = mysql_async::Conn::new(primary.0.tcp_opts()).await.unwrap();
    let mut r = replica.0.connect().await.unwrap();
    assert!(replication::replication_status(&mut r)
        .await
        .unwrap()
        .is_none());

    replication::set_read_only(&mut r, true).await.unwrap();
    assert!(replication::is_read_only(&mut r).await.unwrap());
    replication::reset_replication(&mut p).await.unwrap();
    replication::set_read_only(&mut p, false).await.unwrap();
    let source = ReplicationSource {
        host: "127.0.0.1".into(),
        port: primary.0.config().port,
        user: REPLICATION_USER.into(),
        password: String::new(),
    };
    replication::set_replication_source(&mut r, &source)
        .await
        .unwrap();

    p.query_drop("CREATE DATABASE vt_test").await.unwrap();
    p.query_drop("CREATE TABLE vt_test.t (id INT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    p.query_drop("INSERT INTO vt_test.t VALUES (1, 'one'), (2, 'two')")
        .await
        .unwrap();
    let position = replication::primary_position(&mut p).await.unwrap();
    assert!(!position.is_empty());
    assert_eq!(position.gtids().next().unwrap().server_id, 101);

    replication::wait_for_position(&mut r, &position, Duration::from_secs(30))
        .await
        .unwrap();
    let names: Vec<String> = r
        .query("SELECT name FROM vt_test.t ORDER BY id")
        .await
        .unwrap();
    assert_eq!(names, ["one", "two"]);
    let status = replication::replication_status(&mut r)
        .await
        .unwrap()
        .unwrap();
    assert!(status.is_running(), "{status:?}");
    assert_eq!(status.source_port, primary.0.config().port);
    assert!(status.position.at_least(&position));
    assert!(replication::current_position(&mut r)
        .await
        .unwrap()
        .at_least(&position));

    // A position the primary never reached times out.
    let mut ahead = position.clone();
    let gtid = *ahead.gtids().next().unwrap();
    ahead.advance(mysqlctl::Gtid {
        sequence: gtid.sequence + 100,
        ..gtid
    });
    assert!(!replication::current_position(&mut r)
        .await
        .unwrap()
        .at_least(&ahead));
    assert!(
        replication::wait_for_position(&mut r, &ahead, Duration::from_millis(300))
            .await
            .is_err()
    );

    replication::stop_replication(&mut r).await.unwrap();
    let stopped = replication::replication_status(&mut r)
        .await
        .unwrap()
        .unwrap();
    assert!(!stopped.io_running && !stopped.sql_running);
    drop(r);
    drop(p);

    // Restart: data survives, a second init does not wipe anything.
    replica.0.shutdown().await.unwrap();
    assert!(!replica.0.is_running());
    replica.0.init().await.unwrap();
    let mut r = replica.0.connect().await.unwrap();
    let count: Option<i64> = r
        .query_first("SELECT COUNT(*) FROM vt_test.t")
        .await
        .unwrap();
    assert_eq!(count, Some(2));
    drop(r);

    primary.0.teardown().await.unwrap();
    replica.0.teardown().await.unwrap();
    assert!(!primary.0.paths().tablet_dir.exists());
}

#[tokio::test]
async fn start_failure_quotes_the_log() {
    let root = tempfile::Builder::new()
        .prefix("myctl")
        .tempdir_in("/tmp")
        .unwrap();
    let good = instance(root.path(), 7);
    good.0.init().await.unwrap();
    good.0.shutdown().await.unwrap();
    let mut config = good.0.config().clone();
    config
        .extra_settings
        .push(("no_such_option_anywhere".into(), "1".into()));
    let bad = KillOnDrop(Mysqld::new(config).unwrap());
    let err = bad.0.start().await.unwrap_err();
    assert!(
        matches!(err, mysqlctl::Error::StartFailed { uid: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no_such_option_anywhere"), "{err}");
    assert!(!bad.0.is_running());
}

#[test]
fn binary_init_shutdown_teardown() {
    let root = tempfile::Builder::new()
        .prefix("myctl")
        .tempdir_in("/tmp")
        .unwrap();
    let port = free_port().to_string();
    let run = |action: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mysqlctl"))
            .args(["--tablet-uid", "9", "--mysql-port", &port, action])
            .env("VTDATAROOT", root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mysqld =
        KillOnDrop(Mysqld::new(MysqldConfig::new(9, port.parse().unwrap(), root.path())).unwrap());
    run("init");
    // The server outlives the mysqlctl process that started it.
    assert!(mysqld.0.is_running());
    assert!(std::net::TcpStream::connect(("127.0.0.1", mysqld.0.config().port)).is_ok());
    run("shutdown");
    assert!(!mysqld.0.is_running());
    run("start");
    assert!(mysqld.0.is_running());
    run("teardown");
    assert!(!mysqld.0.is_running());
    assert!(!mysqld.0.paths().tablet_dir.exists());
}
