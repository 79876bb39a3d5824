//! Completing a multi-shard SELECT in vtgate: the shards sort and limit
//! their own rows, vtgate merge-sorts them ([`OrderByParam`]s on the
//! route, with ORDER BY expressions missing from the select list added as
//! hidden trailing columns) and applies LIMIT/OFFSET on top, each shard
//! having been asked for `offset + count` rows.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, InTarget, LimitClause, OrderByKind, OrderBySort, Query, SelectItem, SetExpr,
    Value as AstValue, Visit, Visitor,
};

use super::aggregation::plan_aggregate;
use super::select::field_query;
use super::shard_local::ShardLocal;
use super::window::{plan_windows, plan_windows_over};
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::limit::Limit;
use crate::memory_sort::MemorySort;
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;
use crate::route::Route;
use sql::literal::BindValue;

/// Aggregate functions (their use needs merging in vtgate).
pub(super) const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "group_concat",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "json_arrayagg",
    "json_objectagg",
    "any_value",
];

/// What a multi-shard query uses that plain merging cannot complete.
/// Aggregates and window functions count only outside subqueries (a
/// subquery computes its own); a subquery at any depth counts.
#[derive(Default)]
pub(super) struct Features {
    pub aggregate: bool,
    /// An aggregate that is not a window function (no OVER clause).
    pub grouping_aggregate: bool,
    pub window: bool,
    pub subquery: bool,
    /// Queries entered so far, and how many of them are not subqueries.
    depth: usize,
    base: usize,
}

