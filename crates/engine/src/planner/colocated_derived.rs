//! A derived table that a pushed join (see `join`) may send to the shards
//! with the rest of the statement: one whose rows each shard computes whole
//! from its own rows of one table.
//!
//! * `(select ... from t where ...)`, filtering and renaming `t`'s rows: each
//!   shard's rows of the derived table are its rows of `t`;
//! * `(select ... from t ... group by <t's primary vindex column>, ...)`:
//!   every group is whole on one shard when the vindex sends rows MySQL
//!   finds equal to one shard (`shard_local`), so each shard's groups,
//!   aggregates and HAVING are exactly MySQL's;
//! * over a reference table, either shape is the same on every shard.
//!
//! The derived table then stands in the join for its table, its primary
//! vindex column read under the names its select list gives that column,
//! and routes by its own WHERE. LIMIT, DISTINCT without such a GROUP BY,
//! windows, subqueries, WITH and nested derived tables keep the nested
//! loop.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, GroupByExpr, Select, SelectItem, SetExpr, TableFactor};

use super::derived::derived_columns;
use super::join::is_sharded;
use super::order::features;
use super::routing::{is_column, route_table, Routing};
use super::shard_local::ShardLocal;
use super::tables::TableUse;
use crate::error::{EngineError, Result};

/// `factor` as its table `inner` named by the derived table's alias, with
/// the names of its primary vindex column and its routing; None when it is
/// no derived table each shard computes whole. A column of it that `outer`
/// reads but it does not have is error 1054, as the nested loop reports it.
pub(super) fn item(
    outer: &Select,
    factor: &TableFactor,
    inner: &TableUse,
) -> Result<Option<(TableUse, Vec<String>, Routing)>> {
    let TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        sample: None,
    } = factor
    else {
        return Ok(None);
    };
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return Ok(None);
    };
    let [only] = select.from.as_slice() else {
        return Ok(None);
    };
    let used = features(subquery);
    if !only.joins.is_empty()
        || !matches!(only.relation, TableFactor::Table { .. })
        || subquery.with.is_some()
        || subquery.limit_clause.is_some()
        || subquery.fetch.is_some()
        || !subquery.locks.is_empty()
        || select.into.is_some()
        || used.subquery
        || used.window
    {
        return Ok(None);
    }
    let sharded = is_sharded(inner);
    let grouped = !matches!(&select.group_by,
        GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let combined =
        grouped || used.aggregate || select.distinct.is_some() || select.having.is_some();
    if sharded && combined && !(grouped && ShardLocal::of(subquery, inner).groups) {
        return Ok(None);
    }
    let mut vindex_columns = Vec::new();
    if let Some(pv) = inner
        .table
        .primary_vindex()
        .filter(|pv| pv.columns.len() == 1)
    {
        let column = &pv.columns[0];
        match select.projection.as_slice() {
            [SelectItem::Wildcard(_)] if alias.columns.is_empty() => {
                vindex_columns.push(column.clone());
            }
            items
                if items.iter().any(|i| {
                    matches!(
                        i,
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                    )
                }) =>
            {
                return Ok(None);
            }
            items => {
                let names = match derived_columns(subquery, alias) {
                    Ok(names) => names,
                    Err(EngineError::Unsupported(_)) => return Ok(None),
                    Err(e) => return Err(e),
                };
                unknown_column(outer, &alias.name.value, &names)?;
                for (item, name) in items.iter().zip(&names) {
                    let e = match item {
                        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                        _ => continue,
                    };
                    let bare = matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                    if bare && is_column(e, inner, column, true) {
                        vindex_columns.push(name.clone());
                    }
                }
            }
        }
    }
    if sharded && vindex_columns.is_empty() {
        return Ok(None);
    }
    let routing = route_table(inner, select.selection.as_ref(), true)?;
    let table = TableUse {
        table: inner.table.clone(),
        written: alias.name.value.clone(),
        alias: Some(alias.name.value.clone()),
    };
    Ok(Some((table, vindex_columns, routing)))
}

/// Error 1054 for the first `alias.column` in `outer` that is none of `names`.
fn unknown_column(outer: &Select, alias: &str, names: &[String]) -> Result<()> {
    let found = sqlparser::ast::visit_expressions(outer, |e| match e {
        Expr::CompoundIdentifier(ids)
            if ids.len() == 2
                && ids[0].value == alias
                && !names.iter().any(|n| n.eq_ignore_ascii_case(&ids[1].value)) =>
        {
            ControlFlow::Break(e.to_string())
        }
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(column) => Err(EngineError::mysql(
            1054,
            "42S22",
            format!("column '{column}' not found"),
        )),
        ControlFlow::Continue(()) => Ok(()),
    }
}
