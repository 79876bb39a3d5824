//! Electing a shard's primary: `InitShardPrimary` and `PlannedReparentShard`.
//!
//! The new primary gets `InitPrimary` (writable, type PRIMARY, shard record updated); every other
//! tablet of the shard gets `InitReplica` pointing its MariaDB's GTID replication at it.
//! `PlannedReparentShard` to the shard's current primary re-points every replica and rdonly
//! tablet at it (`SetReplicationSource`, a no-op for one already replicating), so running it again
//! attaches a replica the election missed. A planned reparent away from a live primary (demote,
//! catch up, promote) is not implemented yet and is refused with a clear error rather than
//! attempted half-way.

use anyhow::{anyhow, bail, Result};
use clap::Args;
use proto::tabletmanagerdata::{
    InitPrimaryRequest, InitReplicaRequest, SetReplicationSourceRequest,
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

/// `PlannedReparentShard --new-primary <alias> <keyspace/shard>`.
#[derive(Args, Debug)]
pub struct PlannedReparentShard {
    #[arg(long = "new-primary", alias = "new_primary")]
    new_primary: TabletAlias,
    keyspace_shard: String,
}

impl PlannedReparentShard {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let (ks, shard) = parse_keyspace_shard(&self.keyspace_shard)?;
        let record = ts.get_shard(&ks, &shard).await?;
        match record.primary_alias {
            Some(current) if current == self.new_primary => {
                let repointed = repoint_replicas(ts, &ks, &shard, &current).await?;
                println!(
                    "{current} is already the primary of {ks}/{shard}; {repointed} replica(s) pointed at it"
                );
                Ok(())
            }
            Some(current) => bail!(
                "{ks}/{shard} already has primary {current}; reparenting away from a live primary is not supported yet"
            ),
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

/// Points every replica and rdonly tablet of `ks/shard` at `primary` (`SetReplicationSource`;
/// a replica already replicating from it resumes where it was). Returns how many were pointed;
/// fails naming the tablets that could not be.
async fn repoint_replicas(
    ts: &TopoServer,
    ks: &str,
    shard: &str,
    primary: &TabletAlias,
) -> Result<usize> {
    let replicas: Vec<Tablet> = ts
        .get_tablets_by_shard(ks, shard)
        .await?
        .into_iter()
        .filter(|t| t.alias.as_ref() != Some(primary))
        .filter(|t| matches!(t.r#type(), TabletType::Replica | TabletType::Rdonly))
        .collect();
    let mut failures = Vec::new();
    for replica in &replicas {
        let result = async {
            let mut client = connect(replica).await?;
            client
                .set_replication_source(SetReplicationSourceRequest {
                    parent: Some(primary.clone()),
                    ..Default::default()
                })
                .await
                .map_err(|s| rpc_error(replica, "SetReplicationSource", s))?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            failures.push(format!("{}: {e:#}", alias_text(replica)));
        }
    }
    if !failures.is_empty() {
        bail!(
            "{primary} is the primary of {ks}/{shard}, but these replicas could not be pointed at it: {}",
            failures.join("; ")
        );
    }
    Ok(replicas.len())
}
