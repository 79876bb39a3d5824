//! vttablet's command-line flags, named as Vitess names them, and the
//! settings derived from them.

use std::time::Duration;

use clap::Parser;
use proto::topodata::{TabletAlias, TabletType};

/// Serves one MariaDB as a Vitess tablet.
#[derive(Debug, Clone, Parser)]
#[command(name = "vttablet", version)]
pub struct Flags {
    /// The tablet alias, `<cell>-<uid>` (for example `zone1-0000000100`).
    #[arg(long = "tablet-path")]
    pub tablet_path: String,
    /// Keyspace of the tablet.
    #[arg(long = "init-keyspace")]
    pub init_keyspace: String,
    /// Shard of the tablet.
    #[arg(long = "init-shard")]
    pub init_shard: String,
    /// Initial tablet type: replica, rdonly or primary.
    #[arg(long = "init-tablet-type", default_value = "replica")]
    pub init_tablet_type: String,
    /// HTTP status port (`/debug/health`); 0 picks a free port.
    #[arg(long = "port", default_value_t = 0)]
    pub port: u16,
    /// gRPC port of the query and tablet manager services; 0 picks a free port.
    #[arg(long = "grpc-port", default_value_t = 0)]
    pub grpc_port: u16,
    /// Address the HTTP and gRPC servers listen on.
    #[arg(long = "bind-address", default_value = "0.0.0.0")]
    pub bind_address: String,
    /// Host name written to the Tablet record (what vtgate dials).
    #[arg(long = "tablet-hostname", default_value = "127.0.0.1")]
    pub tablet_hostname: String,
    /// Topology implementation; only `etcd2` is supported.
    #[arg(long = "topo-implementation", default_value = "etcd2")]
    pub topo_implementation: String,
    /// etcd address(es) of the global topology, comma-separated.
    #[arg(long = "topo-global-server-address", default_value = "127.0.0.1:2379")]
    pub topo_global_server_address: String,
    /// Root of the global topology in etcd.
    #[arg(long = "topo-global-root", default_value = "/vitess/global")]
    pub topo_global_root: String,
    /// MariaDB host.
    #[arg(long = "db-host", default_value = "127.0.0.1")]
    pub db_host: String,
    /// MariaDB port.
    #[arg(long = "db-port", alias = "mysql-port")]
    pub db_port: Option<u16>,
    /// MariaDB unix socket (preferred over host and port when set).
    #[arg(long = "db-socket")]
    pub db_socket: Option<String>,
    /// MariaDB user of the tablet.
    #[arg(long = "db-user", default_value = "root")]
    pub db_user: String,
    /// Its password.
    #[arg(long = "db-password", default_value = "", env = "VT_DB_PASSWORD")]
    pub db_password: String,
    /// User replicas of this shard connect to this tablet's MariaDB as.
    #[arg(long = "db-repl-user", default_value = mysqlctl::REPLICATION_USER)]
    pub db_repl_user: String,
    /// Its password.
    #[arg(long = "db-repl-password", default_value = "")]
    pub db_repl_password: String,
    /// Database name on MariaDB (default `vt_<keyspace>`).
    #[arg(long = "init-db-name-override")]
    pub init_db_name_override: Option<String>,
    /// How often StreamHealth sends the state even when nothing changed.
    #[arg(long = "health-check-interval", default_value = "20s", value_parser = parse_duration)]
    pub health_check_interval: Duration,
    /// Connections in the query pool.
    #[arg(long = "queryserver-config-pool-size", default_value_t = 16)]
    pub pool_size: usize,
    /// Most rows an Execute may return (Vitess's default); larger results fail with
    /// `Row count exceeded N` (errno 10001). StreamExecute has no limit. 0: no limit.
    #[arg(long = "queryserver-config-max-result-size", default_value_t = 10000)]
    pub max_result_size: u64,
    /// Longest wait for a query-pool connection; 0 means Vitess's overall query timeout (30s).
    #[arg(long = "queryserver-config-query-pool-timeout", default_value = "0s", value_parser = parse_duration)]
    pub query_pool_timeout: Duration,
    /// Transactions open at once (each holds a transaction-pool connection).
    #[arg(long = "queryserver-config-transaction-cap", default_value_t = 20)]
    pub transaction_cap: usize,
    /// Open transactions older than this are rolled back; 0 never.
    #[arg(long = "queryserver-config-transaction-timeout", default_value = "30s", value_parser = parse_duration)]
    pub transaction_timeout: Duration,
    /// Longest wait of a Begin for a transaction-pool connection; 0 waits as long as the caller does.
    #[arg(long = "queryserver-config-txpool-timeout", default_value = "1s", value_parser = parse_duration)]
    pub txpool_timeout: Duration,
    /// Accepted for compatibility with Vitess's scripts; all services are always on.
    #[arg(long = "service-map", default_value = "")]
    pub service_map: String,
}

