//! PlannedReparentShard away from a live primary (Vitess's `performGracefulPromotion` and
//! `reparentTablets`, `go/vt/vtctl/reparentutil/planned_reparenter.go`).
//!
//! Every step before the promotion can be undone, and is, when a later one fails: the
//! command then fails with the current primary serving writes as before. The steps:
//!
//! 1. The primary-elect must be a replica or rdonly tablet of the shard whose replication is
//!    not broken; it is pointed at the current primary (`SetReplicationSource`, a no-op when
//!    it already replicates from it) and must reach the current primary's position within
//!    `--wait-replicas-timeout`. Nothing has changed yet when this fails.
//! 2. `DemotePrimary` on the current primary: no more writes; its final position.
//! 3. `WaitForPosition` on the primary-elect for that position (`--wait-replicas-timeout`).
//!    On failure: `UndoDemotePrimary`.
//! 4. `PromoteReplica` on the primary-elect. On failure: the primary-elect is pointed back at
//!    the old primary, the demotion undone, the Shard record restored.
//! 5. Shard record and serving graph name the new primary; the old primary and every other
//!    tablet replicate from it.

use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use proto::tabletmanagerdata::{
    DemotePrimaryRequest, PrimaryPositionRequest, PromoteReplicaRequest, ReplicationStatusRequest,
    SetReplicationSourceRequest, UndoDemotePrimaryRequest, WaitForPositionRequest,
};
use proto::tabletmanagerservice::tablet_manager_client::TabletManagerClient;
use proto::topodata::{Tablet, TabletAlias, TabletType};
use tonic::transport::Channel;
use topo::TopoServer;

use crate::all_cells;
use crate::tmclient::connect;

/// How long a tablet may take for one step that waits for nothing else (Vitess's
/// `--remote_operation_timeout` is 15s; a demotion waits for running queries first).
const REMOTE_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The shard being reparented.
pub(super) struct ShardRef<'a> {
    pub ts: &'a TopoServer,
    pub keyspace: &'a str,
    pub shard: &'a str,
}

impl std::fmt::Display for ShardRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.keyspace, self.shard)
    }
}

/// One tablet of the reparent: its alias and a tablet manager client.
struct Party {
    alias: TabletAlias,
    client: TabletManagerClient<Channel>,
}

impl Party {
    async fn connect(record: &Tablet, alias: &TabletAlias) -> Result<Party> {
        Ok(Party {
            alias: alias.clone(),
            client: connect(record).await?,
        })
    }
}

