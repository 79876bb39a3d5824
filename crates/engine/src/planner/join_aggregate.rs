//! Aggregation over rows vtgate has (a nested-loop join, a derived
//! table): the rows carry raw values
//! (`count(*)` as `1`, `count(x)` as `x IS NOT NULL`, `sum`/`min`/`max`/
//! `avg(x)` as `x`, plus `x IS NOT NULL` for AVG), vtgate sorts them on
//! the grouping columns and merges them with the same [`Aggregate`] that
//! merges shard partials, then HAVING, DISTINCT, ORDER BY and LIMIT.
//! `group_concat(a, b ...)` is `concat(a, b ...)` (NULL when an argument is,
//! so the row is left out, as GROUP_CONCAT leaves it out); its DISTINCT or
//! ORDER BY sorts each group's rows after the grouping columns (one such
//! in-group order per query, shared with `count(distinct x)`).

use sqlparser::ast::{
    Expr, FunctionArgExpr, GroupByExpr, OrderBySort, Query, SelectItem, SetExpr, Value as AstValue,
};

use super::aggregate_tail::{Finish, Tail};
use super::aggregation::{aggregate_call, item_expr, placeholder, AggregateCall, HavingContext};
use super::nested_join::plan_nested_join;
use super::order::{features_of_expr, find_column, is_wildcard, remove_limit};
use super::tables::Tables;
use super::union::PlanSide;
use super::Context;
use crate::aggregate::{AggregateOpcode, AggregateParam};
use crate::error::{EngineError, Result};
use crate::memory_sort::MemorySort;
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;

/// `concat(a, b ...)`: GROUP_CONCAT's value of one row, as text.
fn concat(args: Vec<Expr>) -> Expr {
    sql::parse::function_call(
        "concat",
        args.into_iter().map(FunctionArgExpr::Expr).collect(),
    )
}

fn refuse_in(source: &str, why: &str) -> EngineError {
    EngineError::unsupported(format!("aggregation over {source}: {why}"))
}

fn not_null(x: Expr) -> Expr {
    Expr::IsNotNull(Box::new(x))
}

/// Plans an aggregating or DISTINCT SELECT over a nested-loop join.
pub(super) fn plan_join_aggregate(
    ctx: &Context,
    tables: &Tables,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    plan_raw_aggregate(original, "a cross-shard join", &mut |q| {
        plan_nested_join(ctx, tables, q, plan_side)
    })
}

