//! Planning `INSERT INTO t (...) SELECT ...` when the statement cannot go
//! whole to one keyspace: the SELECT is planned on its own and its rows are
//! sent to the one shard of an unsharded table, or routed by the primary
//! vindex column
//! ([`InsertSelect`]), creating the lookup rows of owned lookup vindexes.
//! Auto-increment values come from the table's sequence.

use sqlparser::ast::{Insert, OnInsert, Query, SetExpr, Statement};
use vschema::TableType;

use super::dml::{check_assignment, column_count, column_name, plan_of, split_around_rows};
use super::order::is_wildcard;
use super::owned::insert_owned;
use super::select::plan_side;
use super::tables::Tables;
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::insert_select::{AutoFill, InsertSelect, OwnedFromSelect, RowVindex};
use crate::primitive::Plan;

/// Plans an INSERT whose rows come from `source`; `tables.uses[0]` is the
/// table inserted into.
pub(super) fn plan_insert_select(
    ctx: &Context,
    stmt: &Statement,
    insert: &Insert,
    tables: &Tables,
    source: &Query,
) -> Result<Plan> {
    let table = &tables.uses[0];
    let t = &table.table;
    if t.table_type == TableType::Reference {
        return Err(EngineError::unsupported(
            "Insert on a reference table of a sharded keyspace",
        ));
    }
    if insert.replace_into {
        return Err(EngineError::unsupported(
            "REPLACE INTO with sharded keyspace",
        ));
    }
    let owned_specs = insert_owned(table, insert)?;
    if insert.columns.is_empty() {
        return Err(EngineError::insert_without_columns());
    }
    let mut columns: Vec<String> = insert.columns.iter().map(column_name).collect();
    if select_width(source).is_some_and(|w| w != columns.len()) {
        return Err(column_count());
    }
    // The auto-increment column: appended when not inserted, filled from
    // the sequence where NULL or 0.
    let auto_column = t.auto_increment.as_ref().map(|a| a.column.clone());
    let appended = auto_column
        .as_ref()
        .is_some_and(|a| !columns.iter().any(|c| c.eq_ignore_ascii_case(a)));
    if let (true, Some(a)) = (appended, &auto_column) {
        columns.push(a.clone());
    }
    let position = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let vindex = if t.keyspace.sharded {
        let pv = t
            .primary_vindex()
            .ok_or_else(|| EngineError::unsupported("table without vindex"))?;
        let [pv_col] = pv.columns.as_slice() else {
            return Err(EngineError::unsupported(
                "INSERT with a multi-column primary vindex",
            ));
        };
        let Some(column) = position(pv_col) else {
            return Err(EngineError::BadResult(format!(
                "VT09003: INSERT query does not have primary vindex column '{pv_col}' in the column list"
            )));
        };
        Some(RowVindex {
            column,
            name: pv.name.clone(),
            vindex: pv.vindex.clone(),
        })
    } else {
        None
    };
    let auto = match (&t.auto_increment, &auto_column) {
        (Some(a), Some(c)) => Some(AutoFill {
            column: position(c).unwrap_or(columns.len() - 1),
            appended,
            sequence_keyspace: a.sequence.keyspace.clone(),
            sequence_table: a.sequence.table.clone(),
        }),
        _ => None,
    };
    if let Some(OnInsert::DuplicateKeyUpdate(assignments)) = &insert.on {
        for a in assignments {
            check_assignment(&a.target, table)?;
        }
    }
    let owned = owned_specs
        .into_iter()
        .map(|(cols, lookup)| OwnedFromSelect {
            lookup,
            positions: cols.iter().map(|c| position(c)).collect(),
        })
        .collect();
    let added_column = auto_column.as_deref().filter(|_| appended);
    let (prefix, suffix) = split_around_rows(ctx, stmt, added_column)?;
    let primitive = InsertSelect {
        keyspace: KeyspaceDesc {
            name: t.keyspace.name.clone(),
            sharded: t.keyspace.sharded,
        },
        table: t.name.clone(),
        prefix,
        suffix,
        columns: columns.len(),
        auto,
        vindex,
        input: plan_side(ctx, &source.to_string())?,
        owned,
    };
    Ok(plan_of("INSERT", tables, Box::new(primitive)))
}

/// How many columns the SELECT returns, when its (first) select list has no `*`.
fn select_width(query: &Query) -> Option<usize> {
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::Select(s) if !s.projection.iter().any(is_wildcard) => {
                return Some(s.projection.len())
            }
            SetExpr::Query(q) => body = q.body.as_ref(),
            SetExpr::SetOperation { left, .. } => body = left.as_ref(),
            _ => return None,
        }
    }
}
