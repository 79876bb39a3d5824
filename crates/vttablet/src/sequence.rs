//! Sequence tables, served the way Vitess's vttablet serves them.
//!
//! A sequence table is `create table s (id int, next_id bigint, cache bigint, primary key
//! (id)) comment 'vitess_sequence'` with one row, `id = 0`. vtgate asks its keyspace's
//! primary for values with `select next N values from s` (`select next value from s` is
//! `N = 1`; `N` may be a bind variable, `:n`). The statement is recognised with a few
//! tokens ([`sql::next_values::recognise`]) and never sent to MariaDB.
//!
//! The primary keeps, per table, a block `[next, last)` of values it has reserved. A request
//! that fits is answered from memory. One that does not runs, in a transaction of its own,
//! `select next_id, cache from s where id = 0 for update`, moves `next_id` on by as many
//! multiples of `cache` as the request needs, commits, and only then extends the block. The
//! answer is one row, one INT64 column `nextval`: the first of the `N` consecutive values.
//! Requests for one table are served one at a time (a tokio mutex per table).
//!
//! The table's `next_id` is always ahead of everything handed out, so a block is safe to
//! serve for as long as this tablet stays primary. Each block is stamped with the tablet's
//! primary epoch ([`crate::state::Snapshot::primary_epoch`]) and dropped when the epoch
//! moves: a tablet that was demoted and promoted again reads `next_id` afresh. Only a
//! primary serves sequences.
//!
//! MariaDB's own sequences (`select next value for s`, `nextval(s)`) are not recognised and
//! go to MariaDB unchanged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex};

use mysql_async::prelude::Queryable;
use mysql_async::{from_value_opt, Row, TxOpts, Value};
use proto::query::{BindVariable, Field, QueryResult, Row as ProtoRow, Type};
use proto::sqltypes::{flag, BINARY_COLLATION};
use proto::topodata::TabletType;
use proto::vtrpc::Code;
use tokio::sync::Mutex;

pub use sql::next_values::{recognise, Count, NextValues};

use crate::error::{Result, TabletError};
use crate::tablet::{quote_identifier, Tablet};

/// The table comment that marks a sequence table (as in Vitess's schema engine).
const SEQUENCE_COMMENT: &str = "vitess_sequence";

/// The table of `request` quoted for SQL.
fn quoted(request: &NextValues) -> String {
    match &request.qualifier {
        Some(q) => format!(
            "{}.{}",
            quote_identifier(q),
            quote_identifier(&request.table)
        ),
        None => quote_identifier(&request.table),
    }
}

/// The number of values `request` asks for: at least 1, else Vitess's `invalid increment`.
pub fn resolve_count(request: &NextValues, binds: &HashMap<String, BindVariable>) -> Result<i64> {
    let invalid = |value: &str| {
        TabletError::vitess(
            Code::InvalidArgument,
            format!("invalid increment for sequence {}: {value}", request.name()),
        )
    };
    let text = match &request.count {
        Count::Literal(n) => n.clone(),
        Count::Bind(name) => {
            let var = binds.get(name).ok_or_else(|| {
                TabletError::vitess(Code::InvalidArgument, format!("missing bind var {name}"))
            })?;
            let text = String::from_utf8_lossy(&var.value).into_owned();
            if !proto::sqltypes::is_integral(var.r#type()) {
                return Err(invalid(&text));
            }
            text
        }
    };
    match text.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(invalid(&text)),
    }
}

/// The values one table has reserved and not handed out yet: `[next, last)`.
#[derive(Debug, Default)]
struct Block {
    next: i64,
    last: i64,
    /// The primary epoch the block was reserved in.
    epoch: u64,
    /// Whether the table was seen to carry the sequence comment.
    verified: bool,
}

/// The blocks of every sequence table this tablet has served.
#[derive(Debug, Default)]
pub struct Sequences {
    tables: SyncMutex<HashMap<String, Arc<Mutex<Block>>>>,
}

