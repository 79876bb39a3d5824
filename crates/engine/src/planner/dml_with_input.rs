//! UPDATE and DELETE planned as a select of the rows to change followed by
//! one single-table statement per target table over their primary keys
//! ([`DmlWithInput`], Vitess's `DMLWithInput`): multi-table statements
//! whose tables are not on the same shards, statements with a subquery
//! that cannot be pulled out, and ORDER BY / LIMIT over several shards.
//!
//! The primary keys come from schema tracking; without them the statement
//! is refused with Vitess's VT09015. An UPDATE value that reads a table
//! other than its target (or a subquery) is computed by the select; one
//! that reads only its target stays SQL text. A computed value may not
//! read a column the statement assigns: MariaDB reads it before or after
//! the assignment depending on the join order. Subqueries reading a target
//! table see it as it was before the statement, as in MariaDB (MySQL
//! refuses them with 1093).

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, Ident, ObjectNamePart, OrderByExpr, TableFactor,
    TableWithJoins, Update, Visit, VisitMut, Visitor, VisitorMut,
};
use vschema::TableRef;

use super::nested_join::{table_of, tables_of, Unit};
use super::tables::resolve_name;
use super::Context;
use crate::description::KeyspaceDesc;
use crate::dml_with_input::{AssignedValue, DmlTarget, DmlWithInput, TargetChange};
use crate::error::{EngineError, Result};
use crate::lookup::quote;
use crate::primitive::Primitive;

/// The tables of the statement's FROM items (joins flattened) and their
/// descriptions; nested joins and table functions are refused.
fn items<'a>(
    ctx: &Context,
    from: &'a [TableWithJoins],
) -> Result<(Vec<&'a TableFactor>, Vec<Unit>)> {
    let factors: Vec<&TableFactor> = from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .collect();
    let units = factors
        .iter()
        .map(|f| Unit::of(ctx, f))
        .collect::<Result<_>>()?;
    Ok((factors, units))
}

/// The VSchema table of a target and its primary key.
fn target_table(
    ctx: &Context,
    factor: &TableFactor,
    unit: &Unit,
) -> Result<(TableRef, Vec<String>)> {
    let TableFactor::Table { name, .. } = factor else {
        return Err(EngineError::mysql(
            1288,
            "HY000",
            format!(
                "VT03004: the target table {} of the DELETE is not updatable",
                unit.qualifier
            ),
        ));
    };
    let table =
        resolve_name(name, &ctx.scope())?.ok_or_else(|| EngineError::unsupported("DML on dual"))?;
    if table.primary_key.is_empty() {
        return Err(EngineError::mysql(
            1105,
            "HY000",
            format!(
                "VT09015: schema tracking required: the primary key of {} is not known",
                table.name
            ),
        ));
    }
    let keys = table.primary_key.clone();
    Ok((table, keys))
}

/// The select of the rows to change.
struct Input<'a> {
    from: &'a [TableWithJoins],
    selection: Option<&'a Expr>,
    order_by: &'a [OrderByExpr],
    limit: Option<&'a Expr>,
    /// Select items.
    columns: Vec<String>,
    /// With a LIMIT: the first target's key columns, ordered by after
    /// `order_by`, so that the rows chosen are the ones InnoDB takes (in
    /// primary key order among equals), not whichever shard answers first.
    tie_break: Vec<String>,
}

impl Input<'_> {
    /// Adds `text` to the select list; its offset.
    fn push(&mut self, text: String) -> usize {
        self.columns.push(text);
        self.columns.len() - 1
    }

    /// Adds the key columns of a target; their offsets.
    fn push_keys(&mut self, qualifier: &str, keys: &[String]) -> Vec<usize> {
        let columns: Vec<String> = keys
            .iter()
            .map(|k| format!("{}.{}", quote(qualifier), quote(k)))
            .collect();
        if self.limit.is_some() && self.tie_break.is_empty() {
            self.tie_break = columns.clone();
        }
        columns.into_iter().map(|c| self.push(c)).collect()
    }

    fn plan(&self, ctx: &Context) -> Result<Box<dyn Primitive>> {
        let from: Vec<String> = self.from.iter().map(ToString::to_string).collect();
        let mut sql = format!(
            "select {} from {}",
            self.columns.join(", "),
            from.join(", ")
        );
        if let Some(s) = self.selection {
            sql.push_str(&format!(" where {s}"));
        }
        let order: Vec<String> = self
            .order_by
            .iter()
            .map(ToString::to_string)
            .chain(self.tie_break.iter().cloned())
            .collect();
        if !order.is_empty() {
            sql.push_str(&format!(" order by {}", order.join(", ")));
        }
        if let Some(l) = self.limit {
            sql.push_str(&format!(" limit {l}"));
        }
        let stmt = sql::parse::parse(&sql)
            .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
        Ok(
            super::plan_for(&stmt, ctx.vschema, ctx.default_keyspace, ctx.tablet_type)?
                .instructions,
        )
    }
}

