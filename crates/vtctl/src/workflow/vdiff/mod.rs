//! `VDiff --workflow W --target-keyspace K create|show`, with vtctldclient's output.
//!
//! `create` asks every target primary to compare its tables with the source at one consistent
//! position (the tablet's `VDiff` RPC, which returns when the comparison is done), stores each
//! shard's per-table reports in that primary's `_vt.vdiff` and `_vt.vdiff_table` ([`store`])
//! and prints `VDiff <uuid> scheduled on target shards, use show to view progress`.
//! `show <uuid>|last` reads the stored reports back and sums them up in Vitess's summary shape
//! ([`summary`]): a text summary, or with `--format json` the JSON (`TableSummary` and
//! `Reports` only with a mismatch or `--verbose`, as Vitess).

mod store;
mod summary;

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use proto::tabletmanagerdata::VDiffRequest;
use serde_json::{json, Value};
use topo::TopoServer;

use super::streams::{read_streams, shard_primaries, ShardPrimary};
use crate::tmclient::{connect, rpc_error};

/// `VDiff --workflow W --target-keyspace K create|show`.
#[derive(Args, Debug)]
pub struct VDiff {
    #[arg(long)]
    workflow: String,
    #[arg(long = "target-keyspace")]
    target_keyspace: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    format: Format,
    #[command(subcommand)]
    action: VDiffAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum VDiffAction {
    /// Compare the workflow's tables with their source now and store the report.
    #[command(name = "create", alias = "Create")]
    Create,
    /// A stored report: `last` or a VDiff's uuid.
    #[command(name = "show", alias = "Show")]
    Show {
        which: String,
        /// Also the per-table and per-shard reports when nothing differs.
        #[arg(long)]
        verbose: bool,
    },
}

/// One table of one shard, as a tablet reports it (Vitess's `DiffReport`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableReport {
    table: String,
    rows_compared: u64,
    matching: u64,
    mismatched: u64,
    extra_source: u64,
    extra_target: u64,
    keys: Vec<String>,
}

impl TableReport {
    fn has_mismatch(&self) -> bool {
        self.mismatched + self.extra_source + self.extra_target > 0
    }

    fn add(&mut self, r: &TableReport) {
        self.rows_compared += r.rows_compared;
        self.matching += r.matching;
        self.mismatched += r.mismatched;
        self.extra_source += r.extra_source;
        self.extra_target += r.extra_target;
        self.keys.extend(r.keys.iter().cloned());
    }

    fn to_json(&self) -> Value {
        json!({
            "TableName": self.table,
            "ProcessedRows": self.rows_compared,
            "MatchingRows": self.matching,
            "MismatchedRows": self.mismatched,
            "ExtraRowsSource": self.extra_source,
            "ExtraRowsTarget": self.extra_target,
            "MismatchedKeys": self.keys,
        })
    }