/// Moves the primary of `shard` from `current` to `elect`; see the module doc.
pub(super) async fn reparent_away(
    shard: &ShardRef<'_>,
    current: &TabletAlias,
    elect: &TabletAlias,
    wait: Duration,
) -> Result<()> {
    let tablets = shard
        .ts
        .get_tablets_by_shard(shard.keyspace, shard.shard)
        .await?;
    let find = |alias: &TabletAlias| {
        tablets
            .iter()
            .find(|t| t.alias.as_ref() == Some(alias))
            .cloned()
    };
    let elect_record = find(elect)
        .ok_or_else(|| anyhow!("primary-elect tablet {elect} is not in shard {shard}"))?;
    let elect_type = elect_record.r#type();
    if !matches!(elect_type, TabletType::Replica | TabletType::Rdonly) {
        bail!(
            "primary-elect tablet {elect} is {}, not a REPLICA or RDONLY tablet of {shard}",
            elect_type.as_str_name()
        );
    }
    let current_record = find(current).ok_or_else(|| {
        anyhow!("the Shard record names {current} primary of {shard}, but that tablet is not in the shard")
    })?;
    let mut old = Party::connect(&current_record, current)
        .await
        .context("the current primary must be reachable to perform PlannedReparentShard")?;
    let mut new = Party::connect(&elect_record, elect).await?;
    let elect_name = elect.to_string();

    check_replication(&mut old, &mut new, wait).await?;
    tracing::info!(%current, "demoting the current primary");
    let position = demote(&mut old).await?;
    tracing::info!(%elect, %position, "waiting for the primary-elect to catch up");
    let caught_up = within(wait, &elect_name, "WaitForPosition", async {
        new.client
            .wait_for_position(timed(
                WaitForPositionRequest {
                    position: position.clone(),
                },
                wait,
            ))
            .await
    })
    .await;
    if let Err(e) = caught_up {
        let why = format!(
            "primary-elect tablet {elect} did not catch up with the demoted primary's position {position}: {e:#}"
        );
        return Err(undo_demotion(&mut old, why).await);
    }
    tracing::info!(%elect, "promoting the primary-elect");
    let promoted = within(wait, &elect_name, "PromoteReplica", async {
        new.client
            .promote_replica(PromoteReplicaRequest::default())
            .await
    })
    .await;
    let new_position = match promoted {
        Ok(response) => response.position,
        Err(e) => return Err(abandon_promotion(shard, &mut old, &mut new, e).await),
    };
    let recorded = async {
        shard
            .ts
            .update_shard_fields(shard.keyspace, shard.shard, |s| {
                s.primary_alias = Some(elect.clone());
                Ok(())
            })
            .await?;
        let cells = all_cells(shard.ts).await?;
        shard
            .ts
            .rebuild_keyspace_graph(shard.keyspace, &cells)
            .await?;
        anyhow::Ok(())
    };
    recorded.await.with_context(|| {
        format!(
            "{elect} was promoted and takes writes, but the topology could not be updated; \
             run PlannedReparentShard --new-primary {elect} {shard} again to finish"
        )
    })?;
    tracing::info!(%elect, "pointing the other tablets at the new primary");
    super::repoint_replicas(
        shard.ts,
        shard.keyspace,
        shard.shard,
        elect,
        &new_position,
        wait,
    )
    .await?;
    Ok(())
}

/// Step 1: the primary-elect's replication is not broken, and it reaches the current
/// primary's present position within `wait`. Changes nothing but (re)starting its
/// replication from the current primary.
async fn check_replication(old: &mut Party, new: &mut Party, wait: Duration) -> Result<()> {
    let elect = new.alias.to_string();
    let current = old.alias.to_string();
    let status = within(
        REMOTE_OPERATION_TIMEOUT,
        &elect,
        "ReplicationStatus",
        async {
            new.client
                .replication_status(ReplicationStatusRequest {})
                .await
        },
    )
    .await
    .with_context(|| {
        format!(
            "cannot read the replication status of primary-elect tablet {elect} (one that \
             does not replicate yet is attached by PlannedReparentShard --new-primary \
             {current}); nothing was changed"
        )
    })?
    .status
    .ok_or_else(|| anyhow!("primary-elect tablet {elect} reports no replication status"))?;
    if !status.sql_thread_running && !status.last_sql_error.is_empty() {
        bail!(
            "replication on primary-elect tablet {elect} is broken ({}); replication must be \
             healthy to perform PlannedReparentShard; nothing was changed",
            status.last_sql_error
        );
    }
    let snapshot = within(
        REMOTE_OPERATION_TIMEOUT,
        &current,
        "PrimaryPosition",
        async { old.client.primary_position(PrimaryPositionRequest {}).await },
    )
    .await
    .context("the current primary must be healthy to perform PlannedReparentShard")?
    .position;
    let parent = old.alias.clone();
    within(wait, &elect, "SetReplicationSource", async {
        new.client
            .set_replication_source(timed(
                SetReplicationSourceRequest {
                    parent: Some(parent),
                    wait_position: snapshot.clone(),
                    ..Default::default()
                },
                wait,
            ))
            .await
    })
    .await
    .with_context(|| {
        format!(
            "replication on primary-elect tablet {elect} did not reach the current primary's \
             position {snapshot}; replication must be healthy to perform PlannedReparentShard; \
             nothing was changed"
        )
    })?;
    Ok(())
}

