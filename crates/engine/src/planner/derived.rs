//! A query over a derived table that the shards cannot compute row by row
//! (`FROM (SELECT ... GROUP BY / LIMIT / DISTINCT ...) AS t` on a sharded
//! table reaching several shards): the inner query is planned on its own
//! (route, aggregate, limit ...) and the outer query runs in vtgate over
//! its rows, as MySQL runs it over the materialized derived table:
//!
//! * WHERE: a [`Filter`] over the derived columns (comparisons with
//!   literals, IN lists, IS NULL, AND/OR/NOT);
//! * the select list: a [`Project`] (columns, literals, arithmetic,
//!   COALESCE, GREATEST/LEAST of numbers, IS [NOT] NULL, CONCAT);
//! * GROUP BY, aggregates, HAVING, DISTINCT: the same raw-row aggregation
//!   as over a nested-loop join;
//! * ORDER BY and LIMIT: [`MemorySort`] and [`Limit`].
//!
//! Anything else in the outer query (functions, subqueries, joins) is
//! refused.

use sqlparser::ast::{
    Expr, GroupByExpr, OrderByKind, OrderBySort, Query, SelectItem, SetExpr, TableFactor,
    UnaryOperator,
};

use super::aggregation::{build_predicate, coalesce_args, extreme_args, round_args};
use super::derived_merge::merge_derived;
use super::derived_routing::move_outer_conditions;
use super::join_aggregate::plan_raw_aggregate;
use super::join_projection::concat_over;
use super::order::{features, find_order_column, remove_limit};
use super::union::PlanSide;
use super::window::plan_windows_over;
use super::Context;
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::filter::{Filter, Operand};
use crate::limit::Limit;
use crate::memory_sort::MemorySort;
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;
use crate::projection::{Arith, ArithOp, Project};

fn refuse(what: impl std::fmt::Display) -> EngineError {
    EngineError::unsupported(format!("{what} over a derived table across shards"))
}

/// The derived table: its alias and column names.
struct Derived {
    alias: String,
    columns: Vec<String>,
}

impl Derived {
    /// The derived column `e` names, if it names one.
    fn column(&self, e: &Expr) -> Option<usize> {
        let name = match e {
            Expr::Identifier(id) => &id.value,
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] if t.value == self.alias => &c.value,
                _ => return None,
            },
            Expr::Nested(x) => return self.column(x),
            _ => return None,
        };
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    /// A value in WHERE: a derived column or a literal.
    fn operand(&self, e: &Expr) -> Result<Operand> {
        if let Some(v) = PlanValue::from_expr(e) {
            return Ok(Operand::Value(v));
        }
        if let Some(c) = self.column(e) {
            return Ok(Operand::Column(c));
        }
        not_found(e)?;
        Err(refuse(format!("WHERE {e}")))
    }

    /// A select item over the derived row: CONCAT of its columns and literals (text as a
    /// whole, also where it feeds an aggregate such as GROUP_CONCAT), else [`Self::arith`].
    fn item(&self, e: &Expr) -> Result<Arith> {
        let mut column = |x: &Expr| {
            self.column(x)
                .ok_or_else(|| refuse(format!("the expression {e}")))
        };
        match concat_over(e, &mut column)? {
            Some(concat) => Ok(concat),
            None => self.arith(e),
        }
    }

    /// `e` as an expression over the derived row. A quotient keeps MySQL's
    /// digits inside it; MariaDB sorts and compares the value rounded to its
    /// scale, the value the column shows.
    fn arith(&self, e: &Expr) -> Result<Arith> {
        if let Some(c) = self.column(e) {
            return Ok(Arith::Column(c));
        }
        if let Some(v) = PlanValue::from_expr(e) {
            return Ok(Arith::Value(v));
        }
        if let Some((x, n)) = round_args(e) {
            return Ok(Arith::Round(Box::new(self.arith(x)?), n));
        }
        if let Some((pick, args)) = extreme_args(e) {
            let args = args.into_iter().map(|a| self.arith(a));
            return Ok(Arith::Extreme(pick, args.collect::<Result<_>>()?));
        }
        Ok(match e {
            Expr::Nested(x) => self.arith(x)?,
            Expr::BinaryOp { left, op, right } => {
                let op = ArithOp::from_sql(op, true)
                    .ok_or_else(|| refuse(format!("the expression {e}")))?;
                Arith::Binary(
                    Box::new(self.arith(left)?),
                    op,
                    Box::new(self.arith(right)?),
                )
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => Arith::Neg(Box::new(self.arith(expr)?)),
            Expr::IsNotNull(x) => Arith::IsNotNull(Box::new(self.arith(x)?)),
            Expr::IsNull(x) => Arith::IsNull(Box::new(self.arith(x)?)),
            _ if coalesce_args(e).is_some() => Arith::Coalesce(
                coalesce_args(e)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| self.arith(a))
                    .collect::<Result<_>>()?,
            ),
            _ => {
                not_found(e)?;
                return Err(refuse(format!("the expression {e}")));
            }
        })
    }

    /// The rows of the outer query's FROM and WHERE, with `items` as their
    /// columns.
    fn rows(&self, inner: Box<dyn Primitive>, query: &Query) -> Result<Box<dyn Primitive>> {
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Err(refuse("UNION"));
        };
        let mut input = inner;
        if let Some(w) = &select.selection {
            input = Box::new(Filter {
                predicate: build_predicate(w, &mut |x| self.operand(x))?,
                hidden_columns: 0,
                input,
            });
        }
        let mut columns = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => {
                    for (c, name) in self.columns.iter().enumerate() {
                        columns.push((name.clone(), Arith::Column(c)));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) if kind.to_string() == self.alias => {
                    for (c, name) in self.columns.iter().enumerate() {
                        columns.push((name.clone(), Arith::Column(c)));
                    }
                }
                SelectItem::UnnamedExpr(e) => {
                    let name = match e {
                        Expr::CompoundIdentifier(p) => p
                            .last()
                            .map_or_else(|| e.to_string(), |id| id.value.clone()),
                        Expr::Identifier(id) => id.value.clone(),
                        _ => e.to_string(),
                    };
                    columns.push((name, self.item(e)?));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    columns.push((alias.value.clone(), self.item(expr)?));
                }
                other => return Err(refuse(format!("the select item {other}"))),
            }
        }
        Ok(Box::new(Project { columns, input }))
    }
}

