//! Scalar subqueries in the select list that read the outer row and could
//! not be merged into its route: run per outer row ([`CorrelatedValues`]).
//! Only items that are a subquery as a whole (aliased or not), in a select
//! without aggregation, grouping or window functions; the rest of the
//! select is planned as it would be (its WHERE, ORDER BY and LIMIT keep the
//! rows and their order, which the values do not change). With DISTINCT,
//! or an ORDER BY that reads a value, the outer query runs without them
//! (and without its LIMIT), and vtgate removes duplicates ([`Distinct`]),
//! sorts ([`MemorySort`](crate::memory_sort::MemorySort), by keys not
//! selected as hidden columns of the outer query; not with DISTINCT) and
//! limits over the rows with their values. An ORDER BY key that is itself
//! such a subquery is a hidden value of its own (not with DISTINCT).

use sqlparser::ast::{
    Distinct as SqlDistinct, Expr, Ident, OrderByKind, Query, SelectItem, SetExpr,
    Value as AstValue, VisitMut,
};

use super::nested_join::written_out;
use super::order::{
    features, features_of_expr, is_wildcard, order_and_limit, order_columns, remove_limit,
};
use super::pullout::{from_factors, Names};
use super::semi_join::{block_columns, bound_block, outer_names_read, Binder};
use super::union::PlanSide;
use super::window::plan_windows_over;
use super::Context;
use crate::correlated_value::{CorrelatedValues, ValueColumn, ValueSubquery};
use crate::distinct::Distinct;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;

fn refuse() -> EngineError {
    EngineError::unsupported("correlated subquery across shards")
}

/// Bind variable names and the outer columns they take.
type BoundColumns = Vec<(String, Expr)>;

/// One select item's subquery with the outer columns it reads bound.
struct Item {
    column: usize,
    subquery: Query,
    vars: BoundColumns,
}

/// The subquery of a select item, when it is correlated with `outer`.
fn correlated(q: &Query, outer: &Names) -> Result<Option<(Query, BoundColumns)>> {
    let names = outer_names_read(q, outer)?;
    if names.is_empty() {
        return Ok(None);
    }
    let mut bound = q.clone();
    let mut binder = Binder::new(&names);
    let _ = VisitMut::visit(&mut bound, &mut binder);
    Ok(Some((bound, binder.finish().ok_or_else(refuse)?)))
}

