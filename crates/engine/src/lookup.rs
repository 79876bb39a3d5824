//! Lookup vindexes at execution time (Vitess `vindexes/lookup_internal.go`
//! and `consistent_lookup.go`): mapping values through the lookup table,
//! and creating and deleting lookup rows when the owner table changes.
//!
//! Every query on a lookup table is planned like a client's statement
//! (the lookup table may be sharded by its `from` column or unsharded) with
//! the [`VCursor`]'s VSchema, and runs in the transaction its
//! [`CommitOrder`] names:
//!
//! * `lookup*` rows follow the session's transaction, or commit on their
//!   own with `autocommit`;
//! * `consistent_lookup*` rows are created in a transaction committed
//!   before the session's (Pre) and deleted in one committed after it
//!   (Post), so a failure never leaves an owner row without its lookup row.
//!   A duplicate on creation is taken over when the owner row it points to
//!   no longer exists (Vitess `handleDup`). A lookup row the pre-session
//!   wrote earlier in the same transaction is deleted there, not in the
//!   post-session, which would wait for the pre-session's lock; writing a
//!   value the post-session deleted in the same transaction is refused (the
//!   pre-session would wait for the post-session's lock).

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};
use vschema::vindexes::{LookupKind, LookupParams, ReadLock};
use vschema::{Destination, KeyspaceId, Value, Vindex};

use crate::error::{EngineError, Result};
use crate::join::cell_to_bind;
use crate::vcursor::{CommitOrder, ShardQuery, VCursor};

/// MySQL's `ER_DUP_ENTRY`.
const DUP_ENTRY: u16 = 1062;

/// The owner table of a lookup vindex, for taking over duplicates of a
/// consistent lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The owner table's keyspace.
    pub keyspace: String,
    /// The owner table.
    pub table: String,
    /// The owner table's columns of the vindex, matching `from`.
    pub columns: Vec<String>,
}

/// One lookup vindex with what the engine needs to use it.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The vindex name in the VSchema.
    pub name: String,
    /// Its parameters.
    pub params: LookupParams,
    /// The owner table (set on plans of the owner's DML).
    pub owner: Option<Owner>,
}

/// One row of lookup values with the keyspace id of its owner row.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupRow {
    /// The `from` column values, in `from` order.
    pub values: Vec<BindValue>,
    /// The owner row's keyspace id.
    pub ksid: Vec<u8>,
}

/// `name` backquoted, as a column or table name.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A possibly qualified table name (`ks.t`) quoted part by part.
fn quote_table(name: &str) -> String {
    name.split('.').map(quote).collect::<Vec<_>>().join(".")
}

/// `col = v`, or `col is null` for NULL.
fn equals(col: &str, v: &BindValue) -> String {
    match v {
        BindValue::Null => format!("{} is null", quote(col)),
        v => format!("{} = {}", quote(col), v.to_sql()),
    }
}

/// The hash vindex of the `lookup_hash*` kinds.
fn hash_vindex() -> Result<&'static Arc<dyn Vindex>> {
    static HASH: OnceLock<std::result::Result<Arc<dyn Vindex>, vschema::VindexError>> =
        OnceLock::new();
    HASH.get_or_init(|| vschema::create_vindex("hash", "hash", &Default::default()))
        .as_ref()
        .map_err(|e| EngineError::Vindex(e.clone()))
}

/// Runs `sql` (planned with the cursor's VSchema) in `order`.
async fn run(vc: &dyn VCursor, sql: &str, order: CommitOrder) -> Result<QueryResult> {
    tracing::debug!(sql, ?order, "lookup query");
    let stmt = sql::parse::parse(sql)
        .map_err(|e| EngineError::BadResult(format!("lookup query {sql}: {}", e.message())))?;
    let plan = crate::planner::plan(&stmt, vc.vschema()?, None)?;
    plan.execute(&Ordered { vc, order }, &BindVars::default())
        .await
}

