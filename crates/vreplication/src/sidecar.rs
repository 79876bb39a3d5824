//! The `_vt` sidecar tables a stream keeps its state in, with Vitess's
//! columns: `_vt.vreplication` (one row per stream) and `_vt.copy_state`
//! (one row per table still being copied, with the last copied primary key).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysqlctl::Position;
use proto::binlogdata::BinlogSource;

use crate::error::{Error, Result};
use crate::source_text;

const CREATE_VREPLICATION: &str = "CREATE TABLE IF NOT EXISTS _vt.vreplication (
  `id` int NOT NULL AUTO_INCREMENT,
  `workflow` varbinary(1000) DEFAULT NULL,
  `source` mediumblob NOT NULL,
  `pos` longblob NOT NULL,
  `stop_pos` longblob DEFAULT NULL,
  `max_tps` bigint NOT NULL,
  `max_replication_lag` bigint NOT NULL,
  `cell` varbinary(1000) DEFAULT NULL,
  `tablet_types` varbinary(100) DEFAULT NULL,
  `time_updated` bigint NOT NULL,
  `transaction_timestamp` bigint NOT NULL,
  `state` varbinary(100) NOT NULL,
  `message` varbinary(1000) DEFAULT NULL,
  `db_name` varbinary(255) NOT NULL,
  `rows_copied` bigint NOT NULL DEFAULT '0',
  `tags` varbinary(1024) NOT NULL DEFAULT '',
  `time_heartbeat` bigint NOT NULL DEFAULT '0',
  `workflow_type` int NOT NULL DEFAULT '0',
  `time_throttled` bigint NOT NULL DEFAULT '0',
  `component_throttled` varchar(255) NOT NULL DEFAULT '',
  `reason_throttled` varchar(1000) NOT NULL DEFAULT '',
  `workflow_sub_type` int NOT NULL DEFAULT '0',
  `defer_secondary_keys` tinyint(1) NOT NULL DEFAULT '0',
  `options` json NOT NULL,
  PRIMARY KEY (`id`),
  KEY `workflow_idx` (`workflow`(64))
) ENGINE = InnoDB CHARSET = utf8mb4";

const CREATE_COPY_STATE: &str = "CREATE TABLE IF NOT EXISTS _vt.copy_state (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `vrepl_id` int NOT NULL,
  `table_name` varbinary(128) NOT NULL,
  `lastpk` mediumblob DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `vrepl_id` (`vrepl_id`,`table_name`)
) ENGINE = InnoDB CHARSET = utf8mb4";

/// Stream states, as Vitess spells them in `_vt.vreplication.state`.
pub mod state {
    /// Created, nothing copied yet.
    pub const INIT: &str = "Init";
    /// Copying tables.
    pub const COPYING: &str = "Copying";
    /// Replicating the binlog.
    pub const RUNNING: &str = "Running";
    /// Stopped by request.
    pub const STOPPED: &str = "Stopped";
    /// Failing; the message says why.
    pub const ERROR: &str = "Error";
}

/// Creates `_vt`, `_vt.vreplication` and `_vt.copy_state` when missing.
pub async fn create_tables(conn: &mut Conn) -> Result<()> {
    conn.query_drop("CREATE DATABASE IF NOT EXISTS _vt").await?;
    conn.query_drop(CREATE_VREPLICATION).await?;
    conn.query_drop(CREATE_COPY_STATE).await?;
    Ok(())
}

/// One `_vt.vreplication` row.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRow {
    /// Stream id.
    pub id: u32,
    /// Workflow name.
    pub workflow: String,
    /// What to replicate.
    pub source: BinlogSource,
    /// Source position applied so far (empty before the copy starts).
    pub pos: Position,
    /// `Init`, `Copying`, `Running`, `Stopped` or `Error`.
    pub state: String,
    /// Target database.
    pub db_name: String,
    /// Last message (errors).
    pub message: String,
    /// Rows copied so far.
    pub rows_copied: u64,
    /// Where the stream stops replicating (Vitess's `stop_pos`), when set.
    pub stop_pos: Option<Position>,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Inserts a new stream in state `Init` and returns its id.
