//! A real two-keyspace cluster for the sharded tests: etcd, `commerce` (unsharded, shard
//! `0`, holding the sequence tables) and `customer` (sharded by `hash`, `-80,80-` or any
//! other shard list), one primary `vttablet` per shard on the shared MariaDB (databases unique to the run), and
//! `vtgate`; all on loopback ports, killed (and the databases dropped) on drop.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use proto::topodata::Keyspace;
use topo::testutil::EtcdProcess;
use topo::TopoServer;

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::{
    drop_database, free_port, http_get, mariadb, opts, run_cli, server_error, start_vtgate,
    start_vtgate_with, DropDatabase as DropOnExit, Proc,
};

/// The sharded keyspace's VSchema.
pub const CUSTOMER_VSCHEMA: &str = r#"{
  "sharded": true,
  "vindexes": {
    "hash": {"type": "hash"},
    "xxhash": {"type": "xxhash"},
    "loose": {"type": "unicode_loose_md5"}
  },
  "tables": {
    "customer": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
    },
    "corder": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
      "auto_increment": {"column": "order_id", "sequence": "commerce.order_seq"}
    },
    "product": {"type": "reference"},
    "tally": {"column_vindexes": [{"column": "id", "name": "xxhash"}]},
    "word": {"column_vindexes": [{"column": "w", "name": "loose"}]}
  }
}"#;

/// The unsharded keyspace's VSchema (sequences).
pub const COMMERCE_VSCHEMA: &str = r#"{
  "tables": {
    "customer_seq": {"type": "sequence"},
    "order_seq": {"type": "sequence"},
    "warehouse": {}
  }
}"#;

/// Tables of the sharded keyspace (created through vtgate on both shards).
pub const CUSTOMER_TABLES: &[&str] = &[
    "create table customer (customer_id bigint not null, email varchar(64) collate \
     utf8mb4_general_ci, name varchar(32) collate utf8mb4_general_ci, score int, \
     balance decimal(12,2), big bigint, region char(2), primary key (customer_id))",
    "create table corder (order_id bigint not null, customer_id bigint, sku varchar(16), \
     price bigint, qty int, note varchar(20), primary key (order_id))",
    "create table product (sku varchar(16) not null, description varchar(64), price int, \
     primary key (sku))",
    "create table tally (id bigint not null, n int, primary key (id))",
    "create table word (id bigint not null, w varchar(10), primary key (id))",
];

/// The unsharded keyspace's own table, for cross-keyspace joins.
pub const WAREHOUSE_TABLE: &str =
    "create table warehouse (sku varchar(16) not null, stock int, city varchar(16), \
     primary key (sku))";

/// Sequence tables of the unsharded keyspace.
pub const COMMERCE_TABLES: &[&str] = &[
    "create table customer_seq (id int, next_id bigint, cache bigint, primary key (id)) \
     comment 'vitess_sequence'",
    "insert into customer_seq (id, next_id, cache) values (0, 100000, 100)",
    "create table order_seq (id int, next_id bigint, cache bigint, primary key (id)) \
     comment 'vitess_sequence'",
    "insert into order_seq (id, next_id, cache) values (0, 100000, 100)",
];

/// Two shards.
pub const TWO_SHARDS: &[&str] = &["-80", "80-"];

/// Four shards.
pub const FOUR_SHARDS: &[&str] = &["-40", "40-80", "80-c0", "c0-"];

/// etcd + three vttablets + vtgate.
pub struct ShardedCluster {
    pub etcd: EtcdProcess,
    pub topo: TopoServer,
    pub tablets: Vec<Proc>,
    pub vtgate: Proc,
    pub vtgate_port: u16,
    /// vtgate's HTTP port.
    pub http_port: u16,
    /// Tablet databases: (keyspace, shard, database).
    pub dbs: Vec<(String, String, String)>,
    pub dir: tempfile::TempDir,
}

fn binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_vtgate")).with_file_name(name);
    assert!(
        path.exists(),
        "{} missing: build it first with `cargo build -p {name}`",
        path.display()
    );
    path
}

fn proto_vschema(json: &str) -> proto::vschema::Keyspace {
    proto::vschema::Keyspace::from(vschema::model::Keyspace::from_json(json).expect("vschema"))
}

impl ShardedCluster {
    /// Starts everything with `customer` split into `shards`; `prefix` makes the databases
    /// unique.
    pub async fn start(prefix: &str, shards: &[&str]) -> ShardedCluster {
        Self::start_with(prefix, shards, &[], &[]).await
    }

