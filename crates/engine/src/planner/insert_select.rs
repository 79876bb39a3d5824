//! Planning `INSERT INTO sharded (...) SELECT ...`: the SELECT is planned
//! on its own and its rows are routed by the primary vindex column
//! ([`InsertSelect`]), creating the lookup rows of owned lookup vindexes.
//! Auto-increment values cannot be generated here.

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
use crate::insert_select::{InsertSelect, OwnedFromSelect};
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
    if !t.keyspace.sharded {
        return Err(EngineError::unsupported(
            "INSERT into an unsharded table from another keyspace",
        ));
    }
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
        return Err(EngineError::unsupported(
            "VT09004: INSERT should contain column list or the table should have authoritative columns in vschema",
        ));
    }
    let columns: Vec<String> = insert.columns.iter().map(column_name).collect();
    if select_width(source).is_some_and(|w| w != columns.len()) {
        return Err(column_count());
    }
    let position = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let pv = t
        .primary_vindex()
        .ok_or_else(|| EngineError::unsupported("table without vindex"))?;
    let [pv_col] = pv.columns.as_slice() else {
        return Err(EngineError::unsupported(
            "INSERT with a multi-column primary vindex",
        ));
    };
    let Some(vindex_column) = position(pv_col) else {
        return Err(EngineError::BadResult(format!(
            "VT09003: INSERT query does not have primary vindex column '{pv_col}' in the column list"
        )));
    };
    let auto_column = match &t.auto_increment {
        Some(a) => Some(position(&a.column).ok_or_else(|| {
            EngineError::unsupported("INSERT ... SELECT generating auto-increment values")
        })?),
        None => None,
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
    let (prefix, suffix) = split_around_rows(ctx, stmt, None)?;
    let primitive = InsertSelect {
        keyspace: KeyspaceDesc {
            name: t.keyspace.name.clone(),
            sharded: true,
        },
        table: t.name.clone(),
        prefix,
        suffix,
        columns: columns.len(),
        vindex_column,
        auto_column,
        vindex_name: pv.name.clone(),
        vindex: pv.vindex.clone(),
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
