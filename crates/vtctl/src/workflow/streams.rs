//! The tablet side of a workflow: each shard's primary, and its
//! `_vt.vreplication` rows read and changed through the tablet manager's
//! `VReplicationExec`, `VReplicationWaitForPos` and `PrimaryPosition`.

use anyhow::{anyhow, Context, Result};
use proto::binlogdata::BinlogSource;
use proto::query::QueryResult;
use proto::tabletmanagerdata::{
    PrimaryPositionRequest, VReplicationExecRequest, VReplicationWaitForPosRequest,
};
use proto::topodata::Tablet;
use topo::TopoServer;

use crate::tablets::db_name;
use crate::tmclient::{connect, rpc_error};

/// Vitess's `binlogdatapb.VReplicationWorkflowType_MoveTables`.
pub const WORKFLOW_TYPE_MOVE_TABLES: i32 = 1;
/// Vitess's `binlogdatapb.VReplicationWorkflowType_Reshard`.
pub const WORKFLOW_TYPE_RESHARD: i32 = 4;
/// The message Vitess leaves on the streams of a workflow whose writes were switched.
pub const FROZEN: &str = "FROZEN";

/// One shard of a keyspace and its primary tablet.
#[derive(Debug, Clone)]
pub struct ShardPrimary {
    /// Shard name (`0`, `-80`).
    pub shard: String,
    /// The primary tablet's record.
    pub tablet: Tablet,
}

impl ShardPrimary {
    /// The primary's database.
    pub fn db_name(&self) -> String {
        db_name(&self.tablet)
    }
}

/// Every shard of `keyspace` with its primary; fails when one has none.
pub async fn shard_primaries(ts: &TopoServer, keyspace: &str) -> Result<Vec<ShardPrimary>> {
    let names = ts.get_shard_names(keyspace).await?;
    if names.is_empty() {
        anyhow::bail!("keyspace {keyspace} has no shards");
    }
    primaries(ts, keyspace, &names).await
}

/// The named shards of `keyspace` with their primaries; fails when one has none.
pub async fn primaries(
    ts: &TopoServer,
    keyspace: &str,
    shards: &[String],
) -> Result<Vec<ShardPrimary>> {
    let mut out = Vec::with_capacity(shards.len());
    for shard in shards {
        let record = ts
            .get_shard(keyspace, shard)
            .await
            .with_context(|| format!("shard {keyspace}/{shard}"))?;
        let alias = record
            .primary_alias
            .ok_or_else(|| anyhow!("shard {keyspace}/{shard} has no primary"))?;
        let tablet = ts.get_tablet(&alias).await?;
        out.push(ShardPrimary {
            shard: shard.clone(),
            tablet,
        });
    }
    Ok(out)
}

/// One `_vt.vreplication` row as a workflow step needs it.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Stream id on its tablet.
    pub id: i32,
    /// What it replicates.
    pub source: BinlogSource,
    /// Applied position.
    pub pos: String,
    /// State (`Init`, `Copying`, `Running`, `Stopped`, `Error`).
    pub state: String,
    /// Last message (`FROZEN` after a write switch).
    pub message: String,
    /// Rows copied so far.
    pub rows_copied: u64,
}

/// Runs `query` through `VReplicationExec` on `primary`.
pub async fn vreplication_exec(primary: &ShardPrimary, query: &str) -> Result<QueryResult> {
    let mut client = connect(&primary.tablet).await?;
    let response = client
        .v_replication_exec(VReplicationExecRequest {
            query: query.to_owned(),
        })
        .await
        .map_err(|s| rpc_error(&primary.tablet, "VReplicationExec", s))?;
    Ok(response.into_inner().result.unwrap_or_default())
}

