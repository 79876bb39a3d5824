//! `VDiff --workflow W --target-keyspace K create`: every target primary
//! compares its tables with the source at one consistent position (the
//! tablet's `VDiff` RPC), and the per-shard reports are summed up in
//! Vitess's JSON shape (`TableSummary`, `Reports`, `HasMismatch`).

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use proto::tabletmanagerdata::VDiffRequest;
use serde_json::{json, Value};
use topo::TopoServer;

use super::streams::shard_primaries;
use crate::tmclient::{connect, rpc_error};

/// `VDiff --workflow W --target-keyspace K create|show`.
#[derive(Args, Debug)]
pub struct VDiff {
    #[arg(long)]
    workflow: String,
    #[arg(long = "target-keyspace")]
    target_keyspace: String,
    #[command(subcommand)]
    action: VDiffAction,
}

#[derive(Subcommand, Debug)]
enum VDiffAction {
    /// Run the comparison now and print its report.
    #[command(name = "create", alias = "Create")]
    Create,
    /// Stored reports (not kept: `create` prints its report).
    #[command(name = "show", alias = "Show")]
    Show { which: Option<String> },
}

/// One table of one shard, as a tablet reports it.
#[derive(Debug, Default, Clone)]
struct TableReport {
    rows_compared: u64,
    matching: u64,
    mismatched: u64,
    extra_source: u64,
    extra_target: u64,
    keys: Vec<String>,
}

impl VDiff {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        if let VDiffAction::Show { .. } = self.action {
            bail!("VDiff show is not supported: reports are not stored, VDiff create prints its report");
        }
        let targets = shard_primaries(ts, &self.target_keyspace).await?;
        // table -> shard -> report
        let mut reports: BTreeMap<String, BTreeMap<String, TableReport>> = BTreeMap::new();
        for target in &targets {
            let mut client = connect(&target.tablet).await?;
            let response = client
                .v_diff(VDiffRequest {
                    keyspace: self.target_keyspace.clone(),
                    workflow: self.workflow.clone(),
                    action: "create".into(),
                    ..Default::default()
                })
                .await
                .map_err(|s| rpc_error(&target.tablet, "VDiff", s))?
                .into_inner();
            let output = response.output.unwrap_or_default();
            for row in &output.rows {
                let values = row
                    .split_values()
                    .map_err(|e| anyhow!("bad VDiff row: {e}"))?;
                let text = |i: usize| {
                    values
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default()
                };
                let number = |i: usize| text(i).parse::<u64>().unwrap_or(0);
                let keys = text(7);
                let report = TableReport {
                    rows_compared: number(2),
                    matching: number(3),
                    mismatched: number(4),
                    extra_source: number(5),
                    extra_target: number(6),
                    keys: keys
                        .split(';')
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned)
                        .collect(),
                };
                let shard_report = reports
                    .entry(text(0))
                    .or_default()
                    .entry(target.shard.clone())
                    .or_default();
                add(shard_report, &report);
            }
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&self.summary(&targets, &reports))?
        );
        Ok(())
    }

    fn summary(
        &self,
        targets: &[super::streams::ShardPrimary],
        reports: &BTreeMap<String, BTreeMap<String, TableReport>>,
    ) -> Value {
        let mut total = TableReport::default();
        let mut summary = serde_json::Map::new();
        let mut details = serde_json::Map::new();
        for (table, shards) in reports {
            let mut sum = TableReport::default();
            let mut per_shard = serde_json::Map::new();
            for (shard, r) in shards {
                add(&mut sum, r);
                per_shard.insert(
                    shard.clone(),
                    json!({
                        "TableName": table,
                        "ProcessedRows": r.rows_compared,
                        "MatchingRows": r.matching,
                        "MismatchedRows": r.mismatched,
                        "ExtraRowsSource": r.extra_source,
                        "ExtraRowsTarget": r.extra_target,
                        "MismatchedKeys": r.keys,
                    }),
                );
            }
            add(&mut total, &sum);
            summary.insert(
                table.clone(),
                json!({
                    "TableName": table,
                    "State": "completed",
                    "RowsCompared": sum.rows_compared,
                    "MatchingRows": sum.matching,
                    "MismatchedRows": sum.mismatched,
                    "ExtraRowsSource": sum.extra_source,
                    "ExtraRowsTarget": sum.extra_target,
                }),
            );
            details.insert(table.clone(), Value::Object(per_shard));
        }
        let shards: Vec<&str> = targets.iter().map(|t| t.shard.as_str()).collect();
        json!({
            "Workflow": self.workflow,
            "Keyspace": self.target_keyspace,
            "State": "completed",
            "Shards": shards.join(","),
            "RowsCompared": total.rows_compared,
            "HasMismatch": total.mismatched + total.extra_source + total.extra_target > 0,
            "TableSummary": summary,
            "Reports": details,
        })
    }
}

fn add(sum: &mut TableReport, r: &TableReport) {
    sum.rows_compared += r.rows_compared;
    sum.matching += r.matching;
    sum.mismatched += r.mismatched;
    sum.extra_source += r.extra_source;
    sum.extra_target += r.extra_target;
    sum.keys.extend(r.keys.iter().cloned());
}
