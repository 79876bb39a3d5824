//! A MariaDB binlog reader positioned by GTID.
//!
//! The connection announces `@mariadb_slave_capability=4` and sets
//! `@slave_connect_state` to the start position, so the server streams every
//! event group after it. Events are checked against their CRC32, MariaDB's
//! own events are parsed in [`mariadb`], row images are decoded with
//! `mysql_common` (its decoders work on MariaDB's row events) and fixed up in
//! [`table`]. The reader hands out whole [`Transaction`]s.

pub mod mariadb;
pub mod rows;
pub mod table;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mysql_async::binlog::events::{Event, EventData, RowsEventData};
use mysql_async::binlog::BinlogChecksumAlg;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Opts, Value};
use mysqlctl::{Gtid, Position};

use crate::error::{Error, Result};
use mariadb::GtidEvent;
pub use table::TableShape;

const QUERY_EVENT: u8 = 2;

/// How often an idle source sends a heartbeat event.
const HEARTBEAT_PERIOD: Duration = Duration::from_secs(1);
/// Silence after which the connection is considered dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(10);

/// What a row event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// WRITE_ROWS: `after` only.
    Insert,
    /// UPDATE_ROWS: `before` and `after`.
    Update,
    /// DELETE_ROWS: `before` only.
    Delete,
}

/// One changed row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    /// Table and column names.
    pub table: Arc<TableShape>,
    /// Insert, update or delete.
    pub kind: RowKind,
    /// Full image before the change (update, delete).
    pub before: Option<Vec<Value>>,
    /// Full image after the change (insert, update).
    pub after: Option<Vec<Value>>,
}

/// A statement logged as text: DDL, or DML on tables logged by statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// Default database of the statement.
    pub database: String,
    /// The statement.
    pub statement: String,
}

/// One event inside a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxEvent {
    /// A row change.
    Row(RowChange),
    /// A statement.
    Ddl(Ddl),
}

/// A committed event group of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Its GTID.
    pub gtid: Gtid,
    /// The source position once this transaction is applied.
    pub position_after: Position,
    /// Commit time on the source (seconds since the epoch).
    pub timestamp: u32,
    /// Its changes, in binlog order.
    pub events: Vec<TxEvent>,
}

/// A transaction being assembled.
struct Pending {
    gtid: Gtid,
    standalone: bool,
    timestamp: u32,
    events: Vec<TxEvent>,
}

/// Streams transactions from a MariaDB source, starting after a GTID position.
pub struct BinlogReader {
    stream: BinlogStream,
    position: Position,
    tables: HashMap<u64, Arc<TableShape>>,
    pending: Option<Pending>,
}

impl BinlogReader {
    /// Connects to the source and asks for every event group after `from`
    /// (the empty position means from the oldest binlog). `server_id` must
    /// differ from every other replica of the source.
    pub async fn start(opts: Opts, from: &Position, server_id: u32) -> Result<Self> {
        let mut conn = Conn::new(opts).await?;
        conn.query_drop("SET @mariadb_slave_capability=4").await?;
        conn.query_drop(format!("SET @slave_connect_state='{}'", from.gtid_list()))
            .await?;
        conn.query_drop("SET @slave_gtid_strict_mode=1").await?;
        // An idle source sends a heartbeat every second, so a dead
        // connection shows up as silence.
        conn.query_drop(format!(
            "SET @master_heartbeat_period={}",
            HEARTBEAT_PERIOD.as_nanos()
        ))
        .await?;
        let request = BinlogStreamRequest::new(server_id);
        let stream = conn.get_binlog_stream(request).await?;
        Ok(BinlogReader {
            stream,
            position: from.clone(),
            tables: HashMap::new(),
            pending: None,
        })
    }

    /// The position after the last transaction returned.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Waits for and returns the next complete transaction.
    pub async fn next_transaction(&mut self) -> Result<Transaction> {
        loop {
            let event = match tokio::time::timeout(SILENCE_LIMIT, self.stream.next()).await {
                Ok(Some(event)) => event?,
                Ok(None) => return Err(Error::StreamEnded),
                Err(_) => return Err(Error::Silent(SILENCE_LIMIT)),
            };
            if let Some(tx) = self.handle(event)? {
                return Ok(tx);
            }
        }
    }

