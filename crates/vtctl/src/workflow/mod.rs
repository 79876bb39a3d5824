//! `MoveTables`, with vtctldclient's syntax:
//!
//! ```text
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer create --source-keyspace commerce --tables customer,corder
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer show|status
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer switchtraffic --tablet-types rdonly,replica
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer switchtraffic --tablet-types primary
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer reversetraffic
//! vtctl MoveTables --workflow commerce2customer --target-keyspace customer complete|cancel
//! ```
//!
//! The workflow lives in the target primaries' `_vt.vreplication` rows
//! (the source keyspace and tables are read back from their BinlogSource),
//! in the routing rules and in the shards' denied tables; [`steps`] changes
//! them as Vitess's `workflow.Server` does. [`VDiff`] compares the tables
//! of a workflow with their source.
//! [`Reshard`] (in `reshard`) splits or merges the shards of one keyspace
//! with the same streams, moving traffic through SrvKeyspace and shard records.

mod reshard;
mod routing;
mod steps;
mod streams;
mod vdiff;

pub use reshard::Reshard;
pub use vdiff::VDiff;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use proto::binlogdata::{Filter, Rule};
use proto::topodata::TabletType;
use topo::TopoServer;

use routing::Rules;
use streams::{read_streams, shard_primaries, ShardPrimary, StreamInfo};

/// `MoveTables --workflow W --target-keyspace K <action>`.
#[derive(Args, Debug)]
pub struct MoveTables {
    /// Workflow name.
    #[arg(long)]
    workflow: String,
    /// Keyspace the tables move to.
    #[arg(long = "target-keyspace")]
    target_keyspace: String,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Copy the schema, create the streams, keep all traffic on the source.
    #[command(name = "create", alias = "Create")]
    Create(CreateArgs),
    /// The workflow's streams as JSON.
    #[command(name = "show", alias = "Show")]
    Show,
    /// The state of every stream and of the traffic.
    #[command(name = "status", alias = "Status", alias = "progress")]
    Status,
    /// Move reads and/or writes to the target.
    #[command(name = "switchtraffic", alias = "SwitchTraffic")]
    SwitchTraffic(SwitchArgs),
    /// Move reads and/or writes back to the source.
    #[command(name = "reversetraffic", alias = "ReverseTraffic")]
    ReverseTraffic(SwitchArgs),
    /// After the write switch: drop the source tables and clean up.
    #[command(name = "complete", alias = "Complete")]
    Complete(CleanupArgs),
    /// Before the write switch: undo the create.
    #[command(name = "cancel", alias = "Cancel")]
    Cancel(CleanupArgs),
    /// Start the workflow's streams.
    #[command(name = "start", alias = "Start")]
    Start,
    /// Stop the workflow's streams.
    #[command(name = "stop", alias = "Stop")]
    Stop,
}

/// The flags of `MoveTables create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    #[arg(long = "source-keyspace")]
    pub source_keyspace: String,
    /// Tables to move.
    #[arg(long, value_delimiter = ',', conflicts_with = "all_tables")]
    pub tables: Vec<String>,
    /// Move every table of the source keyspace (but `--exclude-tables`).
    #[arg(long = "all-tables")]
    pub all_tables: bool,
    /// With `--all-tables`: tables to leave in the source.
    #[arg(long = "exclude-tables", value_delimiter = ',')]
    pub exclude_tables: Vec<String>,
    /// Start the streams right away (else `MoveTables start` does).
    #[arg(long = "auto-start", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_start: bool,
    /// Stop the streams once the copy is done.
    #[arg(long = "stop-after-copy")]
    pub stop_after_copy: bool,
}

#[derive(Args, Debug)]
struct SwitchArgs {
    /// Tablet types to switch (default: rdonly,replica,primary).
    #[arg(long = "tablet-types", value_delimiter = ',')]
    tablet_types: Vec<TabletType>,
    /// How long the write switch waits for the streams to catch up (`30s`, `500ms`, `1m`).
    #[arg(long, default_value = "30s", value_parser = crate::parse_duration)]
    timeout: std::time::Duration,
}

impl SwitchArgs {
    fn types(&self) -> Vec<TabletType> {
        if self.tablet_types.is_empty() {
            vec![TabletType::Rdonly, TabletType::Replica, TabletType::Primary]
        } else {
            self.tablet_types.clone()
        }
    }
}

