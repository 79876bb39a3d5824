//! Pulling uncorrelated subqueries out of WHERE, the select list and ON
//! conditions (Vitess `UncorrelatedSubquery`): each `x [NOT] IN
//! (subquery)`, `[NOT] EXISTS (subquery)` or scalar `(subquery)`, wherever
//! it stands in the expression (under AND, OR, NOT, in arithmetic), runs
//! its subquery first and reads the result from bind variables. A
//! subquery naming a table of the outer query (correlated) that
//! `correlated` could not merge into the outer route is refused; one
//! that reads an outer column without naming its table fails on MySQL as
//! an unknown column, since it runs on its own.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, InTarget, JoinConstraint, Query, Select, SelectItem, SetExpr,
    TableFactor, Value as AstValue, Visit, VisitMut, Visitor, VisitorMut,
};

use super::order::features_of_expr;
use super::union::PlanSide;
use super::using::constraint_mut;
use super::Context;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::subquery::{PulloutOpcode, UncorrelatedSubquery};

/// Table names and aliases defined, and column qualifiers used.
#[derive(Default)]
pub(super) struct Names {
    pub tables: HashSet<String>,
    pub qualifiers: HashSet<String>,
}

impl Names {
    /// The names of `factors`, with those of the tables inside them.
    pub fn of(factors: &[TableFactor]) -> Names {
        let mut names = Names::default();
        for t in factors {
            let _ = Visit::visit(t, &mut names);
        }
        names
    }
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
pub(super) struct Pullout {
    opcode: PulloutOpcode,
    n: usize,
    subquery: Query,
}

/// Replaces each subquery of an expression (not those inside another
/// subquery, which is planned on its own) by bind variables, recording it.
/// The replacements are boolean-equivalent wherever they stand, so a
/// subquery under OR or NOT, or in a select item, is replaced alike.
struct Puller<'a> {
    pullouts: &'a mut Vec<Pullout>,
    error: Option<EngineError>,
}

impl VisitorMut for Puller<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let n = self.pullouts.len() + 1;
        let has = format!("__sq_has_values{n}");
        let sq = format!("__sq{n}");
        let (opcode, subquery, replacement) = match e {
            Expr::In {
                expr,
                target: InTarget::Subquery(q),
                negated,
                ..
            } => {
                if features_of_expr(expr).subquery {
                    self.error = Some(in_this_position());
                    return ControlFlow::Break(());
                }
                // The subquery's rows become one list of values: a row of several would
                // reach MariaDB as `(a, b) IN (x, y)`, which fails.
                if matches!(expr.as_ref(), Expr::Tuple(_)) {
                    self.error = Some(EngineError::unsupported(
                        "a tuple IN (subquery) that is not sent to one shard",
                    ));
                    return ControlFlow::Break(());
                }
                let list = Expr::In {
                    expr: expr.clone(),
                    target: InTarget::List(vec![placeholder(&sq)]),
                    negated: *negated,
                    global: false,
                };
                // `x IN (empty)` is false and `x NOT IN (empty)` true, even
                // for a NULL x: the flag decides before the list is read.
                let (op, flag, opcode) = if *negated {
                    (BinaryOperator::Or, 0, PulloutOpcode::NotIn)
                } else {
                    (BinaryOperator::And, 1, PulloutOpcode::In)
                };
                let guard = binary(placeholder(&has), BinaryOperator::Eq, int(flag));
                let e = Expr::Nested(Box::new(binary(guard, op, list)));
                (opcode, q.as_ref().clone(), e)
            }
            Expr::Exists { subquery, negated } => {
                let flag = if *negated { 0 } else { 1 };
                let e = Expr::Nested(Box::new(binary(
                    placeholder(&has),
                    BinaryOperator::Eq,
                    int(flag),
                )));
                (PulloutOpcode::Exists, subquery.as_ref().clone(), e)
            }
            Expr::Subquery(q) => (PulloutOpcode::Value, q.as_ref().clone(), placeholder(&sq)),
            // `x = ANY (subquery)` compares with every row, not one value.
            Expr::AnyOp { .. } | Expr::AllOp { .. } if features_of_expr(e).subquery => {
                self.error = Some(in_this_position());
                return ControlFlow::Break(());
            }
            _ => return ControlFlow::Continue(()),
        };
        self.pullouts.push(Pullout {
            opcode,
            n,
            subquery,
        });
        *e = replacement;
        ControlFlow::Continue(())
    }
}

