//! Planning SELECT: which keyspace and shards the statement goes to, and
//! whether it can be sent whole.

use sqlparser::ast::{Expr, GroupByExpr, Query, Select, SetExpr, Statement, TableFactor};

use super::checks::check_query;
use super::correlated::plan_merged;
use super::correlated_value::plan_correlated_values;
use super::derived::{plain_inner, plan_derived};
use super::derived_routing::{and_all, plain_select, table_conditions};
use super::join::plan_pushed_join;
use super::nested_join::{plan_nested_join, written_out};
use super::one_shard::plan_one_shard;
use super::order::{features, plan_multi_shard_local};
use super::pullout::plan_pullouts;
use super::reference_join::to_reference_copies;
use super::routing::{conjuncts, route_table, Routing};
use super::same_shard::same_shard;
use super::semi_join::plan_semi_joins;
use super::shadowed::qualify_shadowed;
use super::shard_local::ShardLocal;
use super::tables::{rewrite_for_shards, Tables};
use super::union::plan_union;
use super::using::using_to_on;
use super::vindex_func::plan_vindex_func;
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::{Plan, Primitive};
use crate::route::{Opcode, Route};

/// Plans a `Statement::Query`.
pub(super) fn plan_select(ctx: &Context, stmt: &Statement) -> Result<Plan> {
    let Statement::Query(original) = stmt else {
        return Err(EngineError::unsupported("not a query"));
    };
    if original.with.as_ref().is_some_and(|w| w.recursive) {
        check_query(stmt, original)?;
        return super::recursive_cte::plan_recursive(ctx, stmt, original);
    }
    if let Some(inlined) = super::cte::inline(original)? {
        return plan_select(ctx, &Statement::Query(Box::new(inlined)));
    }
    check_query(stmt, original)?;
    if let Some(plan) = plan_vindex_func(ctx, original)? {
        return Ok(plan);
    }
    if let Some(on) = using_to_on(ctx, original)? {
        return plan_select(ctx, &Statement::Query(Box::new(on)));
    }
    if let Some(qualified) = qualify_shadowed(ctx, original)? {
        return plan_select(ctx, &Statement::Query(Box::new(qualified)));
    }
    let tables = Tables::collect(stmt, &ctx.scope())?;
    if let Some(merged) = to_reference_copies(stmt, &tables, &ctx.scope()) {
        let copies = Tables::collect(&merged, &ctx.scope())?;
        let ks = copies.uses.first().map(|u| &u.table.keyspace.name);
        if copies
            .uses
            .iter()
            .all(|u| Some(&u.table.keyspace.name) == ks)
            && tables
                .uses
                .iter()
                .any(|u| Some(&u.table.keyspace.name) != ks)
        {
            return plan_select(ctx, &merged);
        }
    }
    let tables_used = tables.used();
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    let Statement::Query(query) = shard_stmt else {
        return Err(EngineError::unsupported("not a query"));
    };
    let instructions = route_query(ctx, &tables, *query, original)?;
    if super::cte::nested_with(original, true)
        && super::recursive_cte::sends_recursive_to_shards(&instructions.description().to_json())
    {
        // Each shard would iterate the CTE over its own rows only.
        return Err(EngineError::unsupported(
            "WITH RECURSIVE across shards: the CTE would run on each shard",
        ));
    }
    Ok(Plan {
        query_type: "SELECT",
        instructions,
        tables_used,
        column_names: Vec::new(),
    })
}

/// Plans a query the planner derived (a join side, a UNION branch, a
/// pulled-out subquery or its outer query) from its SQL text.
pub(super) fn plan_side(ctx: &Context, sql: &str) -> Result<Box<dyn Primitive>> {
    let stmt = sql::parse::parse(sql)
        .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
    Ok(plan_select(ctx, &stmt)?.instructions)
}