    /// Closes the connection.
    pub async fn close(self) -> Result<()> {
        self.stream.close().await?;
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<Option<Transaction>> {
        let header = event.header();
        let event_type = header.event_type_raw();
        verify_checksum(&event)?;
        match event_type {
            mariadb::GTID_EVENT => {
                let gtid = GtidEvent::parse(header.server_id(), event.data())?;
                self.pending = Some(Pending {
                    gtid: gtid.gtid,
                    standalone: gtid.standalone,
                    timestamp: header.timestamp(),
                    events: Vec::new(),
                });
                return Ok(None);
            }
            mariadb::ANNOTATE_ROWS_EVENT
            | mariadb::BINLOG_CHECKPOINT_EVENT
            | mariadb::GTID_LIST_EVENT => return Ok(None),
            mariadb::START_ENCRYPTION_EVENT => {
                return Err(Error::Unsupported("encrypted binlog".into()))
            }
            t if (mariadb::FIRST_COMPRESSED_EVENT..=mariadb::LAST_COMPRESSED_EVENT)
                .contains(&t) =>
            {
                return Err(Error::Unsupported(format!(
                    "compressed binlog event {t} (log_bin_compress)"
                )))
            }
            _ => {}
        }
        let data = match event.read_data() {
            Ok(Some(data)) => data,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::decode(event_type, e)),
        };
        match data {
            EventData::TableMapEvent(tme) => {
                let shape = TableShape::from_table_map(&tme)?;
                self.tables.insert(tme.table_id(), Arc::new(shape));
                Ok(None)
            }
            EventData::RowsEvent(rows) => {
                self.rows(event_type, &rows)?;
                Ok(None)
            }
            EventData::XidEvent(_) => Ok(self.finish()),
            EventData::QueryEvent(q) => {
                let statement = q.query();
                let trimmed = statement.trim();
                if trimmed.eq_ignore_ascii_case("BEGIN") {
                    return Ok(None);
                }
                if trimmed.eq_ignore_ascii_case("COMMIT")
                    || trimmed.eq_ignore_ascii_case("ROLLBACK")
                {
                    return Ok(self.finish());
                }
                let ddl = Ddl {
                    database: q.schema().into_owned(),
                    statement: statement.into_owned(),
                };
                let Some(pending) = self.pending.as_mut() else {
                    return Err(Error::decode(
                        QUERY_EVENT,
                        "statement outside an event group",
                    ));
                };
                pending.events.push(TxEvent::Ddl(ddl));
                if pending.standalone {
                    return Ok(self.finish());
                }
                Ok(None)
            }
            EventData::RotateEvent(re) => {
                if !re.name().is_empty() && !is_fake_rotate(&event) {
                    // A real rotation ends the table id space of the old file.
                    self.tables.clear();
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    fn rows(&mut self, event_type: u8, rows: &RowsEventData<'_>) -> Result<()> {
        let Some(tme) = self.stream.get_tme(rows.table_id()) else {
            return Err(Error::decode(event_type, "rows event before its table map"));
        };
        let Some(shape) = self.tables.get(&rows.table_id()).cloned() else {
            return Err(Error::decode(event_type, "rows event before its table map"));
        };
        let kind = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => {
                RowKind::Insert
            }
            RowsEventData::UpdateRowsEventV1(_) | RowsEventData::UpdateRowsEvent(_) => {
                RowKind::Update
            }
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                RowKind::Delete
            }
            RowsEventData::PartialUpdateRowsEvent(_) => {
                return Err(Error::Unsupported("partial JSON update rows event".into()))
            }
        };
        let Some(pending) = self.pending.as_mut() else {
            return Err(Error::decode(
                event_type,
                "rows event outside an event group",
            ));
        };
        for (before, after) in rows::decode_rows(event_type, kind, rows, tme, &shape)? {
            let before = before
                .map(|r| shape.row_values(event_type, r))
                .transpose()?;
            let after = after.map(|r| shape.row_values(event_type, r)).transpose()?;
            pending.events.push(TxEvent::Row(RowChange {
                table: shape.clone(),
                kind,
                before,
                after,
            }));
        }
        Ok(())
    }

    fn finish(&mut self) -> Option<Transaction> {
        let pending = self.pending.take()?;
        self.position.advance(pending.gtid);
        Some(Transaction {
            gtid: pending.gtid,
            position_after: self.position.clone(),
            timestamp: pending.timestamp,
            events: pending.events,
        })
    }
}

/// The rotate event a server sends first on a new dump connection has timestamp 0.
fn is_fake_rotate(event: &Event) -> bool {
    event.header().timestamp() == 0
}

fn verify_checksum(event: &Event) -> Result<()> {
    let footer = event.fde().footer();
    let crc = matches!(
        footer.get_checksum_alg(),
        Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
    );
    if !crc || !footer.get_checksum_enabled() {
        return Ok(());
    }
    if let Some(stored) = event.checksum() {
        let computed = event.calc_checksum(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32);
        if u32::from_le_bytes(stored) != computed {
            return Err(Error::Checksum {
                event_type: event.header().event_type_raw(),
                log_pos: event.header().log_pos(),
            });
        }
    }
    Ok(())
}
