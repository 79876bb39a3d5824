//! Joining a shard whose primary is already elected.
//!
//! An election (InitShardPrimary, PlannedReparentShard) points the replicas it finds at the new
//! primary; a replica or rdonly tablet that registers afterwards (a pod restarted or rescheduled,
//! a tablet added later) would never hear of it. So at start-up a non-primary tablet reads its
//! Shard record and, when a primary other than itself is named, points its MariaDB at that
//! primary's — unless it already replicates from it. `MASTER_USE_GTID = slave_pos` makes both
//! cases work: a fresh MariaDB (empty `gtid_slave_pos`) reads the primary's binlog from the start,
//! one restarted with data resumes where it stopped; nothing is reset. A MariaDB that
//! replicated from nobody (fresh, or a former primary whose own writes are only in its
//! binlog) first takes `gtid_current_pos` as its position, so it never asks for its own
//! writes again.
//!
//! This runs in the background: the tablet serves reads of what it has meanwhile, and a failure
//! (topology unreachable, the primary's record missing) is logged and retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use mysqlctl::replication::{self, ReplicationSource};
use proto::topodata::{TabletAlias, TabletType};
use proto::vtrpc::Code;

use crate::error::{Result, TabletError};
use crate::tablet::Tablet;

/// First pause after a failed attempt; doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one attempt found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The tablet's type does not replicate at start-up (a primary, spare, drained...).
    NotAReplica,
    /// The Shard record names no primary; the election will attach this tablet.
    NoPrimary,
    /// The Shard record names this tablet.
    IsPrimary,
    /// MariaDB already replicates from the primary.
    AlreadyReplicating(TabletAlias),
    /// The primary's record names this tablet's own MariaDB (tablets sharing one server, as
    /// some tests run them): replicating from itself would only fail.
    SameServer(TabletAlias),
    /// Replication from the primary was set up (and started).
    Started(TabletAlias),
}

/// Where `primary`'s MariaDB listens, from its Tablet record, with this tablet's replication
/// user.
pub async fn source_of(tablet: &Tablet, primary: &TabletAlias) -> Result<ReplicationSource> {
    let record = tablet.topo.get_tablet(primary).await?;
    let port = u16::try_from(record.mysql_port)
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| {
            TabletError::vitess(
                Code::FailedPrecondition,
                format!("tablet {primary} has no MySQL port"),
            )
        })?;
    let host = if record.mysql_hostname.is_empty() {
        record.hostname
    } else {
        record.mysql_hostname
    };
    let flags = &tablet.config().flags;
    Ok(ReplicationSource {
        host,
        port,
        user: flags.db_repl_user.clone(),
        password: flags.db_repl_password.clone(),
    })
}

/// Runs [`follow_once`] until it succeeds, pausing with exponential backoff after failures;
/// ends early when the tablet shuts down.
pub async fn follow_shard_primary(tablet: Arc<Tablet>) {
    let mut closing = tablet.closing();
    let mut backoff = FIRST_BACKOFF;
    loop {
        match follow_once(&tablet).await {
            Ok(Outcome::Started(primary)) => {
                tracing::info!(%primary, "replicating from the shard's primary");
                return;
            }
            Ok(Outcome::AlreadyReplicating(primary)) => {
                tracing::info!(%primary, "already replicating from the shard's primary");
                return;
            }
            Ok(Outcome::SameServer(primary)) => {
                tracing::warn!(%primary, "the shard's primary uses this tablet's MariaDB; not replicating");
                return;
            }
            Ok(outcome) => {
                tracing::debug!(?outcome, "no replication to set up at start-up");
                return;
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    retry_in = ?backoff,
                    "cannot set up replication from the shard's primary yet"
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = closing.wait_for(|closed| *closed) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One attempt: reads the Shard record and, if another tablet is its primary, makes this
/// tablet's MariaDB replicate from it unless it already does.
pub async fn follow_once(tablet: &Tablet) -> Result<Outcome> {
    // Serialised with the replication RPCs, and the Shard read inside the lock: an election
    // that attaches this tablet meanwhile is seen, never undone with an older primary.
    let _changing = tablet.replication_changes.lock().await;
    if !matches!(
        tablet.state.snapshot().tablet_type,
        TabletType::Replica | TabletType::Rdonly
    ) {
        return Ok(Outcome::NotAReplica);
    }
    let shard = tablet
        .topo
        .get_shard(&tablet.keyspace, &tablet.shard)
        .await?;
    let Some(primary) = shard.primary_alias else {
        return Ok(Outcome::NoPrimary);
    };
    if primary == tablet.alias {
        return Ok(Outcome::IsPrimary);
    }
    let source = source_of(tablet, &primary).await?;
    let config = tablet.config();
    if source.host == config.flags.db_host && source.port == config.db_port() {
        return Ok(Outcome::SameServer(primary));
    }
    let mut conn = tablet.admin_conn().await?;
    match replication::replication_status(&mut conn).await? {
        Some(status)
            if status.is_running()
                && status.source_host == source.host
                && status.source_port == source.port =>
        {
            return Ok(Outcome::AlreadyReplicating(primary));
        }
        Some(_) => {}
        None => replication::adopt_current_position(&mut conn).await?,
    }
    replication::set_read_only(&mut conn, true).await?;
    replication::set_replication_source(&mut conn, &source).await?;
    Ok(Outcome::Started(primary))
}