/// Plans an aggregating or DISTINCT SELECT whose raw rows `rows` plans:
/// it is given the query with the raw select items and no GROUP BY.
/// `source` names the rows in refusals.
pub(super) fn plan_raw_aggregate(
    original: &Query,
    source: &str,
    rows: &mut dyn FnMut(&Query) -> Result<Box<dyn Primitive>>,
) -> Result<Box<dyn Primitive>> {
    let refuse = |why: &str| refuse_in(source, why);
    let mut query = original.clone();
    let limit = remove_limit(&mut query)?;
    let user_order = query.order_by.take();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(refuse("UNION"));
    };
    let having = select.having.take();
    let original_items = select.projection.clone();
    if original_items.iter().any(is_wildcard) {
        return Err(refuse("*"));
    }
    let GroupByExpr::Expressions(group_exprs, modifiers) = &select.group_by else {
        return Err(refuse("GROUP BY ALL"));
    };
    if !modifiers.is_empty() {
        return Err(refuse("GROUP BY modifiers"));
    }
    // Each GROUP BY expression, with its select item when it is one by position.
    let mut group_exprs: Vec<(Option<usize>, Expr)> =
        group_exprs.iter().map(|g| (None, g.clone())).collect();
    let distinct_rows = select.distinct.take().is_some();
    let distinct_groups = distinct_rows && !group_exprs.is_empty();
    if distinct_rows && !distinct_groups {
        // By position, not by name (`select distinct a as b, b`).
        group_exprs = original_items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item_expr(item).map(|e| (Some(i), e.clone())))
            .collect();
    }
    let mut projection = Vec::new();
    let mut hidden = Vec::new();
    let mut aggregates = Vec::new();
    // The order of the rows within a group (count(distinct x), GROUP_CONCAT's DISTINCT or
    // ORDER BY): (index into `hidden_keys`, or None for the select item's column), desc.
    let mut within: Option<Vec<(Option<usize>, usize, bool)>> = None;
    let mut hidden_keys: Vec<Expr> = Vec::new();
    let mut computed = Vec::new();
    for (i, item) in original_items.iter().enumerate() {
        let e = item_expr(item).ok_or_else(|| refuse("select item"))?;
        let alias = match item {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            _ => e.to_string(),
        };
        let Some(AggregateCall {
            name,
            distinct,
            arg,
            separator,
            args,
            order_by,
        }) = aggregate_call(e)?
        else {
            if features_of_expr(e).aggregate {
                projection.push(SelectItem::UnnamedExpr(placeholder()));
                computed.push((i, e.clone(), alias));
                continue;
            }
            if group_exprs.is_empty() {
                return Err(refuse("non-aggregated column in a scalar aggregation"));
            }
            projection.push(item.clone());
            continue;
        };
        let (raw, opcode) = match (name.as_str(), distinct, arg) {
            ("count", false, None) => (
                Expr::value(AstValue::Number("1".into(), false)),
                AggregateOpcode::CountStar,
            ),
            ("count", false, Some(x)) => (not_null(x), AggregateOpcode::Count),
            ("count", true, Some(x)) if within.is_none() => {
                within = Some(vec![(None, i, false)]);
                (x, AggregateOpcode::CountDistinct)
            }
            ("sum", true, Some(x)) if within.is_none() => {
                within = Some(vec![(None, i, false)]);
                (x, AggregateOpcode::SumDistinct)
            }
            // The rows' order serves another: count or sum this one in a set per group.
            ("count", true, Some(x)) => (x, AggregateOpcode::CountDistinctHashed),
            ("sum", true, Some(x)) => (x, AggregateOpcode::SumDistinctHashed),
            ("group_concat", _, Some(_)) => {
                let raw = concat(args.clone());
                // The rows of a group in the order GROUP_CONCAT takes them: its ORDER BY,
                // or by the value for DISTINCT (as MariaDB's GROUP_CONCAT(DISTINCT) gives them).
                let keys: Vec<(Expr, bool)> = if !order_by.is_empty() {
                    order_by
                        .iter()
                        .map(|o| {
                            let desc = matches!(o.options.sort, Some(OrderBySort::Desc));
                            let plain = o.options.nulls_first.is_none()
                                && o.with_fill.is_none()
                                && !matches!(o.expr, Expr::Value(_))
                                && !matches!(o.options.sort, Some(OrderBySort::Using(_)));
                            plain
                                .then(|| (o.expr.clone(), desc))
                                .ok_or_else(|| refuse(&format!("GROUP_CONCAT ORDER BY {o}")))
                        })
                        .collect::<Result<_>>()?
                } else if distinct {
                    vec![(args[0].clone(), false)]
                } else {
                    Vec::new()
                };
                if distinct {
                    // Equal values must be neighbours: sorted by the one argument itself.
                    let by_value = args.len() == 1
                        && keys
                            .iter()
                            .all(|(k, _)| k.to_string() == args[0].to_string());
                    if !by_value {
                        return Err(refuse(&format!(
                            "GROUP_CONCAT(DISTINCT) of several values or ordered by another: '{e}'"
                        )));
                    }
                }
                if !keys.is_empty() {
                    if within.is_some() {
                        return Err(refuse(
                            "two of COUNT(DISTINCT), SUM(DISTINCT), GROUP_CONCAT(DISTINCT) or GROUP_CONCAT(... ORDER BY)",
                        ));
                    }
                    within = Some(
                        keys.into_iter()
                            .map(|(k, desc)| {
                                hidden_keys.push(k);
                                (Some(hidden_keys.len() - 1), 0, desc)
                            })
                            .collect(),
                    );
                }
                (
                    raw,
                    AggregateOpcode::GroupConcat {
                        separator: separator.unwrap_or_else(|| b",".to_vec()),
                        distinct,
                    },
                )
            }
            ("sum", false, Some(x)) => (x, AggregateOpcode::Sum),
            ("min", _, Some(x)) => (x, AggregateOpcode::Min),
            ("max", _, Some(x)) => (x, AggregateOpcode::Max),
            ("avg", false, Some(x)) => {
                hidden.push(SelectItem::UnnamedExpr(not_null(x.clone())));
                (
                    x,
                    AggregateOpcode::Avg {
                        count_col: usize::MAX,
                    },
                )
            }
            _ => return Err(refuse(&format!("aggregation function '{e}'"))),
        };
        projection.push(SelectItem::UnnamedExpr(raw));
        aggregates.push(AggregateParam {
            opcode,
            col: i,
            alias,
        });
    }
    // Hidden AVG counts follow the select items, in order.
    let mut next_hidden = original_items.len();
    for a in &mut aggregates {
        if let AggregateOpcode::Avg { count_col } = &mut a.opcode {
            *count_col = next_hidden;
            next_hidden += 1;
        }
    }
    projection.extend(hidden);
    // In-group sort keys after the hidden AVG counts.
    let mut key_cols = Vec::new();
    for k in hidden_keys {
        projection.push(SelectItem::UnnamedExpr(k));
        key_cols.push(projection.len() - 1);
    }
    let mut group_cols = Vec::new();
    for (position, g) in &group_exprs {
        let found = match position {
            Some(i) => Some(*i),
            None => find_column(g, &original_items)?,
        };
        let col = match found {
            Some(c) if aggregates.iter().all(|a| a.col != c) => c,
            _ => {
                projection.push(SelectItem::UnnamedExpr(g.clone()));
                projection.len() - 1
            }
        };
        group_cols.push(col);
    }
    let tail = {
        let mut count = 0;
        let mut hv = HavingContext {
            original: &original_items,
            projection: &mut projection,
            aggregates: &mut aggregates,
            hidden: &mut count,
            raw: true,
            computed: Vec::new(),
        };
        hv.compute_items(computed)?;
        Tail::resolve(&mut hv, having.as_ref(), user_order)?
    };
    let hidden = projection.len() - original_items.len();
    select.projection = projection;
    select.group_by = GroupByExpr::Expressions(Vec::new(), Vec::new());
    let joined = rows(&query)?;
    let mut sort: Vec<OrderByParam> = group_cols
        .iter()
        .map(|&col| OrderByParam { col, desc: false })
        .collect();
    for (key, col, desc) in within.into_iter().flatten() {
        let col = key.map_or(col, |k| key_cols[k]);
        sort.push(OrderByParam { col, desc });
    }
    let input: Box<dyn Primitive> = if sort.is_empty() {
        joined
    } else {
        Box::new(MemorySort {
            hidden_columns: 0,
            order_by: sort,
            input: joined,
        })
    };
    tail.assemble(
        input,
        Finish {
            group_by: group_cols,
            aggregates,
            hidden,
            distinct_groups,
            limit,
        },
    )
}