/// The WHERE of a derived table's inner query over one plain table (to
/// see whether it reaches one shard), if it is one.
pub(super) fn plain_inner(q: &Query) -> Option<Option<&Expr>> {
    if q.with.is_some() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let plain = matches!(s.from.as_slice(), [t] if t.joins.is_empty() && matches!(t.relation, TableFactor::Table { .. }));
    plain.then_some(s.selection.as_ref())
}

/// Plans `original`, a SELECT whose only FROM item is a derived table
/// the shards cannot compute on their own.
pub(super) fn plan_derived(
    ctx: &Context,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    // Merged into the outer query where that keeps the rows, if the planner takes it.
    if let Some(merged) = merge_derived(original) {
        if let Ok(plan) = plan_side(ctx, &merged.to_string()) {
            return Ok(plan);
        }
    }
    plan_derived_with(original, &mut |subquery| {
        plan_side(ctx, &subquery.to_string())
    })
}

/// [`plan_derived`] with the derived table's rows computed by `inner` (a recursive CTE's
/// iteration, say) instead of its query's plan.
pub(super) fn plan_derived_rows(
    original: &Query,
    inner: Box<dyn Primitive>,
) -> Result<Box<dyn Primitive>> {
    let mut inner = Some(inner);
    plan_derived_with(original, &mut |_| {
        inner
            .take()
            .ok_or_else(|| EngineError::BadResult("derived rows planned twice".into()))
    })
}

fn plan_derived_with(
    original: &Query,
    plan_inner: &mut dyn FnMut(&Query) -> Result<Box<dyn Primitive>>,
) -> Result<Box<dyn Primitive>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Err(refuse("UNION"));
    };
    if !original.locks.is_empty() || select.into.is_some() {
        // The shards would not lock (or write) what MySQL does.
        return Err(refuse("FOR UPDATE, LOCK IN SHARE MODE or INTO"));
    }
    let calc_found_rows = select.select_modifiers.as_ref().is_some_and(|m| {
        m.to_string()
            .to_ascii_uppercase()
            .contains("SQL_CALC_FOUND_ROWS")
    });
    if calc_found_rows {
        return Err(refuse("SQL_CALC_FOUND_ROWS"));
    }
    let [only] = select.from.as_slice() else {
        return Err(refuse("a join"));
    };
    let TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        ..
    } = &only.relation
    else {
        return Err(refuse("a join"));
    };
    if !only.joins.is_empty() {
        return Err(refuse("a join"));
    }
    let derived = Derived {
        alias: alias.name.value.clone(),
        columns: derived_columns(subquery, alias)?,
    };
    // The outer query's own features, not the derived table's.
    let mut outer_only = original.clone();
    if let SetExpr::Select(s) = outer_only.body.as_mut() {
        s.from.clear();
    }
    let outer = features(&outer_only);
    if outer.subquery {
        return Err(refuse("a subquery or window function"));
    }
    if outer.window {
        // Over every row of the derived table.
        return plan_windows_over(original, &mut |q| plan_derived_with(q, plan_inner));
    }
    // The outer conditions on its plain columns move into the derived table's query, which
    // they may route.
    let moved = move_outer_conditions(select, subquery, alias);
    let narrowed;
    let (original, select, inner) = match moved {
        Some((subquery, kept)) => {
            let mut outer = original.clone();
            if let SetExpr::Select(s) = outer.body.as_mut() {
                s.selection = kept;
            }
            narrowed = outer;
            let SetExpr::Select(select) = narrowed.body.as_ref() else {
                return Err(refuse("UNION"));
            };
            (&narrowed, select, plan_inner(&subquery)?)
        }
        None => (original, select, plan_inner(subquery)?),
    };
    let grouped =
        !matches!(&select.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    if outer.aggregate || grouped || select.having.is_some() || select.distinct.is_some() {
        let mut inner = Some(inner);
        return plan_raw_aggregate(original, "a derived table", &mut |q| {
            let input = inner
                .take()
                .ok_or_else(|| EngineError::BadResult("derived rows planned twice".into()))?;
            derived.rows(input, q)
        });
    }
    plan_rows(&derived, inner, original)
}

