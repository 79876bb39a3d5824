//! Merging subqueries into the outer query's route (Vitess merges a
//! subquery's route into the outer one when they provably meet on the same
//! shard): the whole statement goes to the outer table's shards unchanged,
//! and each shard evaluates the subqueries for its own outer rows.
//!
//! That is exact only when every inner row a given outer row can depend on
//! lives on that outer row's shard. A subquery qualifies when its FROM is a
//! single table of the outer table's keyspace and either
//!
//! * the table is a reference table (all of it is on every shard), or
//! * its WHERE's top-level AND holds `inner.pv = outer.pv`, both columns
//!   the primary (single-column, unique) vindex of their table and the same
//!   vindex of the keyspace: every inner row it reads has the outer row's
//!   keyspace id, so any shape inside (aggregates, LIMIT, other correlated
//!   conditions) sees exactly the rows it would on one database.
//!
//! The outer query must read one sharded table, or a join of tables whose
//! sharded ones are all co-located (the join [`plan_pushed_join`] sends
//! whole; `inner.pv` may then equal the vindex column of any of them), and
//! may have subqueries only in its select list and WHERE (and, for a join,
//! ON). Anything else is left to the other
//! planners (which pull out uncorrelated subqueries and refuse correlated
//! ones).

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, JoinConstraint, Query, SetExpr, TableFactor, Visit, Visitor,
};
use vschema::TableType;

use super::join::plan_pushed_join;
use super::order::{features, plan_multi_shard};
use super::routing::{conjuncts, is_column, route_table};
use super::select::field_query;
use super::tables::{from_factors, resolve_name, TableUse, Tables};
use super::using::constraint;
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::route::Route;

/// Collects the subqueries directly inside what it visits (not those nested
/// in them), skipping the query it starts in when `top` is set.
struct Subqueries {
    depth: usize,
    top: bool,
    found: Vec<Query>,
}

impl Subqueries {
    fn new(top: bool) -> Self {
        Subqueries {
            depth: 0,
            top,
            found: Vec::new(),
        }
    }
}

impl Visitor for Subqueries {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.depth += 1;
        let direct = if self.top { 2 } else { 1 };
        if self.depth == direct {
            self.found.push(q.clone());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// The tables a SELECT reads, resolved, in written order; `None` when a FROM item is not
/// a plain table of the VSchema.
fn from_tables(ctx: &Context, q: &Query) -> Result<Option<Vec<TableUse>>> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Ok(None);
    };
    let mut uses = Vec::new();
    for factor in from_factors(&s.from) {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return Ok(None);
        };
        let Some(table) = resolve_name(name, &ctx.scope())? else {
            return Ok(None);
        };
        uses.push(TableUse::new(table, name, alias.as_ref()));
    }
    Ok(Some(uses))
}

/// The single plain table a SELECT reads, resolved; `None` for any other
/// FROM.
fn single_table(ctx: &Context, q: &Query) -> Result<Option<TableUse>> {
    Ok(from_tables(ctx, q)?.and_then(|mut uses| match uses.len() {
        1 => uses.pop(),
        _ => None,
    }))
}

/// The name of the table's primary vindex, when it is a unique
/// single-column vindex, with its column.
fn unique_primary(u: &TableUse) -> Option<(&str, &str)> {
    if !u.table.keyspace.sharded || u.table.table_type == TableType::Reference {
        return None;
    }
    let pv = u.table.primary_vindex()?;
    match pv.columns.as_slice() {
        [col] if pv.vindex.is_unique() && !pv.partial => Some((&pv.name, col)),
        _ => None,
    }
}

