//! An in-memory [`VCursor`] for unit tests: fixed shard lists, a canned
//! result per shard (or computed by a function of the SQL), and a log of
//! every query sent with its commit order. With a VSchema it serves lookup
//! vindexes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};

use crate::error::{EngineError, Result};
use crate::vcursor::{CommitOrder, ShardQuery, VCursor};

/// A route sending `sql` to the one shard of unsharded keyspace `ks`.
pub fn unsharded_route(ks: &str, sql: &str) -> Box<dyn crate::primitive::Primitive> {
    Box::new(crate::route::Route::new(
        crate::route::Opcode::Unsharded,
        crate::description::KeyspaceDesc {
            name: ks.into(),
            sharded: false,
        },
        sql.into(),
        String::new(),
    ))
}

/// Answers a query sent to `(keyspace, shard, sql)`, or `None` for the
/// canned per-shard result.
pub type Responder = Box<dyn Fn(&str, &str, &str) -> Option<Result<QueryResult>> + Send + Sync>;

/// The fake vcursor.
pub struct FakeVCursor {
    /// The VSchema lookup vindexes plan with.
    pub vschema: Option<vschema::VSchema>,
    /// Computes results from the SQL, before the canned ones.
    pub responder: Option<Responder>,
    /// `(order, sql)` of every query, in order.
    pub orders: Mutex<Vec<(CommitOrder, String)>>,
    /// Lookup rows written in the pre-session.
    pub lookup_rows: Mutex<Vec<String>>,
    shards: HashMap<String, Vec<String>>,
    results: HashMap<(String, String), QueryResult>,
    /// `(keyspace, shard, sql)` of every query, in order.
    pub log: Mutex<Vec<(String, String, String)>>,
    /// `--max-memory-rows`.
    pub max_rows: usize,
    /// The next value each sequence hands out.
    pub next_value: i64,
    /// `(keyspace.table, count)` of every sequence request.
    pub sequences: Mutex<Vec<(String, u64)>>,
    /// The session's `group_concat_max_len`.
    pub group_concat_max_len: u64,
}

impl FakeVCursor {
    /// A cursor knowing `keyspace` with `shards`.
    pub fn new(keyspace: &str, shards: &[&str]) -> Self {
        FakeVCursor {
            vschema: None,
            responder: None,
            orders: Mutex::new(Vec::new()),
            lookup_rows: Mutex::new(Vec::new()),
            shards: HashMap::from([(
                keyspace.to_string(),
                shards.iter().map(|s| s.to_string()).collect(),
            )]),
            results: HashMap::new(),
            log: Mutex::new(Vec::new()),
            max_rows: 300_000,
            next_value: 1,
            sequences: Mutex::new(Vec::new()),
            group_concat_max_len: crate::vcursor::MARIADB_GROUP_CONCAT_MAX_LEN,
        }
    }

    /// Adds another keyspace.
    pub fn keyspace(mut self, keyspace: &str, shards: &[&str]) -> Self {
        self.shards.insert(
            keyspace.to_string(),
            shards.iter().map(|s| s.to_string()).collect(),
        );
        self
    }

    /// What `shard` of `keyspace` answers to any query.
    pub fn result(mut self, keyspace: &str, shard: &str, result: QueryResult) -> Self {
        self.results
            .insert((keyspace.to_string(), shard.to_string()), result);
        self
    }

    /// The `(shard, sql)` pairs sent so far.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s, q)| (s.clone(), q.clone()))
            .collect()
    }
}

#[async_trait]
impl VCursor for FakeVCursor {
    fn shards(&self, keyspace: &str) -> Result<Vec<String>> {
        self.shards
            .get(keyspace)
            .cloned()
            .ok_or_else(|| EngineError::BadResult(format!("no keyspace {keyspace}")))
    }

    async fn execute_multi(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> Result<Vec<QueryResult>> {
        self.execute_ordered(keyspace, queries, CommitOrder::Normal)
            .await
    }

    async fn execute_ordered(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
        order: CommitOrder,
    ) -> Result<Vec<QueryResult>> {
        let mut out = Vec::new();
        for q in queries {
            self.log
                .lock()
                .unwrap()
                .push((keyspace.to_string(), q.shard.clone(), q.sql.clone()));
            self.orders.lock().unwrap().push((order, q.sql.clone()));
            if let Some(r) = self
                .responder
                .as_ref()
                .and_then(|f| f(keyspace, &q.shard, &q.sql))
            {
                out.push(r?);
                continue;
            }
            let r = self
                .results
                .get(&(keyspace.to_string(), q.shard.clone()))
                .cloned()
                .unwrap_or_default();
            out.push(r);
        }
        Ok(out)
    }

    fn max_memory_rows(&self) -> usize {
        self.max_rows
    }

    fn group_concat_max_len(&self) -> Result<u64> {
        Ok(self.group_concat_max_len)
    }

    fn note_lookup_row(&self, key: &str) {
        self.lookup_rows.lock().unwrap().push(key.to_string());
    }

    fn lookup_row_noted(&self, key: &str) -> bool {
        self.lookup_rows.lock().unwrap().iter().any(|k| k == key)
    }

    fn vschema(&self) -> Result<&vschema::VSchema> {
        self.vschema
            .as_ref()
            .ok_or_else(|| EngineError::BadResult("no vschema".into()))
    }

    async fn next_sequence_values(&self, keyspace: &str, table: &str, count: u64) -> Result<i64> {
        self.sequences
            .lock()
            .unwrap()
            .push((format!("{keyspace}.{table}"), count));
        Ok(self.next_value)
    }
}

/// A field of the given type (collation utf8mb4_general_ci for text,
/// binary otherwise).
pub fn field(name: &str, typ: Type) -> Field {
    let text = matches!(typ, Type::Varchar | Type::Char | Type::Text);
    Field {
        name: name.to_string(),
        r#type: typ as i32,
        charset: if text { 45 } else { 63 },
        ..Default::default()
    }
}

/// A result with `fields` and rows of cells (`None` is NULL).
pub fn result(fields: &[Field], rows: &[&[Option<&str>]]) -> QueryResult {
    QueryResult {
        fields: fields.to_vec(),
        rows: rows
            .iter()
            .map(|r| Row::from_values(r.iter().map(|c| c.map(str::as_bytes))))
            .collect(),
        ..Default::default()
    }
}

/// The rows of a result as text cells.
pub fn rows_of(r: &QueryResult) -> Vec<Vec<Option<String>>> {
    r.rows
        .iter()
        .map(|row| {
            row.split_values()
                .unwrap()
                .into_iter()
                .map(|c| c.map(|b| String::from_utf8_lossy(b).into_owned()))
                .collect()
        })
        .collect()
}
