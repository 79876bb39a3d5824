//! A statement of several SELECTs (subqueries, derived tables, UNION
//! branches) each of which reads only rows of one keyspace id is sent whole
//! to that keyspace id's shard (Vitess merges routes that are pinned to the
//! same value of the same vindex, whatever nests them).
//!
//! It is exact because every row any part of the statement can read lives
//! on that shard: a sharded table's rows are pinned by its own SELECT's
//! WHERE (a unique vindex equal to a literal proven at plan time to map to
//! that keyspace id), a reference table is complete on every shard, and a
//! SELECT without tables (or from a derived table, itself checked) reads
//! nothing else. So the shard computes what one database would.
//!
//! Only SELECTs with at most one FROM item and no joins are considered
//! (joins are [`super::same_shard`]'s), and only literals: a bind variable
//! or a value that maps to no shard could send the statement nowhere or
//! everywhere, where a table-less SELECT would still return its row.

use std::ops::ControlFlow;

use sqlparser::ast::{Query, Select, SetExpr, TableFactor, Visit, Visitor};
use vschema::{Destination, KeyspaceId, TableType};

use super::routing::{route_table, Routing};
use super::select::field_query;
use super::tables::{resolve_name, TableUse};
use super::Context;
use crate::bind::{routing_value, PlanValue};
use crate::description::KeyspaceDesc;
use crate::error::Result;
use crate::primitive::Primitive;
use crate::route::{Opcode, Route};

/// Every query in a statement, at any depth, outermost first (copies:
/// the visitor's references do not outlive the visit).
#[derive(Default)]
struct AllQueries(Vec<Query>);

impl Visitor for AllQueries {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.0.push(q.clone());
        ControlFlow::Continue(())
    }
}

/// The SELECTs that make up `body` (UNION branches); `None` for any other
/// kind of set expression (VALUES, TABLE, ...). Parenthesized queries are
/// left out: the visitor finds them as queries of their own.
fn selects<'a>(body: &'a SetExpr, out: &mut Vec<&'a Select>) -> Option<()> {
    match body {
        SetExpr::Select(s) => out.push(s),
        SetExpr::SetOperation { left, right, .. } => {
            selects(left, out)?;
            selects(right, out)?;
        }
        SetExpr::Query(_) => {}
        _ => return None,
    }
    Some(())
}

/// What one SELECT reads.
enum Reads {
    /// No rows of a sharded table (no FROM, `dual`, a reference table, a
    /// derived table checked on its own).
    Nothing,
    /// Only rows of this keyspace id, routed so.
    Pinned(KeyspaceId, Routing),
}

/// What `select` reads, `None` when it may read rows of several shards.
fn reads(ctx: &Context, keyspace: &str, select: &Select) -> Result<Option<Reads>> {
    let only = match select.from.as_slice() {
        [] => return Ok(Some(Reads::Nothing)),
        [only] if only.joins.is_empty() => only,
        _ => return Ok(None),
    };
    let (name, alias) = match &only.relation {
        TableFactor::Derived { lateral: false, .. } => return Ok(Some(Reads::Nothing)),
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => (name, alias),
        _ => return Ok(None),
    };
    let Some(table) = resolve_name(name, &ctx.scope())? else {
        return Ok(Some(Reads::Nothing));
    };
    if table.keyspace.name != keyspace {
        return Ok(None);
    }
    if table.table_type == TableType::Reference {
        return Ok(Some(Reads::Nothing));
    }
    let table = TableUse::new(table, name, alias.as_ref());
    let routing = route_table(&table, select.selection.as_ref(), true)?;
    Ok(keyspace_id(&routing).map(|k| Reads::Pinned(k, routing)))
}

/// The keyspace id of a route proven at plan time to reach one shard
/// through one literal of a unique functional vindex.
fn keyspace_id(routing: &Routing) -> Option<KeyspaceId> {
    let rv = routing.vindex.as_ref()?;
    if routing.opcode != Opcode::EqualUnique || !routing.single_shard || rv.vindex.needs_vcursor() {
        return None;
    }
    let [PlanValue::Literal(lit)] = rv.values.as_slice() else {
        return None;
    };
    match rv
        .vindex
        .map(&[routing_value(lit, rv.vindex.as_ref(), rv.kind)?])
        .ok()?
        .as_slice()
    {
        [Destination::KeyspaceId(k)] => Some(k.clone()),
        _ => None,
    }
}

/// Plans `original` (whose shard text is `query`, in `keyspace`) as one
/// route to the shard of the keyspace id all its SELECTs are pinned to;
/// `None` unless it has several SELECTs, all pinned to one keyspace id or
/// reading no sharded rows, and at least one pinned.
pub(super) fn plan_one_shard(
    ctx: &Context,
    keyspace: &KeyspaceDesc,
    query: &Query,
    original: &Query,
) -> Result<Option<Box<dyn Primitive>>> {
    let mut queries = AllQueries::default();
    let _ = Visit::visit(original, &mut queries);
    let mut all = Vec::new();
    for q in &queries.0 {
        if q.with.is_some() || selects(&q.body, &mut all).is_none() {
            return Ok(None);
        }
    }
    if all.len() < 2 {
        return Ok(None);
    }
    let mut pinned: Option<(KeyspaceId, Routing)> = None;
    for select in all {
        match reads(ctx, &keyspace.name, select)? {
            None => return Ok(None),
            Some(Reads::Nothing) => {}
            Some(Reads::Pinned(k, routing)) => match &pinned {
                Some((first, _)) if *first != k => return Ok(None),
                Some(_) => {}
                None => pinned = Some((k, routing)),
            },
        }
    }
    let Some((_, routing)) = pinned else {
        return Ok(None);
    };
    let mut route = Route::new(
        routing.opcode,
        keyspace.clone(),
        query.to_string(),
        field_query(query),
    );
    route.vindex = routing.vindex;
    Ok(Some(Box::new(route)))
}