impl Lookup {
    /// The lookup of a column vindex, when it is one this engine can use.
    pub fn of(cv_name: &str, vindex: &dyn Vindex) -> Result<Option<Self>> {
        let Some(params) = vindex.lookup() else {
            return Ok(None);
        };
        if params.kind == LookupKind::LookupUnicodeLooseMd5Hash {
            return Err(EngineError::unsupported(format!(
                "lookup vindex type {} ({cv_name})",
                vindex.type_name()
            )));
        }
        Ok(Some(Lookup {
            name: cv_name.to_string(),
            params: params.clone(),
            owner: None,
        }))
    }

    /// Refuses to build lookup queries without the table and columns. As in
    /// Vitess, a VSchema may leave them out: statements that never read or
    /// write the lookup table still plan and run.
    fn check_params(&self) -> Result<()> {
        let p = &self.params;
        if p.table.is_empty() || p.to.is_empty() || p.from.iter().any(String::is_empty) {
            return Err(EngineError::BadResult(format!(
                "lookup vindex {} needs table, from and to",
                self.name
            )));
        }
        Ok(())
    }

    /// Whether it is a `consistent_lookup[_unique]`.
    pub fn is_consistent(&self) -> bool {
        self.params.kind == LookupKind::ConsistentLookup
    }

    /// The transaction lookup rows are written in.
    fn write_order(&self, consistent: CommitOrder) -> CommitOrder {
        if self.is_consistent() {
            consistent
        } else if self.params.autocommit {
            CommitOrder::Autocommit
        } else {
            CommitOrder::Normal
        }
    }

    /// The keyspace id a `to` cell stands for.
    fn ksid_of(&self, to: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.params.kind {
            LookupKind::LookupHash | LookupKind::LookupUnicodeLooseMd5Hash => {
                match hash_vindex()?
                    .map(&[Value::Bytes(to.to_vec())])?
                    .into_iter()
                    .next()
                {
                    Some(Destination::KeyspaceId(k)) => Ok(Some(k.0)),
                    _ => Ok(None),
                }
            }
            _ => Ok(Some(to.to_vec())),
        }
    }

    /// The `to` value stored for a keyspace id.
    fn to_value(&self, ksid: &[u8]) -> Result<BindValue> {
        match self.params.kind {
            LookupKind::LookupHash | LookupKind::LookupUnicodeLooseMd5Hash => {
                match hash_vindex()?.reverse_map(ksid) {
                    Some(Ok(Value::Uint(u))) => Ok(BindValue::Uint64(u)),
                    Some(Ok(Value::Int(i))) => Ok(BindValue::Int64(i)),
                    _ => Err(EngineError::BadResult(format!(
                        "lookup vindex {}: keyspace id {} does not reverse to an id",
                        self.name,
                        vschema::hex::encode(ksid)
                    ))),
                }
            }
            // `X'..'`, compared with and stored in the lookup table's binary column.
            _ => Ok(BindValue::hex_of(ksid)),
        }
    }

    /// Names a lookup row the pre-session wrote, for
    /// [`VCursor::note_lookup_row`].
    fn row_key(&self, values: &[BindValue], ksid: &[u8]) -> String {
        let values: Vec<String> = values.iter().map(BindValue::to_sql).collect();
        format!(
            "pre\0{}\0{}\0{}",
            self.params.table,
            values.join("\0"),
            vschema::hex::encode(ksid)
        )
    }

    /// Names the `from` values of a lookup row the post-session deleted,
    /// loosely (ASCII case and trailing spaces ignored, as `_ci` collations
    /// compare), for [`VCursor::note_lookup_row`].
    fn deleted_key(&self, values: &[BindValue]) -> String {
        let values: Vec<String> = values
            .iter()
            .map(|v| match v {
                BindValue::VarChar(t) => {
                    let end = t.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
                    String::from_utf8_lossy(&t[..end]).to_ascii_lowercase()
                }
                other => other.to_sql(),
            })
            .collect();
        format!("post\0{}\0{}", self.params.table, values.join("\0"))
    }

