//! Where VDiff results live: Vitess's sidecar tables `_vt.vdiff` (one row per VDiff and target
//! shard) and `_vt.vdiff_table` (one row per table, with its JSON report), on each target
//! primary. `VDiff create` writes them, `VDiff show` reads them back.

use anyhow::{anyhow, Result};

use super::TableReport;
use crate::tablets::execute_as_dba;
use crate::workflow::streams::{quote, ShardPrimary};

/// Vitess's `_vt.vdiff` (sidecardb `vdiff.sql`).
const CREATE_VDIFF: &str = "create table if not exists _vt.vdiff (\
    id bigint not null auto_increment, \
    vdiff_uuid varchar(64) not null, \
    workflow varbinary(1024) default null, \
    keyspace varbinary(256) default null, \
    shard varchar(255) not null, \
    db_name varbinary(1024) default null, \
    state varbinary(64) default null, \
    options json default null, \
    created_at timestamp not null default current_timestamp, \
    started_at timestamp null default null, \
    liveness_timestamp timestamp null default null, \
    completed_at timestamp null default null, \
    last_error varbinary(1024) default null, \
    primary key (id), \
    unique key uuid_idx (vdiff_uuid), \
    key state (state), \
    key ks_wf_idx (keyspace(64), workflow(64))\
    ) engine = InnoDB";

/// Vitess's `_vt.vdiff_table` (sidecardb `vdiff_table.sql`).
const CREATE_VDIFF_TABLE: &str = "create table if not exists _vt.vdiff_table (\
    vdiff_id varchar(64) not null, \
    table_name varbinary(128) not null, \
    state varbinary(64) default null, \
    lastpk varbinary(2000) default null, \
    table_rows bigint not null default 0, \
    rows_compared bigint not null default 0, \
    mismatch tinyint(1) not null default 0, \
    report json default null, \
    created_at timestamp not null default current_timestamp, \
    updated_at timestamp not null default current_timestamp on update current_timestamp, \
    primary key (vdiff_id, table_name)\
    ) engine = InnoDB";

/// One shard's part of a stored VDiff.
#[derive(Debug, Clone, Default)]
pub struct ShardRecord {
    pub shard: String,
    pub state: String,
    pub last_error: String,
    pub started_at: String,
    pub completed_at: String,
    pub tables: Vec<TableRecord>,
}

/// One table of one shard.
#[derive(Debug, Clone, Default)]
pub struct TableRecord {
    pub state: String,
    pub report: TableReport,
}

async fn exec(target: &ShardPrimary, sql: &str) -> Result<proto::query::QueryResult> {
    // Sidecar bookkeeping stays out of the binlog, as Vitess's VDiff writes do.
    execute_as_dba(&target.tablet, sql, 10_000, true).await
}

/// Creates the sidecar tables when missing.
pub async fn ensure_tables(target: &ShardPrimary) -> Result<()> {
    exec(target, CREATE_VDIFF).await?;
    exec(target, CREATE_VDIFF_TABLE).await?;
    Ok(())
}

/// Records a VDiff as started on `target`; returns its row id.
pub async fn start(
    target: &ShardPrimary,
    uuid: &str,
    keyspace: &str,
    workflow: &str,
) -> Result<u64> {
    let result = exec(
        target,
        &format!(
            "insert into _vt.vdiff(vdiff_uuid, workflow, keyspace, shard, db_name, state, options, started_at) \
             values ({}, {}, {}, {}, {}, 'started', '{{}}', utc_timestamp())",
            quote(uuid),
            quote(workflow),
            quote(keyspace),
            quote(&target.shard),
            quote(&target.db_name()),
        ),
    )
    .await?;
    Ok(result.insert_id)
}

/// Records the tables' reports and marks the VDiff completed.
pub async fn complete(target: &ShardPrimary, id: u64, tables: &[TableReport]) -> Result<()> {
    for t in tables {
        exec(
            target,
            &format!(
                "insert into _vt.vdiff_table(vdiff_id, table_name, state, table_rows, rows_compared, mismatch, report) \
                 values ('{id}', {}, 'completed', {}, {}, {}, {})",
                quote(&t.table),
                t.rows_compared,
                t.rows_compared,
                u8::from(t.has_mismatch()),
                quote(&t.to_json().to_string()),
            ),
        )
        .await?;
    }
    exec(
        target,
        &format!("update _vt.vdiff set state = 'completed', completed_at = utc_timestamp() where id = {id}"),
    )
    .await?;
    Ok(())
}

/// Records that the VDiff failed on `target`.
pub async fn fail(target: &ShardPrimary, id: u64, error: &str) -> Result<()> {
    let error: String = error.chars().take(1000).collect();
    exec(
        target,
        &format!(
            "update _vt.vdiff set state = 'error', last_error = {} where id = {id}",
            quote(&error)
        ),
    )
    .await?;
    Ok(())
}

/// The uuid of the newest VDiff of the workflow on `target`, if any.
pub async fn last_uuid(
    target: &ShardPrimary,
    keyspace: &str,
    workflow: &str,
) -> Result<Option<String>> {
    let result = exec(
        target,
        &format!(
            "select vdiff_uuid from _vt.vdiff where keyspace = {} and workflow = {} order by id desc limit 1",
            quote(keyspace),
            quote(workflow)
        ),
    )
    .await?;
    let rows = text_rows(&result)?;
    Ok(rows.into_iter().next().map(|mut r| r.swap_remove(0)))
}

/// The stored VDiff `uuid` on `target`, or `None` when this shard has no such VDiff.
pub async fn load(
    target: &ShardPrimary,
    keyspace: &str,
    workflow: &str,
    uuid: &str,
) -> Result<Option<ShardRecord>> {
    let result = exec(
        target,
        &format!(
            "select vd.state, ifnull(vd.last_error, ''), \
             ifnull(date_format(vd.started_at, '%Y-%m-%d %H:%i:%s'), ''), \
             ifnull(date_format(vd.completed_at, '%Y-%m-%d %H:%i:%s'), ''), \
             vdt.table_name, vdt.state, vdt.report \
             from _vt.vdiff as vd left join _vt.vdiff_table as vdt on (vd.id = vdt.vdiff_id) \
             where vd.keyspace = {} and vd.workflow = {} and vd.vdiff_uuid = {} \
             order by vdt.table_name",
            quote(keyspace),
            quote(workflow),
            quote(uuid)
        ),
    )
    .await?;
    let rows = text_rows(&result)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut record = ShardRecord {
        shard: target.shard.clone(),
        state: first[0].clone(),
        last_error: first[1].clone(),
        started_at: first[2].clone(),
        completed_at: first[3].clone(),
        tables: Vec::new(),
    };
    for row in &rows {
        if row[4].is_empty() {
            continue;
        }
        let report: serde_json::Value = serde_json::from_str(&row[6])
            .map_err(|e| anyhow!("bad VDiff report for table {}: {e}", row[4]))?;
        record.tables.push(TableRecord {
            state: row[5].clone(),
            report: TableReport::from_json(&row[4], &report),
        });
    }
    Ok(Some(record))
}

/// Every row as text, NULL as the empty string.
fn text_rows(result: &proto::query::QueryResult) -> Result<Vec<Vec<String>>> {
    result
        .rows
        .iter()
        .map(|row| {
            let values = row
                .split_values()
                .map_err(|e| anyhow!("bad row from the tablet: {e}"))?;
            Ok(values
                .into_iter()
                .map(|v| {
                    v.map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default()
                })
                .collect())
        })
        .collect()
}