impl Visitor for Features {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Function(_) if self.depth > self.base => {}
            Expr::Function(f) => {
                if f.over.is_some() {
                    self.window = true;
                }
                let name = f.name.to_string().to_ascii_lowercase();
                if AGGREGATES.contains(&name.as_str()) {
                    self.aggregate = true;
                    self.grouping_aggregate |= f.over.is_none();
                }
            }
            Expr::Subquery(_)
            | Expr::Exists { .. }
            | Expr::In {
                target: InTarget::Subquery(_),
                ..
            } => self.subquery = true,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// What a whole query uses (aggregates, window functions, subqueries).
pub(super) fn features(q: &Query) -> Features {
    let mut f = Features {
        base: 1,
        ..Features::default()
    };
    let _ = Visit::visit(q, &mut f);
    f
}

/// Plans the vtgate side of a SELECT on one sharded table that may reach
/// several shards.
pub(super) fn plan_multi_shard(query: Query, route: Route) -> Result<Box<dyn Primitive>> {
    plan_multi_shard_local(query, route, ShardLocal::default())
}

/// [`plan_multi_shard`] for a query whose window partitions or GROUP BY
/// groups each shard may hold whole (`local`, see `shard_local`): those
/// windows, and the grouping with its aggregates and HAVING, run on the
/// shards, whose rows vtgate then only merges.
pub(super) fn plan_multi_shard_local(
    mut query: Query,
    mut route: Route,
    local: ShardLocal,
) -> Result<Box<dyn Primitive>> {
    let used = features(&query);
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(EngineError::unsupported("UNION on a sharded keyspace"));
    };
    let grouped = !matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    // Aggregates over windows (`sum(x) OVER (...)`) are computed with them.
    let aggregated = used.grouping_aggregate;
    let combined = if grouped && local.groups {
        select.distinct.is_some()
    } else {
        aggregated || grouped || select.having.is_some() || select.distinct.is_some()
    };
    // Windows vtgate computes: DISTINCT after them too.
    if used.window && !local.windows && !(aggregated || grouped || select.having.is_some()) {
        return plan_windows(&query, route);
    }
    if used.window && (combined || grouped || !local.windows) {
        // Over the groups: GROUP BY, aggregates and HAVING are planned as without the
        // windows (on the shards when each holds its groups whole), then the windows run.
        // Not on the shards even when each holds its partitions whole: MariaDB 10.11 drops
        // the ORDER BY of a statement grouped by the primary key with a window beside it
        // (vtgate README, gap 20), and vtgate would merge its rows as if sorted.
        let local = ShardLocal {
            windows: false,
            ..local
        };
        return plan_windows_over(&query, &mut |rows| {
            let mut route = route.clone();
            route.query = rows.to_string();
            route.field_query = field_query(rows);
            plan_multi_shard_local(rows.clone(), route, local)
        });
    }
    if select.into.is_some() {
        return Err(EngineError::unsupported(
            "SELECT ... INTO on a sharded keyspace",
        ));
    }
    if select.select_modifiers.as_ref().is_some_and(|m| {
        m.to_string()
            .to_ascii_uppercase()
            .contains("SQL_CALC_FOUND_ROWS")
    }) {
        return Err(EngineError::unsupported(
            "SQL_CALC_FOUND_ROWS across shards",
        ));
    }
    if combined {
        return plan_aggregate(query, route);
    }
    let mut params = Vec::new();
    let mut hidden = 0;
    let mut positions = false;
    let wildcard = select.projection.iter().any(is_wildcard);
    if let Some(order) = &query.order_by {
        let OrderByKind::Expressions(exprs) = &order.kind else {
            return Err(EngineError::unsupported("ORDER BY ALL"));
        };
        for o in exprs {
            let desc = match &o.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(OrderBySort::Using(_)) => {
                    return Err(EngineError::unsupported("ORDER BY ... USING"))
                }
            };
            if o.options.nulls_first.is_some() || o.with_fill.is_some() {
                return Err(EngineError::unsupported("ORDER BY with NULLS FIRST/LAST"));
            }
            if matches!(&o.expr, Expr::Value(v) if v.value == AstValue::Null) {
                continue;
            }
            let found = if wildcard {
                if matches!(&o.expr, Expr::Value(_)) {
                    // A position is a column of the result, known without expanding `*`.
                    match PlanValue::from_expr(&o.expr) {
                        Some(PlanValue::Literal(BindValue::Int64(n))) if n >= 1 => {
                            positions = true;
                            usize::try_from(n - 1).ok()
                        }
                        _ => {
                            return Err(EngineError::unsupported(format!(
                                "ORDER BY {} with * in the select list across shards",
                                o.expr
                            )))
                        }
                    }
                } else {
                    None
                }
            } else {
                find_order_column(&o.expr, &select.projection)?
            };
            let col = match found {
                Some(c) => c,
                None => {
                    if features_of_expr(&o.expr).subquery {
                        return Err(EngineError::unsupported(
                            "ORDER BY a subquery across shards",
                        ));
                    }
                    // A select alias cannot be read in the select list: its expression.
                    let key = if wildcard {
                        aliased_expr(&o.expr, &select.projection).unwrap_or(&o.expr)
                    } else {
                        &o.expr
                    };
                    select.projection.push(SelectItem::UnnamedExpr(key.clone()));
                    hidden += 1;
                    // After a `*` the column count is only known from the
                    // result: count hidden columns from the first of them.
                    if wildcard {
                        hidden - 1
                    } else {
                        select.projection.len() - 1
                    }
                }
            };
            params.push(OrderByParam { col, desc });
        }
    }
    if positions && hidden > 0 {
        // Hidden columns count from the end of a result whose width `*` leaves open.
        return Err(EngineError::unsupported(
            "ORDER BY a position and an expression not selected, with * across shards",
        ));
    }
    let limit = take_limit(&mut query)?;
    route.query = query.to_string();
    route.field_query = field_query(&query);
    route.order_by = params;
    route.hidden_columns = hidden;
    route.sort_from_hidden = wildcard && hidden > 0;
    Ok(match limit {
        Some((count, offset)) => Box::new(Limit {
            count,
            offset,
            input: Box::new(route),
        }),
        None => Box::new(route),
    })
}

pub(super) fn features_of_expr(e: &Expr) -> Features {
    let mut f = Features::default();
    let _ = Visit::visit(e, &mut f);
    f
}

pub(super) fn is_wildcard(item: &SelectItem) -> bool {
    matches!(
        item,
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
    )
}

/// The last identifier of a column reference.
pub(super) fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Identifier(i) => Some(&i.value),
        Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.as_str()),
        _ => None,
    }
}