    fn where_from(&self, values: &[BindValue]) -> String {
        self.params
            .from
            .iter()
            .zip(values)
            .map(|(c, v)| equals(c, v))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Maps each value (of the first `from` column) to its destination by
    /// reading the lookup table; `locked` takes the `read_lock` (DML). A
    /// consistent lookup reads in the pre-session without a lock: its rows
    /// are deleted in the post-session, which a lock held by the
    /// pre-session would block until the statement times out.
    pub async fn map(
        &self,
        vc: &dyn VCursor,
        values: &[BindValue],
        locked: bool,
    ) -> Result<Vec<Destination>> {
        self.check_params()?;
        let order = if self.is_consistent() {
            CommitOrder::Pre
        } else {
            self.write_order(CommitOrder::Normal)
        };
        let lock = match (locked && !self.is_consistent(), self.params.read_lock) {
            (true, ReadLock::Exclusive) => " for update",
            (true, ReadLock::Shared) => " lock in share mode",
            _ => "",
        };
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            if *v == BindValue::Null {
                out.push(Destination::None);
                continue;
            }
            let sql = format!(
                "select {}, {} from {} where {}{lock}",
                quote(&self.params.from[0]),
                quote(&self.params.to),
                quote_table(&self.params.table),
                equals(&self.params.from[0], v)
            );
            let result = run(vc, &sql, order).await?;
            let mut ksids = Vec::new();
            for row in &result.rows {
                let cells = row
                    .split_values()
                    .map_err(|e| EngineError::BadResult(e.to_string()))?;
                if let Some(Some(to)) = cells.get(1) {
                    if let Some(k) = self.ksid_of(to)? {
                        ksids.push(KeyspaceId(k));
                    }
                }
            }
            out.push(match ksids.len() {
                0 => Destination::None,
                1 => Destination::KeyspaceId(ksids.remove(0)),
                _ if self.params.unique => {
                    return Err(EngineError::BadResult(format!(
                        "Lookup.Map: unexpected multiple results from vindex {}: {}",
                        self.name,
                        v.to_sql()
                    )))
                }
                _ => Destination::KeyspaceIds(ksids),
            });
        }
        Ok(out)
    }

