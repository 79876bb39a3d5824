//! Shared test setup: real mariadbd instances in a temporary data root.

#![allow(dead_code)]

use std::path::Path;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use mysqlctl::{Mysqld, MysqldConfig, Position};

pub use topo::testutil::free_port;

/// Kills the server when the test ends (also on panic).
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
    /// Root over TCP, with `db` selected when given.
    pub fn opts(&self, db: Option<&str>) -> Opts {
        let builder: OptsBuilder = self.0.tcp_opts();
        builder.db_name(db).into()
    }

    /// A new root connection with `db` selected and UTC session time.
    pub async fn conn(&self, db: Option<&str>) -> Conn {
        let mut c = Conn::new(self.opts(db)).await.unwrap();
        c.query_drop("SET time_zone = '+00:00'").await.unwrap();
        c
    }

    /// The server's current `@@gtid_binlog_pos`.
    pub async fn position(&self) -> Position {
        let mut c = self.conn(None).await;
        let pos: String = c
            .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
            .await
            .unwrap()
            .unwrap();
        Position::parse_gtid_list(&pos).unwrap()
    }
}

/// Starts (initializing) one server with `uid` under `root`.
pub async fn server(root: &Path, uid: u32) -> Server {
    let mut config = MysqldConfig::new(uid, free_port(), root);
    config.buffer_pool_mib = 32;
    let server = Server(Mysqld::new(config).unwrap());
    server.0.init().await.unwrap();
    server
}

/// A temporary data root under /tmp (short paths keep the socket path legal).
pub fn temp_root(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
}

/// Source and target servers.
pub async fn pair(root: &Path) -> (Server, Server) {
    let (a, b) = tokio::join!(server(root, 301), server(root, 302));
    (a, b)
}
