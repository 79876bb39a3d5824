//! Copies a table from a consistent snapshot of the source, in primary-key
//! order, in batches. Each batch is committed on the target together with
//! its `_vt.copy_state.lastpk`, so a restarted copy resumes after the last
//! committed row; rows are written with REPLACE because the binlog applied
//! up to the snapshot may already have created some of them.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Row, Value};
use mysqlctl::Position;
use tokio::sync::watch;

use crate::apply::primary_key;
use crate::error::{Error, Result};
use crate::filter::TableRule;
use crate::sql::{ident, placeholders, qualified};

/// MySQL's limit on placeholders in one prepared statement.
const MAX_PLACEHOLDERS: usize = 65_535;

/// Starts `START TRANSACTION WITH CONSISTENT SNAPSHOT` on `source` and
/// returns the GTID position the snapshot reflects: MariaDB gives the
/// binlog file and offset consistent with the snapshot in
/// `binlog_snapshot_file` / `binlog_snapshot_position`, and
/// `BINLOG_GTID_POS` turns them into a GTID position.
pub async fn start_snapshot(source: &mut Conn) -> Result<Position> {
    source
        .query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await?;
    source
        .query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .await?;
    let status: Vec<(String, String)> =
        source.query("SHOW STATUS LIKE 'binlog_snapshot_%'").await?;
    let get = |name: &str| {
        status
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                Error::Unsupported(format!("source reports no {name}: is the binlog enabled?"))
            })
    };
    let file = get("binlog_snapshot_file")?;
    let offset = get("binlog_snapshot_position")?;
    let gtids: Option<Option<String>> = source
        .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file, offset))
        .await?;
    Ok(Position::parse_gtid_list(
        &gtids.flatten().unwrap_or_default(),
    )?)
}

/// One table copy of a stream.
#[derive(Debug, Clone)]
pub struct TableCopy {
    /// Stream id (`copy_state.vrepl_id`).
    pub id: u32,
    /// Source database.
    pub source_db: String,
    /// Target database.
    pub target_db: String,
    /// Table name (same on both sides).
    pub table: String,
    /// Rows per target transaction.
    pub batch_rows: usize,
    /// Which rows belong to the stream.
    pub rule: TableRule,
}

/// How a copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    /// Source rows read in this run (rows outside a key-range filter included).
    pub rows: u64,
    /// True when the table is complete (its `copy_state` row is gone).
    pub finished: bool,
}

impl TableCopy {
    /// Copies the rows after `lastpk` (a SQL tuple as stored in
    /// `copy_state.lastpk`, or `None` from the start) from the snapshot open
    /// on `source`. Returns early, between batches, once `stop` is true.
    pub async fn run(
        &self,
        source: &mut Conn,
        target: &mut Conn,
        lastpk: Option<&str>,
        stop: &watch::Receiver<bool>,
    ) -> Result<CopyProgress> {
        let pk = primary_key(source, &self.source_db, &self.table).await?;
        let pk_list: Vec<String> = pk.iter().map(|c| ident(c)).collect();
        let pk_list = pk_list.join(", ");
        let mut sql = format!("SELECT * FROM {}", qualified(&self.source_db, &self.table));
        if let Some(last) = lastpk {
            sql.push_str(&format!(" WHERE ({pk_list}) > {last}"));
        }
        sql.push_str(&format!(" ORDER BY {pk_list}"));
        let mut result = source.exec_iter(sql, ()).await?;
        let mut batch: Vec<Row> = Vec::new();
        let mut progress = CopyProgress {
            rows: 0,
            finished: false,
        };
        loop {
            let row = result.next().await?;
            let at_end = row.is_none();
            if let Some(row) = row {
                batch.push(row);
            }
            let limit = self.batch_limit(batch.first().map_or(1, Row::len));
            if batch.len() >= limit || at_end {
                self.write_batch(target, &pk, &batch, at_end).await?;
                progress.rows += batch.len() as u64;
                batch.clear();
            }
            if at_end {
                progress.finished = true;
                return Ok(progress);
            }
            if batch.is_empty() && *stop.borrow() {
                // Drain nothing more: dropping the result ends the query.
                drop(result);
                return Ok(progress);
            }
        }
    }

    fn batch_limit(&self, columns: usize) -> usize {
        self.batch_rows.clamp(1, MAX_PLACEHOLDERS / columns.max(1))
    }

    async fn write_batch(
        &self,
        target: &mut Conn,
        pk: &[String],
        batch: &[Row],
        last: bool,
    ) -> Result<()> {
        target.query_drop("BEGIN").await?;
        let result = self.write_batch_in_tx(target, pk, batch, last).await;
        match result {
            Ok(()) => {
                target.query_drop("COMMIT").await?;
                Ok(())
            }
            Err(e) => {
                if let Err(rollback) = target.query_drop("ROLLBACK").await {
                    tracing::warn!(error = %rollback, "rollback after a failed copy batch failed");
                }
                Err(e)
            }
        }
    }

    async fn write_batch_in_tx(
        &self,
        target: &mut Conn,
        pk: &[String],
        batch: &[Row],
        last: bool,
    ) -> Result<()> {
        let mut keep: Vec<Vec<Value>> = Vec::with_capacity(batch.len());
        let columns: Vec<String> = batch
            .first()
            .map(|r| {
                r.columns_ref()
                    .iter()
                    .map(|c| c.name_str().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for row in batch {
            let values = row.clone().unwrap();
            if self.rule.matches(&columns, &values)? {
                keep.push(values);
            }
        }
        if !keep.is_empty() {
            let quoted: Vec<String> = columns.iter().map(|c| ident(c)).collect();
            let tuple = placeholders(columns.len());
            let tuples: Vec<&str> = std::iter::repeat_n(tuple.as_str(), keep.len()).collect();
            let sql = format!(
                "REPLACE INTO {} ({}) VALUES {}",
                qualified(&self.target_db, &self.table),
                quoted.join(", "),
                tuples.join(", ")
            );
            let params: Vec<Value> = keep.into_iter().flatten().collect();
            target.exec_drop(sql, Params::Positional(params)).await?;
            target
                .exec_drop(
                    "UPDATE _vt.vreplication SET rows_copied = rows_copied + ? WHERE id = ?",
                    (tuples.len() as u64, self.id),
                )
                .await?;
        }
        if last {
            target
                .exec_drop(
                    "DELETE FROM _vt.copy_state WHERE vrepl_id = ? AND table_name = ?",
                    (self.id, &self.table),
                )
                .await?;
        } else if let Some(row) = batch.last() {
            let lastpk = pk_tuple(row, pk)?;
            target
                .exec_drop(
                    "UPDATE _vt.copy_state SET lastpk = ? WHERE vrepl_id = ? AND table_name = ?",
                    (lastpk, self.id, &self.table),
                )
                .await?;
        }
        Ok(())
    }
}

/// The primary key of `row` as a SQL tuple of literals: `(1, 'abc')`.
fn pk_tuple(row: &Row, pk: &[String]) -> Result<String> {
    let mut parts = Vec::with_capacity(pk.len());
    for name in pk {
        let index = row
            .columns_ref()
            .iter()
            .position(|c| c.name_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::NoPrimaryKey(name.clone()))?;
        let value = row.as_ref(index).cloned().unwrap_or(Value::NULL);
        parts.push(value.as_sql(false));
    }
    Ok(format!("({})", parts.join(", ")))
}