#[derive(Args, Debug)]
struct CleanupArgs {
    /// Leave the tables (source for complete, target for cancel) in place.
    #[arg(long = "keep-data")]
    keep_data: bool,
    /// Leave the routing rules in place.
    #[arg(long = "keep-routing-rules")]
    keep_routing_rules: bool,
}

impl MoveTables {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        if let Action::Create(args) = &self.action {
            return steps::create(ts, &self.workflow, &self.target_keyspace, args).await;
        }
        let wf = Workflow::load(ts, &self.workflow, &self.target_keyspace).await?;
        match self.action {
            Action::Create(_) => Ok(()),
            Action::Show => wf.show(ts).await,
            Action::Status => wf.status(ts).await,
            Action::SwitchTraffic(args) => {
                steps::switch_traffic(ts, &wf, &args.types(), args.timeout, true).await
            }
            Action::ReverseTraffic(args) => {
                steps::switch_traffic(ts, &wf, &args.types(), args.timeout, false).await
            }
            Action::Complete(args) => {
                steps::complete(ts, &wf, args.keep_data, args.keep_routing_rules).await
            }
            Action::Cancel(args) => {
                steps::cancel(ts, &wf, args.keep_data, args.keep_routing_rules).await
            }
            Action::Start => wf.set_running(true).await,
            Action::Stop => wf.set_running(false).await,
        }
    }
}

/// A MoveTables workflow as found in the topology and on the target primaries.
#[derive(Debug)]
pub struct Workflow {
    name: String,
    source_keyspace: String,
    target_keyspace: String,
    tables: Vec<String>,
    sources: Vec<ShardPrimary>,
    targets: Vec<ShardPrimary>,
    /// The forward streams, with the index of their target in `targets`.
    streams: Vec<(usize, StreamInfo)>,
}

impl Workflow {
    async fn load(ts: &TopoServer, name: &str, target_keyspace: &str) -> Result<Workflow> {
        let targets = shard_primaries(ts, target_keyspace).await?;
        let mut streams = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            for stream in read_streams(target, name).await? {
                streams.push((i, stream));
            }
        }
        let Some((_, first)) = streams.first() else {
            bail!("workflow {name} not found in keyspace {target_keyspace}");
        };
        let source_keyspace = first.source.keyspace.clone();
        let mut tables: Vec<String> = Vec::new();
        for rule in first.source.filter.iter().flat_map(|f| &f.rules) {
            if !tables.contains(&rule.r#match) {
                tables.push(rule.r#match.clone());
            }
        }
        let sources = shard_primaries(ts, &source_keyspace).await?;
        Ok(Workflow {
            name: name.to_owned(),
            source_keyspace,
            target_keyspace: target_keyspace.to_owned(),
            tables,
            sources,
            targets,
            streams,
        })
    }

    /// `start` / `stop`: every forward stream to Running or Stopped.
    async fn set_running(&self, running: bool) -> Result<()> {
        if running {
            if let Some((_, s)) = self
                .streams
                .iter()
                .find(|(_, s)| s.message == streams::FROZEN)
            {
                bail!(
                    "cannot start workflow {}: stream {} is frozen (its writes were switched)",
                    self.name,
                    s.id
                );
            }
        }
        let state = if running { "Running" } else { "Stopped" };
        for target in &self.targets {
            if running {
                streams::start_workflow(target, &self.name).await?;
            } else {
                streams::set_workflow_state(target, &self.name, state, "").await?;
            }
        }
        println!("{state} workflow {}.{}", self.target_keyspace, self.name);
        Ok(())
    }

    fn reverse_name(&self) -> String {
        format!("{}_reverse", self.name)
    }

    /// Whether the routing rules send primary traffic to the target.
    fn writes_switched(&self, rules: &Rules) -> bool {
        self.tables
            .iter()
            .all(|t| rules.get(t) == Some(&[format!("{}.{t}", self.target_keyspace)][..]))
    }

    /// Whether reads of `suffix` go to the target.
    fn reads_switched(&self, rules: &Rules, suffix: &str) -> bool {
        self.tables.iter().all(|t| {
            rules.get(&format!("{t}{suffix}"))
                == Some(&[format!("{}.{t}", self.target_keyspace)][..])
        })
    }

