//! A real cluster for the integration tests: etcd (topo testutil), one `vttablet` process
//! (primary of `commerce/0`) on the shared MariaDB with a unique database, and the `vtgate`
//! binary, all on loopback ports; processes are killed when the cluster drops.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use proto::topodata::Keyspace;
use proto::vschema::{Keyspace as VSchemaKeyspace, Table};
use topo::testutil::EtcdProcess;
use topo::TopoServer;

/// The shared MariaDB.
pub const MYSQL_PORT: u16 = 3306;

pub use topo::testutil::free_port;

/// The workspace's `config/` directory.
pub fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// etcd + vttablet + vtgate.
pub struct Cluster {
    pub etcd: EtcdProcess,
    pub topo: TopoServer,
    pub tablet: Option<Proc>,
    pub vtgate: Proc,
    pub vtgate_port: u16,
    pub http_port: u16,
    /// The tablet's database on MariaDB.
    pub db: String,
    pub dir: tempfile::TempDir,
}

fn binary(name: &str) -> PathBuf {
    let vtgate = PathBuf::from(env!("CARGO_BIN_EXE_vtgate"));
    let path = vtgate.with_file_name(name);
    assert!(
        path.exists(),
        "{} missing: build it first with `cargo build -p {name}`",
        path.display()
    );
    path
}

/// Starts vtgate on free ports and waits until it listens. A port found free can be taken
/// before vtgate binds it (a tablet binding port 0 gets the same one): then vtgate exits and
/// is started again on other ports, instead of the test talking MySQL to someone else's port.
pub fn start_vtgate(topo_addr: &str, log_path: &std::path::Path) -> (Child, u16, u16) {
    start_vtgate_with(topo_addr, log_path, &[])
}