/// The outer query without aggregation: rows, then ORDER BY and LIMIT.
fn plan_rows(
    derived: &Derived,
    inner: Box<dyn Primitive>,
    original: &Query,
) -> Result<Box<dyn Primitive>> {
    let mut query = original.clone();
    let limit = remove_limit(&mut query)?;
    let order = query.order_by.take();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(refuse("UNION"));
    };
    let items = select.projection.len();
    let mut params = Vec::new();
    if let Some(order) = order {
        let OrderByKind::Expressions(exprs) = order.kind else {
            return Err(refuse("ORDER BY ALL"));
        };
        for o in exprs {
            if o.options.nulls_first.is_some() || o.with_fill.is_some() {
                return Err(refuse("ORDER BY with NULLS FIRST/LAST"));
            }
            let desc = match o.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(_) => return Err(refuse("ORDER BY ... USING")),
            };
            let star = matches!(select.projection.as_slice(), [SelectItem::Wildcard(_)]);
            let found = match derived.column(&o.expr) {
                Some(c) if star => Some(c),
                _ => find_order_column(&o.expr, &select.projection[..items])?,
            };
            let col = match found {
                Some(c) => c,
                None => {
                    select
                        .projection
                        .push(SelectItem::UnnamedExpr(o.expr.clone()));
                    select.projection.len() - 1
                }
            };
            params.push(OrderByParam { col, desc });
        }
    }
    let hidden = select.projection.len() - items;
    if hidden > 0
        && select.projection[..items].iter().any(|i| {
            matches!(
                i,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        })
    {
        return Err(refuse("ORDER BY a column not selected with *"));
    }
    let mut plan = derived.rows(inner, &query)?;
    if !params.is_empty() {
        plan = Box::new(MemorySort {
            order_by: params,
            hidden_columns: hidden,
            input: plan,
        });
    }
    if let Some((count, offset)) = limit {
        plan = Box::new(Limit {
            count,
            offset,
            input: plan,
        });
    }
    Ok(plan)
}

/// A column reference that named no derived column is MySQL's error.
fn not_found(e: &Expr) -> Result<()> {
    if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
        return Err(EngineError::mysql(
            1054,
            "42S22",
            format!("column '{e}' not found"),
        ));
    }
    Ok(())
}

/// The column names of a derived table: its alias's column list, else
/// the inner select items' names; two columns of one name are MySQL's
/// error.
pub(super) fn derived_columns(
    q: &Query,
    alias: &sqlparser::ast::TableAlias,
) -> Result<Vec<String>> {
    let names = item_names(q, alias)?;
    for (i, n) in names.iter().enumerate() {
        if names[..i].iter().any(|m| m.eq_ignore_ascii_case(n)) {
            return Err(EngineError::mysql(
                1060,
                "42S21",
                format!("Duplicate column name '{n}'"),
            ));
        }
    }
    Ok(names)
}

/// The SELECT that names a query's columns: the first of a UNION.
fn first_select(set: &SetExpr) -> Option<&sqlparser::ast::Select> {
    match set {
        SetExpr::Select(s) => Some(s),
        SetExpr::SetOperation { left, .. } => first_select(left),
        SetExpr::Query(q) => first_select(&q.body),
        _ => None,
    }
}

fn item_names(q: &Query, alias: &sqlparser::ast::TableAlias) -> Result<Vec<String>> {
    let s = first_select(&q.body).ok_or_else(|| refuse("VALUES"))?;
    // `select * from (...) AS inner`: the inner derived table's columns.
    if let ([SelectItem::Wildcard(_)], [only]) = (s.projection.as_slice(), s.from.as_slice()) {
        if let TableFactor::Derived {
            subquery,
            alias: Some(inner),
            ..
        } = &only.relation
        {
            if only.joins.is_empty() && alias.columns.is_empty() {
                return derived_columns(subquery, inner);
            }
        }
    }
    if !alias.columns.is_empty() {
        if alias.columns.len() != s.projection.len() {
            return Err(refuse("a column list of another length"));
        }
        return Ok(alias.columns.iter().map(|c| c.name.value.clone()).collect());
    }
    s.projection
        .iter()
        .map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Ok(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(id)) => Ok(id.value.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => p
                .last()
                .map(|id| id.value.clone())
                .ok_or_else(|| refuse("an empty column name")),
            SelectItem::UnnamedExpr(e) => Ok(e.to_string()),
            _ => Err(refuse("* inside")),
        })
        .collect()
}