fn same_column(a: &Expr, b: &Expr) -> bool {
    let one_unqualified = matches!(a, Expr::Identifier(_)) || matches!(b, Expr::Identifier(_));
    match (column_name(a), column_name(b)) {
        (Some(x), Some(y)) => {
            x.eq_ignore_ascii_case(y) && (one_unqualified || same_qualifiers(a, b))
        }
        _ => a.to_string() == b.to_string(),
    }
}

/// Whether two qualified column references name the same qualifier (`o.x` and `` o.`x` ``:
/// quotes do not change a name).
fn same_qualifiers(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::CompoundIdentifier(x), Expr::CompoundIdentifier(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .take(x.len().saturating_sub(1))
                    .all(|(p, q)| p.value == q.value)
        }
        _ => a.to_string() == b.to_string(),
    }
}

/// The expression of the select item `key` names by its alias (`ORDER BY e0` of `x < y AS
/// e0`), which ORDER BY reads before a column of that name, as MySQL does.
fn aliased_expr<'a>(key: &Expr, projection: &'a [SelectItem]) -> Option<&'a Expr> {
    let Expr::Identifier(name) = key else {
        return None;
    };
    projection.iter().find_map(|item| match item {
        SelectItem::ExprWithAlias { expr, alias }
            if alias.value.eq_ignore_ascii_case(&name.value) =>
        {
            Some(expr)
        }
        _ => None,
    })
}

/// The select-list index an ORDER BY expression refers to: a position
/// (`order by 2`), an alias, or the same expression. `None` when it is not
/// there. Items after a `*` have no known index.
/// [`find_column`] for ORDER BY, which MySQL resolves to a select item's
/// alias before a column of the same name (`select id as s, s as id ...
/// order by id` sorts on `s`); GROUP BY and HAVING look at columns first.
pub(super) fn find_order_column(e: &Expr, projection: &[SelectItem]) -> Result<Option<usize>> {
    if let Expr::Identifier(id) = e {
        let aliased = projection.iter().position(|item| {
            matches!(item, SelectItem::ExprWithAlias { alias, .. }
                if alias.value.eq_ignore_ascii_case(&id.value))
        });
        if aliased.is_some() {
            return Ok(aliased);
        }
    }
    find_column(e, projection)
}

