//! Local `mariadbd` instances for tablets, as Vitess's mysqlctl manages them:
//! the data directory and `my.cnf` under `$VTDATAROOT/vt_<uid>/` ([`config`]),
//! the process life cycle ([`Mysqld`]), GTID replication on any connection
//! ([`replication`]) and MariaDB GTID positions ([`position`]).

pub mod config;
pub mod error;
pub mod mysqld;
pub mod position;
pub(crate) mod process;
pub mod replication;
pub(crate) mod sql;

pub use config::{MysqldConfig, MysqldPaths};
pub use error::{Error, Result};
pub use mysqld::{Mysqld, REPLICATION_USER, SIDECAR_DB};
pub use position::{Gtid, Position, PositionParseError};
pub use replication::{ReplicationSource, ReplicationStatus};