/// Whether subquery `sq` can run on the shard of each outer row: every row
/// it reads is a reference table's or shares the keyspace id of one of
/// `anchors` (the outer tables, then the enclosing subqueries' tables, whose
/// rows are on that shard), and so do the subqueries nested in it.
fn mergeable(ctx: &Context, sq: &Query, anchors: &[TableUse]) -> Result<bool> {
    if sq.with.is_some() {
        return Ok(false);
    }
    let Some(inner) = single_table(ctx, sq)? else {
        return Ok(false);
    };
    let Some(first) = anchors.first() else {
        return Ok(false);
    };
    if inner.table.keyspace.name != first.table.keyspace.name {
        return Ok(false);
    }
    // The inner table hides an anchor of its name: nothing below reads that one.
    let mut visible: Vec<TableUse> = anchors
        .iter()
        .filter(|a| a.qualifier() != inner.qualifier())
        .cloned()
        .collect();
    if inner.table.table_type != TableType::Reference {
        if !visible.iter().any(|a| joined_on_vindex(sq, &inner, a)) {
            return Ok(false);
        }
        visible.push(inner);
    }
    let mut nested = Subqueries::new(true);
    let _ = Visit::visit(sq, &mut nested);
    for n in &nested.found {
        if !mergeable(ctx, n, &visible)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the WHERE of `sq` (reading `inner`) holds `inner.pv = outer.pv`
/// in its top-level AND, both the unique primary vindex columns of the same
/// vindex.
fn joined_on_vindex(sq: &Query, inner: &TableUse, outer: &TableUse) -> bool {
    let (Some((outer_vindex, outer_col)), Some((inner_vindex, inner_col))) =
        (unique_primary(outer), unique_primary(inner))
    else {
        return false;
    };
    if outer_vindex != inner_vindex {
        return false;
    }
    let SetExpr::Select(s) = sq.body.as_ref() else {
        return false;
    };
    conjuncts(s.selection.as_ref()).into_iter().any(|c| {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = c
        else {
            return false;
        };
        let inner_side = |e: &Expr| is_column(e, inner, inner_col, true);
        let outer_side = |e: &Expr| is_column(e, outer, outer_col, false);
        (inner_side(left) && outer_side(right)) || (outer_side(left) && inner_side(right))
    })
}

/// Plans `original` (whose shard text is `query`) as one route with its
/// subqueries merged in; `None` when it has no subquery or one that cannot
/// be merged.
pub(super) fn plan_merged(
    ctx: &Context,
    query: &Query,
    original: &Query,
) -> Result<Option<Box<dyn Primitive>>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Ok(None);
    };
    let Some(outers) = from_tables(ctx, original)? else {
        return Ok(None);
    };
    let joined = match outers.as_slice() {
        [] => return Ok(None),
        [outer] if unique_primary(outer).is_none() => return Ok(None),
        [_] => None,
        _ => Some(Tables {
            uses: outers.clone(),
        }),
    };
    let mut all = Subqueries::new(true);
    let _ = Visit::visit(original, &mut all);
    if all.found.is_empty() {
        return Ok(None);
    }
    // Only in the select list, WHERE and (of a join sent whole) ON.
    let mut placed = Subqueries::new(false);
    let _ = Visit::visit(&select.projection, &mut placed);
    let _ = Visit::visit(&select.selection, &mut placed);
    if joined.is_some() {
        for j in select.from.iter().flat_map(|t| &t.joins) {
            if let Some(JoinConstraint::On(on)) = constraint(&j.join_operator) {
                let _ = Visit::visit(on, &mut placed);
            }
        }
    }
    if placed.found.len() != all.found.len() {
        return Ok(None);
    }
    let anchors: Vec<TableUse> = outers
        .iter()
        .filter(|o| unique_primary(o).is_some())
        .cloned()
        .collect();
    for sq in &all.found {
        if !mergeable(ctx, sq, &anchors)? {
            return Ok(None);
        }
    }
    // A subquery's value beside merged aggregates: not handled.
    let mut in_projection = Subqueries::new(false);
    let _ = Visit::visit(&select.projection, &mut in_projection);
    let grouped =
        !matches!(&select.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    // DISTINCT alone treats the subquery's value as any other column, and so do windows
    // (`max(x) OVER (...)` is no aggregation of the rows).
    let beside_aggregates = !in_projection.found.is_empty()
        && (features(original).grouping_aggregate || grouped || select.having.is_some());
    let desc = KeyspaceDesc {
        name: outers[0].table.keyspace.name.clone(),
        sharded: true,
    };
    if let Some(joined) = joined {
        if beside_aggregates {
            return Ok(None);
        }
        // Merged only when the outer tables' join goes whole to the shards.
        return match plan_pushed_join(&joined, query.clone(), desc) {
            Ok(plan) => Ok(Some(plan)),
            Err(EngineError::Unsupported(_)) => Ok(None),
            Err(e) => Err(e),
        };
    }
    let outer = &outers[0];
    let SetExpr::Select(shard_select) = query.body.as_ref() else {
        return Ok(None);
    };
    let routing = route_table(outer, shard_select.selection.as_ref(), true)?;
    let mut route = Route::new(routing.opcode, desc, query.to_string(), field_query(query));
    route.vindex = routing.vindex;
    if routing.single_shard {
        return Ok(Some(Box::new(route)));
    }
    if beside_aggregates {
        return Err(EngineError::unsupported(
            "subquery in the select list of an aggregation across shards",
        ));
    }
    plan_multi_shard(query.clone(), route).map(Some)
}
