//! A select alias that shadows a table column in GROUP BY and HAVING.
//!
//! MySQL resolves a GROUP BY name against the FROM tables' columns before the
//! select aliases, and a HAVING name that is both a GROUP BY column and an
//! alias as the column. vtgate merges groups by select item, and finds a
//! bare name among the aliases first; so a GROUP BY `n` where `n` is the
//! alias of another value and the column of one FROM table (the VSchema or
//! schema tracking says so) is written as `t.n`, and a bare `n` in HAVING as
//! the GROUP BY column it means. A name several tables have, or none known
//! to, is left alone.

use std::collections::HashMap;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, SelectItem, SetExpr, TableFactor, TableWithJoins, VisitMut,
};

use super::nested_join::Unit;
use super::using::Qualify;
use super::Context;
use crate::error::{EngineError, Result};

/// The query with GROUP BY and HAVING names qualified where an alias
/// shadows a column, or None when nothing changes.
pub(super) fn qualify_shadowed(ctx: &Context, q: &Query) -> Result<Option<Query>> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(None);
    };
    let GroupByExpr::Expressions(exprs, _) = &select.group_by else {
        return Ok(None);
    };
    // Aliases of something other than the column of the same name.
    let shadowing: Vec<String> = select
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { expr, alias } => {
                let itself = match expr {
                    Expr::Identifier(id) => id.value.eq_ignore_ascii_case(&alias.value),
                    Expr::CompoundIdentifier(ids) => ids
                        .last()
                        .is_some_and(|id| id.value.eq_ignore_ascii_case(&alias.value)),
                    _ => false,
                };
                (!itself).then(|| alias.value.to_ascii_lowercase())
            }
            _ => None,
        })
        .collect();
    if exprs.is_empty() || shadowing.is_empty() {
        return Ok(None);
    }
    let mut tables = Vec::new();
    for twj in &select.from {
        collect(ctx, twj, &mut tables)?;
    }
    let mut out = q.clone();
    let SetExpr::Select(select) = out.body.as_mut() else {
        return Ok(None);
    };
    let GroupByExpr::Expressions(exprs, _) = &mut select.group_by else {
        return Ok(None);
    };
    let mut columns: HashMap<String, Vec<Ident>> = HashMap::new();
    for g in exprs.iter_mut() {
        match g {
            Expr::Identifier(id) if shadowing.contains(&id.value.to_ascii_lowercase()) => {
                let mut owners = tables.iter().filter(|u| u.declares(&id.value));
                if let (Some(owner), None) = (owners.next(), owners.next()) {
                    let column = owner.column(id);
                    columns.insert(id.value.to_ascii_lowercase(), column.clone());
                    *g = Expr::CompoundIdentifier(column);
                }
            }
            Expr::CompoundIdentifier(ids) => {
                if let Some(last) = ids.last() {
                    let key = last.value.to_ascii_lowercase();
                    if shadowing.contains(&key) {
                        columns.insert(key, ids.clone());
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(having) = select.having.as_mut() {
        let _ = having.visit(&mut Qualify::new(&columns));
    }
    Ok((out != *q).then_some(out))
}

/// The FROM items of `twj` (inside parenthesized joins too) as [`Unit`]s;
/// items that are not a table or a derived table are left out.
fn collect(ctx: &Context, twj: &TableWithJoins, out: &mut Vec<Unit>) -> Result<()> {
    for factor in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
        {
            collect(ctx, table_with_joins, out)?;
            continue;
        }
        match Unit::of(ctx, factor) {
            Ok(u) => out.push(u),
            Err(EngineError::Unsupported(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
