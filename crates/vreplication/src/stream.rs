//! A VReplication stream: copy the filtered tables, then follow the source
//! binlog, with all state in the target's `_vt.vreplication` and
//! `_vt.copy_state`, so a stream started again resumes exactly.
//!
//! For each table still in `copy_state`: open a consistent snapshot on the
//! source, bring the target up to the snapshot's position by applying the
//! binlog (for every table of the stream), then copy the rows after
//! `lastpk` from the snapshot. When no table is left the stream applies the
//! binlog for ever (or stops, with `stop_after_copy`). A stream whose row is
//! `Stopped` does not run. Errors are recorded in the row and retried.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use mysqlctl::config::db_name_for_keyspace;
use mysqlctl::Position;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::apply::Applier;
use crate::binlog::BinlogReader;
use crate::copy::{start_snapshot, TableCopy};
use crate::error::{Error, Result};
use crate::filter::TableFilter;
use crate::sidecar::{self, state};

/// Rows per copy batch.
pub const DEFAULT_BATCH_ROWS: usize = 1000;
/// Message of a stream whose BinlogSource has `stop_after_copy`, as Vitess writes it.
pub const STOPPED_AFTER_COPY: &str = "Stopped after copy.";
/// Message of a stream that reached its `stop_pos`, as Vitess writes it.
pub const REACHED_STOP_POS: &str = "Reached stopping position, done playing logs";
/// Pause before retrying after an error.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// Most source transactions applied in one target transaction when a backlog is waiting.
const MAX_BATCH_TRANSACTIONS: usize = 200;

/// What a running stream reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStatus {
    /// `Init`, `Copying`, `Running`, `Stopped` or `Error`.
    pub state: String,
    /// Last applied source position.
    pub pos: String,
    /// Last error, empty when healthy.
    pub message: String,
}

/// A stream running in a background task.
pub struct VReplicationStream {
    id: u32,
    stop: watch::Sender<bool>,
    status: Arc<Mutex<StreamStatus>>,
    task: JoinHandle<()>,
}

impl VReplicationStream {
    /// Starts stream `id` of the target's `_vt.vreplication`; `source` and
    /// `target` are root connection options for the two servers (without a
    /// database: the source database is `vt_<keyspace>`, the target one is
    /// the row's `db_name`).
    pub async fn start(target: Opts, source: Opts, id: u32) -> Result<Self> {
        Self::start_with_batch_rows(target, source, id, DEFAULT_BATCH_ROWS).await
    }

    /// As [`VReplicationStream::start`], with `batch_rows` rows per copy transaction.
    pub async fn start_with_batch_rows(
        target: Opts,
        source: Opts,
        id: u32,
        batch_rows: usize,
    ) -> Result<Self> {
        let mut conn = connect(target.clone()).await?;
        let row = sidecar::read_stream(&mut conn, id).await?;
        let filter = TableFilter::from_source(&row.source)?;
        let (stop, stop_rx) = watch::channel(false);
        let status = Arc::new(Mutex::new(StreamStatus {
            state: row.state.clone(),
            pos: row.pos.to_string(),
            message: String::new(),
        }));
        let runner = Runner {
            id,
            source_opts: source,
            target_opts: target,
            source_db: db_name_for_keyspace(&row.source.keyspace),
            target_db: row.db_name.clone(),
            filter,
            batch_rows,
            stop: stop_rx,
            status: status.clone(),
        };
        let task = tokio::spawn(runner.run_until_stopped());
        Ok(VReplicationStream {
            id,
            stop,
            status,
            task,
        })
    }

    /// The stream id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A snapshot of the stream's state.
    pub fn status(&self) -> StreamStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the stream between two target transactions and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(id = self.id, error = %e, "stream task ended abnormally");
        }
    }
}

async fn connect(opts: Opts) -> Result<Conn> {
    let mut conn = Conn::new(OptsBuilder::from_opts(opts)).await?;
    conn.query_drop("SET time_zone = '+00:00'").await?;
    Ok(conn)
}

struct Runner {
    id: u32,
    source_opts: Opts,
    target_opts: Opts,
    source_db: String,
    target_db: String,
    filter: TableFilter,
    batch_rows: usize,
    stop: watch::Receiver<bool>,
    status: Arc<Mutex<StreamStatus>>,
}

impl Runner {
    async fn run_until_stopped(mut self) {
        loop {
            match self.run().await {
                Ok(()) | Err(Error::Stopped) => break,
                Err(e) => {
                    tracing::warn!(id = self.id, error = %e, "vreplication stream failed; retrying");
                    self.report(state::ERROR, None, &e.to_string());
                    if let Ok(mut conn) = connect(self.target_opts.clone()).await {
                        let _ =
                            sidecar::set_state(&mut conn, self.id, state::ERROR, &e.to_string())
                                .await;
                    }
                    let mut stop = self.stop.clone();
                    if *stop.borrow() {
                        break;
                    }
                    let _ = tokio::time::timeout(RETRY_DELAY, stop.changed()).await;
                    if *self.stop.borrow() {
                        break;
                    }
                }
            }
        }
        if let Ok(mut s) = self.status.lock() {
            // A stream that ended on its own keeps its reason.
            if s.state != state::STOPPED {
                s.state = state::STOPPED.to_owned();
                s.message.clear();
            }
        }
    }

    fn report(&self, state: &str, pos: Option<&Position>, message: &str) {
        if let Ok(mut s) = self.status.lock() {
            s.state = state.to_owned();
            if let Some(pos) = pos {
                s.pos = pos.to_string();
            }
            s.message = message.to_owned();
        }
    }

