//! Electing and moving a shard's primary: `InitShardPrimary` and `PlannedReparentShard`.
//!
//! * A shard with no primary (`InitShardPrimary`, or PRS then): the new primary gets
//!   `InitPrimary` (writable, type PRIMARY, Shard record updated); every other tablet of the
//!   shard gets `InitReplica` pointing its MariaDB's GTID replication at it.
//! * PRS to the shard's current primary re-points every other tablet at it
//!   (`SetReplicationSource`, a no-op for one already replicating) and makes sure it serves
//!   writable, so running it again finishes a reparent that left tablets behind.
//! * PRS away from a live primary, as Vitess's planned reparenter does it (see
//!   [`planned`]): check that the primary-elect replicates from the current primary and
//!   catches up, demote the current primary (`DemotePrimary`: it stops serving and goes
//!   read-only, returning its final position), wait for the primary-elect to reach that
//!   position (`WaitForPosition`, at most `--wait-replicas-timeout`), promote it
//!   (`PromoteReplica`), record it in the Shard record, rebuild the serving graph, and point
//!   the old primary and every replica and rdonly tablet at it. Until the promotion, any
//!   failure undoes the demotion (`UndoDemotePrimary`) and the command fails with the old
//!   primary still serving writes; after it, tablets that could not be re-pointed are named
//!   and the command fails, with the new primary serving.

mod planned;

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use proto::tabletmanagerdata::{
    InitPrimaryRequest, InitReplicaRequest, SetReplicationSourceRequest, UndoDemotePrimaryRequest,
};
use proto::topodata::{Tablet, TabletAlias, TabletType};
use topo::TopoServer;

use crate::tmclient::{alias_text, connect, rpc_error};
use crate::{all_cells, parse_keyspace_shard};

/// `InitShardPrimary [--force] <keyspace/shard> <tablet alias>`.
#[derive(Args, Debug)]
pub struct InitShardPrimary {
    /// Accepted for compatibility; the election runs the same with or without it.
    #[arg(long)]
    force: bool,
    keyspace_shard: String,
    primary_alias: TabletAlias,
}

impl InitShardPrimary {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let (ks, shard) = parse_keyspace_shard(&self.keyspace_shard)?;
        elect(ts, &ks, &shard, &self.primary_alias).await
    }
}

/// `PlannedReparentShard --new-primary <alias> [--wait-replicas-timeout 30s] <keyspace/shard>`.
#[derive(Args, Debug)]
pub struct PlannedReparentShard {
    #[arg(long = "new-primary", alias = "new_primary")]
    new_primary: TabletAlias,
    /// How long the primary-elect may take to catch up with the current primary (before and
    /// after its demotion), and each other tablet to attach to the new primary.
    #[arg(
        long = "wait-replicas-timeout",
        alias = "wait_replicas_timeout",
        default_value = "30s",
        value_parser = crate::parse_duration
    )]
    wait_replicas_timeout: Duration,
    keyspace_shard: String,
}

impl PlannedReparentShard {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let (ks, shard) = parse_keyspace_shard(&self.keyspace_shard)?;
        let record = ts.get_shard(&ks, &shard).await?;
        match record.primary_alias {
            Some(current) if current == self.new_primary => {
                let repointed =
                    finish_reparent(ts, &ks, &shard, &current, self.wait_replicas_timeout).await?;
                println!(
                    "{current} is already the primary of {ks}/{shard}; {repointed} replica(s) pointed at it"
                );
                Ok(())
            }
            Some(current) => {
                let shard_ref = planned::ShardRef {
                    ts,
                    keyspace: &ks,
                    shard: &shard,
                };
                planned::reparent_away(
                    &shard_ref,
                    &current,
                    &self.new_primary,
                    self.wait_replicas_timeout,
                )
                .await?;
                println!(
                    "{} is the primary of {ks}/{shard} (was {current})",
                    self.new_primary
                );
                Ok(())
            }
            None => elect(ts, &ks, &shard, &self.new_primary).await,
        }
    }
}