/// Refuses a multi-table statement with ORDER BY or LIMIT: MySQL's 1221
/// for DELETE (MariaDB's parser refuses it too); MariaDB runs such an
/// UPDATE, limiting the rows of the join, which is not done here.
fn check_single_table_clauses(
    multi: bool,
    operator: &str,
    order_by: &[OrderByExpr],
    limit: Option<&Expr>,
) -> Result<()> {
    let clause = match (multi, order_by.is_empty(), limit.is_some()) {
        (true, false, _) => "ORDER BY",
        (true, true, true) => "LIMIT",
        _ => return Ok(()),
    };
    if operator == "UPDATE" {
        return Err(EngineError::unsupported(format!(
            "multi-table UPDATE with {clause} across shards"
        )));
    }
    Err(EngineError::mysql(
        1221,
        "HY000",
        format!("Incorrect usage of {operator} and {clause}"),
    ))
}

/// Builds the primitive, checking each target's statement plans (with no
/// keys) so that a refusal comes before anything is written.
fn finish(ctx: &Context, input: &Input, targets: Vec<DmlTarget>) -> Result<Box<dyn Primitive>> {
    for t in &targets {
        t.check_plans(ctx.vschema)?;
    }
    Ok(Box::new(DmlWithInput {
        input: input.plan(ctx)?,
        targets,
    }))
}

