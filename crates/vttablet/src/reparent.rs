//! The tablet's side of a reparent, as Vitess's `rpc_replication.go` does it for MariaDB:
//!
//! * [`demote_primary`] (DemotePrimary): the primary stops taking queries (it reports NOT_SERVING
//!   and refuses them, as Vitess's demoted primary does, so vtgate holds or fails writes
//!   instead of losing them), waits for the requests under way, gives open transactions a
//!   short grace to commit or roll back and ends the rest, stops its VReplication streams,
//!   sets MariaDB `read_only`, and returns its final position: nothing is written after it.
//!   The tablet stays PRIMARY (demoted) until it is pointed at the new primary.
//! * [`undo_demote_primary`] (UndoDemotePrimary): the way back when the reparent cannot go on.
//! * [`promote`] (PromoteReplica, InitPrimary): stop and forget replication, writable, type
//!   PRIMARY, the Shard record names it, its VReplication streams start; returns its position.
//!
//! Each holds the tablet's `replication_changes` lock, so they never interleave with the
//! replication RPCs or the start-up attach of [`crate::follow_primary`].

use std::time::Duration;

use mysqlctl::replication;
use proto::topodata::TabletType;
use proto::vtrpc::Code;

use crate::error::{Result, TabletError};
use crate::tablet::Tablet;
use crate::vr_engine::VrEngine;

/// How long a demotion lets open transactions commit or roll back before it ends them.
const TRANSACTION_GRACE: Duration = Duration::from_secs(1);

/// How long a demotion waits for the requests under way (statements already running).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why transactions ended by a demotion ended (later use of their ids says so).
const DEMOTION_REASON: &str = "primary demoted";

/// Makes a primary stop writing and returns its position (`MariaDB/<gtid_binlog_pos>`).
///
/// Idempotent: a tablet already demoted, or not a primary, is only made read-only again.
/// If a step fails, what was changed is undone and the tablet serves as before.
pub async fn demote_primary(tablet: &Tablet, vreplication: &VrEngine) -> Result<String> {
    let _changing = tablet.replication_changes.lock().await;
    let before = tablet.state.snapshot();
    let mut conn = tablet.admin_conn().await?;
    let was_read_only = replication::is_read_only(&mut conn).await?;
    let stops_serving = before.tablet_type == TabletType::Primary && !before.demoted;
    if stops_serving {
        tracing::info!("DemotePrimary: refusing queries");
        tablet.state.update(|s| s.demoted = true);
        vreplication.close().await;
    }
    let demoted = async {
        if stops_serving {
            drain(tablet).await?;
        }
        replication::set_read_only(&mut conn, true).await?;
        Ok::<_, TabletError>(replication::primary_position(&mut conn).await?)
    }
    .await;
    match demoted {
        Ok(position) => {
            tracing::info!(%position, "DemotePrimary: demoted");
            Ok(position.to_string())
        }
        Err(e) => {
            tracing::warn!(error = %e, "DemotePrimary failed; serving again");
            if !was_read_only {
                if let Err(undo) = replication::set_read_only(&mut conn, false).await {
                    tracing::warn!(error = %undo, "cannot clear read_only after a failed demotion");
                }
            }
            if stops_serving {
                resume_serving(tablet, vreplication).await;
            }
            Err(e)
        }
    }
}

/// Undoes [`demote_primary`]: writable again, serving, VReplication streams running.
pub async fn undo_demote_primary(tablet: &Tablet, vreplication: &VrEngine) -> Result<()> {
    let _changing = tablet.replication_changes.lock().await;
    let mut conn = tablet.admin_conn().await?;
    replication::set_read_only(&mut conn, false).await?;
    resume_serving(tablet, vreplication).await;
    tracing::info!("UndoDemotePrimary: serving as primary again");
    Ok(())
}

/// Makes this tablet the shard's primary: replication stopped and forgotten (`RESET SLAVE
/// ALL`), writable, type PRIMARY (no longer demoted), named by the Shard record, its
/// VReplication streams started. Returns its position.
pub async fn promote(tablet: &Tablet, vreplication: &VrEngine) -> Result<String> {
    let _changing = tablet.replication_changes.lock().await;
    let mut conn = tablet.admin_conn().await?;
    replication::reset_replication(&mut conn).await?;
    let position = replication::primary_position(&mut conn).await?;
    replication::set_read_only(&mut conn, false).await?;
    tablet.state.update(|s| s.demoted = false);
    tablet.change_type(TabletType::Primary).await?;
    let alias = tablet.alias.clone();
    let term_start = tablet.state.snapshot().primary_term_start;
    tablet
        .topo
        .update_shard_fields(&tablet.keyspace, &tablet.shard, move |shard| {
            shard.primary_alias = Some(alias.clone());
            shard.primary_term_start_time = Some(proto::vttime::Time {
                seconds: term_start,
                nanoseconds: 0,
            });
            Ok(())
        })
        .await?;
    // A new primary runs the streams of its _vt.vreplication.
    if let Err(e) = vreplication.open().await {
        tracing::warn!(error = %e, "cannot start the vreplication streams");
    }
    tracing::info!(%position, "promoted to primary");
    Ok(position.to_string())
}

/// After the state says demoted: waits for the requests that passed the check before (no new
/// transaction can begin after them), lets open transactions commit or roll back for
/// [`TRANSACTION_GRACE`], ends those left, and waits for commits still running.
async fn drain(tablet: &Tablet) -> Result<()> {
    wait_idle(tablet).await?;
    let deadline = tokio::time::Instant::now() + TRANSACTION_GRACE;
    while !tablet.txs.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ended = tablet
        .txs
        .end_all(tablet.admin_opts_ref(), DEMOTION_REASON)
        .await;
    if ended > 0 {
        tracing::warn!(ended, "DemotePrimary rolled back open transactions");
    }
    wait_idle(tablet).await
}

async fn wait_idle(tablet: &Tablet) -> Result<()> {
    if tablet.in_flight.wait_idle(DRAIN_TIMEOUT).await {
        return Ok(());
    }
    Err(TabletError::vitess(
        Code::Unavailable,
        format!(
            "demotion aborted: queries still running after {}s",
            DRAIN_TIMEOUT.as_secs()
        ),
    ))
}

/// Serves again as the primary it still is.
async fn resume_serving(tablet: &Tablet, vreplication: &VrEngine) {
    tablet.state.update(|s| s.demoted = false);
    if tablet.state.snapshot().tablet_type == TabletType::Primary {
        if let Err(e) = vreplication.open().await {
            tracing::warn!(error = %e, "cannot restart the vreplication streams");
        }
    }
}
