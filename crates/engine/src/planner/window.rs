//! Window functions whose partitions span shards, computed in vtgate
//! ([`Window`]): the shards send every row the WHERE keeps, with each
//! function's argument in its column and its PARTITION BY and ORDER BY
//! keys as hidden columns; vtgate computes the functions, then the query's
//! ORDER BY and LIMIT.
//!
//! Planned: a SELECT of one sharded table, of tables joined on the shards,
//! of a nested-loop join or of a derived table, whose window functions are
//! whole select items (GROUP BY, aggregates and HAVING are planned first, as
//! without the windows, which then see one row per group; DISTINCT runs in
//! vtgate after them), written with their own `OVER (PARTITION BY ...
//! ORDER BY ...)` and the default frame: `row_number`, `rank`, `dense_rank`, `lag` and `lead`
//! (with a literal offset, no default), and `count`, `sum`, `avg`, `min`,
//! `max` without DISTINCT. `*` beside them must be written out first (its
//! columns come from schema tracking, `planner/select.rs`). Anything else
//! stays refused.

use sqlparser::ast::{
    Distinct as SqlDistinct, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, OrderByExpr, OrderBySort, Query, SelectItem, SetExpr, Value as AstValue,
    WindowType,
};

use super::order::{features_of_expr, is_wildcard, order_and_limit, order_columns};
use super::select::field_query;
use crate::aggregate::{AggregateOpcode, AggregateParam};
use crate::distinct::Distinct;
use crate::error::{EngineError, Result};
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;
use crate::route::Route;
use crate::window::{Window, WindowFunction, WindowParam};

fn refuse(why: impl std::fmt::Display) -> EngineError {
    EngineError::unsupported(format!("window functions across shards: {why}"))
}

/// A window function of the select list, before its columns are known.
struct Call {
    function: Function,
    partition: Vec<Expr>,
    order: Vec<OrderByExpr>,
}

/// The window function a select item is, if it is one as a whole.
fn window_call(e: &Expr) -> Result<Option<Call>> {
    let Expr::Function(f) = e else {
        return Ok(None);
    };
    let Some(over) = &f.over else {
        return Ok(None);
    };
    let WindowType::WindowSpec(spec) = over else {
        return Err(refuse("a named window"));
    };
    if spec.window_name.is_some() {
        return Err(refuse("a named window"));
    }
    if spec.window_frame.is_some() {
        return Err(refuse(format!("the frame of {e}")));
    }
    if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
        return Err(refuse(e));
    }
    Ok(Some(Call {
        function: f.clone(),
        partition: spec.partition_by.clone(),
        order: spec.order_by.clone(),
    }))
}

/// The arguments of a call, plain expressions only (`*` is `None`).
fn arguments(f: &Function) -> Result<(bool, Vec<Option<Expr>>)> {
    let FunctionArguments::List(list) = &f.args else {
        return match f.args {
            FunctionArguments::None => Ok((false, Vec::new())),
            _ => Err(refuse(&f.name)),
        };
    };
    if !list.clauses.is_empty() {
        return Err(refuse(&f.name));
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let args = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(Some(x.clone())),
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Ok(None),
            _ => Err(refuse(&f.name)),
        })
        .collect::<Result<_>>()?;
    Ok((distinct, args))
}

fn one() -> Expr {
    Expr::value(AstValue::Number("1".into(), false))
}

/// A LAG/LEAD offset: a non-negative integer literal.
fn offset(e: &Expr) -> Option<i64> {
    match e {
        Expr::Value(v) => match &v.value {
            AstValue::Number(n, _) => n.parse().ok().filter(|n: &i64| *n >= 0),
            _ => None,
        },
        _ => None,
    }
}

/// What the shards send for a call (its column, and for AVG a count of the
/// values as a hidden column), and the function vtgate computes.
fn shard_values(
    call: &Call,
    col: usize,
    alias: &str,
) -> Result<(Expr, Option<Expr>, WindowFunction)> {
    let name = call.function.name.to_string().to_ascii_lowercase();
    let (distinct, args) = arguments(&call.function)?;
    let aggregate = |opcode| {
        WindowFunction::Aggregate(AggregateParam {
            opcode,
            col,
            alias: alias.to_string(),
        })
    };
    if distinct {
        return Err(refuse(format!("{name}(DISTINCT ...)")));
    }
    Ok(match (name.as_str(), args.as_slice()) {
        ("row_number", []) => (one(), None, WindowFunction::RowNumber),
        ("rank", []) => (one(), None, WindowFunction::Rank),
        ("dense_rank", []) => (one(), None, WindowFunction::DenseRank),
        ("lag" | "lead", [Some(x), rest @ ..]) if rest.len() <= 1 => {
            let n = match rest {
                [] => 1,
                [Some(n)] => offset(n).ok_or_else(|| refuse(format!("{name} offset {n}")))?,
                _ => return Err(refuse(&call.function.name)),
            };
            let offset = if name == "lag" { n } else { -n };
            (x.clone(), None, WindowFunction::Lag { offset })
        }
        ("count", [None]) => (one(), None, aggregate(AggregateOpcode::CountStar)),
        ("count", [Some(x)]) => (
            Expr::IsNotNull(Box::new(x.clone())),
            None,
            aggregate(AggregateOpcode::Count),
        ),
        ("sum", [Some(x)]) => (x.clone(), None, aggregate(AggregateOpcode::Sum)),
        ("min", [Some(x)]) => (x.clone(), None, aggregate(AggregateOpcode::Min)),
        ("max", [Some(x)]) => (x.clone(), None, aggregate(AggregateOpcode::Max)),
        ("avg", [Some(x)]) => (
            x.clone(),
            Some(Expr::IsNotNull(Box::new(x.clone()))),
            // The count column is set once it is placed.
            aggregate(AggregateOpcode::Avg { count_col: 0 }),
        ),
        _ => return Err(refuse(format!("the function {}", call.function))),
    })
}

