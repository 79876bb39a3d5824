//! [`GatewayCursor`]: the engine's [`VCursor`] over vtgate's gateway, for one statement of
//! one session.
//!
//! * Shards come from the topology snapshot's SrvKeyspace partitions for the session's
//!   tablet type (falling back to the shards seen from tablets).
//! * Outside a transaction the shard queries run concurrently, each on its own tablet;
//!   a streamed plan (the OLAP workload) reads them with StreamExecute.
//! * Inside a transaction they run one after another on the session's shard sessions; a
//!   shard without one begins a transaction there. With `transaction_mode` MULTI (the
//!   default, as in Vitess) a transaction may span shards and COMMIT commits shard by shard:
//!   it is not atomic across shards (a failure part way leaves earlier shards committed).
//!   With `transaction_mode` SINGLE, a second shard is refused with
//!   `multi-db transaction attempted`.
//! * Sequence values come from the sequence keyspace's primary (`select next N values`,
//!   which the tablet serves from its cached block), outside the session's transaction.
//! * Lookup vindex queries may run in another commit order: `Pre` and `Post` queries join
//!   transactions of their own, committed before and after the session's (consistent
//!   lookups); `Autocommit` ones (and `Pre`/`Post` outside a transaction) commit alone.
//! * A shard session begun inside the transaction first takes the transaction's
//!   savepoints (BeginExecute's pre-queries), so a later `ROLLBACK TO` finds them there.
//! * Every shard query carries the session's settings prefix (`SET STATEMENT ... FOR`) and
//!   its raw-bytes bind variables, as on the unsharded path.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex as SyncMutex};

use async_trait::async_trait;
use engine::{CommitOrder, EngineError, RowStream, ShardQuery, VCursor};
use futures::StreamExt;
use proto::query::execute_options::TransactionIsolation;
use proto::query::{BindVariable, BoundQuery, ExecuteOptions, QueryResult};
use proto::topodata::TabletType;
use tokio::sync::Mutex;

use crate::error::VtError;
use crate::gateway::{Caller, Gateway, ResultStream, ShardTarget};
use crate::session::ShardSession;
use crate::topology::Topology;

/// One query the cursor sent, for `VEXPLAIN QUERIES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentQuery {
    /// Keyspace.
    pub keyspace: String,
    /// Shard.
    pub shard: String,
    /// The SQL as sent (without the settings prefix).
    pub sql: String,
}

/// The session's transaction while a plan runs.
#[derive(Debug, Default)]
pub struct TxState {
    /// The shard sessions (taken from the session, given back after the plan).
    pub shard_sessions: Vec<ShardSession>,
    /// Shard sessions committed before `shard_sessions` (consistent lookup rows created).
    pub pre_sessions: Vec<ShardSession>,
    /// Shard sessions committed after `shard_sessions` (consistent lookup rows deleted).
    pub post_sessions: Vec<ShardSession>,
    /// Isolation level for transactions begun by this statement.
    pub isolation: Option<TransactionIsolation>,
}

/// The engine's view of vtgate for one statement.
pub struct GatewayCursor<'a> {
    /// The gateway.
    pub gateway: &'a Gateway,
    /// The topology snapshot the plan was made with.
    pub topology: Arc<Topology>,
    /// Who runs the query.
    pub caller: &'a Caller,
    /// The session's tablet type.
    pub tablet_type: TabletType,
    /// The session's `SET STATEMENT ... FOR ` prefix (may be empty).
    pub prefix: String,
    /// The session's raw-bytes literals, sent with every query.
    pub bind_vars: HashMap<String, BindVariable>,
    /// Execute options.
    pub options: ExecuteOptions,
    /// The open transaction, when there is one.
    pub tx: Option<Mutex<TxState>>,
    /// `SAVEPOINT` statements of the open transaction, run first in every shard session
    /// this statement begins (not in pre- and post-sessions, which take no savepoints).
    pub savepoints: Vec<String>,
    /// `transaction_mode` SINGLE.
    pub single_db: bool,
    /// `--max-memory-rows`.
    pub max_memory_rows: usize,
    /// The session's `group_concat_max_len` as set (a SQL literal), if it set one.
    pub group_concat_max_len: Option<String>,
    /// Shards seen from tablets, per keyspace (used without a SrvKeyspace).
    pub known_shards: &'a (dyn Fn(&str) -> Vec<String> + Send + Sync),
    /// When set, every query sent is recorded here.
    pub log: Option<SyncMutex<Vec<SentQuery>>>,
    /// Consistent lookup rows the transaction's pre- and post-sessions wrote (taken from the
    /// session, given back after the plan).
    pub lookup_rows: SyncMutex<HashSet<String>>,
}

