//! Shared harness of the integration tests: starts the server in-process with the
//! pass-through backend on a free port, and creates a unique database on MariaDB per test.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod backend;
pub mod echo;
pub mod raw;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use mysql_server::{serve, AuthServer, ServerConfig, StaticAuth};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A table with every common column type, values at their limits, and NULLs.
pub const SETUP: &str = r#"
CREATE TABLE t (
  id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, d DECIMAL(20,6), f FLOAT, db DOUBLE,
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6), y YEAR,
  vc VARCHAR(50) CHARACTER SET utf8mb4, ch CHAR(5), vb VARBINARY(20), bl BLOB, tx TEXT,
  j JSON, bt BIT(10), e ENUM('a','b'), st SET('x','y'));
INSERT INTO t VALUES
 (1, -128, 255, -32768, 16777215, -2147483648, 4294967295, -9223372036854775808,
  18446744073709551615, -12345678901234.123456, 1.5, -2.25e100, '2024-02-29',
  '2024-02-29 23:59:58.000120', '1999-12-31 01:02:03.500', '-838:59:59.000000', 2024,
  'emoji 😀 ünï', 'abc', X'00FF80', X'DEADBEEF00', 'text', '{"a": [1, 2]}', b'1010101010',
  'b', 'x,y'),
 (2, 127, 0, 32767, 0, 2147483647, 0, 9223372036854775807, 0, 0.000001, -0.0, 0,
  '0000-00-00', '0000-00-00 00:00:00', NULL, '12:00:00.5', 1901, '', '', '', '', '', 'null',
  b'0', 'a', ''),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"#;

/// The MariaDB every test compares with.
pub const BACKEND_PORT: u16 = 3306;

/// Test certificate and key.
pub fn cert_paths() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    (dir.join("server-cert.pem"), dir.join("server-key.pem"))
}

/// A static auth file with a native-hash-only user, a clear-password user and two entries.
pub const STATIC_USERS: &str = r#"{
  "native_user": [{"MysqlNativePassword": "*9E128DA0C64A6FCCCDCFBDD0FC0A2C967C6DB36F", "UserData": "n"}],
  "clear_user": [{"Password": "clear_pw", "UserData": "c"}],
  "two_pw": [{"Password": "one", "UserData": "a"}, {"Password": "two", "UserData": "b"}],
  "root": [{"Password": "", "UserData": "root"}]
}"#;

/// Config with static users and TLS.
pub fn static_tls_config() -> ServerConfig {
    let (cert, key) = cert_paths();
    ServerConfig {
        auth: Arc::new(AuthServer::Static(
            StaticAuth::from_json(STATIC_USERS).unwrap(),
        )),
        tls: Some(mysql_server::load_server_config(&cert, &key).unwrap()),
        ..ServerConfig::default()
    }
}

/// A running in-process server.
pub struct Proxy {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts a server with `config` in front of the test MariaDB.
    pub async fn start(config: ServerConfig) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let factory = backend::PassthroughFactory::new("127.0.0.1", BACKEND_PORT);
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            serve(listener, config, factory, shutdown).await.unwrap();
        });
        Proxy {
            addr,
            stop: Some(tx),
            task,
        }
    }

    /// Connection options for the proxy.
    pub fn opts(&self, user: &str, password: Option<&str>, db: Option<&str>) -> Opts {
        OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.addr.port())
            .user(Some(user))
            .pass(password)
            .db_name(db)
            .prefer_socket(false)
            .into()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

/// Connection options for MariaDB directly.
pub fn direct_opts(db: Option<&str>) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(BACKEND_PORT)
        .user(Some("root"))
        .db_name(db)
        .prefer_socket(false)
        .into()
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A database of its own for one test; dropped by [`TestDb::drop_db`], or when the value is
/// dropped (also when the test panics).
pub struct TestDb {
    pub name: String,
    dropped: bool,
}

impl TestDb {
    /// Creates `msrv_test_<pid>_<n>` and runs `setup` in it.
    pub async fn create(setup: &str) -> TestDb {
        let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
        let name = format!("msrv_test_{}_{n}", std::process::id());
        let mut c = Conn::new(direct_opts(None)).await.unwrap();
        c.query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        c.query_drop(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        c.query_drop(format!("USE {name}")).await.unwrap();
        if !setup.is_empty() {
            c.query_drop(setup).await.unwrap();
        }
        c.disconnect().await.unwrap();
        TestDb {
            name,
            dropped: false,
        }
    }

    /// Drops the database.
    pub async fn drop_db(mut self) {
        let mut c = Conn::new(direct_opts(None)).await.unwrap();
        c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name))
            .await
            .unwrap();
        c.disconnect().await.unwrap();
        self.dropped = true;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Not inside the runtime here: use the CLI, best effort.
        let _ = std::process::Command::new("/usr/bin/mariadb")
            .args(["-h127.0.0.1", &format!("-P{BACKEND_PORT}"), "-uroot", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS {}", self.name))
            .output();
    }
}

/// Twin databases with the same content: one used directly, one through the proxy.
pub struct Twins {
    pub direct: TestDb,
    pub proxied: TestDb,
}

impl Twins {
    /// Creates both databases with `setup`.
    pub async fn create(setup: &str) -> Twins {
        Twins {
            direct: TestDb::create(setup).await,
            proxied: TestDb::create(setup).await,
        }
    }

    /// (direct, proxied) connections, each in its database.
    pub async fn connect(&self, proxy: &Proxy) -> (Conn, Conn) {
        let direct = Conn::new(direct_opts(Some(&self.direct.name)))
            .await
            .unwrap();
        let proxied = Conn::new(proxy.opts("root", None, Some(&self.proxied.name)))
            .await
            .unwrap();
        (direct, proxied)
    }

    /// Drops both databases.
    pub async fn drop_dbs(self) {
        self.direct.drop_db().await;
        self.proxied.drop_db().await;
    }
}