impl Sequences {
    /// Hands out `count` consecutive values of `request`'s table and returns the first.
    /// The tablet's type and epoch are read once the table's lock is held, so a request
    /// that waited across a type change sees the state it is served in.
    pub async fn next(&self, tablet: &Tablet, request: &NextValues, count: i64) -> Result<i64> {
        let name = request.name();
        primary_epoch(tablet, &name)?;
        let entry = {
            let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
            tables.entry(name.clone()).or_default().clone()
        };
        let mut block = entry.lock().await;
        let epoch = primary_epoch(tablet, &name)?;
        if block.epoch != epoch {
            *block = Block {
                epoch,
                ..Block::default()
            };
        }
        let fits = block.next != 0
            && block
                .next
                .checked_add(count)
                .is_some_and(|end| end <= block.last);
        if !fits {
            if let Err(e) = refill(tablet, request, &mut block, count).await {
                if block.last == 0 {
                    // Nothing reserved (no such table, say): keep no entry for the name.
                    drop(block);
                    let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
                    if tables.get(&name).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                        tables.remove(&name);
                    }
                }
                return Err(e);
            }
        }
        let first = block.next;
        block.next += count;
        Ok(first)
    }
}

/// The tablet's primary epoch, or the refusal a non-primary gives.
fn primary_epoch(tablet: &Tablet, name: &str) -> Result<u64> {
    let snapshot = tablet.state.snapshot();
    if snapshot.tablet_type != TabletType::Primary {
        return Err(TabletError::vitess(
            Code::FailedPrecondition,
            format!(
                "sequence {name} is served by the primary only (this tablet is {})",
                snapshot.tablet_type.as_str_name()
            ),
        ));
    }
    Ok(snapshot.primary_epoch)
}

/// Makes `block` hold at least `count` values: checks the table once, then reserves.
async fn refill(
    tablet: &Tablet,
    request: &NextValues,
    block: &mut Block,
    count: i64,
) -> Result<()> {
    if !block.verified {
        verify_sequence(tablet, request).await?;
        block.verified = true;
    }
    let (next, last) = reserve(tablet, request, block, count).await?;
    block.next = next;
    block.last = last;
    Ok(())
}

/// Refuses a table without the sequence comment, as Vitess does (`%s is not a sequence`).
/// A missing table is left to the reservation's own error.
async fn verify_sequence(tablet: &Tablet, request: &NextValues) -> Result<()> {
    let mut conn = tablet.query_conn(None).await?;
    let comment: Option<String> = conn
        .exec_first(
            "select table_comment from information_schema.tables \
             where table_schema = coalesce(?, database()) and table_name = ?",
            (request.qualifier.clone(), request.table.clone()),
        )
        .await?;
    conn.finished();
    match comment {
        Some(c) if !c.contains(SEQUENCE_COMMENT) => Err(TabletError::vitess(
            Code::InvalidArgument,
            format!("{} is not a sequence", request.name()),
        )),
        _ => Ok(()),
    }
}

/// Reserves a block that holds `count` more values, in a transaction of its own; returns
/// the new `(next, last)` once committed. `block` is what is reserved already: when the
/// table's `next_id` still equals its end, its unused values stay in use (so the values
/// stay consecutive); otherwise the table was changed underneath and the block restarts at
/// `next_id` (never below what this tablet reserved).
async fn reserve(
    tablet: &Tablet,
    request: &NextValues,
    block: &Block,
    count: i64,
) -> Result<(i64, i64)> {
    let name = request.name();
    let table = quoted(request);
    let mut conn = tablet.query_conn(None).await?;
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    let rows: Vec<Row> = tx
        .query(format!(
            "select next_id, cache from {table} where id = 0 for update"
        ))
        .await?;
    let [row] = rows.as_slice() else {
        return Err(TabletError::vitess(
            Code::InvalidArgument,
            format!(
                "unexpected rows from reading sequence {name} (possible mis-route): {}",
                rows.len()
            ),
        ));
    };
    let next_id = int_column(row, 0, &name)?;
    let cache = int_column(row, 1, &name)?;
    if cache < 1 {
        return Err(TabletError::vitess(
            Code::InvalidArgument,
            format!("invalid cache value for sequence {name}: {cache}"),
        ));
    }
    let (start, base) = if next_id == block.last {
        (block.next, next_id)
    } else {
        if next_id < block.last {
            tracing::warn!(
                sequence = %name,
                next_id,
                cached = block.last,
                "sequence next_id is below what this tablet reserved; using the reserved end"
            );
        }
        let base = next_id.max(block.last);
        (base, base)
    };
    let overflow = || {
        TabletError::vitess(
            Code::OutOfRange,
            format!("sequence {name} cannot reserve {count} more values"),
        )
    };
    let needed = start.checked_add(count).ok_or_else(overflow)?;
    let mut last = base.checked_add(cache).ok_or_else(overflow)?;
    if last < needed {
        let blocks = (needed - last + cache - 1) / cache;
        last = blocks
            .checked_mul(cache)
            .and_then(|more| last.checked_add(more))
            .ok_or_else(overflow)?;
    }
    tx.query_drop(format!("update {table} set next_id = {last} where id = 0"))
        .await?;
    tx.commit().await?;
    conn.finished();
    Ok((start, last))
}