/// Step 2: `DemotePrimary`; its final position. A failed demotion is undone (the tablet
/// reverts what it did itself; this covers a call that timed out after the tablet demoted).
async fn demote(old: &mut Party) -> Result<String> {
    let current = old.alias.to_string();
    let demoted = within(REMOTE_OPERATION_TIMEOUT, &current, "DemotePrimary", async {
        old.client.demote_primary(DemotePrimaryRequest {}).await
    })
    .await
    .and_then(|response| {
        response
            .primary_status
            .map(|status| status.position)
            .filter(|position| !position.is_empty())
            .ok_or_else(|| anyhow!("DemotePrimary returned no position"))
    });
    match demoted {
        Ok(position) => Ok(position),
        Err(e) => {
            let why = format!("cannot demote the current primary {current}: {e:#}");
            Err(undo_demotion(old, why).await)
        }
    }
}

/// Undoes the demotion of the old primary after `why`; the error to report says whether
/// the old primary serves again.
async fn undo_demotion(old: &mut Party, why: String) -> anyhow::Error {
    let alias = old.alias.to_string();
    let undone = within(
        REMOTE_OPERATION_TIMEOUT,
        &alias,
        "UndoDemotePrimary",
        async {
            old.client
                .undo_demote_primary(UndoDemotePrimaryRequest::default())
                .await
        },
    )
    .await;
    match undone {
        Ok(_) => anyhow!(
            "{why}; the demotion was undone and {alias} is still the primary, taking writes"
        ),
        Err(e) => anyhow!(
            "{why}; undoing the demotion of {alias} failed too ({e:#}): it may refuse writes \
             until PlannedReparentShard --new-primary {alias} is run again"
        ),
    }
}

/// Step 4 failed with `error`: the primary-elect goes back to replicating from the old
/// primary (read-only, REPLICA), the old primary serves again, and the Shard record names it.
async fn abandon_promotion(
    shard: &ShardRef<'_>,
    old: &mut Party,
    new: &mut Party,
    error: anyhow::Error,
) -> anyhow::Error {
    let elect = new.alias.to_string();
    let parent = old.alias.clone();
    let why = format!("primary-elect tablet {elect} could not be promoted: {error:#}");
    let repointed = within(
        REMOTE_OPERATION_TIMEOUT,
        &elect,
        "SetReplicationSource",
        async {
            new.client
                .set_replication_source(SetReplicationSourceRequest {
                    parent: Some(parent.clone()),
                    ..Default::default()
                })
                .await
        },
    )
    .await;
    if let Err(e) = &repointed {
        tracing::warn!(%elect, error = %e, "cannot point the primary-elect back at the old primary");
    }
    let restored = shard
        .ts
        .update_shard_fields(shard.keyspace, shard.shard, |s| {
            s.primary_alias = Some(parent.clone());
            Ok(())
        })
        .await;
    if let Err(e) = &restored {
        tracing::warn!(error = %e, "cannot restore the Shard record's primary");
    }
    let error = undo_demotion(old, why).await;
    match (repointed, restored) {
        (Ok(_), Ok(_)) => error,
        _ => error.context(format!(
            "{elect} may be half-promoted: run PlannedReparentShard --new-primary {parent} {shard} \
             to point it back"
        )),
    }
}

/// A request carrying `limit` as its gRPC deadline (`grpc-timeout`): the tablet waits that
/// long rather than its own default.
pub(super) fn timed<T>(message: T, limit: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(limit);
    request
}

/// Runs one tablet manager call on tablet `alias`, failing after `limit` with an error
/// naming the tablet.
pub(super) async fn within<T>(
    limit: Duration,
    alias: &str,
    rpc: &str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) => Err(anyhow!(
            "{rpc} on tablet {alias} failed: {}",
            status.message()
        )),
        Err(_) => Err(anyhow!("{rpc} on tablet {alias} timed out after {limit:?}")),
    }
}