/// Plans `original` with its correlated select-list subqueries run per row;
/// `None` when it has none.
pub(super) fn plan_correlated_values(
    ctx: &Context,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Option<Box<dyn Primitive>>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Ok(None);
    };
    let outer_names = Names::of(&from_factors(select));
    let mut items = Vec::new();
    for (column, item) in select.projection.iter().enumerate() {
        let (SelectItem::UnnamedExpr(Expr::Subquery(q))
        | SelectItem::ExprWithAlias {
            expr: Expr::Subquery(q),
            ..
        }) = item
        else {
            continue;
        };
        if let Some((subquery, vars)) = correlated(q, &outer_names)? {
            items.push(Item {
                column,
                subquery,
                vars,
            });
        }
    }
    if items.is_empty() && !sorted_by_a_value(original, &outer_names)? {
        return Ok(None);
    }
    // `*` written out from known columns (tracked or authoritative) places every column;
    // else the values are placed around it below.
    if let Ok(Some(expanded)) = written_out(ctx, original) {
        return plan_correlated_values(ctx, &expanded, plan_side);
    }
    // A `*` or `t.*` stands for columns counted only when the rows come: an item between two
    // of them has no known column.
    for it in &items {
        let (before, after) = select.projection.split_at(it.column);
        if before.iter().any(is_wildcard) && after.iter().any(is_wildcard) {
            return Err(EngineError::unsupported(
                "correlated subquery across shards between two * in the select list",
            ));
        }
    }
    if features(original).window {
        // Over the rows with their values.
        return plan_windows_over(original, &mut |q| {
            plan_correlated_values(ctx, q, plan_side)?.ok_or_else(refuse)
        })
        .map(Some);
    }
    let other_features = select.projection.iter().any(|i| match i {
        SelectItem::UnnamedExpr(Expr::Subquery(_))
        | SelectItem::ExprWithAlias {
            expr: Expr::Subquery(_),
            ..
        } => false,
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            let f = features_of_expr(e);
            f.aggregate || f.window
        }
        _ => false,
    });
    let grouped = !matches!(&select.group_by,
        sqlparser::ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let distinct = match &select.distinct {
        None => false,
        Some(SqlDistinct::Distinct) => true,
        Some(_) => return Err(refuse()),
    };
    if other_features
        || grouped
        || select.having.is_some()
        || select.into.is_some()
        || !original.locks.is_empty()
    {
        return Err(refuse());
    }
    // DISTINCT, and an order by the values, run in vtgate over the rows
    // with their values; so does the LIMIT then.
    let in_vtgate = distinct || orders_by_values(original, &select.projection, &items);
    if in_vtgate && select.projection.iter().any(is_wildcard) {
        return Err(refuse());
    }
    // ORDER BY keys not selected: hidden columns of the outer query; a key that is a
    // subquery reading the outer row is a value of its own there.
    let mut hidden = Vec::new();
    let mut order = Vec::new();
    let visible = select.projection.len();
    if in_vtgate {
        let mut sort_values = Vec::new();
        order = order_columns(original, &select.projection, &mut |e| {
            if let (false, Expr::Subquery(q)) = (distinct, e) {
                if let Some((subquery, vars)) = correlated(q, &outer_names)? {
                    hidden.push(Expr::value(AstValue::Null));
                    let column = visible + hidden.len() - 1;
                    sort_values.push(Item {
                        column,
                        subquery,
                        vars,
                    });
                    return Ok(column);
                }
            }
            if distinct || features_of_expr(e).subquery {
                return Err(refuse());
            }
            hidden.push(e.clone());
            Ok(visible + hidden.len() - 1)
        })?;
        items.extend(sort_values);
    }
    // The outer query: NULL where each value goes, the hidden and bound
    // columns last.
    let columns = bound_block(items.iter().map(|it| it.vars.as_slice()));
    let mut outer = original.clone();
    if in_vtgate {
        outer.order_by = None;
        remove_limit(&mut outer)?;
    }
    if let SetExpr::Select(s) = outer.body.as_mut() {
        for it in items.iter().filter(|it| it.column < visible) {
            let name = match &s.projection[it.column] {
                SelectItem::ExprWithAlias { alias, .. } => alias.clone(),
                other => Ident::with_quote('`', other.to_string()),
            };
            s.projection[it.column] = SelectItem::ExprWithAlias {
                expr: Expr::value(AstValue::Null),
                alias: name,
            };
        }
        if in_vtgate {
            s.distinct = None;
        }
        s.projection.extend(
            hidden
                .iter()
                .chain(&columns)
                .cloned()
                .map(SelectItem::UnnamedExpr),
        );
    }
    let values = items
        .iter()
        .map(|it| {
            let after_wildcard = select.projection.iter().take(it.column).any(is_wildcard);
            Ok(ValueSubquery {
                column: if after_wildcard {
                    ValueColumn::End(select.projection.len() - it.column + hidden.len())
                } else {
                    ValueColumn::Start(it.column)
                },
                subquery: plan_side(ctx, &it.subquery.to_string())?,
                vars: block_columns(&it.vars, &columns),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut plan: Box<dyn Primitive> = Box::new(CorrelatedValues {
        outer: plan_side(ctx, &outer.to_string())?,
        values,
        block: columns.len(),
    });
    if distinct {
        plan = Box::new(Distinct { input: plan });
    }
    if in_vtgate {
        plan = order_and_limit(original, order, hidden.len(), plan)?;
    }
    Ok(Some(plan))
}

/// Whether an ORDER BY key is a subquery that reads the outer row.
fn sorted_by_a_value(q: &Query, outer: &Names) -> Result<bool> {
    let Some(OrderByKind::Expressions(exprs)) = q.order_by.as_ref().map(|o| &o.kind) else {
        return Ok(false);
    };
    for o in exprs {
        if let Expr::Subquery(sub) = &o.expr {
            if !outer_names_read(sub, outer)?.is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether ORDER BY reads a subquery value: by its alias, its position, or
/// a subquery of its own.
fn orders_by_values(q: &Query, projection: &[SelectItem], items: &[Item]) -> bool {
    let Some(order) = &q.order_by else {
        return false;
    };
    let OrderByKind::Expressions(exprs) = &order.kind else {
        return true;
    };
    let aliases: Vec<&str> = items
        .iter()
        .filter_map(|it| match &projection[it.column] {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.as_str()),
            _ => None,
        })
        .collect();
    exprs.iter().any(|o| match &o.expr {
        Expr::Identifier(i) => aliases.iter().any(|a| a.eq_ignore_ascii_case(&i.value)),
        Expr::Value(v) => matches!(v.value, AstValue::Number(..)),
        e => features_of_expr(e).subquery,
    })
}