    /// [`ShardedCluster::start`] with extra flags for vtgate and for every tablet.
    pub async fn start_with(
        prefix: &str,
        shards: &[&str],
        vtgate_flags: &[&str],
        tablet_flags: &[&str],
    ) -> ShardedCluster {
        let pid = std::process::id();
        let tablets: Vec<(&str, &str, u32)> = std::iter::once(("commerce", "0", 100))
            .chain(
                shards
                    .iter()
                    .zip(2u32..)
                    .map(|(shard, n)| ("customer", *shard, n * 100)),
            )
            .collect();
        let dbs: Vec<(String, String, String)> = tablets
            .iter()
            .map(|(ks, shard, uid)| {
                (
                    ks.to_string(),
                    shard.to_string(),
                    format!("{prefix}_{pid}_{uid}"),
                )
            })
            .collect();
        for (_, _, db) in &dbs {
            drop_database(db);
        }
        let etcd = EtcdProcess::start().expect("etcd starts");
        let addr = etcd.address();
        let topo = TopoServer::connect_etcd(&addr, "/vitess/global")
            .await
            .expect("topo connects");
        topo.add_cell_info("zone1", &addr, "/vitess/zone1")
            .await
            .expect("cell info");
        for (ks, json) in [
            ("commerce", COMMERCE_VSCHEMA),
            ("customer", CUSTOMER_VSCHEMA),
        ] {
            topo.create_keyspace(ks, &Keyspace::default())
                .await
                .expect("keyspace");
            topo.save_vschema(ks, &proto_vschema(json))
                .await
                .expect("vschema");
        }
        for (ks, shard, _) in &tablets {
            topo.create_shard(ks, shard).await.expect("shard");
        }
        for ks in ["commerce", "customer"] {
            topo.rebuild_keyspace_graph(ks, &[])
                .await
                .expect("SrvKeyspace");
        }
        topo.rebuild_vschema_graph(&[]).await.expect("SrvVSchema");

        let dir = tempfile::tempdir().expect("tempdir");
        let tablets = tablets
            .iter()
            .zip(&dbs)
            .map(|((ks, shard, uid), (_, _, db))| {
                start_tablet(&addr, (ks, shard, *uid), db, &dir, tablet_flags)
            })
            .collect();
        let (vtgate, vtgate_port, http_port) =
            start_vtgate_with(&addr, &dir.path().join("vtgate.log"), vtgate_flags);
        let cluster = ShardedCluster {
            etcd,
            topo,
            tablets,
            vtgate: Proc(vtgate),
            vtgate_port,
            http_port,
            dbs,
            dir,
        };
        cluster.wait_serving().await;
        cluster.create_tables().await;
        cluster
    }

    /// Waits until every shard answers through vtgate.
    async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        for (ks, shard, _) in &self.dbs {
            let target = format!("{ks}/{shard}");
            loop {
                let last = match Conn::new(opts(self.vtgate_port, Some(&target))).await {
                    Ok(mut c) => match c.query_drop("select 1 from dual").await {
                        Ok(()) => break,
                        Err(e) => e.to_string(),
                    },
                    Err(e) => e.to_string(),
                };
                assert!(
                    Instant::now() < deadline,
                    "{target} not serving ({last}); vtgate log:\n{}\ntablet logs:\n{}",
                    self.log("vtgate.log"),
                    (1..=self.dbs.len())
                        .map(|n| self.log(&format!("vttablet-{}.log", n * 100)))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    async fn create_tables(&self) {
        let mut c = self.conn(Some("customer")).await;
        for sql in CUSTOMER_TABLES {
            c.query_drop(*sql).await.expect("customer DDL");
        }
        let mut c = self.conn(Some("commerce")).await;
        for sql in COMMERCE_TABLES.iter().chain([&WAREHOUSE_TABLE]) {
            c.query_drop(*sql).await.expect("commerce DDL");
        }
    }

    /// Replaces both keyspaces' VSchemas and rebuilds the SrvVSchema (vtgate picks it up
    /// through its watch).
    pub async fn set_vschemas(&self, customer: &str, commerce: &str) {
        for (ks, json) in [("commerce", commerce), ("customer", customer)] {
            self.topo
                .save_vschema(ks, &proto_vschema(json))
                .await
                .expect("vschema");
        }
        self.topo
            .rebuild_vschema_graph(&[])
            .await
            .expect("SrvVSchema");
    }

    /// A log file of the cluster's directory.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// A connection through vtgate.
    pub async fn conn(&self, db: Option<&str>) -> Conn {
        Conn::new(opts(self.vtgate_port, db))
            .await
            .expect("connects to vtgate")
    }

    /// The databases of the sharded keyspace's shards.
    pub fn shard_dbs(&self) -> Vec<String> {
        self.dbs
            .iter()
            .filter(|(ks, _, _)| ks == "customer")
            .map(|(_, _, db)| db.clone())
            .collect()
    }
}

impl Drop for ShardedCluster {
    fn drop(&mut self) {
        self.tablets.clear();
        for (_, _, db) in &self.dbs {
            drop_database(db);
        }
    }
}

fn start_tablet(
    topo_addr: &str,
    (keyspace, shard, uid): (&str, &str, u32),
    db: &str,
    dir: &tempfile::TempDir,
    flags: &[&str],
) -> Proc {
    let log =
        std::fs::File::create(dir.path().join(format!("vttablet-{uid}.log"))).expect("log file");
    common::spawn_tablet_with(topo_addr, (keyspace, shard, uid), db, log, flags)
}

/// A fresh plain MariaDB database `<prefix>_<pid>_plain` holding the sharded keyspace's tables
/// and the unsharded one's `warehouse`, for answers to compare with: its name, the guard that
/// drops it, and a connection to it.
pub async fn plain_database(prefix: &str) -> (String, DropOnExit, Conn) {
    let name = format!("{prefix}_{}_plain", std::process::id());
    let guard = DropOnExit(name.clone());
    let mut admin = mariadb().await;
    admin
        .query_drop(format!("drop database if exists {name}"))
        .await
        .unwrap();
    admin
        .query_drop(format!("create database {name}"))
        .await
        .unwrap();
    let mut conn = Conn::new(opts(3306, Some(&name))).await.unwrap();
    for sql in CUSTOMER_TABLES.iter().chain([&WAREHOUSE_TABLE]) {
        conn.query_drop(*sql).await.unwrap();
    }
    (name, guard, conn)
}

/// Rows as text (`None`: NULL), as the text protocol sends them.
pub fn text_rows(rows: Vec<mysql_async::Row>) -> Vec<Vec<Option<String>>> {
    rows.into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql_async::Value::NULL => None,
                    mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    other => Some(other.as_sql(true)),
                })
                .collect()
        })
        .collect()
}