fn route_query(
    ctx: &Context,
    tables: &Tables,
    query: Query,
    original: &Query,
) -> Result<Box<dyn Primitive>> {
    let Some(first) = tables.uses.first() else {
        let ks = dual_keyspace(ctx)?;
        return Ok(whole(dual_opcode(&query), ks, &query));
    };
    let ks = &first.table.keyspace;
    let set_operation = matches!(original.body.as_ref(), SetExpr::SetOperation { .. });
    let one_keyspace = tables.uses.iter().all(|u| u.table.keyspace.name == ks.name);
    let desc = KeyspaceDesc {
        name: ks.name.clone(),
        sharded: ks.sharded,
    };
    if one_keyspace && !ks.sharded {
        return Ok(whole(Opcode::Unsharded, desc, &query));
    }
    let all_reference = tables
        .uses
        .iter()
        .all(|u| u.table.table_type == vschema::TableType::Reference);
    if one_keyspace && all_reference {
        return Ok(whole(Opcode::Reference, desc, &query));
    }
    if matches!(original.body.as_ref(), SetExpr::Select(s) if s.into.is_some()) {
        return Err(EngineError::unsupported(
            "SELECT ... INTO on a sharded keyspace",
        ));
    }
    if (set_operation || subqueries(original)) && !original.locks.is_empty() {
        // The queries a split plan sends would not lock what MySQL locks.
        return Err(EngineError::unsupported(
            "FOR UPDATE / LOCK IN SHARE MODE across shards",
        ));
    }
    if one_keyspace {
        if let Some(plan) = plan_one_shard(ctx, &desc, &query, original)? {
            return Ok(plan);
        }
        if let Some(plan) = plan_merged(ctx, &query, original)? {
            return Ok(plan);
        }
    }
    if let Some(plan) = plan_semi_joins(ctx, original, plan_side)? {
        return Ok(plan);
    }
    if let Some(plan) = plan_correlated_values(ctx, original, plan_side)? {
        return Ok(plan);
    }
    if let Some(plan) = plan_pullouts(ctx, original, plan_side)? {
        return Ok(plan);
    }
    if !one_keyspace {
        if set_operation {
            return plan_union(ctx, original, plan_side);
        }
        return plan_nested_join(ctx, tables, original, plan_side);
    }
    if set_operation {
        return plan_union(ctx, original, plan_side);
    }
    let joined = matches!(query.body.as_ref(), SetExpr::Select(s)
        if s.from.len() > 1 || s.from.iter().any(|t| !t.joins.is_empty()));
    if joined {
        if let Some(routing) = same_shard(ctx, tables, original)? {
            return Ok(Box::new(routed(routing, desc, &query)));
        }
    }
    if tables.uses.len() > 1 {
        return match plan_pushed_join(tables, query, desc) {
            Err(EngineError::Unsupported(why)) if why == "cross-shard join" => {
                plan_nested_join(ctx, tables, original, plan_side)
            }
            other => other,
        };
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(EngineError::unsupported("UNION on a sharded keyspace"));
    };
    let [only] = select.from.as_slice() else {
        // Derived tables joined with the table: nested loops.
        return plan_nested_join(ctx, tables, original, plan_side);
    };
    // The WHERE that routes: the query's own, or that of a simple derived
    // table the query reads from.
    let routing_where = match &only.relation {
        TableFactor::Table { .. } if only.joins.is_empty() => select.selection.clone(),
        TableFactor::Derived {
            lateral: false,
            subquery,
            ..
        } if only.joins.is_empty() => match simple_derived(select, subquery) {
            Ok(w) => w,
            Err(EngineError::Unsupported(_)) => {
                // Whole when the inner query reaches one shard, else the
                // outer query runs in vtgate over the inner one's rows.
                if let Some(w) = plain_inner(subquery) {
                    let routing = route_table(first, w, true)?;
                    if routing.single_shard {
                        return Ok(Box::new(routed(routing, desc, &query)));
                    }
                }
                return plan_derived(ctx, original, plan_side);
            }
            Err(e) => return Err(e),
        },
        _ => return plan_nested_join(ctx, tables, original, plan_side),
    };
    let routing = route_table(first, routing_where.as_ref(), true)?;
    if routing.single_shard {
        return Ok(Box::new(routed(routing, desc, &query)));
    }
    let one_table = matches!(only.relation, TableFactor::Table { .. });
    let local = if one_table {
        ShardLocal::of(&query, first)
    } else {
        ShardLocal::default()
    };
    // Window functions vtgate computes place their columns by position: `*` beside them is
    // written out from the table's known columns (tracked or authoritative), if known.
    let expanded = (features(&query).window && !local.windows)
        .then(|| written_out(ctx, &query).ok().flatten())
        .flatten();
    let query = expanded.unwrap_or(query);
    let route = routed(routing.clone(), desc, &query);
    plan_multi_shard_local(query, route, local)
}

