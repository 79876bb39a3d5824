//! Pulling uncorrelated subqueries out of WHERE (Vitess
//! `UncorrelatedSubquery`): each `x [NOT] IN (subquery)`, `[NOT] EXISTS
//! (subquery)` or `x <op> (subquery)` condition of the top-level AND runs
//! its subquery first and reads the result from bind variables. A
//! subquery naming a table of the outer query (correlated) that
//! `correlated` could not merge into the outer route is refused; one
//! that reads an outer column without naming its table fails on MySQL as
//! an unknown column, since it runs on its own.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, Query, SetExpr, TableFactor, Value as AstValue, Visit, Visitor,
};

use super::order::features_of_expr;
use super::routing::{and_operand, conjuncts};
use super::union::PlanSide;
use super::Context;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::subquery::{PulloutOpcode, UncorrelatedSubquery};

/// Table names and aliases defined, and column qualifiers used.
#[derive(Default)]
struct Names {
    tables: HashSet<String>,
    qualifiers: HashSet<String>,
}

impl Visitor for Names {
    type Break = ();

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table { name, alias, .. } => {
                match alias {
                    Some(a) => self.tables.insert(a.name.value.clone()),
                    None => self.tables.insert(super::tables::table_name(name)),
                };
            }
            // A derived table is named by its alias: a subquery reading `d.x` of an outer
            // `(...) d` is correlated too.
            TableFactor::Derived { alias: Some(a), .. } => {
                self.tables.insert(a.name.value.clone());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(ids) = e {
            if ids.len() >= 2 {
                self.qualifiers.insert(ids[ids.len() - 2].value.clone());
            }
        }
        ControlFlow::Continue(())
    }
}

fn placeholder(name: &str) -> Expr {
    Expr::value(AstValue::Placeholder(format!(":{name}")))
}

fn int(n: i64) -> Expr {
    Expr::value(AstValue::Number(n.to_string(), false))
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// One subquery pulled out.
struct Pullout {
    opcode: PulloutOpcode,
    n: usize,
    subquery: Query,
}

/// Rewrites condition `c`, recording its subquery; `None` when `c` has no
/// subquery, an error when it has one in a form not handled.
fn rewrite(c: &Expr, n: usize, out: &mut Vec<Pullout>) -> Result<Option<Expr>> {
    let has = format!("__sq_has_values{n}");
    let sq = format!("__sq{n}");
    let plain = |e: &Expr| !features_of_expr(e).subquery;
    let (opcode, subquery, expr) = match c {
        Expr::In {
            expr,
            target: InTarget::Subquery(q),
            negated,
            ..
        } if plain(expr) => {
            let list = Expr::In {
                expr: expr.clone(),
                target: InTarget::List(vec![placeholder(&sq)]),
                negated: *negated,
                global: false,
            };
            let (op, flag, opcode) = if *negated {
                (BinaryOperator::Or, 0, PulloutOpcode::NotIn)
            } else {
                (BinaryOperator::And, 1, PulloutOpcode::In)
            };
            let guard = binary(placeholder(&has), BinaryOperator::Eq, int(flag));
            (opcode, q, Expr::Nested(Box::new(binary(guard, op, list))))
        }
        Expr::Exists { subquery, negated } => {
            let flag = if *negated { 0 } else { 1 };
            let e = binary(placeholder(&has), BinaryOperator::Eq, int(flag));
            (PulloutOpcode::Exists, subquery, e)
        }
        Expr::BinaryOp { left, op, right } => match (left.as_ref(), right.as_ref()) {
            (Expr::Subquery(q), other) if plain(other) => (
                PulloutOpcode::Value,
                q,
                binary(placeholder(&sq), op.clone(), other.clone()),
            ),
            (other, Expr::Subquery(q)) if plain(other) => (
                PulloutOpcode::Value,
                q,
                binary(other.clone(), op.clone(), placeholder(&sq)),
            ),
            _ if plain(c) => return Ok(None),
            _ => return Err(EngineError::unsupported("subquery in this position")),
        },
        _ if plain(c) => return Ok(None),
        _ => return Err(EngineError::unsupported("subquery in this position")),
    };
    out.push(Pullout {
        opcode,
        n,
        subquery: subquery.as_ref().clone(),
    });
    Ok(Some(expr))
}

/// Plans `original` with its WHERE subqueries pulled out; `None` when it
/// has none.
pub(super) fn plan_pullouts(
    ctx: &Context,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Option<Box<dyn Primitive>>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Ok(None);
    };
    let Some(selection) = select.selection.as_ref() else {
        return Ok(None);
    };
    if !features_of_expr(selection).subquery {
        return Ok(None);
    }
    let outer_tables: Vec<TableFactor> = select
        .from
        .iter()
        .flat_map(|twj| {
            std::iter::once(twj.relation.clone())
                .chain(twj.joins.iter().map(|j| j.relation.clone()))
        })
        .collect();
    let rebuild = |conds: Option<Expr>| {
        let mut outer = original.clone();
        if let SetExpr::Select(s) = outer.body.as_mut() {
            s.selection = conds;
        }
        outer.to_string()
    };
    let plan_outer = |sql: &str| plan_side(ctx, sql);
    pull_out(
        ctx,
        selection,
        &outer_tables,
        &rebuild,
        &plan_outer,
        plan_side,
    )
    .map(Some)
}

/// Plans a statement (SELECT, UPDATE or DELETE) whose WHERE is
/// `selection`: each subquery condition is rewritten to read bind
/// variables, `rebuild` prints the statement with the new WHERE and
/// `plan_outer` plans it; the subqueries are planned with `plan_side`.
pub(super) fn pull_out(
    ctx: &Context,
    selection: &Expr,
    outer_tables: &[TableFactor],
    rebuild: &dyn Fn(Option<Expr>) -> String,
    plan_outer: &dyn Fn(&str) -> Result<Box<dyn Primitive>>,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let mut outer_names = Names::default();
    for t in outer_tables {
        let _ = Visit::visit(t, &mut outer_names);
    }
    let mut pullouts = Vec::new();
    let mut conds = Vec::new();
    for c in conjuncts(Some(selection)) {
        let n = pullouts.len() + 1;
        conds.push(rewrite(c, n, &mut pullouts)?.unwrap_or_else(|| c.clone()));
    }
    let selection = conds
        .into_iter()
        .reduce(|a, b| binary(and_operand(a), BinaryOperator::And, and_operand(b)));
    let mut plan = plan_outer(&rebuild(selection))?;
    for p in pullouts.into_iter().rev() {
        let mut inner = Names::default();
        let _ = Visit::visit(&p.subquery, &mut inner);
        if inner
            .qualifiers
            .iter()
            .any(|q| outer_names.tables.contains(q) && !inner.tables.contains(q))
        {
            return Err(EngineError::unsupported(
                "correlated subquery across shards",
            ));
        }
        plan = Box::new(UncorrelatedSubquery {
            opcode: p.opcode,
            sq_name: format!("__sq{}", p.n),
            has_values_name: format!("__sq_has_values{}", p.n),
            subquery: plan_side(ctx, &p.subquery.to_string())?,
            outer: plan,
        });
    }
    Ok(plan)
}