    /// Inserts the lookup rows of newly written owner rows (Vitess
    /// `Create`); rows with a NULL value are skipped with `ignore_nulls`,
    /// refused without.
    pub async fn create(&self, vc: &dyn VCursor, rows: &[LookupRow]) -> Result<()> {
        self.check_params()?;
        let mut kept: Vec<&LookupRow> = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            match r.values.iter().position(|v| *v == BindValue::Null) {
                None => kept.push(r),
                Some(_) if self.params.ignore_nulls => {}
                Some(j) => {
                    return Err(EngineError::BadResult(format!(
                        "lookup.Create: input has null values: row: {i}, col: {j}"
                    )))
                }
            }
        }
        let rows = kept;
        if rows.is_empty() {
            return Ok(());
        }
        self.check_create(vc, &[], &rows)?;
        let mut texts = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut cells: Vec<String> = r.values.iter().map(BindValue::to_sql).collect();
            cells.push(self.to_value(&r.ksid)?.to_sql());
            texts.push(format!("({})", cells.join(", ")));
        }
        let sql = format!("{}{}", self.insert_prefix(), texts.join(", "));
        let order = self.write_order(CommitOrder::Pre);
        let err = match run(vc, &sql, order).await {
            Ok(_) => {
                if self.is_consistent() {
                    for r in &rows {
                        vc.note_lookup_row(&self.row_key(&r.values, &r.ksid));
                    }
                }
                return Ok(());
            }
            Err(e) => e,
        };
        if !self.is_consistent() || vc.errno(&err) != DUP_ENTRY {
            return Err(err);
        }
        let mut err = Some(err);
        for r in rows {
            self.handle_dup(vc, r, &mut err).await?;
        }
        Ok(())
    }

    /// Refuses creating (after deleting `deletes`) rows of a consistent
    /// lookup whose values the post-session deleted in this transaction: the
    /// post-session holds the deleted row's lock until after the session's
    /// commit, and the pre-session would wait for it until the statement
    /// timed out. Called before anything is written.
    pub fn check_create<R: std::borrow::Borrow<LookupRow>>(
        &self,
        vc: &dyn VCursor,
        deletes: &[LookupRow],
        creates: &[R],
    ) -> Result<()> {
        if !self.is_consistent() {
            return Ok(());
        }
        let deleted: Vec<String> = deletes
            .iter()
            .filter(|d| !vc.lookup_row_noted(&self.row_key(&d.values, &d.ksid)))
            .map(|d| self.deleted_key(&d.values))
            .collect();
        let clash = creates.iter().any(|c| {
            let key = self.deleted_key(&c.borrow().values);
            deleted.contains(&key) || vc.lookup_row_noted(&key)
        });
        if clash {
            return Err(EngineError::unsupported(format!(
                "writing a value of the consistent lookup vindex {} that this transaction deletes",
                self.name
            )));
        }
        Ok(())
    }

    fn insert_prefix(&self) -> String {
        let mut cols: Vec<String> = self.params.from.iter().map(|c| quote(c)).collect();
        cols.push(quote(&self.params.to));
        format!(
            "insert into {}({}) values ",
            quote_table(&self.params.table),
            cols.join(", ")
        )
    }

    /// A duplicate on a consistent lookup: the existing lookup row is taken
    /// over when its owner row no longer exists; else the duplicate error.
    async fn handle_dup(
        &self,
        vc: &dyn VCursor,
        row: &LookupRow,
        dup: &mut Option<EngineError>,
    ) -> Result<()> {
        let table = quote_table(&self.params.table);
        let to = quote(&self.params.to);
        let wher = self.where_from(&row.values);
        let from: Vec<String> = self.params.from.iter().map(|c| quote(c)).collect();
        let lock = format!(
            "select {}, {to} from {table} where {wher} for update",
            from.join(", ")
        );
        let existing = run(vc, &lock, CommitOrder::Pre).await?;
        let new_to = self.to_value(&row.ksid)?.to_sql();
        let n = self.params.from.len();
        let mut found: Vec<(Vec<BindValue>, Vec<u8>)> = Vec::new();
        for r in &existing.rows {
            let cells = r
                .split_values()
                .map_err(|e| EngineError::BadResult(e.to_string()))?;
            let values = existing
                .fields
                .iter()
                .zip(&cells)
                .take(n)
                .map(|(f, c)| cell_to_bind(f, *c))
                .collect::<Result<Vec<_>>>()?;
            let ksid = cells.get(n).copied().flatten().unwrap_or_default().to_vec();
            found.push((values, ksid));
        }
        match found.as_slice() {
            [] => {
                let mut values: Vec<String> = row.values.iter().map(BindValue::to_sql).collect();
                values.push(new_to);
                let sql = format!("{}({})", self.insert_prefix(), values.join(", "));
                run(vc, &sql, CommitOrder::Pre).await?;
                vc.note_lookup_row(&self.row_key(&row.values, &row.ksid));
            }
            [(values, existing_ksid)] => {
                // A row this transaction wrote belongs to an owner row of this transaction
                // (maybe of this very statement, not inserted yet): a real duplicate.
                let ours = vc.lookup_row_noted(&self.row_key(values, existing_ksid));
                if ours || self.owner_row_exists(vc, row, existing_ksid).await? {
                    return Err(dup.take().unwrap_or_else(|| duplicate(&self.name)));
                }
                if *existing_ksid != row.ksid {
                    let sql = format!("update {table} set {to} = {new_to} where {wher}");
                    run(vc, &sql, CommitOrder::Pre).await?;
                }
                vc.note_lookup_row(&self.row_key(&row.values, &row.ksid));
            }
            _ => {
                return Err(EngineError::BadResult(format!(
                    "unexpected rows: {} from consistent lookup vindex {}",
                    found.len(),
                    self.name
                )))
            }
        }
        Ok(())
    }

    /// Whether the owner row a lookup row points to exists, locking it.
    async fn owner_row_exists(
        &self,
        vc: &dyn VCursor,
        row: &LookupRow,
        ksid: &[u8],
    ) -> Result<bool> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            EngineError::BadResult(format!("consistent lookup {} without owner", self.name))
        })?;
        let shards = vc.shards(&owner.keyspace)?;
        let Some(&shard) = Destination::KeyspaceId(KeyspaceId(ksid.to_vec()))
            .resolve(&shards)?
            .first()
        else {
            return Ok(false);
        };
        let wher: Vec<String> = owner
            .columns
            .iter()
            .zip(&row.values)
            .map(|(c, v)| equals(c, v))
            .collect();
        let cols: Vec<String> = owner.columns.iter().map(|c| quote(c)).collect();
        let sql = format!(
            "select {} from {} where {} for update",
            cols.join(", "),
            quote(&owner.table),
            wher.join(" and ")
        );
        let q = ShardQuery {
            shard: shards[shard].clone(),
            sql,
        };
        let result = vc.execute_multi(&owner.keyspace, &[q]).await?;
        Ok(result.iter().any(|r| !r.rows.is_empty()))
    }

    /// Deletes the lookup rows of owner rows going away (Vitess `Delete`).
    /// An `autocommit` lookup never deletes (as in Vitess: not safe outside
    /// the owner's transaction), leaving rows that point to no owner row.
    pub async fn delete(&self, vc: &dyn VCursor, rows: &[LookupRow]) -> Result<()> {
        if self.params.autocommit && !self.is_consistent() {
            return Ok(());
        }
        self.check_params()?;
        let order = self.write_order(CommitOrder::Post);
        for r in rows {
            if self.params.ignore_nulls && r.values.contains(&BindValue::Null) {
                continue;
            }
            let sql = format!(
                "delete from {} where {} and {}",
                quote_table(&self.params.table),
                self.where_from(&r.values),
                equals(&self.params.to, &self.to_value(&r.ksid)?)
            );
            // A row this transaction's pre-session wrote points to an owner
            // row of this transaction: deleting it in the pre-session is safe
            // (and the post-session would wait for its lock).
            let held =
                self.is_consistent() && vc.lookup_row_noted(&self.row_key(&r.values, &r.ksid));
            run(vc, &sql, if held { CommitOrder::Pre } else { order }).await?;
            if self.is_consistent() && !held {
                vc.note_lookup_row(&self.deleted_key(&r.values));
            }
        }
        Ok(())
    }
}

