//! MariaDB GTID replication as a tablet drives it, on any `mysql_async`
//! connection: read positions, point a server at a source, stop, reset, report
//! status, toggle `read_only`, and wait for a position.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::error::{Error, Result};
use crate::position::Position;
use crate::sql::quote_string;

/// Where a replica reads from and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationSource {
    /// Host of the source server.
    pub host: String,
    /// MySQL port of the source server.
    pub port: u16,
    /// User with `REPLICATION SLAVE` on the source.
    pub user: String,
    /// Its password (empty for none).
    pub password: String,
}

/// What `SHOW SLAVE STATUS` says about a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationStatus {
    /// GTIDs applied from the source (`@@gtid_slave_pos`).
    pub position: Position,
    /// The IO thread is connected (`Slave_IO_Running = Yes`).
    pub io_running: bool,
    /// The SQL thread is applying (`Slave_SQL_Running = Yes`).
    pub sql_running: bool,
    /// Source host.
    pub source_host: String,
    /// Source port.
    pub source_port: u16,
    /// `Seconds_Behind_Master`, unknown while a thread is stopped.
    pub lag_seconds: Option<u32>,
    /// `Last_IO_Error`.
    pub last_io_error: String,
    /// `Last_SQL_Error`.
    pub last_sql_error: String,
}

impl ReplicationStatus {
    /// Both replication threads are running.
    pub fn is_running(&self) -> bool {
        self.io_running && self.sql_running
    }
}

/// The position of everything this server has written to its binary log (`@@gtid_binlog_pos`).
pub async fn primary_position(conn: &mut Conn) -> Result<Position> {
    let text = select_string(conn, "SELECT @@GLOBAL.gtid_binlog_pos").await?;
    Ok(Position::parse_gtid_list(&text)?)
}

/// The position of everything applied on this server, written locally or
/// replicated (`@@gtid_current_pos`).
pub async fn current_position(conn: &mut Conn) -> Result<Position> {
    let text = select_string(conn, "SELECT @@GLOBAL.gtid_current_pos").await?;
    Ok(Position::parse_gtid_list(&text)?)
}

/// Makes this server replicate from `source` with GTIDs (`MASTER_USE_GTID=slave_pos`)
/// and starts replication.
pub async fn set_replication_source(conn: &mut Conn, source: &ReplicationSource) -> Result<()> {
    let change = format!(
        "CHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {}, MASTER_USER = {}, \
         MASTER_PASSWORD = {}, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
        quote_string(&source.host),
        source.port,
        quote_string(&source.user),
        quote_string(&source.password),
    );
    conn.query_drop("STOP SLAVE").await?;
    conn.query_drop(change).await?;
    conn.query_drop("START SLAVE").await?;
    Ok(())
}

/// Stops replication and makes `gtid_slave_pos` equal `gtid_current_pos`, so that
/// [`set_replication_source`] (`MASTER_USE_GTID = slave_pos`) asks the new source only for
/// what this server has neither replicated nor written itself.
///
/// A server that was a primary has its own writes in `gtid_binlog_pos` only: its
/// `gtid_slave_pos` stopped where it was promoted (or is empty). Asked from there, the new
/// source sends those writes back. MariaDB skips events carrying its own `server_id` by
/// default, so today that only costs the transfer, but nothing guarantees it (a changed
/// `server_id`, `replicate_same_server_id`) and a write applied twice stops replication on a
/// duplicate key. Vitess's MariaDB flavor avoids it with `MASTER_USE_GTID = current_pos` on
/// every `CHANGE MASTER`; the tablet adopts the current position only where a server
/// replicated from nobody (a former primary, or a fresh server), so a replica's stray local
/// writes, if any, never enter the position it asks for.
pub async fn adopt_current_position(conn: &mut Conn) -> Result<()> {
    conn.query_drop("STOP SLAVE").await?;
    conn.query_drop("SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos")
        .await?;
    Ok(())
}

/// Starts the replication threads with the configured source.
pub async fn start_replication(conn: &mut Conn) -> Result<()> {
    conn.query_drop("START SLAVE").await?;
    Ok(())
}

/// Stops both replication threads (keeps the source configuration).
pub async fn stop_replication(conn: &mut Conn) -> Result<()> {
    conn.query_drop("STOP SLAVE").await?;
    Ok(())
}

/// Stops replication and forgets the source (`RESET SLAVE ALL`), as a new primary does.
pub async fn reset_replication(conn: &mut Conn) -> Result<()> {
    conn.query_drop("STOP SLAVE").await?;
    conn.query_drop("RESET SLAVE ALL").await?;
    Ok(())
}

/// The replication status, or `None` when this server has no source configured.
pub async fn replication_status(conn: &mut Conn) -> Result<Option<ReplicationStatus>> {
    let row: Option<Row> = conn.query_first("SHOW SLAVE STATUS").await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let text = |name: &str| -> String {
        row.get_opt::<Option<String>, _>(name)
            .and_then(|v| v.ok())
            .flatten()
            .unwrap_or_default()
    };
    let status = ReplicationStatus {
        position: Position::default(),
        io_running: text("Slave_IO_Running") == "Yes",
        sql_running: text("Slave_SQL_Running") == "Yes",
        source_host: text("Master_Host"),
        source_port: text("Master_Port").parse().unwrap_or(0),
        lag_seconds: text("Seconds_Behind_Master").parse().ok(),
        last_io_error: text("Last_IO_Error"),
        last_sql_error: text("Last_SQL_Error"),
    };
    let applied = select_string(conn, "SELECT @@GLOBAL.gtid_slave_pos").await?;
    Ok(Some(ReplicationStatus {
        position: Position::parse_gtid_list(&applied)?,
        ..status
    }))
}

/// Sets the global `read_only` flag (users with SUPER, such as the tablet's own, still write).
pub async fn set_read_only(conn: &mut Conn, read_only: bool) -> Result<()> {
    let value = if read_only { "ON" } else { "OFF" };
    conn.query_drop(format!("SET GLOBAL read_only = {value}"))
        .await?;
    Ok(())
}

/// The global `read_only` flag.
pub async fn is_read_only(conn: &mut Conn) -> Result<bool> {
    let value: Option<i64> = conn.query_first("SELECT @@GLOBAL.read_only").await?;
    Ok(value == Some(1))
}

/// Waits until this server has applied `position` (written locally or
/// replicated), at most `timeout`.
pub async fn wait_for_position(
    conn: &mut Conn,
    position: &Position,
    timeout: Duration,
) -> Result<()> {
    if current_position(conn).await?.at_least(position) {
        return Ok(());
    }
    let waited: Option<i64> = conn
        .exec_first(
            "SELECT MASTER_GTID_WAIT(?, ?)",
            (position.gtid_list(), timeout.as_secs_f64()),
        )
        .await?;
    match waited {
        Some(0) => Ok(()),
        _ => Err(Error::WaitTimeout {
            position: position.to_string(),
            timeout,
        }),
    }
}

async fn select_string(conn: &mut Conn, query: &str) -> Result<String> {
    let value: Option<Option<String>> = conn.query_first(query).await?;
    Ok(value.flatten().unwrap_or_default())
}
