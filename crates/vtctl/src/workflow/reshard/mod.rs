//! `Reshard`, with vtctldclient's syntax:
//!
//! ```text
//! vtctl Reshard --workflow cust2cust --target-keyspace customer create --source-shards 0 --target-shards -80,80-
//! vtctl Reshard --workflow cust2cust --target-keyspace customer show|status
//! vtctl Reshard --workflow cust2cust --target-keyspace customer switchtraffic --tablet-types rdonly,replica
//! vtctl Reshard --workflow cust2cust --target-keyspace customer switchtraffic --tablet-types primary
//! vtctl Reshard --workflow cust2cust --target-keyspace customer reversetraffic
//! vtctl Reshard --workflow cust2cust --target-keyspace customer complete|cancel
//! ```
//!
//! Unlike MoveTables, Reshard moves traffic with shard-level mechanisms
//! (reference §7.1): reads by rewriting the SrvKeyspace partition of each
//! switched tablet type, writes by disabling the source primaries' query
//! service, waiting for the streams, flipping `is_primary_serving` and
//! moving the PRIMARY partition. The streams run on the target primaries,
//! one per overlapping source shard, each filtered by `in_keyrange` on the
//! keyspace's primary vindex.

mod switch;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use proto::binlogdata::BinlogSource;
use proto::topodata::TabletType;
use topo::TopoServer;

use super::streams::{
    create_stream, delete_workflow, primaries, read_streams, set_workflow_state, ShardPrimary,
    StreamInfo, WORKFLOW_TYPE_RESHARD,
};
use super::{filter_for, SwitchArgs};
use crate::tablets::execute_as_dba;

/// `Reshard --workflow W --target-keyspace K <action>`.
#[derive(Args, Debug)]
pub struct Reshard {
    /// Workflow name.
    #[arg(long)]
    workflow: String,
    /// The keyspace being resharded.
    #[arg(long = "target-keyspace")]
    target_keyspace: String,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Copy the source shards' rows into the target shards and follow them.
    #[command(name = "create", alias = "Create")]
    Create(CreateArgs),
    /// The workflow's streams as JSON.
    #[command(name = "show", alias = "Show")]
    Show,
    /// The state of every stream and of the traffic.
    #[command(name = "status", alias = "Status", alias = "progress")]
    Status,
    /// Move reads and/or writes to the target shards.
    #[command(name = "switchtraffic", alias = "SwitchTraffic")]
    SwitchTraffic(SwitchArgs),
    /// Move reads and/or writes back to the source shards.
    #[command(name = "reversetraffic", alias = "ReverseTraffic")]
    ReverseTraffic(SwitchArgs),
    /// After the write switch: delete the streams (the source shards stay for DeleteShards).
    #[command(name = "complete", alias = "Complete")]
    Complete,
    /// Before the write switch: delete the streams and the copied rows.
    #[command(name = "cancel", alias = "Cancel")]
    Cancel(CancelArgs),
}

/// The flags of `Reshard create`.
#[derive(Args, Debug)]
struct CreateArgs {
    /// Shards to split or merge.
    #[arg(
        long = "source-shards",
        value_delimiter = ',',
        required = true,
        allow_hyphen_values = true
    )]
    source_shards: Vec<String>,
    /// Shards that receive the rows (they exist and do not serve yet).
    #[arg(
        long = "target-shards",
        value_delimiter = ',',
        required = true,
        allow_hyphen_values = true
    )]
    target_shards: Vec<String>,
}

#[derive(Args, Debug)]
struct CancelArgs {
    /// Leave the copied tables on the target shards.
    #[arg(long = "keep-data")]
    keep_data: bool,
}

impl Reshard {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        if let Action::Create(args) = &self.action {
            return create(ts, &self.workflow, &self.target_keyspace, args).await;
        }
        let wf = ReshardWorkflow::load(ts, &self.workflow, &self.target_keyspace).await?;
        match self.action {
            Action::Create(_) => Ok(()),
            Action::Show => wf.show(ts).await,
            Action::Status => wf.status(ts).await,
            Action::SwitchTraffic(args) => {
                switch::switch_traffic(ts, &wf, &args.types(), args.timeout, true).await
            }
            Action::ReverseTraffic(args) => {
                switch::switch_traffic(ts, &wf, &args.types(), args.timeout, false).await
            }
            Action::Complete => complete(ts, &wf).await,
            Action::Cancel(args) => cancel(ts, &wf, args.keep_data).await,
        }
    }
}