    fn traffic_state(&self, rules: &Rules) -> String {
        let reads: Vec<&str> = routing::READ_SUFFIXES
            .iter()
            .filter(|s| self.reads_switched(rules, s))
            .map(|s| s.trim_start_matches('@'))
            .collect();
        let reads = match reads.len() {
            0 => "Reads Not Switched".to_owned(),
            2 => "All Reads Switched".to_owned(),
            _ => format!("Reads partially switched: {}", reads.join(",")),
        };
        let writes = if self.writes_switched(rules) {
            "Writes Switched"
        } else {
            "Writes Not Switched"
        };
        format!("{reads}. {writes}")
    }

    async fn show(&self, ts: &TopoServer) -> Result<()> {
        let rules = Rules::load(ts).await?;
        let streams: Vec<serde_json::Value> = self
            .streams
            .iter()
            .map(|(i, s)| {
                serde_json::json!({
                    "id": s.id,
                    "shard": self.targets[*i].shard,
                    "tablet": crate::tmclient::alias_text(&self.targets[*i].tablet),
                    "source_shard": format!("{}/{}", s.source.keyspace, s.source.shard),
                    "state": s.state,
                    "position": s.pos,
                    "message": s.message,
                    "rows_copied": s.rows_copied,
                })
            })
            .collect();
        let value = serde_json::json!({
            "name": self.name,
            "workflow_type": "MoveTables",
            "source": {"keyspace": self.source_keyspace, "shards": self.sources.iter().map(|s| &s.shard).collect::<Vec<_>>()},
            "target": {"keyspace": self.target_keyspace, "shards": self.targets.iter().map(|s| &s.shard).collect::<Vec<_>>()},
            "tables": self.tables,
            "traffic_state": self.traffic_state(&rules),
            "streams": streams,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        Ok(())
    }

    async fn status(&self, ts: &TopoServer) -> Result<()> {
        let rules = Rules::load(ts).await?;
        println!(
            "The following vreplication streams exist for workflow {}.{}:\n",
            self.target_keyspace, self.name
        );
        for (i, s) in &self.streams {
            let target = &self.targets[*i];
            let message = if s.message.is_empty() {
                String::new()
            } else {
                format!(" Message: {}.", s.message)
            };
            println!(
                "id={} on {}/{}: Status: {}. Position: {}. Rows copied: {}.{message}",
                s.id,
                self.target_keyspace,
                crate::tmclient::alias_text(&target.tablet),
                s.state,
                s.pos,
                s.rows_copied
            );
        }
        println!("\nTraffic State: {}", self.traffic_state(&rules));
        Ok(())
    }
}

/// The filter of a stream copying `tables` into `shard` of `keyspace`:
/// every row, or for a sharded keyspace's partial shard only the rows whose
/// primary vindex maps into it.
async fn filter_for(
    ts: &TopoServer,
    keyspace: &str,
    shard: &str,
    tables: &[String],
) -> Result<Filter> {
    let vschema = match ts.get_vschema(keyspace).await {
        Ok(v) => v,
        Err(e) if e.is_no_node() => Default::default(),
        Err(e) => return Err(e.into()),
    };
    let whole = shard == "0" || shard == "-" || !vschema.sharded;
    let mut rules = Vec::with_capacity(tables.len());
    for table in tables {
        let filter = if whole {
            format!("select * from {table}")
        } else {
            let column_vindex = vschema
                .tables
                .get(table)
                .and_then(|t| t.column_vindexes.first())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "table {table} has no primary vindex in the VSchema of {keyspace}"
                    )
                })?;
            let column = if column_vindex.column.is_empty() {
                column_vindex.columns.first().cloned().unwrap_or_default()
            } else {
                column_vindex.column.clone()
            };
            let vindex_type = vschema
                .vindexes
                .get(&column_vindex.name)
                .map(|v| v.r#type.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!("vindex {} is not defined in {keyspace}", column_vindex.name)
                })?;
            format!("select * from {table} where in_keyrange({column}, '{vindex_type}', '{shard}')")
        };
        rules.push(Rule {
            r#match: table.clone(),
            filter,
        });
    }
    Ok(Filter {
        rules,
        ..Default::default()
    })
}
