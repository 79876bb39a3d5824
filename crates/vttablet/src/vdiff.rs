//! VDiff on a target primary: for every stream of a workflow, compare the
//! target tables with the source tables at one consistent point while the
//! source keeps writing.
//!
//! The stream is stopped; the source is read in a consistent snapshot taken
//! at GTID position `S` (at or after the stream's position); the stream gets
//! `stop_pos = S` and runs until it has applied exactly `S` and stops; the target tables (which only the stream writes before the
//! write switch) then hold what the source held at `S`. Rows are matched by
//! primary key. Afterwards the stream's `stop_pos` is cleared and it runs
//! again. A rule with `in_keyrange` (Reshard, MoveTables into a sharded keyspace) is
//! compared with the source rows it selects. A target fed by several streams (a merge) is
//! refused: each stream would see the others' rows as extra.

use std::collections::HashMap;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use mysqlctl::config::db_name_for_keyspace;
use proto::query::{Field, QueryResult};
use proto::vtrpc::Code;
use vreplication::filter::{TableFilter, TableRule};
use vreplication::sidecar::{self, state};
use vreplication::stream::REACHED_STOP_POS;

use crate::error::{Result, TabletError};
use crate::tablet::quote_identifier;
use crate::vr_engine::VrEngine;

/// How long a stream gets to reach the snapshot position.
const STOP_WAIT: Duration = Duration::from_secs(60);
/// How many differing keys a table report lists.
const SAMPLE: usize = 10;

/// The columns of the VDiff result, one row per table.
pub const COLUMNS: [&str; 8] = [
    "table_name",
    "stream_id",
    "rows_compared",
    "matching_rows",
    "mismatched_rows",
    "extra_rows_source",
    "extra_rows_target",
    "mismatched_keys",
];

/// The comparison of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDiff {
    /// Table name.
    pub table: String,
    /// Stream that fills it.
    pub stream_id: u32,
    /// Rows looked at (source and target, counted once per key).
    pub rows_compared: u64,
    /// Same key, same values.
    pub matching: u64,
    /// Same key, different values.
    pub mismatched: u64,
    /// Keys only the source has.
    pub extra_source: u64,
    /// Keys only the target has.
    pub extra_target: u64,
    /// Up to ten differing keys, as text.
    pub sample: Vec<String>,
}

/// One row value as text (`None` for NULL), comparable and hashable.
type Cell = Option<Vec<u8>>;

fn cell(value: &Value) -> Cell {
    match value {
        Value::NULL => None,
        Value::Bytes(b) => Some(b.clone()),
        other => Some(other.as_sql(true).into_bytes()),
    }
}

/// Runs a VDiff of `workflow` on `engine`'s tablet.
pub async fn run(engine: &VrEngine, workflow: &str) -> Result<Vec<TableDiff>> {
    let tablet = engine.tablet();
    let mut target = Conn::new(tablet.admin_opts()).await?;
    sidecar::create_tables(&mut target).await?;
    let ids: Vec<u32> = target
        .exec(
            "SELECT id FROM _vt.vreplication WHERE db_name = ? AND workflow = ? ORDER BY id",
            (tablet.db_name.clone(), workflow),
        )
        .await?;
    if ids.is_empty() {
        return Err(TabletError::vitess(
            Code::NotFound,
            format!("no streams of workflow {workflow} on {}", tablet.alias),
        ));
    }
    if ids.len() > 1 {
        return Err(TabletError::vitess(
            Code::Unimplemented,
            format!(
                "VDiff of a target fed by {} streams (a merge) is not supported",
                ids.len()
            ),
        ));
    }
    let mut report = Vec::new();
    for id in ids {
        let diffed = diff_stream(engine, &mut target, id).await;
        // Whatever happened, the stream runs on.
        engine
            .exec(&format!(
                "update _vt.vreplication set stop_pos = NULL, state = 'Running', message = '' where id = {id}"
            ))
            .await?;
        report.extend(diffed?);
    }
    Ok(report)
}

async fn diff_stream(engine: &VrEngine, target: &mut Conn, id: u32) -> Result<Vec<TableDiff>> {
    let row = sidecar::read_stream(target, id).await?;
    if row.state != state::RUNNING {
        return Err(TabletError::vitess(
            Code::FailedPrecondition,
            format!(
                "stream {id} is {}: VDiff needs a running stream whose copy is done",
                row.state
            ),
        ));
    }
    let rules = row.source.filter.clone().unwrap_or_default().rules;
    let filter = TableFilter::from_source(&row.source)?;
    let source_opts = engine
        .source_opts(&row.source.keyspace, &row.source.shard)
        .await?;
    // Stop the stream first: the snapshot is then at or after its position,
    // and it replays exactly up to the snapshot.
    engine
        .exec(&format!(
            "update _vt.vreplication set state = 'Stopped', message = 'VDiff' where id = {id}"
        ))
        .await?;
    let mut source = Conn::new(source_opts).await?;
    let snapshot = vreplication::copy::start_snapshot(&mut source).await?;
    engine
        .exec(&format!(
            "update _vt.vreplication set stop_pos = '{snapshot}', state = 'Running', message = '' where id = {id}"
        ))
        .await?;
    wait_stopped(target, id).await?;
    let source_db = db_name_for_keyspace(&row.source.keyspace);
    let mut out = Vec::with_capacity(rules.len());
    for rule in &rules {
        let table = &rule.r#match;
        let key = primary_key(target, &row.db_name, table).await?;
        let select = |db: &str| {
            format!(
                "SELECT * FROM {}.{}",
                quote_identifier(db),
                quote_identifier(table)
            )
        };
        let source_rows: Vec<Row> = source.query(select(&source_db)).await?;
        let source_rows = match filter.rule(table) {
            Some(rule) if rule.key_range.is_some() => in_stream(rule, source_rows)?,
            _ => source_rows,
        };
        let target_rows: Vec<Row> = target.query(select(&row.db_name)).await?;
        let mut diff = compare(&key, source_rows, target_rows);
        diff.table = table.clone();
        diff.stream_id = id;
        out.push(diff);
    }
    source.query_drop("ROLLBACK").await?;
    Ok(out)
}

