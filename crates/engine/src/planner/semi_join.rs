//! Correlated subqueries of the top-level WHERE that `correlated` could not
//! merge into the outer route (Vitess's semi-join): `[NOT] EXISTS
//! (subquery)` and `x IN (subquery)` run per outer row as a [`SemiJoin`],
//! with the outer columns the subquery reads bound as variables.
//!
//! `x IN (select c from ...)` keeps the same rows as `EXISTS (select c from
//! ... where c = x)` in a WHERE (both are true exactly when a row has
//! `c = x`); `x NOT IN (...)` those of `NOT EXISTS (... where c = x or c is
//! null or x is null)`; `x op (select max(c) from ...)` (one aggregate row)
//! those of `EXISTS (select max(c) from ... having x op max(c))`. The outer query
//! runs without those conditions, with the bound columns appended to its
//! select list; aggregation, DISTINCT and LIMIT run in vtgate over the rows
//! the semi-joins keep (its ORDER BY stays in the outer query: the
//! semi-joins keep the rows' order).

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, InTarget, Query, Select, SelectItem, SetExpr, UnaryOperator,
    Value as AstValue, Visit, VisitMut, VisitorMut,
};

use super::join_aggregate::plan_raw_aggregate;
use super::order::{features_of_expr, remove_limit};
use super::pullout::{from_factors, Names};
use super::routing::{and_operand, conjuncts};
use super::union::PlanSide;
use super::window::plan_windows_over;
use super::Context;
use crate::error::{EngineError, Result};
use crate::limit::Limit;
use crate::primitive::Primitive;
use crate::semi_join::SemiJoin;

fn refuse() -> EngineError {
    EngineError::unsupported("correlated subquery across shards")
}

/// One correlated condition, rewritten.
struct Semi {
    anti: bool,
    /// The subquery with the outer columns as bind variables.
    subquery: Query,
    /// Bind variable names and the outer columns they take.
    vars: Vec<(String, Expr)>,
}

/// Replaces columns of the outer tables by bind variables.
pub(super) struct Binder<'a> {
    outer: &'a HashSet<String>,
    vars: Vec<(String, Expr)>,
    error: bool,
}

impl<'a> Binder<'a> {
    /// Binds the columns qualified by one of `outer`.
    pub(super) fn new(outer: &'a HashSet<String>) -> Self {
        Binder {
            outer,
            vars: Vec::new(),
            error: false,
        }
    }

    /// The variables and the columns they take; `None` when a column could
    /// not be bound (qualified by a keyspace too).
    pub(super) fn finish(self) -> Option<Vec<(String, Expr)>> {
        (!self.error).then_some(self.vars)
    }
}

impl VisitorMut for Binder<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let Expr::CompoundIdentifier(ids) = e else {
            return ControlFlow::Continue(());
        };
        let outer = ids.len() >= 2 && self.outer.contains(&ids[ids.len() - 2].value);
        if !outer {
            return ControlFlow::Continue(());
        }
        if ids.len() != 2 {
            self.error = true;
            return ControlFlow::Break(());
        }
        let name = super::join_steps::bind_safe(&format!("{}_{}", ids[0].value, ids[1].value));
        if !self.vars.iter().any(|(n, _)| *n == name) {
            self.vars.push((name.clone(), e.clone()));
        }
        *e = Expr::value(AstValue::Placeholder(format!(":{name}")));
        ControlFlow::Continue(())
    }
}

/// The outer columns that subqueries with these bound variables read, each
/// once: the block appended to the outer query's select list.
pub(super) fn bound_block<'a>(vars: impl Iterator<Item = &'a [(String, Expr)]>) -> Vec<Expr> {
    let mut block: Vec<Expr> = Vec::new();
    for (_, e) in vars.flatten() {
        if !block.iter().any(|c| c.to_string() == e.to_string()) {
            block.push(e.clone());
        }
    }
    block
}

/// Each bound variable with its column's position in `block`.
pub(super) fn block_columns(vars: &[(String, Expr)], block: &[Expr]) -> Vec<(String, usize)> {
    vars.iter()
        .map(|(name, e)| {
            let col = block
                .iter()
                .position(|c| c.to_string() == e.to_string())
                .unwrap_or_default();
            (name.clone(), col)
        })
        .collect()
}

/// The outer tables' names that `subquery` qualifies columns with and does
/// not name itself (none: it is not correlated). A correlated subquery that
/// also names an outer table inside is refused: which table a column means
/// would depend on the scope it stands in.
pub(super) fn outer_names_read(subquery: &Query, outer: &Names) -> Result<HashSet<String>> {
    let inner = {
        let mut n = Names::default();
        let _ = Visit::visit(subquery, &mut n);
        n
    };
    let read: HashSet<String> = inner
        .qualifiers
        .iter()
        .filter(|q| outer.tables.contains(*q) && !inner.tables.contains(*q))
        .cloned()
        .collect();
    if !read.is_empty()
        && inner
            .qualifiers
            .iter()
            .any(|q| outer.tables.contains(q) && inner.tables.contains(q))
    {
        return Err(refuse());
    }
    Ok(read)
}