/// Makes `primary` the primary of `ks/shard` and every other tablet of the shard its replica.
async fn elect(ts: &TopoServer, ks: &str, shard: &str, primary: &TabletAlias) -> Result<()> {
    let tablets = ts.get_tablets_by_shard(ks, shard).await?;
    let (new_primary, others): (Vec<Tablet>, Vec<Tablet>) = tablets
        .into_iter()
        .partition(|t| t.alias.as_ref() == Some(primary));
    let new_primary = new_primary
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("tablet {primary} is not in shard {ks}/{shard}"))?;

    let mut client = connect(&new_primary).await?;
    let position = client
        .init_primary(InitPrimaryRequest::default())
        .await
        .map_err(|s| rpc_error(&new_primary, "InitPrimary", s))?
        .into_inner()
        .position;
    ts.update_shard_fields(ks, shard, |s| {
        s.primary_alias = Some(primary.clone());
        Ok(())
    })
    .await?;

    let mut failures = Vec::new();
    for replica in &others {
        let result = async {
            let mut client = connect(replica).await?;
            client
                .init_replica(InitReplicaRequest {
                    parent: Some(primary.clone()),
                    replication_position: position.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|s| rpc_error(replica, "InitReplica", s))?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            failures.push(format!("{}: {e:#}", alias_text(replica)));
        }
    }
    ts.rebuild_keyspace_graph(ks, &all_cells(ts).await?).await?;
    if !failures.is_empty() {
        bail!(
            "{primary} is the primary of {ks}/{shard}, but these replicas could not be attached: {}",
            failures.join("; ")
        );
    }
    Ok(())
}

/// PRS to the current primary (Vitess's partial-promotion recovery): a primary left demoted
/// by an interrupted reparent serves writable again, and every other tablet is pointed at it.
async fn finish_reparent(
    ts: &TopoServer,
    ks: &str,
    shard: &str,
    primary: &TabletAlias,
    wait: Duration,
) -> Result<usize> {
    let record = ts.get_tablet(primary).await?;
    if record.r#type() == TabletType::Primary {
        let mut client = connect(&record).await?;
        client
            .undo_demote_primary(UndoDemotePrimaryRequest::default())
            .await
            .map_err(|s| rpc_error(&record, "UndoDemotePrimary", s))?;
    }
    repoint_replicas(ts, ks, shard, primary, "", wait).await
}

/// Points every other replica, rdonly and (former, demoted) primary tablet of `ks/shard` at
/// `primary` (`SetReplicationSource`; a replica already replicating from it resumes where it
/// was), each waiting up to `wait` for `wait_position` when one is given. Returns how many
/// were pointed; fails naming the tablets that could not be.
async fn repoint_replicas(
    ts: &TopoServer,
    ks: &str,
    shard: &str,
    primary: &TabletAlias,
    wait_position: &str,
    wait: Duration,
) -> Result<usize> {
    let replicas: Vec<Tablet> = ts
        .get_tablets_by_shard(ks, shard)
        .await?
        .into_iter()
        .filter(|t| t.alias.as_ref() != Some(primary))
        .filter(|t| {
            matches!(
                t.r#type(),
                TabletType::Replica | TabletType::Rdonly | TabletType::Primary
            )
        })
        .collect();
    let mut failures = Vec::new();
    for replica in &replicas {
        let result = async {
            let mut client = connect(replica).await?;
            let request = planned::timed(
                SetReplicationSourceRequest {
                    parent: Some(primary.clone()),
                    wait_position: wait_position.to_owned(),
                    ..Default::default()
                },
                wait,
            );
            planned::within(wait, &alias_text(replica), "SetReplicationSource", async {
                client.set_replication_source(request).await
            })
            .await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            failures.push(format!("{}: {e:#}", alias_text(replica)));
        }
    }
    if !failures.is_empty() {
        bail!(
            "{primary} is the primary of {ks}/{shard}, but these tablets could not be pointed at it \
             (run PlannedReparentShard --new-primary {primary} {ks}/{shard} again to retry them): {}",
            failures.join("; ")
        );
    }
    Ok(replicas.len())
}