pub(super) fn find_column(e: &Expr, projection: &[SelectItem]) -> Result<Option<usize>> {
    if let Some(PlanValue::Literal(BindValue::Int64(n))) = PlanValue::from_expr(e) {
        if let Expr::Value(_) = e {
            let idx = usize::try_from(n - 1)
                .ok()
                .filter(|&i| i < projection.len());
            return match idx {
                Some(i) if !projection[..=i].iter().any(is_wildcard) => Ok(Some(i)),
                _ => Err(EngineError::unsupported(format!(
                    "ORDER BY {n} across shards"
                ))),
            };
        }
    }
    for (i, item) in projection.iter().enumerate() {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => return Ok(None),
            SelectItem::UnnamedExpr(p) if same_column(p, e) => return Ok(Some(i)),
            SelectItem::ExprWithAlias { expr: p, alias } => {
                let by_alias = matches!(e, Expr::Identifier(id) if id.value.eq_ignore_ascii_case(&alias.value));
                if by_alias || p.to_string() == e.to_string() {
                    return Ok(Some(i));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The bind variable a [`Limit`] sets to `offset + count` for the shard
/// queries below it when LIMIT uses bind variables.
pub(crate) const UPPER_LIMIT_VAR: &str = "__upper_limit";

/// Removes the LIMIT clause, asks the shards for `offset + count` rows
/// (a literal, or [`UPPER_LIMIT_VAR`] that [`Limit`] binds), and returns
/// the count and offset vtgate applies.
fn take_limit(query: &mut Query) -> Result<Option<(PlanValue, Option<PlanValue>)>> {
    let Some((count, offset)) = remove_limit(query)? else {
        return Ok(None);
    };
    let upper = match (literal_count(&count), offset.as_ref().map(literal_count)) {
        (Some(c), None) => Some(c),
        (Some(c), Some(Some(o))) => Some(
            c.checked_add(o)
                .ok_or_else(|| EngineError::unsupported("LIMIT overflow"))?,
        ),
        _ => None,
    };
    let limit = match upper {
        Some(n) => Expr::value(AstValue::Number(n.to_string(), false)),
        None => Expr::value(AstValue::Placeholder(format!(":{UPPER_LIMIT_VAR}"))),
    };
    query.limit_clause = Some(LimitClause::LimitOffset {
        limit: Some(limit),
        offset: None,
        limit_by: Vec::new(),
    });
    Ok(Some((count, offset)))
}

/// Removes the LIMIT clause and returns its count and offset: literals
/// (checked here) or bind variables (checked when the plan runs).
pub(super) fn remove_limit(query: &mut Query) -> Result<Option<(PlanValue, Option<PlanValue>)>> {
    let (limit, offset) = match query.limit_clause.take() {
        None => return Ok(None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(EngineError::unsupported("LIMIT BY"));
            }
            match limit {
                Some(l) => (l, offset.map(|o| o.value)),
                None if offset.is_none() => return Ok(None),
                None => return Err(EngineError::unsupported("OFFSET without LIMIT")),
            }
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (limit, Some(offset)),
    };
    let count = limit_value(&limit)?;
    let skip = offset.as_ref().map(limit_value).transpose()?;
    Ok(Some((count, skip)))
}

/// A LIMIT count or offset written as a number.
fn literal_count(v: &PlanValue) -> Option<u64> {
    match v {
        PlanValue::Literal(BindValue::Int64(n)) => u64::try_from(*n).ok(),
        PlanValue::Literal(BindValue::Uint64(n)) => Some(*n),
        _ => None,
    }
}

fn limit_value(e: &Expr) -> Result<PlanValue> {
    match PlanValue::from_expr(e) {
        Some(v @ PlanValue::Literal(BindValue::Int64(n))) if n >= 0 => Ok(v),
        Some(v @ PlanValue::Literal(BindValue::Uint64(_))) | Some(v @ PlanValue::BindVar(_)) => {
            Ok(v)
        }
        _ => Err(EngineError::unsupported(format!("LIMIT {e} across shards"))),
    }
}

/// The columns of the ORDER BY's keys (ascending or not), in order, over rows whose leading
/// columns are `projection`'s. A key that is not selected gets the column `hidden` adds for it
/// (after the selected ones, dropped after the sort), or `hidden`'s refusal.
pub(super) fn order_columns(
    original: &Query,
    projection: &[SelectItem],
    hidden: &mut dyn FnMut(&Expr) -> Result<usize>,
) -> Result<Vec<OrderByParam>> {
    let Some(order) = &original.order_by else {
        return Ok(Vec::new());
    };
    let OrderByKind::Expressions(exprs) = &order.kind else {
        return Err(EngineError::unsupported("ORDER BY ALL across shards"));
    };
    let mut params = Vec::new();
    for o in exprs {
        let desc = match &o.options.sort {
            None | Some(OrderBySort::Asc) => false,
            Some(OrderBySort::Desc) => true,
            Some(_) => return Err(EngineError::unsupported("ORDER BY USING across shards")),
        };
        // `ORDER BY NULL` asks for no order.
        if matches!(&o.expr, Expr::Value(v) if v.value == AstValue::Null) {
            continue;
        }
        let col = match find_order_column(&o.expr, projection)? {
            Some(col) => col,
            None => hidden(&o.expr)?,
        };
        params.push(OrderByParam { col, desc });
    }
    Ok(params)
}

/// ORDER BY and LIMIT in vtgate over rows whose last `hidden` columns are only sort keys.
pub(super) fn order_and_limit(
    original: &Query,
    order_by: Vec<OrderByParam>,
    hidden: usize,
    mut plan: Box<dyn Primitive>,
) -> Result<Box<dyn Primitive>> {
    if !order_by.is_empty() {
        plan = Box::new(MemorySort {
            hidden_columns: hidden,
            order_by,
            input: plan,
        });
    }
    let mut limited = original.clone();
    if let Some((count, offset)) = remove_limit(&mut limited)? {
        plan = Box::new(Limit {
            count,
            offset,
            input: plan,
        });
    }
    Ok(plan)
}
