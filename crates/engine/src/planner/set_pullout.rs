//! UPDATE whose SET values read uncorrelated subqueries (`set c =
//! (select max(x) from t)`): each runs first and its value is bound into
//! the UPDATE, which is then planned on its own (another keyspace's
//! subquery included). A subquery reading the updated table, or a column
//! of it, is left to the other paths (which refuse it across shards): MySQL
//! evaluates it against the rows being changed. A statement all in one
//! unsharded keyspace goes whole.

use sqlparser::ast::{Statement, TableFactor};

use super::order::features_of_expr;
use super::pullout::{pull, wrap};
use super::select::plan_side;
use super::tables::Tables;
use super::Context;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;

/// Plans the UPDATE with its SET subqueries pulled out; `None` when its
/// SET has none, or its WHERE has subqueries too.
pub(super) fn plan_set_pullouts(
    ctx: &Context,
    stmt: &Statement,
    tables: &Tables,
) -> Result<Option<Box<dyn Primitive>>> {
    let Statement::Update(update) = stmt else {
        return Ok(None);
    };
    let has = |e: &sqlparser::ast::Expr| features_of_expr(e).subquery;
    if !update.assignments.iter().any(|a| has(&a.value))
        || update.selection.as_ref().is_some_and(has)
        || !update.table.joins.is_empty()
        || update.from.is_some()
    {
        return Ok(None);
    }
    let Some(target) = tables.uses.first() else {
        return Ok(None);
    };
    let ks = &target.table.keyspace;
    let whole = !ks.sharded && tables.uses.iter().all(|u| u.table.keyspace.name == ks.name);
    let same_table = tables
        .uses
        .iter()
        .skip(1)
        .any(|u| u.qualified_name() == target.qualified_name());
    if whole || same_table {
        return Ok(None);
    }
    let mut outer = stmt.clone();
    let Statement::Update(u) = &mut outer else {
        return Ok(None);
    };
    let mut pullouts = Vec::new();
    for a in u.assignments.iter_mut() {
        pull(&mut a.value, &mut pullouts)?;
    }
    let sql = outer.to_string();
    let parsed = sql::parse::parse(&sql)
        .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
    let plan = super::plan_for(&parsed, ctx.vschema, ctx.default_keyspace, ctx.tablet_type)?;
    let outer_tables: Vec<TableFactor> = vec![update.table.relation.clone()];
    wrap(ctx, plan.instructions, pullouts, &outer_tables, plan_side).map(Some)
}