fn cursor_error(e: VtError) -> EngineError {
    EngineError::Cursor(Box::new(e))
}

impl GatewayCursor<'_> {
    fn target(&self, keyspace: &str, shard: &str) -> ShardTarget {
        ShardTarget {
            keyspace: keyspace.to_string(),
            shard: shard.to_string(),
            tablet_type: self.tablet_type,
        }
    }

    fn bound(&self, sql: &str) -> BoundQuery {
        // Per shard query: two copies, without the formatting machinery.
        let mut text = String::with_capacity(self.prefix.len() + sql.len());
        text.push_str(&self.prefix);
        text.push_str(sql);
        BoundQuery {
            sql: text,
            bind_variables: self.bind_vars.clone(),
        }
    }

    fn record(&self, keyspace: &str, q: &ShardQuery) {
        if let Some(log) = &self.log {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(SentQuery {
                    keyspace: keyspace.to_string(),
                    shard: q.shard.clone(),
                    sql: q.sql.clone(),
                });
        }
    }

    /// Runs one query inside the transaction whose shard sessions are `sessions`, beginning
    /// one on the shard if needed (after running `pre_queries` in it); `single_db` refuses
    /// a second shard.
    async fn execute_in_tx(
        &self,
        sessions: &mut Vec<ShardSession>,
        isolation: Option<TransactionIsolation>,
        pre_queries: &[String],
        single_db: bool,
        target: &ShardTarget,
        query: &BoundQuery,
    ) -> Result<QueryResult, VtError> {
        if let Some(ss) = session_for(sessions, target) {
            return self
                .gateway
                .execute_in_tx(ss, query, self.caller, &self.options)
                .await;
        }
        if single_db && !sessions.is_empty() {
            let open: Vec<String> = sessions
                .iter()
                .map(|s| format!("{}.{}.{}", s.keyspace, s.shard, s.tablet_type))
                .collect();
            return Err(VtError::Other(format!(
                "multi-db transaction attempted: [{}] and {target}",
                open.join(" ")
            )));
        }
        let mut options = self.options.clone();
        if let Some(level) = isolation {
            options.transaction_isolation = level as i32;
        }
        let (ss, result) = self
            .gateway
            .begin_execute(target, pre_queries, query, self.caller, &options)
            .await?;
        sessions.push(ss);
        result
    }

    /// Runs the queries outside any transaction, concurrently (one alone: awaited as it is,
    /// without `join_all`'s vector of futures).
    async fn execute_alone(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> engine::Result<Vec<QueryResult>> {
        let run = |q: &ShardQuery| {
            let target = self.target(keyspace, &q.shard);
            let query = self.bound(&q.sql);
            async move {
                let result = self
                    .gateway
                    .execute(&target, &query, self.caller, &self.options)
                    .await;
                match result {
                    // Over the tablet's Execute row limit: stream the read instead.
                    Err(e) if e.is_row_limit() && is_read(&query.sql) => {
                        let stream = self
                            .gateway
                            .stream_execute(&target, &query, self.caller, &self.options)
                            .await;
                        self.collect(stream).await
                    }
                    other => other.map_err(cursor_error),
                }
            }
        };
        if let [one] = queries {
            return Ok(vec![run(one).await?]);
        }
        futures::future::join_all(queries.iter().map(run))
            .await
            .into_iter()
            .collect()
    }

    /// One result from a stream of partial results, holding at most `--max-memory-rows`.
    async fn collect(&self, stream: Result<ResultStream, VtError>) -> engine::Result<QueryResult> {
        let mut stream = stream.map_err(cursor_error)?;
        let mut out = QueryResult::default();
        while let Some(part) = stream.next().await {
            let part = part.map_err(cursor_error)?;
            if out.fields.is_empty() {
                out.fields = part.fields;
            }
            out.rows.extend(part.rows);
            if out.rows.len() > self.max_memory_rows {
                return Err(EngineError::RowLimit(self.max_memory_rows));
            }
        }
        Ok(out)
    }

    /// The shard sessions, to give back to the session.
    pub fn into_tx(self) -> Option<TxState> {
        self.tx.map(Mutex::into_inner)
    }
}