/// The streams of `workflow` on `primary`.
pub async fn read_streams(primary: &ShardPrimary, workflow: &str) -> Result<Vec<StreamInfo>> {
    let query = format!(
        "select id, source, pos, state, message, rows_copied from _vt.vreplication where db_name = {} and workflow = {} order by id",
        quote(&primary.db_name()),
        quote(workflow)
    );
    let result = vreplication_exec(primary, &query).await?;
    let mut out = Vec::with_capacity(result.rows.len());
    for row in &result.rows {
        let values = row
            .split_values()
            .map_err(|e| anyhow!("bad row from VReplicationExec: {e}"))?;
        let text = |i: usize| -> String {
            values
                .get(i)
                .copied()
                .flatten()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        out.push(StreamInfo {
            id: text(0).parse().context("stream id")?,
            source: vreplication::source_text::decode(&text(1))?,
            pos: text(2),
            state: text(3),
            message: text(4),
            rows_copied: text(5).parse().unwrap_or(0),
        });
    }
    Ok(out)
}

/// Inserts a stream of `workflow` on `primary` in `state` from `pos`.
pub async fn create_stream(
    primary: &ShardPrimary,
    workflow: &str,
    source: &BinlogSource,
    pos: &str,
    state: &str,
    workflow_type: i32,
) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let query = format!(
        "insert into _vt.vreplication (workflow, source, pos, max_tps, max_replication_lag, cell, tablet_types, \
         time_updated, transaction_timestamp, state, db_name, workflow_type, workflow_sub_type, defer_secondary_keys, options) \
         values ({}, {}, {}, 9223372036854775807, 9223372036854775807, '', '', {now}, 0, {}, {}, {workflow_type}, 0, 0, '{{}}')",
        quote(workflow),
        quote(&vreplication::source_text::encode(source)),
        quote(pos),
        quote(state),
        quote(&primary.db_name()),
    );
    vreplication_exec(primary, &query).await?;
    Ok(())
}

/// Sets state and message of every stream of `workflow` on `primary`.
pub async fn set_workflow_state(
    primary: &ShardPrimary,
    workflow: &str,
    state: &str,
    message: &str,
) -> Result<()> {
    let query = format!(
        "update _vt.vreplication set state = {}, message = {} where db_name = {} and workflow = {}",
        quote(state),
        quote(message),
        quote(&primary.db_name()),
        quote(workflow)
    );
    vreplication_exec(primary, &query).await?;
    Ok(())
}

/// Starts every stream of `workflow` on `primary`: `Init` for one that
/// never started (no position, no copy state), else `Running`.
pub async fn start_workflow(primary: &ShardPrimary, workflow: &str) -> Result<()> {
    let query = format!(
        "update _vt.vreplication set state = if(pos = '' and id not in (select vrepl_id from _vt.copy_state), 'Init', 'Running'), \
         message = '' where db_name = {} and workflow = {}",
        quote(&primary.db_name()),
        quote(workflow)
    );
    vreplication_exec(primary, &query).await?;
    Ok(())
}

/// Deletes every stream of `workflow` on `primary`.
pub async fn delete_workflow(primary: &ShardPrimary, workflow: &str) -> Result<()> {
    let query = format!(
        "delete from _vt.vreplication where db_name = {} and workflow = {}",
        quote(&primary.db_name()),
        quote(workflow)
    );
    vreplication_exec(primary, &query).await?;
    Ok(())
}

/// The primary's current position (`MariaDB/<gtid list>`).
pub async fn primary_position(primary: &ShardPrimary) -> Result<String> {
    let mut client = connect(&primary.tablet).await?;
    let response = client
        .primary_position(PrimaryPositionRequest {})
        .await
        .map_err(|s| rpc_error(&primary.tablet, "PrimaryPosition", s))?;
    Ok(response.into_inner().position)
}

/// Waits until stream `id` on `primary` has applied `position`.
pub async fn wait_for_pos(primary: &ShardPrimary, id: i32, position: &str) -> Result<()> {
    let mut client = connect(&primary.tablet).await?;
    client
        .v_replication_wait_for_pos(VReplicationWaitForPosRequest {
            id,
            position: position.to_owned(),
        })
        .await
        .map_err(|s| rpc_error(&primary.tablet, "VReplicationWaitForPos", s))?;
    Ok(())
}

/// A MySQL string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A MySQL identifier in backticks.
pub fn quote_id(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped() {
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote_id("we`ird"), "`we``ird`");
    }
}