/// Why the flags cannot describe a tablet.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid --tablet-path {0:?}: expected <cell>-<uid>")]
    TabletPath(String),
    #[error("invalid --init-tablet-type {0:?}: expected replica, rdonly or primary")]
    TabletType(String),
    #[error("--topo-implementation {0:?} is not supported (only etcd2)")]
    TopoImplementation(String),
    #[error("--init-keyspace and --init-shard are required")]
    MissingTarget,
}

/// The tablet settings derived from [`Flags`].
#[derive(Debug, Clone)]
pub struct TabletConfig {
    pub alias: TabletAlias,
    pub keyspace: String,
    pub shard: String,
    pub tablet_type: TabletType,
    pub db_name: String,
    /// Whether `db_name` was given explicitly (then it goes into the Tablet record).
    pub db_name_override: bool,
    pub flags: Flags,
}

impl TabletConfig {
    /// Validates the flags.
    pub fn from_flags(flags: Flags) -> Result<Self, ConfigError> {
        let alias: TabletAlias = flags
            .tablet_path
            .parse()
            .map_err(|_| ConfigError::TabletPath(flags.tablet_path.clone()))?;
        let tablet_type: TabletType = flags
            .init_tablet_type
            .parse()
            .map_err(|_| ConfigError::TabletType(flags.init_tablet_type.clone()))?;
        if !matches!(
            tablet_type,
            TabletType::Primary | TabletType::Replica | TabletType::Rdonly
        ) {
            return Err(ConfigError::TabletType(flags.init_tablet_type.clone()));
        }
        if flags.topo_implementation != "etcd2" {
            return Err(ConfigError::TopoImplementation(
                flags.topo_implementation.clone(),
            ));
        }
        if flags.init_keyspace.is_empty() || flags.init_shard.is_empty() {
            return Err(ConfigError::MissingTarget);
        }
        let db_name_override = flags.init_db_name_override.is_some();
        let db_name = flags
            .init_db_name_override
            .clone()
            .unwrap_or_else(|| mysqlctl::config::db_name_for_keyspace(&flags.init_keyspace));
        Ok(TabletConfig {
            alias,
            keyspace: flags.init_keyspace.clone(),
            shard: flags.init_shard.to_ascii_lowercase(),
            tablet_type,
            db_name,
            db_name_override,
            flags,
        })
    }

    /// The MariaDB port: `--db-port`, else Vitess's `17000 + uid`, else 3306.
    pub fn db_port(&self) -> u16 {
        self.flags
            .db_port
            .or_else(|| mysqlctl::config::default_port(self.alias.uid))
            .unwrap_or(3306)
    }
}

pub use proto::duration::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        let mut all = vec!["vttablet"];
        all.extend_from_slice(args);
        Flags::try_parse_from(all).unwrap()
    }

    #[test]
    fn vitess_flags_parse() {
        let config = TabletConfig::from_flags(flags(&[
            "--tablet-path",
            "zone1-0000000100",
            "--init-keyspace",
            "commerce",
            "--init-shard",
            "0",
            "--init-tablet-type",
            "rdonly",
            "--mysql-port",
            "17100",
            "--health-check-interval",
            "5s",
        ]))
        .unwrap();
        assert_eq!(config.alias.cell, "zone1");
        assert_eq!(config.alias.uid, 100);
        assert_eq!(config.tablet_type, TabletType::Rdonly);
        assert_eq!(config.db_name, "vt_commerce");
        assert!(!config.db_name_override);
        assert_eq!(config.db_port(), 17100);
        assert_eq!(config.flags.health_check_interval, Duration::from_secs(5));
        assert_eq!(config.flags.transaction_cap, 20);
        assert_eq!(config.flags.transaction_timeout, Duration::from_secs(30));
        assert_eq!(config.flags.txpool_timeout, Duration::from_secs(1));
        assert!(config.flags.query_pool_timeout.is_zero());
    }

    #[test]
    fn bad_flags_are_rejected() {
        let base = ["--init-keyspace", "ks", "--init-shard", "0"];
        let mut args = vec!["--tablet-path", "nonsense"];
        args.extend_from_slice(&base);
        assert!(TabletConfig::from_flags(flags(&args)).is_err());
        let mut args = vec!["--tablet-path", "zone1-1", "--init-tablet-type", "spare"];
        args.extend_from_slice(&base);
        assert!(TabletConfig::from_flags(flags(&args)).is_err());
    }
}
