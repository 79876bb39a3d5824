//! The MoveTables steps, each doing to routing rules, denied tables and
//! streams what Vitess's `workflow.Server` does (reference §7.1): create,
//! switch reads, switch writes (forward, or backward for ReverseTraffic),
//! complete and cancel.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use proto::binlogdata::BinlogSource;
use proto::topodata::TabletType;
use topo::TopoServer;

use super::routing::{set_denied_tables, Rules};
use super::streams::{
    create_stream, delete_workflow, primary_position, quote_id, read_streams, set_workflow_state,
    shard_primaries, wait_for_pos, ShardPrimary, FROZEN, WORKFLOW_TYPE_MOVE_TABLES,
};
use super::{filter_for, CreateArgs, Workflow};
use crate::tablets::execute_as_dba;

/// How long tablets get to see new denied tables in their Shard watch.
const DENY_PROPAGATION: Duration = Duration::from_millis(500);

/// `MoveTables create`.
pub async fn create(
    ts: &TopoServer,
    name: &str,
    target_keyspace: &str,
    args: &CreateArgs,
) -> Result<()> {
    let source_keyspace = args.source_keyspace.as_str();
    if source_keyspace == target_keyspace {
        bail!("source and target keyspace must differ");
    }
    ts.get_keyspace(source_keyspace)
        .await
        .with_context(|| format!("source keyspace {source_keyspace}"))?;
    ts.get_keyspace(target_keyspace)
        .await
        .with_context(|| format!("target keyspace {target_keyspace}"))?;
    let sources = shard_primaries(ts, source_keyspace).await?;
    let targets = shard_primaries(ts, target_keyspace).await?;
    let tables = if args.all_tables {
        let result = execute_as_dba(&sources[0].tablet, "SHOW TABLES", 0, false).await?;
        let mut names = Vec::with_capacity(result.rows.len());
        for row in &result.rows {
            let values = row
                .split_values()
                .map_err(|e| anyhow!("bad SHOW TABLES row: {e}"))?;
            if let Some(Some(name)) = values.first() {
                let name = String::from_utf8_lossy(name).into_owned();
                if !args.exclude_tables.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    } else {
        args.tables.clone()
    };
    let tables = tables.as_slice();
    if tables.is_empty() {
        bail!("no tables to move: use --tables or --all-tables");
    }
    for target in &targets {
        if !read_streams(target, name).await?.is_empty() {
            bail!("workflow {name} already exists in keyspace {target_keyspace}");
        }
    }
    // The target VSchema must know the tables before anything changes.
    let mut vschema = match ts.get_vschema(target_keyspace).await {
        Ok(v) => v,
        Err(e) if e.is_no_node() => Default::default(),
        Err(e) => return Err(e.into()),
    };
    for table in tables {
        if vschema.sharded && !vschema.tables.contains_key(table) {
            bail!("table {table} is not in the VSchema of sharded keyspace {target_keyspace}: apply it first");
        }
        vschema.tables.entry(table.clone()).or_default();
    }
    // Copy the schema from the first source shard.
    let mut ddls = Vec::with_capacity(tables.len());
    for table in tables {
        let result = execute_as_dba(
            &sources[0].tablet,
            &format!("SHOW CREATE TABLE {}", quote_id(table)),
            1,
            false,
        )
        .await
        .with_context(|| format!("table {table} in source keyspace {source_keyspace}"))?;
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
        ddls.push(String::from_utf8_lossy(ddl).into_owned());
    }
    for target in &targets {
        for ddl in &ddls {
            execute_as_dba(&target.tablet, ddl, 0, false)
                .await
                .with_context(|| {
                    format!("creating the table on {target_keyspace}/{}", target.shard)
                })?;
        }
    }
    ts.save_vschema(target_keyspace, &vschema).await?;
    let mut rules = Rules::load(ts).await?;
    for table in tables {
        rules.route_all_to(table, source_keyspace, target_keyspace, source_keyspace);
    }
    rules.save(ts).await?;
    set_denied_tables(ts, target_keyspace, tables, true).await?;
    for target in &targets {
        let filter = filter_for(ts, target_keyspace, &target.shard, tables).await?;
        for source in &sources {
            let binlog_source = BinlogSource {
                keyspace: source_keyspace.to_owned(),
                shard: source.shard.clone(),
                filter: Some(filter.clone()),
                stop_after_copy: args.stop_after_copy,
                ..Default::default()
            };
            let state = if args.auto_start { "Init" } else { "Stopped" };
            create_stream(
                target,
                name,
                &binlog_source,
                "",
                state,
                WORKFLOW_TYPE_MOVE_TABLES,
            )
            .await?;
        }
    }
    let wf = Workflow::load(ts, name, target_keyspace).await?;
    wf.status(ts).await
}

/// `switchtraffic` (`forward`) or `reversetraffic` for `types`.
pub async fn switch_traffic(
    ts: &TopoServer,
    wf: &Workflow,
    types: &[TabletType],
    timeout: Duration,
    forward: bool,
) -> Result<()> {
    let mut rules = Rules::load(ts).await?;
    let start = wf.traffic_state(&rules);
    let (to, other) = if forward {
        (&wf.target_keyspace, &wf.source_keyspace)
    } else {
        (&wf.source_keyspace, &wf.target_keyspace)
    };
    let read_suffixes: Vec<&str> = types
        .iter()
        .filter_map(|t| match t {
            TabletType::Replica => Some("@replica"),
            TabletType::Rdonly => Some("@rdonly"),
            _ => None,
        })
        .collect();
    if !read_suffixes.is_empty() {
        for table in &wf.tables {
            for suffix in &read_suffixes {
                rules.route_reads(table, suffix, [to.as_str(), other.as_str()], to);
            }
        }
        rules.save(ts).await?;
    }
    if types.contains(&TabletType::Primary) {
        let switched = wf.writes_switched(&rules);
        if forward && switched {
            bail!("writes of workflow {} have already been switched", wf.name);
        }
        if !forward && !switched {
            bail!(
                "writes of workflow {} have not been switched: nothing to reverse",
                wf.name
            );
        }
        let reverse = wf.reverse_name();
        let plan = if forward {
            WriteSwitch {
                from_keyspace: &wf.source_keyspace,
                to_keyspace: &wf.target_keyspace,
                from: &wf.sources,
                to: &wf.targets,
                active: &wf.name,
                reverse: &reverse,
                timeout,
            }
        } else {
            WriteSwitch {
                from_keyspace: &wf.target_keyspace,
                to_keyspace: &wf.source_keyspace,
                from: &wf.targets,
                to: &wf.sources,
                active: &reverse,
                reverse: &wf.name,
                timeout,
            }
        };
        plan.run(ts, &wf.tables).await?;
    }
    let rules = Rules::load(ts).await?;
    let command = if forward {
        "SwitchTraffic"
    } else {
        "ReverseTraffic"
    };
    println!(
        "{command} was successful for workflow {}.{}",
        wf.target_keyspace, wf.name
    );
    println!("Start State: {start}");
    println!("Current State: {}", wf.traffic_state(&rules));
    Ok(())
}

/// A switch of primary traffic from one keyspace to the other.
struct WriteSwitch<'a> {
    from_keyspace: &'a str,
    to_keyspace: &'a str,
    from: &'a [ShardPrimary],
    to: &'a [ShardPrimary],
    /// Workflow whose streams run on `to`, reading `from`.
    active: &'a str,
    /// Workflow created on `from`, reading `to`, once writes moved.
    reverse: &'a str,
    /// How long the streams get to catch up.
    timeout: Duration,
}

impl WriteSwitch<'_> {
    async fn run(&self, ts: &TopoServer, tables: &[String]) -> Result<()> {
        let mut streams = Vec::new();
        for target in self.to {
            for stream in read_streams(target, self.active).await? {
                if stream.state != "Running" {
                    bail!(
                        "cannot switch writes: stream {} of workflow {} on {}/{} is {} ({}); wait for the copy to finish",
                        stream.id,
                        self.active,
                        self.to_keyspace,
                        target.shard,
                        stream.state,
                        stream.message
                    );
                }
                streams.push((target, stream));
            }
        }
        if streams.is_empty() {
            bail!(
                "cannot switch writes: workflow {} has no streams in {}",
                self.active,
                self.to_keyspace
            );
        }
        // stopSourceWrites: deny on the side losing the writes, allow on the other.
        set_denied_tables(ts, self.from_keyspace, tables, true).await?;
        set_denied_tables(ts, self.to_keyspace, tables, false).await?;
        let caught_up =
            match tokio::time::timeout(self.timeout, self.catch_up(tables, &streams)).await {
                Ok(result) => result,
                Err(_) => Err(anyhow!(
                    "the streams did not catch up within {:?}",
                    self.timeout
                )),
            };
        if let Err(e) = caught_up {
            set_denied_tables(ts, self.to_keyspace, tables, true).await?;
            set_denied_tables(ts, self.from_keyspace, tables, false).await?;
            return Err(e.context("writes were not switched; denied tables restored"));
        }
        for target in self.to {
            set_workflow_state(target, self.active, "Stopped", FROZEN).await?;
        }
        // createReverseVReplication, stopped until routing has moved.
        for source in self.from {
            delete_workflow(source, self.reverse).await?;
        }
        for target in self.to {
            let pos = primary_position(target).await?;
            for source in self.from {
                let binlog_source = BinlogSource {
                    keyspace: self.to_keyspace.to_owned(),
                    shard: target.shard.clone(),
                    filter: Some(filter_for(ts, self.from_keyspace, &source.shard, tables).await?),
                    ..Default::default()
                };
                create_stream(
                    source,
                    self.reverse,
                    &binlog_source,
                    &pos,
                    "Stopped",
                    WORKFLOW_TYPE_MOVE_TABLES,
                )
                .await?;
            }
        }
        let mut rules = Rules::load(ts).await?;
        for table in tables {
            rules.route_writes(table, self.from_keyspace, self.to_keyspace);
        }
        rules.save(ts).await?;
        for source in self.from {
            set_workflow_state(source, self.reverse, "Running", "").await?;
        }
        Ok(())
    }

    async fn catch_up(
        &self,
        tables: &[String],
        streams: &[(&ShardPrimary, super::streams::StreamInfo)],
    ) -> Result<()> {
        catch_up(self.from, tables, streams).await
    }
}

