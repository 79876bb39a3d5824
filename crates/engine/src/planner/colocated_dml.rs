//! UPDATE and DELETE that read several tables of one sharded keyspace (a
//! join, or subqueries in SET or WHERE), sent whole to the shards when
//! every row they read for a target row lives on that row's shard.
//!
//! The proof is the SELECT reading the same rows (`select <SET values>
//! from <the DML's tables> where <its WHERE>`): when the planner sends it
//! to the shards as one route (co-located joins, correlated subqueries on
//! the shared vindex, reference tables), each shard's part of the DML sees
//! exactly the rows the whole statement would. The targets are routed by
//! their own vindex predicates. Refused (left to the other DML paths and
//! their errors): targets whose vindex columns change, DELETE from tables
//! with owned lookup vindexes (their lookup rows would need deleting), a
//! LIMIT over several shards.

use sqlparser::ast::{AssignmentTarget, Delete, Expr, FromTable, Statement, TableFactor, Update};

use super::routing::route_table;
use super::select::plan_select;
use super::tables::{rewrite_for_shards, table_name, TableUse, Tables};
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::Result;
use crate::primitive::Primitive;
use crate::route::Route;

/// The statement planned.
pub(super) enum Dml<'a> {
    /// An UPDATE.
    Update(&'a Update),
    /// A DELETE.
    Delete(&'a Delete),
}

/// The table use a target name (alias or table name) means.
fn target_use<'t>(tables: &'t Tables, name: &str) -> Option<&'t TableUse> {
    let mut found = tables.uses.iter().filter(|u| u.qualifier() == name);
    match (found.next(), found.next()) {
        (Some(u), None) => Some(u),
        _ => None,
    }
}

/// The name a table's columns are qualified by.
fn qualifier(f: &TableFactor) -> Option<String> {
    match f {
        TableFactor::Table { name, alias, .. } => Some(
            alias
                .as_ref()
                .map_or_else(|| table_name(name), |a| a.name.value.clone()),
        ),
        _ => None,
    }
}

/// The targets and the probing SELECT's text; `None` for a shape not
/// handled here.
fn targets_and_probe<'t>(
    tables: &'t Tables,
    dml: &Dml,
) -> Option<(Vec<&'t TableUse>, String, Option<Expr>, bool)> {
    match dml {
        Dml::Update(u) => {
            if u.from.is_some() {
                return None;
            }
            let single = u.table.joins.is_empty();
            let mut targets: Vec<&TableUse> = Vec::new();
            let mut values = Vec::new();
            for a in &u.assignments {
                let AssignmentTarget::ColumnName(name) = &a.target else {
                    return None;
                };
                let parts: Vec<String> = name.0.iter().map(|p| p.to_string()).collect();
                let (table, column) = match parts.as_slice() {
                    [c] if single => (target_use(tables, &qualifier(&u.table.relation)?)?, c),
                    [t, c] => (target_use(tables, t.trim_matches('`'))?, c),
                    _ => return None,
                };
                let column = column.trim_matches('`');
                let vindexed = table
                    .table
                    .column_vindexes
                    .iter()
                    .any(|cv| cv.columns.iter().any(|c| c.eq_ignore_ascii_case(column)));
                if vindexed {
                    return None;
                }
                if !targets.iter().any(|t| std::ptr::eq(*t, table)) {
                    targets.push(table);
                }
                values.push(a.value.to_string());
            }
            let probe = format!("select {} from {}", values.join(", "), u.table);
            let limited = u.limit.is_some() || !u.order_by.is_empty();
            Some((targets, probe, u.selection.clone(), limited))
        }
        Dml::Delete(d) => {
            if d.using.is_some() {
                return None;
            }
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
            let targets: Vec<&TableUse> = if d.tables.is_empty() {
                match from.as_slice() {
                    [only] if only.joins.is_empty() => {
                        vec![target_use(tables, &qualifier(&only.relation)?)?]
                    }
                    _ => return None,
                }
            } else {
                d.tables
                    .iter()
                    .map(|n| target_use(tables, &table_name(n)))
                    .collect::<Option<_>>()?
            };
            if targets
                .iter()
                .any(|t| t.table.owned_vindexes().next().is_some())
            {
                return None;
            }
            let from: Vec<String> = from.iter().map(ToString::to_string).collect();
            let probe = format!("select 1 from {}", from.join(", "));
            let limited = d.limit.is_some() || !d.order_by.is_empty();
            Some((targets, probe, d.selection.clone(), limited))
        }
    }
}

/// Plans the DML as one route when it reads several tables of one sharded
/// keyspace co-located with its targets; `None` otherwise.
pub(super) fn plan_colocated_dml(
    ctx: &Context,
    stmt: &Statement,
    tables: &Tables,
    dml: Dml,
) -> Result<Option<Box<dyn Primitive>>> {
    let Some(first) = tables.uses.first() else {
        return Ok(None);
    };
    let ks = &first.table.keyspace;
    let one_sharded_keyspace =
        ks.sharded && tables.uses.iter().all(|u| u.table.keyspace.name == ks.name);
    if tables.uses.len() < 2 || !one_sharded_keyspace {
        return Ok(None);
    }
    let Some((targets, probe, selection, limited)) = targets_and_probe(tables, &dml) else {
        return Ok(None);
    };
    let reference = |u: &&TableUse| u.table.table_type == vschema::TableType::Reference;
    let Some(target) = targets.first() else {
        return Ok(None);
    };
    if targets.iter().any(reference) {
        return Ok(None);
    }
    let probe = match &selection {
        Some(w) => format!("{probe} where {w}"),
        None => probe,
    };
    let Ok(parsed) = sql::parse::parse(&probe) else {
        return Ok(None);
    };
    let whole = match plan_select(ctx, &parsed) {
        Ok(plan) => plan.instructions.description().to_json()["OperatorType"] == "Route",
        Err(_) => false,
    };
    if !whole {
        return Ok(None);
    }
    let routing = route_table(target, selection.as_ref(), true)?;
    if limited && !routing.single_shard {
        return Ok(None);
    }
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    let desc = KeyspaceDesc {
        name: ks.name.clone(),
        sharded: true,
    };
    let mut r = Route::new(routing.opcode, desc, shard_stmt.to_string(), String::new());
    r.vindex = routing.vindex;
    r.operator = match dml {
        Dml::Update(_) => "Update",
        Dml::Delete(_) => "Delete",
    };
    Ok(Some(Box::new(r)))
}
