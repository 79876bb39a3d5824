//! [`VCursor`]: what the engine needs from vtgate to run a plan, kept
//! minimal: the serving shards of a keyspace, a way to run queries on
//! shards, and the `--max-memory-rows` limit. Lookup vindexes also need the
//! VSchema (to plan their queries on the lookup table) and a way to run
//! queries in another [`CommitOrder`] than the session's transaction.

use async_trait::async_trait;
use proto::query::QueryResult;

use crate::error::{EngineError, Result};
use crate::stream::RowStream;

/// One fully bound query for one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardQuery {
    /// Shard name as in topo (`-80`, `80-`, `0`).
    pub shard: String,
    /// The SQL text, with every bind variable already substituted.
    pub sql: String,
}

impl ShardQuery {
    /// The same `sql` for each of `shards`.
    pub fn on_each(shards: impl IntoIterator<Item = String>, sql: &str) -> Vec<ShardQuery> {
        shards
            .into_iter()
            .map(|shard| ShardQuery {
                shard,
                sql: sql.to_string(),
            })
            .collect()
    }
}

/// Which transaction a query joins (Vitess `vtgatepb.CommitOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOrder {
    /// The session's transaction, if any.
    Normal,
    /// A transaction committed before the session's (consistent lookup
    /// rows being created).
    Pre,
    /// A transaction committed after the session's (consistent lookup rows
    /// being deleted).
    Post,
    /// No transaction: each query commits on its own (`autocommit` lookups).
    Autocommit,
}

/// MariaDB's default `group_concat_max_len` (MySQL's is 1024).
pub const MARIADB_GROUP_CONCAT_MAX_LEN: u64 = 1_048_576;

/// vtgate's side of plan execution (Vitess `engine.VCursor`, minimal).
#[async_trait]
pub trait VCursor: Send + Sync {
    /// Serving shards of `keyspace` for the session's tablet type, in
    /// key-range order.
    fn shards(&self, keyspace: &str) -> Result<Vec<String>>;

    /// Runs each query on its shard of `keyspace` (in the session's
    /// transaction, if any) and returns the results in the same order.
    async fn execute_multi(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> Result<Vec<QueryResult>>;

    /// Starts each query on its shard of `keyspace`, outside any
    /// transaction, and streams each one's result, in the same order. The
    /// default runs them whole.
    async fn stream_multi(&self, keyspace: &str, queries: &[ShardQuery]) -> Result<Vec<RowStream>> {
        let results = self.execute_multi(keyspace, queries).await?;
        Ok(results.into_iter().map(crate::stream::once).collect())
    }

    /// Most rows a buffering primitive may hold (`--max-memory-rows`).
    fn max_memory_rows(&self) -> usize;

    /// The session's `group_concat_max_len`, in bytes: the longest
    /// GROUP_CONCAT vtgate may assemble from shard partials. MariaDB's
    /// default unless the session set another.
    fn group_concat_max_len(&self) -> Result<u64> {
        Ok(MARIADB_GROUP_CONCAT_MAX_LEN)
    }

    /// The VSchema the plan was made with; lookup vindexes plan their
    /// queries on lookup tables with it.
    fn vschema(&self) -> Result<&vschema::VSchema> {
        Err(EngineError::unsupported(
            "lookup vindexes without a VSchema in the vcursor",
        ))
    }

    /// Like [`VCursor::execute_multi`], in the transaction `order` names.
    /// The default runs every order in the session's transaction.
    async fn execute_ordered(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
        order: CommitOrder,
    ) -> Result<Vec<QueryResult>> {
        let _ = order;
        self.execute_multi(keyspace, queries).await
    }

    /// Remembers, until the transaction ends, that a consistent lookup row
    /// named `key` was written in the pre- or post-session (which holds its
    /// lock until it commits). A cursor outside a transaction forgets.
    fn note_lookup_row(&self, key: &str) {
        let _ = key;
    }

    /// Whether [`VCursor::note_lookup_row`] noted `key` in this transaction:
    /// the other of the pre- and post-sessions would wait for its lock.
    fn lookup_row_noted(&self, key: &str) -> bool {
        let _ = key;
        false
    }

    /// The MySQL error number of a failure from this cursor (1062 for a
    /// duplicate key).
    fn errno(&self, e: &EngineError) -> u16 {
        e.errno()
    }

    /// Reserves `count` consecutive values of the sequence table
    /// `keyspace.table` (Vitess's `id, next_id, cache` table, row `id = 0`)
    /// and returns the first.
    ///
    /// The default runs one atomic statement on the sequence keyspace's
    /// shard through [`VCursor::execute_multi`]:
    /// `UPDATE t SET next_id = LAST_INSERT_ID(next_id) + count WHERE id = 0`,
    /// whose insert id is the first reserved value (this works on a plain
    /// MariaDB, as the engine's differential tests run it). Inside a
    /// transaction it holds the sequence row until commit; vtgate overrides
    /// it to send Vitess's `select next N values from t` to the primary
    /// tablet, outside the session's transaction, which serves the values
    /// from its cached block.
    async fn next_sequence_values(&self, keyspace: &str, table: &str, count: u64) -> Result<i64> {
        let shard = self
            .shards(keyspace)?
            .into_iter()
            .next()
            .ok_or(EngineError::KeyRange(vschema::KeyRangeError::NoShards))?;
        let quoted = table.replace('`', "``");
        let sql = format!(
            "update `{quoted}` set next_id = last_insert_id(next_id) + {count} where id = 0"
        );
        let result = self
            .execute_multi(keyspace, &[ShardQuery { shard, sql }])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        match (result.rows_affected, i64::try_from(result.insert_id)) {
            (1, Ok(first)) if first > 0 => Ok(first),
            _ => Err(EngineError::BadResult(format!(
                "sequence {keyspace}.{table} has no usable row with id 0"
            ))),
        }
    }
}
