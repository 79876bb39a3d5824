//! The tablet's VReplication engine (Vitess's `vreplication.Engine`): it runs
//! one [`VReplicationStream`] for every row of the tablet's `_vt.vreplication`
//! that is not `Stopped`, with the source shard's primary found through the
//! topology, and serves `VReplicationExec` (statements on `_vt.vreplication`
//! and `_vt.copy_state`, after which the streams are restarted from their
//! rows) and `VReplicationWaitForPos`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use proto::query::QueryResult;
use proto::vtrpc::Code;
use tokio::sync::Mutex;
use vreplication::sidecar::{self, state};
use vreplication::{Position, VReplicationStream};

use crate::error::{Result, TabletError};
use crate::result;
use crate::tablet::Tablet;

/// The streams of one tablet, by id.
pub struct VrEngine {
    tablet: Arc<Tablet>,
    streams: Mutex<BTreeMap<u32, VReplicationStream>>,
}

impl std::fmt::Debug for VrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VrEngine")
            .field("tablet", &self.tablet.alias)
            .finish_non_exhaustive()
    }
}

/// What a `VReplicationExec` statement does, from its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExecKind {
    Select,
    Change,
}

impl VrEngine {
    /// An engine for `tablet`; nothing runs until [`VrEngine::open`].
    pub fn new(tablet: Arc<Tablet>) -> Arc<Self> {
        Arc::new(VrEngine {
            tablet,
            streams: Mutex::new(BTreeMap::new()),
        })
    }

    async fn target_conn(&self) -> Result<Conn> {
        let mut conn = Conn::new(self.tablet.admin_opts()).await?;
        sidecar::create_tables(&mut conn).await?;
        Ok(conn)
    }

    /// Starts every stream of the tablet's database that is not stopped.
    pub async fn open(&self) -> Result<()> {
        let mut streams = self.streams.lock().await;
        self.start_all(&mut streams).await
    }

    /// Stops every running stream.
    pub async fn close(&self) {
        let mut streams = self.streams.lock().await;
        stop_all(&mut streams).await;
    }

    async fn start_all(&self, streams: &mut BTreeMap<u32, VReplicationStream>) -> Result<()> {
        let mut conn = self.target_conn().await?;
        for id in sidecar::stream_ids(&mut conn, &self.tablet.db_name).await? {
            if streams.contains_key(&id) {
                continue;
            }
            let row = sidecar::read_stream(&mut conn, id).await?;
            if row.state == state::STOPPED {
                continue;
            }
            let source = match self
                .source_opts(&row.source.keyspace, &row.source.shard)
                .await
            {
                Ok(source) => source,
                Err(e) => {
                    tracing::warn!(id, error = %e, "cannot find the stream's source primary");
                    sidecar::set_state(&mut conn, id, state::ERROR, &e.to_string()).await?;
                    continue;
                }
            };
            tracing::info!(id, workflow = %row.workflow, state = %row.state, "starting vreplication stream");
            match VReplicationStream::start(self.tablet.admin_opts(), source, id).await {
                Ok(stream) => {
                    streams.insert(id, stream);
                }
                Err(e) => tracing::warn!(id, error = %e, "cannot start vreplication stream"),
            }
        }
        Ok(())
    }

    /// The tablet the engine runs on.
    pub fn tablet(&self) -> &Arc<Tablet> {
        &self.tablet
    }

    /// Connection options of the MariaDB of `keyspace/shard`'s primary.
    pub async fn source_opts(&self, keyspace: &str, shard: &str) -> Result<Opts> {
        let record = self.tablet.topo.get_shard(keyspace, shard).await?;
        let alias = record.primary_alias.ok_or_else(|| {
            TabletError::vitess(
                Code::FailedPrecondition,
                format!("shard {keyspace}/{shard} has no primary"),
            )
        })?;
        let tablet = self.tablet.topo.get_tablet(&alias).await?;
        let port = u16::try_from(tablet.mysql_port).map_err(|_| {
            TabletError::vitess(
                Code::FailedPrecondition,
                format!("tablet {alias} has no MySQL port"),
            )
        })?;
        let host = if tablet.mysql_hostname.is_empty() {
            tablet.hostname
        } else {
            tablet.mysql_hostname
        };
        let flags = &self.tablet.config().flags;
        Ok(OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(port)
            .prefer_socket(false)
            .user(Some(flags.db_user.clone()))
            .pass(Some(flags.db_password.clone()))
            .into())
    }

    /// Runs `query` on the sidecar tables. A statement that changes them
    /// stops the streams first and starts every stream that is not stopped
    /// afterwards, so the streams follow their rows.
    pub async fn exec(&self, query: &str) -> Result<QueryResult> {
        let kind = classify(query)?;
        let mut conn = self.target_conn().await?;
        if kind == ExecKind::Select {
            return result::execute(&mut conn, query.as_bytes(), None).await;
        }
        let mut streams = self.streams.lock().await;
        stop_all(&mut streams).await;
        let outcome = result::execute(&mut conn, query.as_bytes(), None).await;
        // Rows deleted from _vt.vreplication take their copy state with them.
        conn.query_drop(
            "DELETE FROM _vt.copy_state WHERE vrepl_id NOT IN (SELECT id FROM _vt.vreplication)",
        )
        .await?;
        self.start_all(&mut streams).await?;
        outcome
    }

    /// Waits until stream `id` has applied everything up to `position`.
    pub async fn wait_for_pos(&self, id: u32, position: &str, timeout: Duration) -> Result<()> {
        let pos: Position = position.parse().map_err(vreplication::Error::from)?;
        let mut conn = self.target_conn().await?;
        sidecar::wait_for_pos(&mut conn, id, &pos, timeout).await?;
        Ok(())
    }

    /// Ids and states of the streams running in this process.
    pub async fn running(&self) -> Vec<(u32, String)> {
        let streams = self.streams.lock().await;
        streams
            .values()
            .map(|s| (s.id(), s.status().state))
            .collect()
    }
}

async fn stop_all(streams: &mut BTreeMap<u32, VReplicationStream>) {
    for (_, stream) in std::mem::take(streams) {
        stream.stop().await;
    }
}

/// Accepts only statements on `_vt.vreplication` and `_vt.copy_state`.
fn classify(query: &str) -> Result<ExecKind> {
    let (_, rest) = sql::split::strip_leading_comments(query);
    let lower = rest.trim_start().to_ascii_lowercase();
    let first = lower.split_ascii_whitespace().next().unwrap_or("");
    let kind = match first {
        "select" => ExecKind::Select,
        "insert" | "update" | "delete" => ExecKind::Change,
        _ => {
            return Err(TabletError::vitess(
                Code::InvalidArgument,
                format!("unsupported query for vreplication: {query}"),
            ))
        }
    };
    let names_sidecar = ["_vt.vreplication", "_vt.copy_state"]
        .iter()
        .any(|t| lower.contains(t));
    if !names_sidecar {
        return Err(TabletError::vitess(
            Code::InvalidArgument,
            format!("invalid table name in vreplication query: {query}"),
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sidecar_statements_are_accepted() {
        assert_eq!(
            classify("select * from _vt.vreplication").unwrap(),
            ExecKind::Select
        );
        assert_eq!(
            classify("update _vt.vreplication set state='Stopped' where id=1").unwrap(),
            ExecKind::Change
        );
        assert_eq!(
            classify("/* c */ DELETE FROM _vt.vreplication WHERE workflow='w'").unwrap(),
            ExecKind::Change
        );
        assert!(classify("drop table _vt.vreplication").is_err());
        assert!(classify("delete from vt_commerce.customer").is_err());
    }
}