/// How a condition compares an outer value with what its subquery gives.
enum Probe<'a> {
    /// `[NOT] EXISTS`.
    None,
    /// `x [NOT] IN (subquery)`.
    In(&'a Expr),
    /// `x op (subquery)`, the subquery one aggregate row.
    Compare(&'a Expr, BinaryOperator),
}

/// The condition as a semi-join, when it is a correlated `[NOT] EXISTS`, `[NOT] IN`, or a
/// comparison with a subquery of one aggregate row; `None` for any other condition.
fn semi_of(c: &Expr, outer: &Names) -> Result<Option<Semi>> {
    let (anti, subquery, probe) = match c {
        Expr::Nested(x) => return semi_of(x, outer),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match expr.as_ref() {
            Expr::Exists { subquery, negated } => (!negated, subquery, Probe::None),
            Expr::Nested(x) if matches!(x.as_ref(), Expr::Exists { .. }) => {
                return Ok(semi_of(x, outer)?.map(|s| Semi { anti: !s.anti, ..s }))
            }
            _ => return Ok(None),
        },
        Expr::Exists { subquery, negated } => (*negated, subquery, Probe::None),
        Expr::In {
            expr,
            target: InTarget::Subquery(q),
            negated,
            ..
        } => (*negated, q, Probe::In(expr.as_ref())),
        Expr::BinaryOp { left, op, right } => {
            let Some(flipped) = flipped(op) else {
                return Ok(None);
            };
            match (left.as_ref(), right.as_ref()) {
                (x, Expr::Subquery(q)) => (false, q, Probe::Compare(x, op.clone())),
                (Expr::Subquery(q), x) => (false, q, Probe::Compare(x, flipped)),
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let correlated = outer_names_read(subquery, outer)?;
    if correlated.is_empty() {
        return Ok(None);
    }
    let mut subquery = subquery.as_ref().clone();
    match probe {
        Probe::None => {}
        Probe::In(x) => subquery = probed(subquery, x, anti, &correlated)?,
        Probe::Compare(x, op) => subquery = compared(subquery, x, op, &correlated)?,
    }
    let mut binder = Binder::new(&correlated);
    let _ = VisitMut::visit(&mut subquery, &mut binder);
    let Some(vars) = binder.finish() else {
        return Err(refuse());
    };
    if subquery.limit_clause.is_none() {
        subquery.limit_clause = Some(sqlparser::ast::LimitClause::LimitOffset {
            limit: Some(Expr::value(AstValue::Number("1".into(), false))),
            offset: None,
            limit_by: Vec::new(),
        });
    }
    Ok(Some(Semi {
        anti,
        subquery,
        vars,
    }))
}

/// `x op y` as `y op' x`; None for operators that are no comparison.
fn flipped(op: &BinaryOperator) -> Option<BinaryOperator> {
    use BinaryOperator as B;
    Some(match op {
        B::Eq => B::Eq,
        B::NotEq => B::NotEq,
        B::Lt => B::Gt,
        B::LtEq => B::GtEq,
        B::Gt => B::Lt,
        B::GtEq => B::LtEq,
        _ => return None,
    })
}

/// Whether `x` reads only outer columns named by their table (inside the subquery an
/// unqualified name means its own) and no subquery.
fn plain_outer(x: &Expr, outer: &HashSet<String>) -> bool {
    let mut plain = true;
    let _ = sqlparser::ast::visit_expressions(x, |e| {
        match e {
            Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } => plain = false,
            Expr::In {
                target: InTarget::Subquery(_),
                ..
            } => plain = false,
            Expr::CompoundIdentifier(ids) if ids.len() != 2 || !outer.contains(&ids[0].value) => {
                plain = false
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    plain
}

/// The one select item of a subquery.
fn only_item(s: &Select) -> Result<Expr> {
    match s.projection.as_slice() {
        [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] => Ok(e.clone()),
        _ => Err(refuse()),
    }
}

/// `x IN (select c from ... where w)` as the subquery of `EXISTS (select c
/// from ... where (w) and c = x)`. `x NOT IN (...)` as that of `NOT EXISTS (select c from
/// ... where (w) and (c = x or c is null or x is null))`: NOT IN keeps a row only when the
/// subquery is empty, or `x` is not NULL and no value equals it or is NULL (else it is
/// false or NULL).
fn probed(mut q: Query, x: &Expr, not_in: bool, outer: &HashSet<String>) -> Result<Query> {
    if q.limit_clause.is_some() || !plain_outer(x, outer) {
        return Err(refuse());
    }
    let SetExpr::Select(s) = q.body.as_mut() else {
        return Err(refuse());
    };
    let c = only_item(s)?;
    if grouped(s) || features_of_expr(&c).aggregate {
        return Err(refuse());
    }
    let binary = |l: Expr, op, r: Expr| Expr::BinaryOp {
        left: Box::new(l),
        op,
        right: Box::new(r),
    };
    let mut eq = binary(c.clone(), BinaryOperator::Eq, x.clone());
    if not_in {
        eq = Expr::Nested(Box::new(binary(
            binary(eq, BinaryOperator::Or, Expr::IsNull(Box::new(c))),
            BinaryOperator::Or,
            Expr::IsNull(Box::new(x.clone())),
        )));
    }
    s.selection = Some(match s.selection.take() {
        Some(w) => Expr::BinaryOp {
            left: Box::new(and_operand(w)),
            op: BinaryOperator::And,
            right: Box::new(eq),
        },
        None => eq,
    });
    Ok(q)
}

/// `x op (select agg from ... where w)`, whose subquery gives one row (an aggregate without
/// GROUP BY), as the subquery of `EXISTS (select agg from ... where w having x op agg)`:
/// that one group passes its HAVING exactly when the comparison is true (NULL in either
/// fails both).
fn compared(mut q: Query, x: &Expr, op: BinaryOperator, outer: &HashSet<String>) -> Result<Query> {
    if q.limit_clause.is_some() || q.order_by.is_some() || !plain_outer(x, outer) {
        return Err(refuse());
    }
    let SetExpr::Select(s) = q.body.as_mut() else {
        return Err(refuse());
    };
    let value = only_item(s)?;
    let one_row = features_of_expr(&value).aggregate && !grouped(s) && s.distinct.is_none();
    if !one_row {
        return Err(refuse());
    }
    s.having = Some(Expr::BinaryOp {
        left: Box::new(x.clone()),
        op,
        right: Box::new(value),
    });
    Ok(q)
}

fn grouped(s: &Select) -> bool {
    !matches!(&s.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty())
        || s.having.is_some()
}

/// Plans `original` with its correlated WHERE conditions as semi-joins;
/// `None` when it has none.
pub(super) fn plan_semi_joins(
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
    let outer_names = Names::of(&from_factors(select));
    let mut semis = Vec::new();
    let mut rest = Vec::new();
    for c in conjuncts(Some(selection)) {
        match semi_of(c, &outer_names)? {
            Some(s) => semis.push(s),
            None => rest.push(c.clone()),
        }
    }
    if semis.is_empty() {
        return Ok(None);
    }
    let features = |pick: fn(&super::order::Features) -> bool| {
        select.projection.iter().any(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                pick(&features_of_expr(e))
            }
            _ => false,
        })
    };
    if select.into.is_some() || !original.locks.is_empty() {
        return Err(refuse());
    }
    if features(|f| f.window) {
        // Over the rows the semi-joins keep.
        return plan_windows_over(original, &mut |q| {
            plan_semi_joins(ctx, q, plan_side)?.ok_or_else(refuse)
        })
        .map(Some);
    }
    if features(|f| f.aggregate) || grouped(select) || select.distinct.is_some() {
        // Aggregated in vtgate over the rows the semi-joins keep.
        return plan_raw_aggregate(original, "a semi-join", &mut |q| {
            plan_semi_joins(ctx, q, plan_side)?.ok_or_else(refuse)
        })
        .map(Some);
    }
    if original.limit_clause.is_some() {
        // Limited after the semi-joins, which keep the outer rows' order.
        let mut unlimited = original.clone();
        let Some((count, offset)) = remove_limit(&mut unlimited)? else {
            return Err(refuse());
        };
        let input = plan_semi_joins(ctx, &unlimited, plan_side)?.ok_or_else(refuse)?;
        return Ok(Some(Box::new(Limit {
            count,
            offset,
            input,
        })));
    }
    // The outer query: the other conditions, and the bound columns last.
    let columns = bound_block(semis.iter().map(|s| s.vars.as_slice()));
    let mut outer = original.clone();
    if let SetExpr::Select(s) = outer.body.as_mut() {
        s.selection = rest.into_iter().reduce(|a, b| Expr::BinaryOp {
            left: Box::new(and_operand(a)),
            op: BinaryOperator::And,
            right: Box::new(and_operand(b)),
        });
        s.projection
            .extend(columns.iter().cloned().map(SelectItem::UnnamedExpr));
    }
    let mut plan = plan_side(ctx, &outer.to_string())?;
    let count = semis.len();
    for (k, s) in semis.into_iter().enumerate() {
        let vars = block_columns(&s.vars, &columns);
        plan = Box::new(SemiJoin {
            anti: s.anti,
            outer: plan,
            subquery: plan_side(ctx, &s.subquery.to_string())?,
            vars,
            block: columns.len(),
            drop_block: k + 1 == count,
        });
    }
    Ok(Some(plan))
}
