//! Reshard traffic switches (Vitess's `switchShardReads` and
//! `switchWrites` for resharding): reads move by rewriting the SrvKeyspace
//! partition of each read type; writes move by disabling the losing
//! primaries' query service, waiting for the streams, freezing them,
//! creating the reverse streams, flipping `is_primary_serving` and moving
//! the PRIMARY partition.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use proto::topodata::TabletType;
use topo::TopoServer;

use super::super::steps::catch_up;
use super::super::streams::{
    delete_workflow, read_streams, set_workflow_state, ShardPrimary, StreamInfo, FROZEN,
};
use super::{create_streams, ReshardWorkflow};

/// `switchtraffic` (`forward`) or `reversetraffic` for `types`.
pub async fn switch_traffic(
    ts: &TopoServer,
    wf: &ReshardWorkflow,
    types: &[TabletType],
    timeout: Duration,
    forward: bool,
) -> Result<()> {
    let start = wf.traffic_state(ts).await?;
    let (to, from) = if forward {
        (wf.target_names(), wf.source_names())
    } else {
        (wf.source_names(), wf.target_names())
    };
    for tablet_type in types {
        if matches!(tablet_type, TabletType::Replica | TabletType::Rdonly) {
            ts.migrate_served_type(&wf.keyspace, &to, &from, *tablet_type, &[])
                .await?;
        }
    }
    if types.contains(&TabletType::Primary) {
        let switched = wf.writes_switched(ts).await?;
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
                from: &wf.sources,
                to: &wf.targets,
                active: &wf.name,
                reverse: &reverse,
                timeout,
            }
        } else {
            WriteSwitch {
                from: &wf.targets,
                to: &wf.sources,
                active: &reverse,
                reverse: &wf.name,
                timeout,
            }
        };
        plan.run(ts, wf).await?;
    }
    let command = if forward {
        "SwitchTraffic"
    } else {
        "ReverseTraffic"
    };
    println!(
        "{command} was successful for workflow {}.{}",
        wf.keyspace, wf.name
    );
    println!("Start State: {start}");
    println!("Current State: {}", wf.traffic_state(ts).await?);
    Ok(())
}

/// A move of primary traffic from one set of shards to another.
struct WriteSwitch<'a> {
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
    async fn run(&self, ts: &TopoServer, wf: &ReshardWorkflow) -> Result<()> {
        let keyspace = wf.keyspace.as_str();
        let streams = self.running_streams(keyspace).await?;
        let from_names: Vec<String> = self.from.iter().map(|p| p.shard.clone()).collect();
        let to_names: Vec<String> = self.to.iter().map(|p| p.shard.clone()).collect();
        // stopSourceWrites: the losing primaries stop serving.
        ts.update_disable_query_service(keyspace, &from_names, TabletType::Primary, &[], true)
            .await?;
        let caught_up =
            match tokio::time::timeout(self.timeout, catch_up(self.from, &wf.tables, &streams))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(anyhow!(
                    "the streams did not catch up within {:?}",
                    self.timeout
                )),
            };
        if let Err(e) = caught_up {
            ts.update_disable_query_service(keyspace, &from_names, TabletType::Primary, &[], false)
                .await?;
            return Err(e.context("writes were not switched; the source primaries serve again"));
        }
        for target in self.to {
            set_workflow_state(target, self.active, "Stopped", FROZEN).await?;
        }
        // createReverseVReplication, stopped until the shards serve.
        for source in self.from {
            delete_workflow(source, self.reverse).await?;
        }
        create_streams(
            ts,
            keyspace,
            self.reverse,
            &wf.tables,
            (self.to, self.from),
            false,
            "Stopped",
        )
        .await?;
        // allowTargetWrites, changeShardRouting, MigrateServedType(PRIMARY).
        ts.update_disable_query_service(keyspace, &to_names, TabletType::Primary, &[], false)
            .await?;
        for shard in &from_names {
            ts.update_shard_fields(keyspace, shard, |s| {
                s.is_primary_serving = false;
                Ok(())
            })
            .await?;
        }
        for shard in &to_names {
            ts.update_shard_fields(keyspace, shard, |s| {
                s.is_primary_serving = true;
                Ok(())
            })
            .await?;
        }
        ts.migrate_served_type(keyspace, &to_names, &from_names, TabletType::Primary, &[])
            .await?;
        for source in self.from {
            set_workflow_state(source, self.reverse, "Running", "").await?;
        }
        Ok(())
    }

    /// The streams of the active workflow, all of which must be running.
    async fn running_streams(&self, keyspace: &str) -> Result<Vec<(&ShardPrimary, StreamInfo)>> {
        let mut streams = Vec::new();
        for target in self.to {
            for stream in read_streams(target, self.active).await? {
                if stream.state != "Running" {
                    bail!(
                        "cannot switch writes: stream {} of workflow {} on {keyspace}/{} is {} ({}); wait for the copy to finish",
                        stream.id,
                        self.active,
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
                "cannot switch writes: workflow {} has no streams in {keyspace}",
                self.active
            );
        }
        Ok(streams)
    }
}