pub async fn create_stream(
    conn: &mut Conn,
    workflow: &str,
    source: &BinlogSource,
    db_name: &str,
    workflow_type: i32,
) -> Result<u32> {
    create_tables(conn).await?;
    conn.exec_drop(
        "INSERT INTO _vt.vreplication (workflow, source, pos, max_tps, max_replication_lag, \
         time_updated, transaction_timestamp, state, db_name, workflow_type, options) \
         VALUES (?, ?, '', 9223372036854775807, 9223372036854775807, ?, 0, ?, ?, ?, '{}')",
        (
            workflow,
            source_text::encode(source),
            now(),
            state::INIT,
            db_name,
            workflow_type,
        ),
    )
    .await?;
    let id = conn.last_insert_id().unwrap_or(0);
    u32::try_from(id).map_err(|_| Error::NoSuchStream(0))
}

/// Ids of every stream whose target database is `db_name`, in id order
/// (what a tablet starts when it comes up).
pub async fn stream_ids(conn: &mut Conn, db_name: &str) -> Result<Vec<u32>> {
    create_tables(conn).await?;
    Ok(conn
        .exec(
            "SELECT id FROM _vt.vreplication WHERE db_name = ? ORDER BY id",
            (db_name,),
        )
        .await?)
}

/// Reads stream `id`.
pub async fn read_stream(conn: &mut Conn, id: u32) -> Result<StreamRow> {
    type Raw = (
        String,
        Vec<u8>,
        String,
        String,
        String,
        Option<String>,
        u64,
        Option<String>,
    );
    let row: Option<Raw> = conn
        .exec_first(
            "SELECT workflow, source, pos, state, db_name, message, rows_copied, stop_pos \
             FROM _vt.vreplication WHERE id = ?",
            (id,),
        )
        .await?;
    let Some((workflow, source, pos, state, db_name, message, rows_copied, stop_pos)) = row else {
        return Err(Error::NoSuchStream(id));
    };
    let stop_pos = match stop_pos.as_deref() {
        None | Some("") => None,
        Some(text) => Some(text.parse()?),
    };
    Ok(StreamRow {
        id,
        workflow,
        source: source_text::decode(&String::from_utf8_lossy(&source))?,
        pos: pos.parse()?,
        state,
        db_name,
        message: message.unwrap_or_default(),
        rows_copied,
        stop_pos,
    })
}

/// Sets the state and message of stream `id`.
pub async fn set_state(conn: &mut Conn, id: u32, state: &str, message: &str) -> Result<()> {
    conn.exec_drop(
        "UPDATE _vt.vreplication SET state = ?, message = ?, time_updated = ? WHERE id = ?",
        (state, truncate(message, 1000), now(), id),
    )
    .await?;
    Ok(())
}

/// Records the applied position (inside the caller's transaction).
pub async fn update_pos(conn: &mut Conn, id: u32, pos: &Position, tx_timestamp: u32) -> Result<()> {
    conn.exec_drop(
        "UPDATE _vt.vreplication SET pos = ?, time_updated = ?, transaction_timestamp = ?, message = '' WHERE id = ?",
        (pos.to_string(), now(), tx_timestamp, id),
    )
    .await?;
    Ok(())
}

/// Waits until stream `id` has applied everything up to `pos` (Vitess's
/// `waitForCatchup` before a write switch), polling every 50 ms.
pub async fn wait_for_pos(
    conn: &mut Conn,
    id: u32,
    pos: &Position,
    timeout: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let row = read_stream(conn, id).await?;
        if row.pos.at_least(pos) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::CatchupTimeout {
                id,
                want: pos.to_string(),
                have: row.pos.to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
