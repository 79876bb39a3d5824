//! VReplication for vtgate-rs: read a MariaDB binlog positioned by GTID,
//! copy tables from a consistent snapshot, apply row changes on a target,
//! and run resumable streams whose state lives in `_vt.vreplication` and
//! `_vt.copy_state`, as Vitess's vttablet does.

pub mod apply;
pub mod binlog;
pub mod copy;
pub mod error;
pub mod filter;
pub mod sidecar;
pub mod source_text;
mod sql;
pub mod stream;

pub use binlog::{BinlogReader, Ddl, RowChange, RowKind, Transaction, TxEvent};
pub use error::{Error, Result};
pub use mysqlctl::{Gtid, Position};
pub use stream::{StreamStatus, VReplicationStream};