/// [`start_vtgate`] with `extra` flags.
pub fn start_vtgate_with(
    topo_addr: &str,
    log_path: &std::path::Path,
    extra: &[&str],
) -> (Child, u16, u16) {
    for _ in 0..5 {
        let (mysql_port, http_port) = (free_port(), free_port());
        let log = std::fs::File::create(log_path).expect("log file");
        let mut child = spawn_vtgate_with(topo_addr, mysql_port, http_port, log, extra);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if child.try_wait().expect("vtgate status").is_some() {
                break;
            }
            if std::net::TcpStream::connect(("127.0.0.1", mysql_port)).is_ok() {
                std::thread::sleep(Duration::from_millis(100));
                if child.try_wait().expect("vtgate status").is_none() {
                    return (child, mysql_port, http_port);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!(
        "vtgate did not start; its log:\n{}",
        std::fs::read_to_string(log_path).unwrap_or_default()
    );
}

/// Starts the vtgate binary (MySQL on `mysql_port`, HTTP on `http_port`) against the topology at
/// `topo_addr`, cell zone1, no auth, with its log in `log`.
pub fn spawn_vtgate(topo_addr: &str, mysql_port: u16, http_port: u16, log: std::fs::File) -> Child {
    spawn_vtgate_with(topo_addr, mysql_port, http_port, log, &[])
}

/// [`spawn_vtgate`] with `extra` flags.
pub fn spawn_vtgate_with(
    topo_addr: &str,
    mysql_port: u16,
    http_port: u16,
    log: std::fs::File,
    extra: &[&str],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vtgate"))
        .args([
            "--mysql-server-port",
            &mysql_port.to_string(),
            "--mysql-server-bind-address",
            "127.0.0.1",
            "--port",
            &http_port.to_string(),
            "--cell",
            "zone1",
            "--cells-to-watch",
            "zone1",
            "--tablet-types-to-wait",
            "PRIMARY",
            "--topo-implementation",
            "etcd2",
            "--topo-global-server-address",
            topo_addr,
            "--topo-global-root",
            "/vitess/global",
            "--mysql-auth-server-impl",
            "none",
            "--tablet-refresh-interval",
            "500ms",
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("vtgate starts")
}

/// A plain MariaDB connection (no database).
pub async fn mariadb() -> Conn {
    Conn::new(opts(MYSQL_PORT, None))
        .await
        .expect("MariaDB at 3306")
}

/// Options for a connection; `prefer_socket` is off so a loopback client never switches to
/// the MariaDB socket behind vtgate.
pub fn opts(port: u16, db: Option<&str>) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"))
        .db_name(db)
        .prefer_socket(false)
        .into()
}

impl Cluster {
    /// Starts everything; `db_prefix` makes the tablet's database name unique.
    pub async fn start(db_prefix: &str) -> Cluster {
        let db = format!("{db_prefix}_{}", std::process::id());
        let mut admin = mariadb().await;
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS {db}"))
            .await
            .expect("drop old db");
        drop(admin);

        let etcd = EtcdProcess::start().expect("etcd starts");
        let addr = etcd.address();
        let topo = TopoServer::connect_etcd(&addr, "/vitess/global")
            .await
            .expect("topo connects");
        topo.add_cell_info("zone1", &addr, "/vitess/zone1")
            .await
            .expect("cell info");
        topo.create_keyspace("commerce", &Keyspace::default())
            .await
            .expect("keyspace");
        topo.create_shard("commerce", "0").await.expect("shard");
        let mut vschema = VSchemaKeyspace::default();
        for t in ["product", "customer", "corder"] {
            vschema.tables.insert(t.to_string(), Table::default());
        }
        topo.save_vschema("commerce", &vschema)
            .await
            .expect("vschema");
        topo.rebuild_keyspace_graph("commerce", &[])
            .await
            .expect("SrvKeyspace");
        topo.rebuild_vschema_graph(&[]).await.expect("SrvVSchema");

        let dir = tempfile::tempdir().expect("tempdir");
        let tablet = Some(start_tablet(&addr, &db, &dir));
        let (vtgate, vtgate_port, http_port) = start_vtgate(&addr, &dir.path().join("vtgate.log"));
        let cluster = Cluster {
            etcd,
            topo,
            tablet,
            vtgate: Proc(vtgate),
            vtgate_port,
            http_port,
            db,
            dir,
        };
        cluster.wait_serving().await;
        cluster
    }

    /// Waits until a query through vtgate reaches the tablet.
    pub async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let last = match Conn::new(opts(self.vtgate_port, None)).await {
                Ok(mut c) => match c.query_drop("select 1 from dual").await {
                    Ok(()) => return,
                    Err(e) => e.to_string(),
                },
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "vtgate not serving ({last}); vtgate log:\n{}\nvttablet log:\n{}",
                self.vtgate_log(),
                std::fs::read_to_string(self.dir.path().join("vttablet.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Kills the tablet process.
    pub fn kill_tablet(&mut self) {
        self.tablet.take();
    }

    /// Starts the tablet again with the same flags.
    pub fn restart_tablet(&mut self) {
        self.tablet = Some(start_tablet(&self.etcd.address(), &self.db, &self.dir));
    }

    /// vtgate's log so far.
    pub fn vtgate_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vtgate.log")).unwrap_or_default()
    }

    /// A connection through vtgate.
    pub async fn conn(&self, db: Option<&str>) -> Conn {
        Conn::new(opts(self.vtgate_port, db))
            .await
            .expect("connects to vtgate")
    }

    /// Runs the `mariadb` CLI against vtgate with `stdin` as input.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        run_cli(self.vtgate_port, args, stdin)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.tablet.take();
        drop_database(&self.db);
    }
}

/// Best effort: removes a database from the shared MariaDB. With `KEEP_DB` set it is kept,
/// to replay a failed statement against a test's data (drop it by hand afterwards).
pub fn drop_database(db: &str) {
    if std::env::var_os("KEEP_DB").is_some() {
        return;
    }
    let _ = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-P3306", "-uroot", "-e"])
        .arg(format!("DROP DATABASE IF EXISTS {db}"))
        .output();
}

/// Drops a database of the shared MariaDB when it goes out of scope (also on panic).
pub struct DropDatabase(pub String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        drop_database(&self.0);
    }
}

fn start_tablet(topo_addr: &str, db: &str, dir: &tempfile::TempDir) -> Proc {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("vttablet.log"))
        .expect("log file");
    spawn_tablet(topo_addr, "commerce", "0", 100, db, log)
}

/// Starts a primary vttablet (uid `uid`) for `keyspace/shard` over database `db` of the shared
/// MariaDB, on ports of its own choosing, with its log in `log`.
pub fn spawn_tablet(
    topo_addr: &str,
    keyspace: &str,
    shard: &str,
    uid: u32,
    db: &str,
    log: std::fs::File,
) -> Proc {
    spawn_tablet_with(topo_addr, (keyspace, shard, uid), db, log, &[])
}

/// [`spawn_tablet`] with `extra` flags.
pub fn spawn_tablet_with(
    topo_addr: &str,
    (keyspace, shard, uid): (&str, &str, u32),
    db: &str,
    log: std::fs::File,
    extra: &[&str],
) -> Proc {
    let child = Command::new(binary("vttablet"))
        .args([
            "--tablet-path",
            &format!("zone1-{uid:010}"),
            "--init-keyspace",
            keyspace,
            // `--flag=value`: a shard name such as `-80` would read as a flag on its own.
            &format!("--init-shard={shard}"),
            "--init-tablet-type",
            "primary",
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--bind-address",
            "127.0.0.1",
            "--tablet-hostname",
            "127.0.0.1",
            "--topo-global-server-address",
            topo_addr,
            "--db-port",
            &MYSQL_PORT.to_string(),
            "--init-db-name-override",
            db,
            "--health-check-interval",
            "1s",
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("vttablet starts");
    Proc(child)
}

/// Runs the `mariadb` CLI on `port`.
pub fn run_cli(port: u16, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-uroot"])
        .arg(format!("-P{port}"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mariadb CLI runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("CLI finishes")
}

/// The error code, SQLSTATE and message of a server error.
pub fn server_error(e: mysql_async::Error) -> (u16, String, String) {
    match e {
        mysql_async::Error::Server(s) => (s.code, s.state, s.message),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// The body and headers vtgate's HTTP port answers for `GET path`.
pub async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