/// A Reshard workflow as found on the target primaries.
#[derive(Debug)]
pub struct ReshardWorkflow {
    name: String,
    keyspace: String,
    tables: Vec<String>,
    sources: Vec<ShardPrimary>,
    targets: Vec<ShardPrimary>,
    /// The forward streams, with the index of their target in `targets`.
    streams: Vec<(usize, StreamInfo)>,
}

impl ReshardWorkflow {
    async fn load(ts: &TopoServer, name: &str, keyspace: &str) -> Result<ReshardWorkflow> {
        let shards = ts.get_shard_names(keyspace).await?;
        let all = primaries(ts, keyspace, &shards).await?;
        let mut targets = Vec::new();
        let mut streams = Vec::new();
        let mut source_names: Vec<String> = Vec::new();
        for primary in all.iter() {
            let found = read_streams(primary, name).await?;
            if found.is_empty() {
                continue;
            }
            for stream in found {
                if !source_names.contains(&stream.source.shard) {
                    source_names.push(stream.source.shard.clone());
                }
                streams.push((targets.len(), stream));
            }
            targets.push(primary.clone());
        }
        let Some((_, first)) = streams.first() else {
            bail!("workflow {name} not found in keyspace {keyspace}");
        };
        let mut tables: Vec<String> = Vec::new();
        for rule in first.source.filter.iter().flat_map(|f| &f.rules) {
            if !tables.contains(&rule.r#match) {
                tables.push(rule.r#match.clone());
            }
        }
        let sources = all
            .into_iter()
            .filter(|p| source_names.contains(&p.shard))
            .collect();
        Ok(ReshardWorkflow {
            name: name.to_owned(),
            keyspace: keyspace.to_owned(),
            tables,
            sources,
            targets,
            streams,
        })
    }

    fn reverse_name(&self) -> String {
        format!("{}_reverse", self.name)
    }

    fn source_names(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.shard.clone()).collect()
    }

    fn target_names(&self) -> Vec<String> {
        self.targets.iter().map(|s| s.shard.clone()).collect()
    }