/// Plans a DELETE through a select of its rows' primary keys.
pub(super) fn plan_delete_with_input(ctx: &Context, delete: &Delete) -> Result<Box<dyn Primitive>> {
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    // DELETE t1, t2 FROM <join>; DELETE FROM t1, t2 USING <join>; DELETE FROM t.
    let (target_names, source): (Vec<String>, &[TableWithJoins]) = match &delete.using {
        Some(using) => (from.iter().map(|t| t.relation.to_string()).collect(), using),
        None if !delete.tables.is_empty() => (
            delete
                .tables
                .iter()
                .map(|n| {
                    n.0.iter()
                        .filter_map(|p| match p {
                            ObjectNamePart::Identifier(i) if i.value != "*" => {
                                Some(i.value.clone())
                            }
                            _ => None,
                        })
                        .next_back()
                        .unwrap_or_default()
                })
                .collect(),
            from,
        ),
        None => (Vec::new(), from),
    };
    let (factors, units) = items(ctx, source)?;
    let multi = units.len() > 1 || !target_names.is_empty();
    check_single_table_clauses(multi, "DELETE", &delete.order_by, delete.limit.as_ref())?;
    let chosen: Vec<usize> = if target_names.is_empty() {
        vec![0]
    } else {
        target_names
            .iter()
            .map(|n| {
                let n = n.trim_matches('`');
                units.iter().position(|u| u.qualifier == n).ok_or_else(|| {
                    EngineError::mysql(
                        1109,
                        "42S02",
                        format!("VT03003: unknown table '{n}' in MULTI DELETE"),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let mut input = Input {
        from: source,
        selection: delete.selection.as_ref(),
        order_by: &delete.order_by,
        limit: delete.limit.as_ref(),
        columns: Vec::new(),
        tie_break: Vec::new(),
    };
    let mut targets = Vec::new();
    for t in chosen {
        let (table, keys) = target_table(ctx, factors[t], &units[t])?;
        targets.push(DmlTarget {
            keyspace: KeyspaceDesc {
                name: table.keyspace.name.clone(),
                sharded: table.keyspace.sharded,
            },
            table: table.name.clone(),
            key_offsets: input.push_keys(&units[t].qualifier, &keys),
            keys,
            change: TargetChange::Delete,
        });
    }
    finish(ctx, &input, targets)
}

/// Plans an UPDATE through a select of its rows' primary keys.
pub(super) fn plan_update_with_input(ctx: &Context, update: &Update) -> Result<Box<dyn Primitive>> {
    if update.from.is_some() {
        return Err(EngineError::unsupported("UPDATE ... FROM"));
    }
    let source = std::slice::from_ref(&update.table);
    let (factors, units) = items(ctx, source)?;
    check_single_table_clauses(
        units.len() > 1,
        "UPDATE",
        &update.order_by,
        update.limit.as_ref(),
    )?;
    // Each assignment's target table (index into `all`) and column.
    let mut assigned: Vec<(usize, Ident)> = Vec::with_capacity(update.assignments.len());
    for a in &update.assignments {
        let AssignmentTarget::ColumnName(name) = &a.target else {
            return Err(EngineError::unsupported(
                "tuple assignment on a sharded keyspace",
            ));
        };
        let parts: Vec<Ident> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.clone()),
                _ => None,
            })
            .collect();
        let Some(column) = parts.last().cloned() else {
            return Err(EngineError::unsupported("assignment without a column"));
        };
        let table = if units.len() == 1 {
            0
        } else {
            let e = match parts.len() {
                1 => Expr::Identifier(column.clone()),
                _ => Expr::CompoundIdentifier(parts.clone()),
            };
            table_of(&e, &units)?
                .ok_or_else(|| EngineError::unsupported(format!("assignment to {name}")))?
        };
        assigned.push((table, column));
    }
    let mut input = Input {
        from: source,
        selection: update.selection.as_ref(),
        order_by: &update.order_by,
        limit: update.limit.as_ref(),
        columns: Vec::new(),
        tie_break: Vec::new(),
    };
    let mut targets: Vec<(usize, DmlTarget)> = Vec::new();
    let mut computed: Vec<(usize, usize, &Expr)> = Vec::new();
    for (i, (a, (t, column))) in update.assignments.iter().zip(&assigned).enumerate() {
        let n = match targets.iter().position(|(i, _)| i == t) {
            Some(n) => n,
            None => {
                let (table, keys) = target_table(ctx, factors[*t], &units[*t])?;
                targets.push((
                    *t,
                    DmlTarget {
                        keyspace: KeyspaceDesc {
                            name: table.keyspace.name.clone(),
                            sharded: table.keyspace.sharded,
                        },
                        table: table.name.clone(),
                        key_offsets: input.push_keys(&units[*t].qualifier, &keys),
                        keys,
                        change: TargetChange::Update(Vec::new()),
                    },
                ));
                targets.len() - 1
            }
        };
        let reads_only_target =
            tables_of(&a.value, &units).is_ok_and(|ts| ts.iter().all(|x| x == t));
        let value = if reads_only_target {
            AssignedValue::Text(unqualified(&a.value).to_string())
        } else {
            computed.push((i, *t, &a.value));
            AssignedValue::Input(input.push(a.value.to_string()))
        };
        if let TargetChange::Update(list) = &mut targets[n].1.change {
            list.push((column.value.clone(), value));
        }
    }
    let targets: Vec<DmlTarget> = targets.into_iter().map(|(_, t)| t).collect();
    if let Some(c) = computed
        .iter()
        .find_map(|(i, t, e)| reads_assigned(e, &assigned, &units, *i, *t))
    {
        return Err(EngineError::unsupported(format!(
            "UPDATE across shards whose value reads the assigned column {c}"
        )));
    }
    finish(ctx, &input, targets)
}

/// `e` with its column references unqualified (it reads one table).
fn unqualified(e: &Expr) -> Expr {
    struct Strip;
    impl VisitorMut for Strip {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(ids) = e {
                if let Some(last) = ids.last() {
                    *e = Expr::Identifier(last.clone());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut out = e.clone();
    let _ = VisitMut::visit(&mut out, &mut Strip);
    out
}

/// A column that the value of assignment `index` (to table `target`) reads
/// outside its subqueries (which see the tables as before the statement)
/// while another assignment changes it: an earlier one of the same table
/// (MariaDB assigns left to right), or any of another table (whose order
/// the join decides). The select computes the value from the row as it
/// was, which only agrees with MariaDB without such an assignment. A
/// reference whose table is unclear counts as any table's.
fn reads_assigned(
    e: &Expr,
    assigned: &[(usize, Ident)],
    units: &[Unit],
    index: usize,
    target: usize,
) -> Option<String> {
    struct Find<'a> {
        assigned: &'a [(usize, Ident)],
        units: &'a [Unit],
        index: usize,
        target: usize,
        found: Option<String>,
        depth: usize,
    }
    impl Visitor for Find<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if self.depth > 0 {
                return ControlFlow::Continue(());
            }
            let name = match e {
                Expr::Identifier(i) => Some(i),
                Expr::CompoundIdentifier(ids) => ids.last(),
                _ => None,
            };
            if let Some(n) = name {
                let table = table_of(e, self.units).ok().flatten();
                let changed = self.assigned.iter().enumerate().any(|(j, (t, c))| {
                    c.value.eq_ignore_ascii_case(&n.value)
                        && table.is_none_or(|x| x == *t)
                        && (*t != self.target || j < self.index || table.is_none())
                });
                if changed {
                    self.found = Some(n.value.clone());
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Find {
        assigned,
        units,
        index,
        target,
        found: None,
        depth: 0,
    };
    let _ = Visit::visit(e, &mut f);
    f.found
}