/// Flushes writes racing the denial (`LOCK TABLES … READ` twice on each of
/// `from`), then waits until every stream has applied its source primary's position.
pub(super) async fn catch_up(
    from: &[ShardPrimary],
    tables: &[String],
    streams: &[(&ShardPrimary, super::streams::StreamInfo)],
) -> Result<()> {
    tokio::time::sleep(DENY_PROPAGATION).await;
    let lock = format!(
        "LOCK TABLES {}",
        tables
            .iter()
            .map(|t| format!("{} READ", quote_id(t)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut positions = HashMap::new();
    for source in from {
        for _ in 0..2 {
            execute_as_dba(&source.tablet, &lock, 0, false).await?;
        }
        positions.insert(source.shard.clone(), primary_position(source).await?);
    }
    for (target, stream) in streams {
        let pos = positions.get(&stream.source.shard).ok_or_else(|| {
            anyhow!(
                "stream {} reads unknown shard {}",
                stream.id,
                stream.source.shard
            )
        })?;
        wait_for_pos(target, stream.id, pos)
            .await
            .with_context(|| format!("stream {} did not catch up to {pos}", stream.id))?;
    }
    Ok(())
}

/// `complete`: after the write switch, drop the source tables and clean up.
pub async fn complete(
    ts: &TopoServer,
    wf: &Workflow,
    keep_data: bool,
    keep_routing_rules: bool,
) -> Result<()> {
    let mut rules = Rules::load(ts).await?;
    if !wf.writes_switched(&rules) {
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
    if !keep_data {
        drop_tables(&wf.sources, &wf.tables).await?;
    }
    remove_from_vschema(ts, &wf.source_keyspace, &wf.tables).await?;
    set_denied_tables(ts, &wf.source_keyspace, &wf.tables, false).await?;
    set_denied_tables(ts, &wf.target_keyspace, &wf.tables, false).await?;
    if !keep_routing_rules {
        for table in &wf.tables {
            rules.remove_table(table, [&wf.source_keyspace, &wf.target_keyspace]);
        }
    }
    rules.save(ts).await?;
    println!(
        "Successfully completed the {} workflow in the {} keyspace",
        wf.name, wf.target_keyspace
    );
    Ok(())
}

/// `cancel`: before the write switch, undo the create.
pub async fn cancel(
    ts: &TopoServer,
    wf: &Workflow,
    keep_data: bool,
    keep_routing_rules: bool,
) -> Result<()> {
    let mut rules = Rules::load(ts).await?;
    if wf.writes_switched(&rules) {
        bail!(
            "cannot cancel workflow {}: writes have been switched (use reversetraffic first)",
            wf.name
        );
    }
    for target in &wf.targets {
        delete_workflow(target, &wf.name).await?;
    }
    if !keep_data {
        drop_tables(&wf.targets, &wf.tables).await?;
    }
    let sharded = ts
        .get_vschema(&wf.target_keyspace)
        .await
        .map(|v| v.sharded)
        .unwrap_or(false);
    if !sharded {
        remove_from_vschema(ts, &wf.target_keyspace, &wf.tables).await?;
    }
    set_denied_tables(ts, &wf.target_keyspace, &wf.tables, false).await?;
    if !keep_routing_rules {
        for table in &wf.tables {
            rules.remove_table(table, [&wf.source_keyspace, &wf.target_keyspace]);
        }
    }
    rules.save(ts).await?;
    println!(
        "Successfully cancelled the {} workflow in the {} keyspace",
        wf.name, wf.target_keyspace
    );
    Ok(())
}

async fn drop_tables(primaries: &[ShardPrimary], tables: &[String]) -> Result<()> {
    for primary in primaries {
        for table in tables {
            execute_as_dba(
                &primary.tablet,
                &format!("DROP TABLE IF EXISTS {}", quote_id(table)),
                0,
                false,
            )
            .await?;
        }
    }
    Ok(())
}

async fn remove_from_vschema(ts: &TopoServer, keyspace: &str, tables: &[String]) -> Result<()> {
    let mut vschema = match ts.get_vschema(keyspace).await {
        Ok(v) => v,
        Err(e) if e.is_no_node() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let before = vschema.tables.len();
    vschema.tables.retain(|t, _| !tables.contains(t));
    if vschema.tables.len() != before {
        ts.save_vschema(keyspace, &vschema).await?;
    }
    Ok(())
}