/// The rows of `rows` that `rule` (an `in_keyrange` filter) sends to this target.
fn in_stream(rule: &TableRule, rows: Vec<Row>) -> Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(rows);
    };
    let columns: Vec<String> = first
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let values: Vec<Value> = (0..row.len())
            .map(|i| row.as_ref(i).cloned().unwrap_or(Value::NULL))
            .collect();
        if rule.matches(&columns, &values)? {
            kept.push(row);
        }
    }
    Ok(kept)
}

async fn wait_stopped(target: &mut Conn, id: u32) -> Result<()> {
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    loop {
        let row = sidecar::read_stream(target, id).await?;
        if row.state == state::STOPPED && row.message == REACHED_STOP_POS {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(TabletError::vitess(
                Code::DeadlineExceeded,
                format!(
                    "stream {id} did not reach the snapshot position: {} {}",
                    row.state, row.message
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Column names of the primary key of `db.table`.
async fn primary_key(conn: &mut Conn, db: &str, table: &str) -> Result<Vec<String>> {
    let key: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await?;
    if key.is_empty() {
        return Err(TabletError::vitess(
            Code::FailedPrecondition,
            format!("table {table} has no primary key"),
        ));
    }
    Ok(key)
}

/// Matches the rows of both sides by the `key` columns.
fn compare(key: &[String], source: Vec<Row>, target: Vec<Row>) -> TableDiff {
    let positions = |rows: &[Row]| -> Vec<usize> {
        rows.first().map_or_else(Vec::new, |r| {
            let columns = r.columns_ref();
            key.iter()
                .filter_map(|k| columns.iter().position(|c| c.name_str() == k.as_str()))
                .collect()
        })
    };
    let split = |rows: Vec<Row>, at: &[usize]| -> HashMap<Vec<Cell>, Vec<Cell>> {
        rows.into_iter()
            .map(|r| {
                let values: Vec<Cell> = r.unwrap().iter().map(cell).collect();
                (at.iter().map(|&i| values[i].clone()).collect(), values)
            })
            .collect()
    };
    let source_at = positions(&source);
    let target_at = positions(&target);
    let mut source = split(source, &source_at);
    let target = split(target, &target_at);
    let mut diff = TableDiff::default();
    for (k, values) in &target {
        diff.rows_compared += 1;
        match source.remove(k) {
            Some(theirs) if theirs == *values => diff.matching += 1,
            Some(_) => {
                diff.mismatched += 1;
                note(&mut diff, k);
            }
            None => {
                diff.extra_target += 1;
                note(&mut diff, k);
            }
        }
    }
    for k in source.keys() {
        diff.rows_compared += 1;
        diff.extra_source += 1;
        note(&mut diff, k);
    }
    diff
}

/// Lists `key` among the differing keys, up to [`SAMPLE`] of them.
fn note(diff: &mut TableDiff, key: &[Cell]) {
    if diff.sample.len() < SAMPLE {
        let text: Vec<String> = key
            .iter()
            .map(|c| {
                c.as_ref()
                    .map_or("NULL".into(), |b| String::from_utf8_lossy(b).into_owned())
            })
            .collect();
        diff.sample.push(text.join(","));
    }
}

/// The report as a QueryResult with [`COLUMNS`].
pub fn to_result(diffs: &[TableDiff]) -> QueryResult {
    let fields = COLUMNS
        .iter()
        .map(|name| Field {
            name: (*name).to_owned(),
            r#type: proto::query::Type::Varchar as i32,
            ..Default::default()
        })
        .collect();
    let rows = diffs
        .iter()
        .map(|d| {
            let values = [
                d.table.clone(),
                d.stream_id.to_string(),
                d.rows_compared.to_string(),
                d.matching.to_string(),
                d.mismatched.to_string(),
                d.extra_source.to_string(),
                d.extra_target.to_string(),
                d.sample.join(";"),
            ];
            proto::query::Row::from_values(values.iter().map(|v| Some(v.as_bytes())))
        })
        .collect();
    QueryResult {
        fields,
        rows,
        ..Default::default()
    }
}