fn in_this_position() -> EngineError {
    EngineError::unsupported("subquery in this position")
}

/// Rewrites the subqueries of `e` to read bind variables, recording them
/// in `pullouts`; an error when one is in a form not handled.
pub(super) fn pull(e: &mut Expr, pullouts: &mut Vec<Pullout>) -> Result<()> {
    let mut puller = Puller {
        pullouts,
        error: None,
    };
    let _ = VisitMut::visit(e, &mut puller);
    if let Some(err) = puller.error {
        return Err(err);
    }
    if features_of_expr(e).subquery {
        return Err(in_this_position());
    }
    Ok(())
}

/// Plans `original` with the subqueries of its WHERE, select list and ON
/// conditions pulled out; `None` when it has none there.
pub(super) fn plan_pullouts(
    ctx: &Context,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Option<Box<dyn Primitive>>> {
    let mut outer = original.clone();
    let SetExpr::Select(select) = outer.body.as_mut() else {
        return Ok(None);
    };
    let outer_tables = from_factors(select);
    let mut pullouts = Vec::new();
    if let Some(w) = select.selection.as_mut() {
        pull(w, &mut pullouts)?;
    }
    for item in select.projection.iter_mut() {
        match item {
            SelectItem::UnnamedExpr(e) if features_of_expr(e).subquery => {
                // The column keeps the name MySQL gives the expression.
                let alias = column_alias(e);
                let mut expr = e.clone();
                pull(&mut expr, &mut pullouts)?;
                *item = SelectItem::ExprWithAlias { expr, alias };
            }
            SelectItem::ExprWithAlias { expr, .. } => pull(expr, &mut pullouts)?,
            _ => {}
        }
    }
    for twj in select.from.iter_mut() {
        for j in twj.joins.iter_mut() {
            if let Some(JoinConstraint::On(on)) = constraint_mut(&mut j.join_operator) {
                pull(on, &mut pullouts)?;
            }
        }
    }
    if pullouts.is_empty() {
        return Ok(None);
    }
    let plan = plan_side(ctx, &outer.to_string())?;
    wrap(ctx, plan, pullouts, &outer_tables, plan_side).map(Some)
}

/// The tables and derived tables of a SELECT's FROM clause.
pub(super) fn from_factors(select: &Select) -> Vec<TableFactor> {
    select
        .from
        .iter()
        .flat_map(|twj| {
            std::iter::once(twj.relation.clone())
                .chain(twj.joins.iter().map(|j| j.relation.clone()))
        })
        .collect()
}

/// The name MySQL gives an unaliased select item: its text (at most 256
/// characters).
fn column_alias(e: &Expr) -> Ident {
    let text: String = e.to_string().chars().take(256).collect();
    Ident::with_quote('`', text)
}

/// Plans a statement (UPDATE or DELETE) whose WHERE is `selection`: its
/// subqueries are rewritten to read bind variables, `rebuild` prints the
/// statement with the new WHERE and `plan_outer` plans it; the subqueries
/// are planned with `plan_side`.
pub(super) fn pull_out(
    ctx: &Context,
    selection: &Expr,
    outer_tables: &[TableFactor],
    rebuild: &dyn Fn(Option<Expr>) -> String,
    plan_outer: &dyn Fn(&str) -> Result<Box<dyn Primitive>>,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let mut pullouts = Vec::new();
    let mut selection = selection.clone();
    pull(&mut selection, &mut pullouts)?;
    let plan = plan_outer(&rebuild(Some(selection)))?;
    wrap(ctx, plan, pullouts, outer_tables, plan_side)
}

/// Runs each pulled-out subquery before `plan`, the outer query; one that
/// names a table of `outer_tables` (correlated) is refused.
pub(super) fn wrap(
    ctx: &Context,
    mut plan: Box<dyn Primitive>,
    pullouts: Vec<Pullout>,
    outer_tables: &[TableFactor],
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let outer_names = Names::of(outer_tables);
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