    fn from_json(table: &str, v: &Value) -> TableReport {
        let number = |k: &str| v[k].as_u64().unwrap_or(0);
        TableReport {
            table: table.to_owned(),
            rows_compared: number("ProcessedRows"),
            matching: number("MatchingRows"),
            mismatched: number("MismatchedRows"),
            extra_source: number("ExtraRowsSource"),
            extra_target: number("ExtraRowsTarget"),
            keys: v["MismatchedKeys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl VDiff {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let targets = shard_primaries(ts, &self.target_keyspace).await?;
        for target in &targets {
            store::ensure_tables(target).await?;
        }
        match &self.action {
            VDiffAction::Create => self.create(&targets).await,
            VDiffAction::Show { which, verbose } => self.show(&targets, which, *verbose).await,
        }
    }

    async fn create(&self, primaries: &[ShardPrimary]) -> Result<()> {
        // The workflow's target shards: those whose primary runs its streams (during a
        // Reshard the keyspace also has the source shards).
        let mut targets = Vec::new();
        for primary in primaries {
            if !read_streams(primary, &self.workflow).await?.is_empty() {
                targets.push(primary);
            }
        }
        if targets.is_empty() {
            bail!(
                "workflow {} not found in keyspace {}",
                self.workflow,
                self.target_keyspace
            );
        }
        let uuid = new_uuid();
        for target in targets {
            let id = store::start(target, &uuid, &self.target_keyspace, &self.workflow).await?;
            match self.diff_shard(target).await {
                Ok(tables) => store::complete(target, id, &tables).await?,
                Err(e) => {
                    store::fail(target, id, &format!("{e:#}")).await?;
                    return Err(e);
                }
            }
        }
        match self.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&json!({"UUID": uuid}))?),
            Format::Text => {
                println!("VDiff {uuid} scheduled on target shards, use show to view progress")
            }
        }
        Ok(())
    }

    /// Runs the comparison on one target primary: one report per table.
    async fn diff_shard(&self, target: &ShardPrimary) -> Result<Vec<TableReport>> {
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
        // A table filled by several streams (a merge) is reported once per stream.
        let mut tables: BTreeMap<String, TableReport> = BTreeMap::new();
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
            let report = TableReport {
                table: text(0),
                rows_compared: number(2),
                matching: number(3),
                mismatched: number(4),
                extra_source: number(5),
                extra_target: number(6),
                keys: text(7)
                    .split(';')
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            let entry = tables.entry(report.table.clone()).or_insert(TableReport {
                table: report.table.clone(),
                ..Default::default()
            });
            entry.add(&report);
        }
        Ok(tables.into_values().collect())
    }

    async fn show(&self, targets: &[ShardPrimary], which: &str, verbose: bool) -> Result<()> {
        let (keyspace, workflow) = (&self.target_keyspace, &self.workflow);
        let uuid = match which {
            "last" => {
                let mut last = None;
                for target in targets {
                    last = store::last_uuid(target, keyspace, workflow).await?;
                    if last.is_some() {
                        break;
                    }
                }
                match last {
                    Some(uuid) => uuid,
                    None => {
                        match self.format {
                            Format::Json => println!("{{}}"),
                            Format::Text => {
                                println!("No previous vdiff found for {keyspace}.{workflow}")
                            }
                        }
                        return Ok(());
                    }
                }
            }
            "all" => bail!("VDiff show all is not supported: use show last or show <uuid>"),
            uuid => uuid.to_owned(),
        };
        let mut shards = Vec::new();
        for target in targets {
            if let Some(record) = store::load(target, keyspace, workflow, &uuid).await? {
                shards.push(record);
            }
        }
        if shards.is_empty() {
            bail!("no response received for vdiff show of {keyspace}.{workflow} ({uuid})");
        }
        let summary = summary::Summary::build(keyspace, workflow, &uuid, &shards);
        match self.format {
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&summary.to_json(verbose))?
            ),
            Format::Text => println!("{}", summary.to_text()),
        }
        Ok(())
    }
}

/// A new VDiff id in the textual form of a version 1 UUID: the time in 100 ns steps since
/// 1582-10-15, and a node part from this process's id and the clock's nanoseconds.
fn new_uuid() -> String {
    const GREGORIAN_OFFSET: u64 = 0x01B2_1DD2_1381_4000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = (now.as_nanos() / 100) as u64 + GREGORIAN_OFFSET;
    let node = (u64::from(std::process::id()) << 16 | u64::from(now.subsec_nanos() & 0xffff))
        & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-1{:03x}-{:04x}-{:012x}",
        ticks & 0xffff_ffff,
        (ticks >> 32) & 0xffff,
        (ticks >> 48) & 0x0fff,
        0x8000 | (now.subsec_nanos() >> 8 & 0x3fff),
        node
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_version_1() {
        let (a, b) = (new_uuid(), new_uuid());
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(a.as_bytes()[14], b'1', "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn reports_round_trip_through_json() {
        let r = TableReport {
            table: "customer".into(),
            rows_compared: 5,
            matching: 3,
            mismatched: 1,
            extra_source: 1,
            extra_target: 0,
            keys: vec!["customer_id=2".into()],
        };
        assert_eq!(TableReport::from_json("customer", &r.to_json()), r);
        assert!(r.has_mismatch());
    }
}