/// Plans `query` (a SELECT of one sharded table with window functions, sent
/// by `route`) with the windows computed in vtgate.
pub(super) fn plan_windows(query: &Query, route: Route) -> Result<Box<dyn Primitive>> {
    plan_windows_over(query, &mut |rows| {
        let mut route = route.clone();
        route.query = rows.to_string();
        route.field_query = field_query(rows);
        Ok(Box::new(route))
    })
}

/// Plans `query` with its window functions computed in vtgate over the rows
/// `input` plans for the query without them (a route, or a nested-loop join:
/// the windows see every joined row).
pub(super) fn plan_windows_over(
    query: &Query,
    input: &mut dyn FnMut(&Query) -> Result<Box<dyn Primitive>>,
) -> Result<Box<dyn Primitive>> {
    let mut shard_query = query.clone();
    shard_query.order_by = None;
    shard_query.limit_clause = None;
    let SetExpr::Select(select) = shard_query.body.as_mut() else {
        return Err(refuse("UNION"));
    };
    if select.projection.iter().any(is_wildcard) {
        return Err(refuse("* beside them"));
    }
    if !select.named_window.is_empty() || select.qualify.is_some() {
        return Err(refuse("WINDOW or QUALIFY"));
    }
    // GROUP BY, aggregates and HAVING come before the windows and stay in the rows' own
    // plan; DISTINCT comes after them and runs in vtgate.
    let distinct = match select.distinct.take() {
        None => false,
        Some(SqlDistinct::Distinct) => true,
        Some(_) => return Err(refuse("DISTINCT ON")),
    };
    let original_items = select.projection.clone();
    // The query's ORDER BY keys that are not selected come first among the hidden columns:
    // the window's own are dropped before the sort.
    let mut hidden_exprs: Vec<Expr> = Vec::new();
    let width = original_items.len();
    let order_by = order_columns(query, &original_items, &mut |e| {
        if features_of_expr(e).window {
            return Err(refuse(format!("ORDER BY {e}")));
        }
        hidden_exprs.push(e.clone());
        Ok(width + hidden_exprs.len() - 1)
    })?;
    let sort_hidden = hidden_exprs.len();
    if distinct && sort_hidden > 0 {
        // The sort keys would count in which rows are distinct.
        return Err(refuse("DISTINCT ordered by a key that is not selected"));
    }
    let mut windows = Vec::new();
    let mut key_exprs: Vec<Expr> = Vec::new();
    let key_col = |e: &Expr, keys: &mut Vec<Expr>| -> usize {
        keys.push(e.clone());
        width + sort_hidden + keys.len() - 1
    };
    for (i, item) in original_items.iter().enumerate() {
        let (e, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, e.to_string()),
            SelectItem::ExprWithAlias { expr, alias } => (expr, alias.value.clone()),
            _ => return Err(refuse("a select item")),
        };
        let Some(call) = window_call(e)? else {
            if features_of_expr(e).window {
                return Err(refuse(format!("an expression over them: {e}")));
            }
            continue;
        };
        let (value, count, mut function) = shard_values(&call, i, &alias)?;
        select.projection[i] = SelectItem::ExprWithAlias {
            expr: value,
            alias: sqlparser::ast::Ident::new(format!("w{i}")),
        };
        if let (Some(count), WindowFunction::Aggregate(p)) = (count, &mut function) {
            p.opcode = AggregateOpcode::Avg {
                count_col: key_col(&count, &mut key_exprs),
            };
        }
        let partition = call
            .partition
            .iter()
            .map(|p| key_col(p, &mut key_exprs))
            .collect();
        let mut order = Vec::new();
        for o in &call.order {
            if o.options.nulls_first.is_some() || o.with_fill.is_some() {
                return Err(refuse("NULLS FIRST/LAST"));
            }
            let desc = match o.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(_) => return Err(refuse("ORDER BY ... USING")),
            };
            order.push(OrderByParam {
                col: key_col(&o.expr, &mut key_exprs),
                desc,
            });
        }
        windows.push(WindowParam {
            function,
            col: i,
            partition,
            order,
            alias,
        });
    }
    if windows.is_empty() {
        return Err(refuse("none found"));
    }
    for e in hidden_exprs.into_iter().chain(key_exprs.iter().cloned()) {
        if features_of_expr(&e).window || features_of_expr(&e).subquery {
            return Err(refuse(format!("the key {e}")));
        }
        select.projection.push(SelectItem::UnnamedExpr(e));
    }
    let mut plan: Box<dyn Primitive> = Box::new(Window {
        windows,
        hidden_columns: key_exprs.len(),
        input: input(&shard_query)?,
    });
    if distinct {
        plan = Box::new(Distinct { input: plan });
    }
    order_and_limit(query, order_by, sort_hidden, plan)
}