    fn stopped(&self) -> Result<()> {
        if *self.stop.borrow() {
            Err(Error::Stopped)
        } else {
            Ok(())
        }
    }

    async fn run(&mut self) -> Result<()> {
        let mut target = connect(self.target_opts.clone()).await?;
        let row = sidecar::read_stream(&mut target, self.id).await?;
        if row.state == state::STOPPED {
            self.report(state::STOPPED, Some(&row.pos), &row.message);
            return Ok(());
        }
        let mut applier = Applier::new(
            self.id,
            &self.source_db,
            &self.target_db,
            self.filter.clone(),
        );
        if row.state == state::INIT {
            target.query_drop("BEGIN").await?;
            for table in self.filter.source_tables() {
                target
                    .exec_drop(
                        "INSERT INTO _vt.copy_state (vrepl_id, table_name) VALUES (?, ?)",
                        (self.id, table),
                    )
                    .await?;
            }
            sidecar::set_state(&mut target, self.id, state::COPYING, "").await?;
            target.query_drop("COMMIT").await?;
        }
        let mut pos = row.pos;
        loop {
            self.stopped()?;
            let next: Option<(String, Option<String>)> = target
                .exec_first(
                    "SELECT table_name, lastpk FROM _vt.copy_state WHERE vrepl_id = ? ORDER BY id LIMIT 1",
                    (self.id,),
                )
                .await?;
            let Some((table, lastpk)) = next else { break };
            sidecar::set_state(&mut target, self.id, state::COPYING, "").await?;
            self.report(state::COPYING, Some(&pos), "");
            let mut source = connect(self.source_opts.clone()).await?;
            let snapshot = start_snapshot(&mut source).await?;
            if pos.is_empty() {
                pos = snapshot.clone();
                sidecar::update_pos(&mut target, self.id, &pos, 0).await?;
            } else if !pos.at_least(&snapshot) {
                pos = self
                    .catch_up(&mut target, &mut applier, &pos, Some(&snapshot))
                    .await?;
            }
            let rule = self
                .filter
                .rule(&table)
                .cloned()
                .ok_or_else(|| Error::Filter {
                    rule: table.clone(),
                    reason: "copy_state names a table the stream's filter does not".into(),
                })?;
            let copy = TableCopy {
                rule,
                id: self.id,
                source_db: self.source_db.clone(),
                target_db: self.target_db.clone(),
                table,
                batch_rows: self.batch_rows,
            };
            let progress = copy
                .run(&mut source, &mut target, lastpk.as_deref(), &self.stop)
                .await?;
            tracing::info!(id = self.id, table = %copy.table, rows = progress.rows, finished = progress.finished, "copy pass");
            if progress.finished {
                source.query_drop("ROLLBACK").await?;
            } else {
                // Stopped mid-table: closing the connection ends the snapshot
                // without reading the rest of the result.
                drop(source);
            }
        }
        if row.source.stop_after_copy {
            sidecar::set_state(&mut target, self.id, state::STOPPED, STOPPED_AFTER_COPY).await?;
            self.report(state::STOPPED, Some(&pos), STOPPED_AFTER_COPY);
            return Ok(());
        }
        sidecar::set_state(&mut target, self.id, state::RUNNING, "").await?;
        self.report(state::RUNNING, Some(&pos), "");
        if let Some(stop_pos) = &row.stop_pos {
            let reached = if pos.at_least(stop_pos) {
                pos
            } else {
                self.catch_up(&mut target, &mut applier, &pos, Some(stop_pos))
                    .await?
            };
            sidecar::set_state(&mut target, self.id, state::STOPPED, REACHED_STOP_POS).await?;
            self.report(state::STOPPED, Some(&reached), REACHED_STOP_POS);
            return Ok(());
        }
        self.catch_up(&mut target, &mut applier, &pos, None).await?;
        Ok(())
    }

    /// Applies the binlog from `from` until `until` (for ever when `None`,
    /// until stopped). Returns the position reached.
    async fn catch_up(
        &self,
        target: &mut Conn,
        applier: &mut Applier,
        from: &Position,
        until: Option<&Position>,
    ) -> Result<Position> {
        let server_id = reader_server_id(self.id);
        let mut reader = BinlogReader::start(self.source_opts.clone(), from, server_id).await?;
        let mut stop = self.stop.clone();
        loop {
            if until.is_some_and(|u| reader.position().at_least(u)) {
                let pos = reader.position().clone();
                let _ = reader.close().await;
                return Ok(pos);
            }
            self.stopped()?;
            let tx = tokio::select! {
                tx = reader.next_transaction() => tx?,
                _ = stop.changed() => return Err(Error::Stopped),
            };
            // Transactions already received go into the same target transaction.
            let mut batch = vec![tx];
            while batch.len() < MAX_BATCH_TRANSACTIONS
                && !until.is_some_and(|u| reader.position().at_least(u))
            {
                match reader.next_transaction().now_or_never() {
                    Some(tx) => batch.push(tx?),
                    None => break,
                }
            }
            applier.apply_batch(target, &batch).await?;
            if until.is_none() {
                if let Some(last) = batch.last() {
                    self.report(state::RUNNING, Some(&last.position_after), "");
                }
            }
        }
    }
}

/// A replica server id for the binlog dump, different per stream and per
/// process, so two streams never evict each other's dump connection.
fn reader_server_id(id: u32) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    0x4000_0000 | ((std::process::id() & 0x3fff) << 16) ^ (nanos & 0xffff) ^ id
}
