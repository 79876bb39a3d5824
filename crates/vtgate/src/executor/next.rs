//! `select next N values from seq` sent by a client: Vitess plans it as a `Route` with
//! variant `Next`, and so does this module, without the planner. The table resolves through
//! the VSchema (qualifier, else the session's keyspace, else the only keyspace listing it,
//! routing rules included) and must be a `sequence` table (`VT03018` otherwise). The
//! statement goes to the primary of the table's keyspace, outside the session's transaction,
//! whatever the session's tablet type; that tablet answers from its cached block of values
//! (`vttablet::sequence`). A session targeting one shard keeps the pass-through path.

use proto::query::BoundQuery;
use proto::topodata::TabletType;
use sql::next_values::{Count, NextValues};
use vschema::build::{FindTableError, TableType};

use super::route::SYSTEM_SCHEMAS;
use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::{Caller, ShardTarget};
use crate::session::Session;

impl Executor {
    /// Answers `next` (from `select next ... values`) when the session targets no shard;
    /// `None` leaves the statement to the usual path.
    pub(super) async fn select_next(
        &self,
        session: &Session,
        caller: &Caller,
        next: &NextValues,
    ) -> Option<Result<Reply, VtError>> {
        if session.shard().is_some() {
            return None;
        }
        // Only a literal count can come from a client's text.
        let Count::Literal(count) = &next.count else {
            return None;
        };
        Some(self.send_next(session, caller, next, count).await)
    }

    async fn send_next(
        &self,
        session: &Session,
        caller: &Caller,
        next: &NextValues,
        count: &str,
    ) -> Result<Reply, VtError> {
        let topo = self.topology.get();
        let scope = match next.qualifier.as_deref() {
            Some(q) if topo.keyspace(q).is_none() => {
                return Err(VtError::UnknownDatabase(q.to_string()))
            }
            Some(q) => Some(q),
            None => session
                .keyspace()
                .filter(|k| !SYSTEM_SCHEMAS.contains(&k.to_ascii_lowercase().as_str())),
        };
        let table = topo
            .vschema()
            .find_table(scope, &next.table)
            .map_err(|e| match e {
                FindTableError::NotFound(t) => VtError::UnknownTable(t),
                FindTableError::Ambiguous(t) => VtError::AmbiguousTable(t),
                FindTableError::UnknownKeyspace(k) => VtError::UnknownDatabase(k),
                other => VtError::Other(other.to_string()),
            })?;
        if table.table_type != TableType::Sequence {
            return Err(VtError::Other(format!(
                "VT03018: NEXT used on a non-sequence table `{}`",
                next.table
            )));
        }
        let keyspace = table.keyspace.name.clone();
        let shard = topo
            .keyspace(&keyspace)
            .and_then(|k| k.shards_for(TabletType::Primary).first().cloned())
            .or_else(|| self.known_shards(&keyspace).into_iter().next())
            .ok_or_else(|| {
                VtError::Other(format!("keyspace {keyspace} has no shards serving PRIMARY"))
            })?;
        let target = ShardTarget {
            keyspace,
            shard,
            tablet_type: TabletType::Primary,
        };
        let query = BoundQuery {
            sql: format!(
                "select next {count} values from `{}`",
                table.name.replace('`', "``")
            ),
            bind_variables: Default::default(),
        };
        let result = self
            .gateway
            .execute(&target, &query, caller, &Self::options(session))
            .await?;
        Ok(Reply::Result(result))
    }
}