/// Column `index` of a sequence row as an integer.
fn int_column(row: &Row, index: usize, name: &str) -> Result<i64> {
    let value = row.as_ref(index).cloned().unwrap_or(Value::NULL);
    from_value_opt::<i64>(value).map_err(|e| {
        TabletError::vitess(
            Code::InvalidArgument,
            format!("error loading sequence {name}: {e}"),
        )
    })
}

/// The answer to a `select next`: one row, one INT64 column `nextval`.
pub fn result(first: i64) -> QueryResult {
    let mut field = Field {
        name: "nextval".into(),
        column_length: 20,
        charset: BINARY_COLLATION,
        flags: flag::BINARY | flag::NUM,
        ..Field::default()
    };
    field.set_type(Type::Int64);
    let mut row = ProtoRow::default();
    row.push(Some(first.to_string().as_bytes()));
    QueryResult {
        fields: vec![field],
        rows: vec![row],
        ..QueryResult::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(typ: Type, value: &str) -> HashMap<String, BindVariable> {
        HashMap::from([(
            "n".to_string(),
            BindVariable {
                r#type: typ as i32,
                value: value.as_bytes().to_vec(),
                values: vec![],
            },
        )])
    }

    #[test]
    fn counts_below_one_or_not_integers_are_refused_as_vitess_does() {
        let none = HashMap::new();
        let count = |sql: &str, binds: &HashMap<String, BindVariable>| {
            let request = recognise(sql).expect("recognised");
            resolve_count(&request, binds).map_err(|e| e.to_string())
        };
        assert_eq!(count("select next 7 values from s", &none), Ok(7));
        assert_eq!(count("select next value from s", &none), Ok(1));
        assert_eq!(
            count("select next 0 values from s", &none),
            Err("invalid increment for sequence s: 0".into())
        );
        assert_eq!(
            count("select next 99999999999999999999 values from ks.s", &none),
            Err("invalid increment for sequence ks.s: 99999999999999999999".into())
        );
        let binds = bind(Type::Int64, "3");
        assert_eq!(count("select next :n values from s", &binds), Ok(3));
        let binds = bind(Type::Int64, "-2");
        assert_eq!(
            count("select next :n values from s", &binds),
            Err("invalid increment for sequence s: -2".into())
        );
        let binds = bind(Type::Varchar, "3");
        assert!(count("select next :n values from s", &binds).is_err());
        assert_eq!(
            count("select next :m values from s", &binds),
            Err("missing bind var m".into())
        );
    }

    #[test]
    fn the_answer_is_one_int64_nextval() {
        let r = result(1000);
        assert_eq!(r.fields.len(), 1);
        assert_eq!(r.fields[0].name, "nextval");
        assert_eq!(r.fields[0].r#type(), Type::Int64);
        assert_eq!(
            r.rows[0].split_values().unwrap(),
            [Some(b"1000".as_slice())]
        );
    }
}