fn duplicate(name: &str) -> EngineError {
    EngineError::mysql(
        DUP_ENTRY,
        "23000",
        format!("Duplicate entry for key of lookup vindex {name}"),
    )
}

/// A cursor running every query of a nested plan in one commit order.
struct Ordered<'a> {
    vc: &'a dyn VCursor,
    order: CommitOrder,
}

#[async_trait]
impl VCursor for Ordered<'_> {
    fn shards(&self, keyspace: &str) -> Result<Vec<String>> {
        self.vc.shards(keyspace)
    }

    async fn execute_multi(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
    ) -> Result<Vec<QueryResult>> {
        self.vc.execute_ordered(keyspace, queries, self.order).await
    }

    fn max_memory_rows(&self) -> usize {
        self.vc.max_memory_rows()
    }

    async fn next_sequence_values(&self, keyspace: &str, table: &str, count: u64) -> Result<i64> {
        self.vc.next_sequence_values(keyspace, table, count).await
    }

    fn vschema(&self) -> Result<&vschema::VSchema> {
        self.vc.vschema()
    }

    async fn execute_ordered(
        &self,
        keyspace: &str,
        queries: &[ShardQuery],
        order: CommitOrder,
    ) -> Result<Vec<QueryResult>> {
        self.vc.execute_ordered(keyspace, queries, order).await
    }

    fn errno(&self, e: &EngineError) -> u16 {
        self.vc.errno(e)
    }

    fn note_lookup_row(&self, key: &str) {
        self.vc.note_lookup_row(key);
    }

    fn lookup_row_noted(&self, key: &str) -> bool {
        self.vc.lookup_row_noted(key)
    }
}

#[cfg(test)]
mod tests;