#[async_trait]
impl VCursor for GatewayCursor<'_> {
    fn shards(&self, keyspace: &str) -> engine::Result<Vec<String>> {
        let mut shards = self
            .topology
            .keyspace(keyspace)
            .map(|k| k.shards_for(self.tablet_type).to_vec())
            .unwrap_or_default();
        if shards.is_empty() {
            shards = (self.known_shards)(keyspace);
        }
        if shards.is_empty() {
            return Err(cursor_error(VtError::Other(format!(
                "keyspace {keyspace} has no shards serving {}",
                self.tablet_type
            ))));
        }
        Ok(shards)
    }

    async fn execute_multi(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> engine::Result<Vec<QueryResult>> {
        self.execute_ordered(keyspace, queries, CommitOrder::Normal)
            .await
    }

    async fn stream_multi(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> engine::Result<Vec<RowStream>> {
        if self.tx.is_some() {
            // A transaction's shard sessions run one query at a time: whole results.
            let results = self.execute_multi(keyspace, queries).await?;
            return Ok(results.into_iter().map(engine::stream::once).collect());
        }
        let start = |q: &ShardQuery| {
            self.record(keyspace, q);
            let target = self.target(keyspace, &q.shard);
            let query = self.bound(&q.sql);
            async move {
                let s = self
                    .gateway
                    .stream_execute(&target, &query, self.caller, &self.options)
                    .await
                    .map_err(cursor_error)?;
                let s: RowStream = Box::pin(s.map(|item| item.map_err(cursor_error)));
                Ok(s)
            }
        };
        futures::future::join_all(queries.iter().map(start))
            .await
            .into_iter()
            .collect()
    }

    async fn execute_ordered(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
        order: CommitOrder,
    ) -> engine::Result<Vec<QueryResult>> {
        for q in queries {
            self.record(keyspace, q);
        }
        let Some(tx) = self
            .tx
            .as_ref()
            .filter(|_| order != CommitOrder::Autocommit)
        else {
            return self.execute_alone(keyspace, queries).await;
        };
        let mut tx = tx.lock().await;
        let tx = &mut *tx;
        let (sessions, single_db, pre_queries) = match order {
            CommitOrder::Pre => (&mut tx.pre_sessions, false, &[][..]),
            CommitOrder::Post => (&mut tx.post_sessions, false, &[][..]),
            _ => (
                &mut tx.shard_sessions,
                self.single_db,
                self.savepoints.as_slice(),
            ),
        };
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            let target = self.target(keyspace, &q.shard);
            let query = self.bound(&q.sql);
            let r = match self
                .execute_in_tx(
                    sessions,
                    tx.isolation,
                    pre_queries,
                    single_db,
                    &target,
                    &query,
                )
                .await
            {
                // Over the tablet's Execute row limit: stream the read in the transaction.
                Err(e) if e.is_row_limit() && is_read(&q.sql) => {
                    match session_for(sessions, &target) {
                        Some(ss) => {
                            let stream = self
                                .gateway
                                .stream_execute_in_tx(ss, &query, self.caller, &self.options)
                                .await;
                            self.collect(stream).await
                        }
                        None => Err(cursor_error(e)),
                    }
                }
                other => other.map_err(cursor_error),
            };
            out.push(r?);
        }
        Ok(out)
    }

    fn note_lookup_row(&self, key: &str) {
        if self.tx.is_some() {
            self.lookup_rows
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.to_string());
        }
    }

    fn lookup_row_noted(&self, key: &str) -> bool {
        self.lookup_rows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key)
    }

    fn vschema(&self) -> engine::Result<&vschema::VSchema> {
        Ok(self.topology.vschema())
    }

    fn errno(&self, e: &EngineError) -> u16 {
        match e {
            EngineError::Cursor(inner) => inner
                .downcast_ref::<VtError>()
                .map_or_else(|| e.errno(), VtError::errno),
            other => other.errno(),
        }
    }

    fn max_memory_rows(&self) -> usize {
        self.max_memory_rows
    }

    /// The value the session set (MariaDB already accepted it, clamped to 4 or more, when
    /// vtgate probed the SET); MariaDB's default otherwise.
    fn group_concat_max_len(&self) -> engine::Result<u64> {
        let Some(literal) = &self.group_concat_max_len else {
            return Ok(engine::vcursor::MARIADB_GROUP_CONCAT_MAX_LEN);
        };
        literal
            .trim_matches('\'')
            .parse::<u64>()
            .map(|n| n.max(4))
            .map_err(|_| {
                EngineError::unsupported(format!(
                    "GROUP_CONCAT across shards with group_concat_max_len = {literal}"
                ))
            })
    }

    /// Asks the sequence keyspace's primary for the values with Vitess's
    /// `select next N values from seq`, outside the session's transaction; the tablet
    /// serves them from its cached block (`vttablet::sequence`) and answers one row,
    /// `nextval`, the first value.
    async fn next_sequence_values(
        &self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> engine::Result<i64> {
        let shard = self
            .topology
            .keyspace(keyspace)
            .and_then(|k| k.shards_for(TabletType::Primary).first().cloned())
            .or_else(|| (self.known_shards)(keyspace).into_iter().next())
            .ok_or_else(|| {
                cursor_error(VtError::Other(format!(
                    "sequence keyspace {keyspace} has no shard"
                )))
            })?;
        let target = ShardTarget {
            keyspace: keyspace.to_string(),
            shard,
            tablet_type: TabletType::Primary,
        };
        let quoted = table.replace('`', "``");
        let sql = format!("select next {count} values from `{quoted}`");
        self.record(
            keyspace,
            &ShardQuery {
                shard: target.shard.clone(),
                sql: sql.clone(),
            },
        );
        let query = BoundQuery {
            sql,
            bind_variables: HashMap::new(),
        };
        let result = self
            .gateway
            .execute(&target, &query, self.caller, &self.options)
            .await
            .map_err(cursor_error)?;
        first_value(&result).ok_or_else(|| {
            EngineError::BadResult(format!("sequence {keyspace}.{table} answered no nextval"))
        })
    }
}

/// The `nextval` of a sequence answer: the first column of its only row.
fn first_value(result: &QueryResult) -> Option<i64> {
    let [row] = result.rows.as_slice() else {
        return None;
    };
    let value = row.split_values().ok()?.into_iter().next()??;
    std::str::from_utf8(value).ok()?.parse::<i64>().ok()
}

/// The open shard session of `target`, if any.
fn session_for<'s>(sessions: &'s [ShardSession], target: &ShardTarget) -> Option<&'s ShardSession> {
    sessions.iter().find(|s| {
        s.keyspace == target.keyspace
            && s.shard == target.shard
            && s.tablet_type == target.tablet_type
    })
}

/// Whether a shard query only reads (so running it again, streamed, changes nothing).
fn is_read(sql: &str) -> bool {
    matches!(
        sql::classify::classify(sql),
        sql::classify::StatementKind::Select
    )
}