/// The WHERE conditions that route a query over a derived table that
/// every shard can compute on its own rows (plain filters and projections
/// of one table, possibly nested), so the outer query can treat it like
/// a table.
fn simple_derived(outer: &Select, q: &Query) -> Result<Option<Expr>> {
    if plain_select(q).is_none() {
        return Err(EngineError::unsupported(
            "derived table on a sharded keyspace",
        ));
    }
    Ok(and_all(table_conditions(outer)))
}

/// Whether the query's WHERE has subqueries (which may be pulled out).
fn subqueries(q: &Query) -> bool {
    matches!(q.body.as_ref(), SetExpr::Select(s)
        if s.selection.as_ref().is_some_and(|w| super::order::features_of_expr(w).subquery))
}

/// The keyspace `dual` queries go to: the session's, else the first.
pub(super) fn dual_keyspace(ctx: &Context) -> Result<KeyspaceDesc> {
    let ks = match ctx.default_keyspace {
        Some(k) => ctx
            .vschema
            .keyspace(k)
            .ok_or_else(|| vschema::FindTableError::UnknownKeyspace(k.to_string()))?,
        None => ctx
            .vschema
            .first_keyspace()
            .ok_or(EngineError::NoDatabase)?,
    };
    Ok(KeyspaceDesc {
        name: ks.keyspace.name.clone(),
        sharded: ks.sharded(),
    })
}

/// A route sending `query` unchanged.
/// `dual` (or no FROM) goes to any shard, or to none when its WHERE can
/// never be true and it has no aggregate (which would return a row).
pub(super) fn dual_opcode(query: &Query) -> Opcode {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Opcode::Reference;
    };
    let used = features(query);
    let grouped =
        !matches!(&select.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let never = conjuncts(select.selection.as_ref())
        .into_iter()
        .any(super::routing::never_true);
    if never
        && !used.aggregate
        && !used.window
        && !used.subquery
        && !grouped
        && select.having.is_none()
    {
        Opcode::None
    } else {
        Opcode::Reference
    }
}

pub(super) fn whole(opcode: Opcode, keyspace: KeyspaceDesc, query: &Query) -> Box<dyn Primitive> {
    Box::new(Route::new(
        opcode,
        keyspace,
        query.to_string(),
        field_query(query),
    ))
}

fn routed(routing: Routing, keyspace: KeyspaceDesc, query: &Query) -> Route {
    let mut r = Route::new(
        routing.opcode,
        keyspace,
        query.to_string(),
        field_query(query),
    );
    r.vindex = routing.vindex;
    r
}

/// The query that returns only the result fields: `where 1 != 1` for a
/// plain SELECT, `limit 0` otherwise.
pub(super) fn field_query(query: &Query) -> String {
    let mut q = query.clone();
    q.order_by = None;
    q.limit_clause = None;
    q.locks.clear();
    match q.body.as_mut() {
        SetExpr::Select(s) => {
            s.selection = Some(never_true());
            s.having = None;
        }
        _ => {
            q.limit_clause = Some(sqlparser::ast::LimitClause::LimitOffset {
                limit: Some(Expr::value(sqlparser::ast::Value::Number(
                    "0".into(),
                    false,
                ))),
                offset: None,
                limit_by: Vec::new(),
            })
        }
    }
    q.to_string()
}

fn never_true() -> Expr {
    let one = || Expr::value(sqlparser::ast::Value::Number("1".into(), false));
    Expr::BinaryOp {
        left: Box::new(one()),
        op: sqlparser::ast::BinaryOperator::NotEq,
        right: Box::new(one()),
    }
}