    /// Whether the target shards serve primary traffic.
    async fn writes_switched(&self, ts: &TopoServer) -> Result<bool> {
        for target in &self.targets {
            if !ts
                .get_shard(&self.keyspace, &target.shard)
                .await?
                .is_primary_serving
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The read types whose SrvKeyspace partition lists the target shards (in every cell).
    async fn reads_switched(&self, ts: &TopoServer) -> Result<Vec<TabletType>> {
        let cells = crate::all_cells(ts).await?;
        let targets = self.target_names();
        let mut switched = Vec::new();
        for tablet_type in [TabletType::Rdonly, TabletType::Replica] {
            let mut all = !cells.is_empty();
            for cell in &cells {
                let srv = ts.get_srv_keyspace(cell, &self.keyspace).await?;
                let served = topo::migrate::served_shards(&srv, tablet_type);
                all &= targets.iter().all(|t| served.contains(t));
            }
            if all {
                switched.push(tablet_type);
            }
        }
        Ok(switched)
    }

    async fn traffic_state(&self, ts: &TopoServer) -> Result<String> {
        let reads = self.reads_switched(ts).await?;
        let reads = match reads.len() {
            0 => "Reads Not Switched".to_owned(),
            2 => "All Reads Switched".to_owned(),
            _ => format!(
                "Reads partially switched: {}",
                reads
                    .iter()
                    .map(|t| t.as_str_name().to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        let writes = if self.writes_switched(ts).await? {
            "Writes Switched"
        } else {
            "Writes Not Switched"
        };
        Ok(format!("{reads}. {writes}"))
    }

    async fn show(&self, ts: &TopoServer) -> Result<()> {
        let streams: Vec<serde_json::Value> = self
            .streams
            .iter()
            .map(|(i, s)| {
                serde_json::json!({
                    "id": s.id,
                    "shard": self.targets[*i].shard,
                    "tablet": crate::tmclient::alias_text(&self.targets[*i].tablet),
                    "source_shard": format!("{}/{}", s.source.keyspace, s.source.shard),
                    "filter": s.source.filter.iter().flat_map(|f| &f.rules).map(|r| &r.filter).collect::<Vec<_>>(),
                    "state": s.state,
                    "position": s.pos,
                    "message": s.message,
                    "rows_copied": s.rows_copied,
                })
            })
            .collect();
        let value = serde_json::json!({
            "name": self.name,
            "workflow_type": "Reshard",
            "source": {"keyspace": self.keyspace, "shards": self.source_names()},
            "target": {"keyspace": self.keyspace, "shards": self.target_names()},
            "tables": self.tables,
            "traffic_state": self.traffic_state(ts).await?,
            "streams": streams,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        Ok(())
    }

    async fn status(&self, ts: &TopoServer) -> Result<()> {
        println!(
            "The following vreplication streams exist for workflow {}.{}:\n",
            self.keyspace, self.name
        );
        for (i, s) in &self.streams {
            let message = if s.message.is_empty() {
                String::new()
            } else {
                format!(" Message: {}.", s.message)
            };
            println!(
                "id={} on {}/{}: Status: {}. Position: {}. Rows copied: {}.{message}",
                s.id,
                self.targets[*i].shard,
                crate::tmclient::alias_text(&self.targets[*i].tablet),
                s.state,
                s.pos,
                s.rows_copied
            );
        }
        println!("\nTraffic State: {}", self.traffic_state(ts).await?);
        Ok(())
    }
}

/// Whether the key ranges of shards `a` and `b` of `keyspace` overlap.
async fn overlap(ts: &TopoServer, keyspace: &str, a: &str, b: &str) -> Result<bool> {
    let a = ts.get_shard(keyspace, a).await?;
    let b = ts.get_shard(keyspace, b).await?;
    Ok(topo::keyrange::intersect(
        a.key_range.as_ref(),
        b.key_range.as_ref(),
    ))
}

/// Creates on each of `to` one stream of `workflow` per overlapping shard
/// of `from`, starting at that shard's current position (or copying first
/// when `copy`), in `state`.
async fn create_streams(
    ts: &TopoServer,
    keyspace: &str,
    workflow: &str,
    tables: &[String],
    (from, to): (&[ShardPrimary], &[ShardPrimary]),
    copy: bool,
    state: &str,
) -> Result<()> {
    for target in to {
        let filter = filter_for(ts, keyspace, &target.shard, tables).await?;
        for source in from {
            if !overlap(ts, keyspace, &source.shard, &target.shard).await? {
                continue;
            }
            let pos = if copy {
                String::new()
            } else {
                super::streams::primary_position(source).await?
            };
            let binlog_source = BinlogSource {
                keyspace: keyspace.to_owned(),
                shard: source.shard.clone(),
                filter: Some(filter.clone()),
                ..Default::default()
            };
            create_stream(
                target,
                workflow,
                &binlog_source,
                &pos,
                state,
                WORKFLOW_TYPE_RESHARD,
            )
            .await?;
        }
    }
    Ok(())
}

/// `Reshard create`.
async fn create(ts: &TopoServer, name: &str, keyspace: &str, args: &CreateArgs) -> Result<()> {
    ts.get_keyspace(keyspace)
        .await
        .with_context(|| format!("keyspace {keyspace}"))?;
    let vschema = ts
        .get_vschema(keyspace)
        .await
        .with_context(|| format!("VSchema of keyspace {keyspace}"))?;
    if !vschema.sharded {
        bail!("keyspace {keyspace} is not sharded in its VSchema: apply a sharded VSchema first");
    }
    for shard in &args.source_shards {
        if !ts.get_shard(keyspace, shard).await?.is_primary_serving {
            bail!("source shard {keyspace}/{shard} is not serving");
        }
    }
    for shard in &args.target_shards {
        if args.source_shards.contains(shard) {
            bail!("shard {keyspace}/{shard} is both a source and a target");
        }
        let record = ts
            .get_shard(keyspace, shard)
            .await
            .with_context(|| format!("target shard {keyspace}/{shard}: start its tablets first"))?;
        if record.is_primary_serving {
            bail!("target shard {keyspace}/{shard} is already serving");
        }
    }
    let sources = primaries(ts, keyspace, &args.source_shards).await?;
    let targets = primaries(ts, keyspace, &args.target_shards).await?;
    for target in &targets {
        if !read_streams(target, name).await?.is_empty() {
            bail!("workflow {name} already exists in keyspace {keyspace}");
        }
    }
    let tables = show_tables(&sources[0]).await?;
    let tables: Vec<String> = tables
        .into_iter()
        .filter(|t| vschema.tables.contains_key(t))
        .collect();
    if tables.is_empty() {
        bail!(
            "no table of {keyspace}/{} is in its VSchema",
            sources[0].shard
        );
    }
    // Each target needs the schema before its streams start.
    for target in &targets {
        let existing = show_tables(target).await?;
        for table in tables.iter().filter(|t| !existing.contains(t)) {
            let ddl = show_create_table(&sources[0], table).await?;
            execute_as_dba(&target.tablet, &ddl, 0, false)
                .await
                .with_context(|| format!("creating {table} on {keyspace}/{}", target.shard))?;
        }
    }
    create_streams(
        ts,
        keyspace,
        name,
        &tables,
        (&sources, &targets),
        true,
        "Init",
    )
    .await?;
    let wf = ReshardWorkflow::load(ts, name, keyspace).await?;
    wf.status(ts).await
}

/// `complete`: after the write switch, delete the streams of both directions.
async fn complete(ts: &TopoServer, wf: &ReshardWorkflow) -> Result<()> {
    if !wf.writes_switched(ts).await? {
        bail!(
            "cannot complete workflow {}: writes have not been switched (run switchtraffic first)",
            wf.name
        );
    }
    let reverse = wf.reverse_name();
    for source in &wf.sources {
        delete_workflow(source, &reverse).await?;
    }
    for target in &wf.targets {
        delete_workflow(target, &wf.name).await?;
    }
    println!(
        "Successfully completed the {} workflow in the {} keyspace",
        wf.name, wf.keyspace
    );
    println!(
        "The source shards {} no longer serve; remove them with DeleteShards --recursive",
        wf.source_names().join(",")
    );
    Ok(())
}

/// `cancel`: before the write switch, put reads back and delete the streams and copies.
async fn cancel(ts: &TopoServer, wf: &ReshardWorkflow, keep_data: bool) -> Result<()> {
    if wf.writes_switched(ts).await? {
        bail!(
            "cannot cancel workflow {}: writes have been switched (use reversetraffic first)",
            wf.name
        );
    }
    for tablet_type in wf.reads_switched(ts).await? {
        ts.migrate_served_type(
            &wf.keyspace,
            &wf.source_names(),
            &wf.target_names(),
            tablet_type,
            &[],
        )
        .await?;
    }
    for target in &wf.targets {
        set_workflow_state(target, &wf.name, "Stopped", "").await?;
        delete_workflow(target, &wf.name).await?;
        if !keep_data {
            for table in &wf.tables {
                execute_as_dba(
                    &target.tablet,
                    &format!("DROP TABLE IF EXISTS {}", super::streams::quote_id(table)),
                    0,
                    false,
                )
                .await?;
            }
        }
    }
    println!(
        "Successfully cancelled the {} workflow in the {} keyspace",
        wf.name, wf.keyspace
    );
    Ok(())
}

async fn show_tables(primary: &ShardPrimary) -> Result<Vec<String>> {
    let result = execute_as_dba(&primary.tablet, "SHOW TABLES", 0, false).await?;
    let mut names = Vec::with_capacity(result.rows.len());
    for row in &result.rows {
        let values = row
            .split_values()
            .map_err(|e| anyhow!("bad SHOW TABLES row: {e}"))?;
        if let Some(Some(name)) = values.first() {
            names.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(names)
}

async fn show_create_table(primary: &ShardPrimary, table: &str) -> Result<String> {
    let result = execute_as_dba(
        &primary.tablet,
        &format!("SHOW CREATE TABLE {}", super::streams::quote_id(table)),
        1,
        false,
    )
    .await?;
    let row = result
        .rows
        .first()
        .ok_or_else(|| anyhow!("no schema for table {table}"))?;
    let values = row
        .split_values()
        .map_err(|e| anyhow!("bad SHOW CREATE TABLE row: {e}"))?;
    let ddl = values
        .get(1)
        .copied()
        .flatten()
        .ok_or_else(|| anyhow!("no CREATE TABLE for {table}"))?;
    Ok(String::from_utf8_lossy(ddl).into_owned())
}
