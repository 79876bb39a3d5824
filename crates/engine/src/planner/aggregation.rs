//! Planning aggregation, GROUP BY and DISTINCT of a multi-shard SELECT:
//! shards compute partial aggregates per group, sorted on the grouping
//! columns; vtgate merges adjacent groups ([`Aggregate`]), then sorts by
//! the query's ORDER BY ([`MemorySort`]) and applies LIMIT.
//!
//! `avg(x)` is sent as `sum(x)` plus a hidden `count(x)`; `count(distinct
//! x)` is sent as `x` with `x` added to the shards' GROUP BY. Arithmetic
//! over aggregates (in the select list, HAVING or ORDER BY) is computed by
//! a [`Projection`](crate::projection::Projection) over the merged row,
//! its aggregates sent as hidden columns. A column neither grouped nor
//! aggregated in a scalar aggregation takes any one row's value, as MySQL
//! without ONLY_FULL_GROUP_BY does (from a shard whose hidden partial
//! `count(*)` counted rows). Shapes whose merge is not exact
//! (other functions over aggregates, other aggregate functions, ROLLUP)
//! are refused.

use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, OrderBy, OrderByExpr, OrderByKind,
    OrderByOptions, Query, SelectItem, SetExpr, Value as AstValue,
};

use super::aggregate_tail::{Finish, Tail};
use super::join_aggregate::plan_raw_aggregate;
use super::order::{
    features_of_expr, find_column, find_order_column, is_wildcard, plan_multi_shard, remove_limit,
    AGGREGATES,
};
use super::select::field_query;
use crate::aggregate::{AggregateOpcode, AggregateParam};
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::filter::{CmpOp, Operand, Predicate};
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;
use crate::projection::{Arith, ArithOp, Pick, ProjectedColumn};
use crate::route::Route;

/// A top-level aggregate call in the select list.
pub(super) struct AggregateCall {
    /// Function name, lower case.
    pub name: String,
    /// `count(distinct x)` and the like.
    pub distinct: bool,
    /// `None` for `count(*)`; the first argument of `group_concat`.
    pub arg: Option<Expr>,
    /// `group_concat`'s SEPARATOR (`,` unless given); `None` for the others.
    pub separator: Option<Vec<u8>>,
    /// Every argument of `group_concat` (the others have one at most).
    pub args: Vec<Expr>,
    /// `group_concat`'s ORDER BY.
    pub order_by: Vec<OrderByExpr>,
}

/// The aggregate call `e` is, if it is one; aggregate forms the engine
/// cannot merge are refused.
pub(super) fn aggregate_call(e: &Expr) -> Result<Option<AggregateCall>> {
    let Expr::Function(Function {
        name,
        args,
        over,
        filter,
        within_group,
        ..
    }) = e
    else {
        return Ok(None);
    };
    let name = name.to_string().to_ascii_lowercase();
    if !AGGREGATES.contains(&name.as_str()) {
        return Ok(None);
    }
    let unsupported =
        || EngineError::unsupported(format!("in scatter query: aggregation function '{e}'"));
    if over.is_some() || filter.is_some() || !within_group.is_empty() {
        return Err(unsupported());
    }
    let FunctionArguments::List(list) = args else {
        return Err(unsupported());
    };
    if name == "group_concat" {
        return group_concat_call(list, e).map(Some);
    }
    if !list.clauses.is_empty() || list.args.len() != 1 {
        return Err(unsupported());
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let arg = match &list.args[0] {
        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "count" && !distinct => None,
        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x.clone()),
        _ => return Err(unsupported()),
    };
    if !matches!(name.as_str(), "count" | "sum" | "min" | "max" | "avg") {
        return Err(unsupported());
    }
    Ok(Some(AggregateCall {
        name,
        distinct,
        args: arg.iter().cloned().collect(),
        arg,
        separator: None,
        order_by: Vec::new(),
    }))
}

/// `group_concat([DISTINCT] x, ... [ORDER BY ...] [SEPARATOR 's'])`. Without DISTINCT or
/// ORDER BY the shards' partial results concatenate in vtgate; with them every row's values
/// must reach vtgate ([`needs_raw_rows`]), as Vitess refuses.
fn group_concat_call(list: &FunctionArgumentList, e: &Expr) -> Result<AggregateCall> {
    let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
    let mut separator = b",".to_vec();
    let mut order_by = Vec::new();
    for clause in &list.clauses {
        match clause {
            FunctionArgumentClause::Separator(v) => match &v.value {
                AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s)
                    if !s.contains(['\\', '\'', '"']) =>
                {
                    separator = s.as_bytes().to_vec();
                }
                _ => {
                    return Err(EngineError::unsupported(format!(
                        "GROUP_CONCAT separator {v} across shards"
                    )))
                }
            },
            FunctionArgumentClause::OrderBy(exprs) => order_by = exprs.clone(),
            _ => {
                return Err(EngineError::unsupported(format!(
                    "in scatter query: aggregation function '{e}'"
                )))
            }
        }
    }
    let args: Vec<Expr> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(x.clone()),
            _ => Err(EngineError::unsupported(format!(
                "in scatter query: aggregation function '{e}'"
            ))),
        })
        .collect::<Result<_>>()?;
    let Some(first) = args.first().cloned() else {
        return Err(EngineError::unsupported("GROUP_CONCAT without arguments"));
    };
    Ok(AggregateCall {
        name: "group_concat".into(),
        distinct,
        arg: Some(first),
        separator: Some(separator),
        args,
        order_by,
    })
}

/// Whether the select items need every row's values in vtgate
/// (`join_aggregate::plan_raw_aggregate`): a GROUP_CONCAT with DISTINCT or ORDER BY, or
/// COUNT(DISTINCT) of two different expressions (the shards can group by one only).
pub(super) fn needs_raw_rows(items: &[SelectItem]) -> Result<bool> {
    let mut counted = std::collections::BTreeSet::new();
    let mut other_distinct = false;
    for item in items {
        let Some(e) = item_expr(item) else { continue };
        let Some(call) = aggregate_call(e)? else {
            continue;
        };
        if call.name == "group_concat" && (call.distinct || !call.order_by.is_empty()) {
            return Ok(true);
        }
        match (call.name.as_str(), call.distinct, &call.arg) {
            ("count" | "sum", true, Some(x)) => {
                counted.insert(x.to_string());
            }
            (_, true, _) => other_distinct = true,
            _ => {}
        }
    }
    Ok(counted.len() > 1 && !other_distinct)
}

fn call(name: &str, arg: Expr) -> Expr {
    function(name, FunctionArgExpr::Expr(arg))
}

fn count_star() -> Expr {
    function("count", FunctionArgExpr::Wildcard)
}

fn function(name: &str, arg: FunctionArgExpr) -> Expr {
    sql::parse::function_call(name, vec![arg])
}

fn position(i: usize) -> Expr {
    Expr::value(AstValue::Number((i + 1).to_string(), false))
}

/// Plans an aggregating (or DISTINCT) SELECT on one sharded table.
pub(super) fn plan_aggregate(mut query: Query, mut route: Route) -> Result<Box<dyn Primitive>> {
    if let SetExpr::Select(select) = query.body.as_ref() {
        if needs_raw_rows(&select.projection)? {
            // The shards send their rows; vtgate groups and sorts them.
            return plan_raw_aggregate(
                &query,
                "a GROUP_CONCAT with DISTINCT or ORDER BY, or COUNT(DISTINCT) of two expressions",
                &mut |q| plan_multi_shard(q.clone(), route.clone()),
            );
        }
    }
    let limit = remove_limit(&mut query)?;
    let user_order = query.order_by.take();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(EngineError::unsupported("UNION on a sharded keyspace"));
    };
    let having = select.having.take();
    let original = select.projection.clone();
    if original.iter().any(is_wildcard) {
        return Err(EngineError::unsupported("* with aggregation across shards"));
    }
    let GroupByExpr::Expressions(group_exprs, modifiers) = &select.group_by else {
        return Err(EngineError::unsupported("GROUP BY ALL"));
    };
    if !modifiers.is_empty() {
        return Err(EngineError::unsupported("GROUP BY modifiers across shards"));
    }
    // Each GROUP BY expression, with its select item when it is one by position.
    let mut group_exprs: Vec<(Option<usize>, Expr)> =
        group_exprs.iter().map(|g| (None, g.clone())).collect();
    // A scalar aggregation (aggregates, no GROUP BY) gives one row, which
    // DISTINCT keeps as it is.
    let scalar = group_exprs.is_empty()
        && original
            .iter()
            .filter_map(item_expr)
            .any(|e| features_of_expr(e).aggregate);
    if scalar {
        select.distinct = None;
    }
    let distinct_rows = select.distinct.is_some();
    // DISTINCT over groups: shards must not drop partial group rows.
    let distinct_groups = distinct_rows && !group_exprs.is_empty();
    if distinct_groups {
        select.distinct = None;
    } else if distinct_rows {
        // DISTINCT rows: every select item, by position (not by name: in
        // `select distinct a as b, b` the second item is the column b).
        group_exprs = original
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item_expr(item).map(|e| (Some(i), e.clone())))
            .collect();
    }
    let mut group_cols = Vec::new();
    let mut hidden = 0;
    for (position, g) in &group_exprs {
        // A DISTINCT item's subquery is a value each shard computes (merged into the
        // route only when it reads that shard's rows alone, `correlated`).
        let subquery = features_of_expr(g).subquery && position.is_none();
        if features_of_expr(g).aggregate || subquery {
            return Err(EngineError::unsupported(
                "GROUP BY an aggregate or subquery",
            ));
        }
        let found = match position {
            Some(i) => Some(*i),
            None => find_column(g, &select.projection)?,
        };
        let col = match found {
            Some(c) => {
                // `GROUP BY b` naming `count(*) AS b` (MySQL's 1056).
                if let Some(e) = original.get(c).and_then(item_expr) {
                    if features_of_expr(e).aggregate {
                        return Err(EngineError::mysql(
                            1056,
                            "42000",
                            format!("VT03005: cannot group on '{e}'"),
                        ));
                    }
                }
                c
            }
            None => {
                select.projection.push(SelectItem::UnnamedExpr(g.clone()));
                hidden += 1;
                select.projection.len() - 1
            }
        };
        group_cols.push(col);
    }
    let mut aggregates = Vec::new();
    let mut distinct_col: Option<(usize, Expr)> = None;
    let mut computed = Vec::new();
    let mut constants = Vec::new();
    // The hidden partial `count(*)` that non-aggregated columns take their row from.
    let mut rows_col: Option<usize> = None;
    for (i, item) in original.iter().enumerate() {
        let Some(e) = item_expr(item) else { continue };
        let alias = match item {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            _ => e.to_string(),
        };
        let Some(agg) = aggregate_call(e)? else {
            if features_of_expr(e).aggregate {
                // Computed in vtgate over the merged aggregates; the shards
                // send a placeholder in its place.
                select.projection[i] = SelectItem::UnnamedExpr(placeholder());
                computed.push((i, e.clone(), alias));
                continue;
            }
            if group_cols.is_empty() && !distinct_rows {
                // A literal keeps its value even over no rows.
                match PlanValue::from_expr(e) {
                    Some(v @ PlanValue::Literal(_)) if crate::projection::constant(&v) => {
                        constants.push(ProjectedColumn {
                            col: i,
                            name: alias,
                            expr: Arith::Value(v),
                        });
                        continue;
                    }
                    _ if features_of_expr(e).subquery => {
                        return Err(EngineError::unsupported(format!(
                            "non-aggregated column {e} in a scalar aggregation across shards"
                        )))
                    }
                    // Any one row's value, as MySQL without ONLY_FULL_GROUP_BY gives it:
                    // taken from a shard that counted rows.
                    _ => {
                        let count_col = *rows_col.get_or_insert_with(|| {
                            select
                                .projection
                                .push(SelectItem::UnnamedExpr(count_star()));
                            hidden += 1;
                            let col = select.projection.len() - 1;
                            aggregates.push(AggregateParam {
                                opcode: AggregateOpcode::CountStar,
                                col,
                                alias: "count(*)".into(),
                            });
                            col
                        });
                        aggregates.push(AggregateParam {
                            opcode: AggregateOpcode::AnyValue { count_col },
                            col: i,
                            alias,
                        });
                        continue;
                    }
                }
            }
            continue;
        };
        let opcode = match (agg.name.as_str(), agg.distinct, agg.arg.clone()) {
            ("count", false, None) => AggregateOpcode::CountStar,
            ("count", false, Some(_)) => AggregateOpcode::Count,
            (name @ ("count" | "sum"), true, Some(x)) => {
                // Shards group by the one distinct argument; several
                // aggregates may share it.
                if distinct_col
                    .as_ref()
                    .is_some_and(|(_, d)| d.to_string() != x.to_string())
                {
                    return Err(EngineError::unsupported(
                        "DISTINCT aggregates of different expressions across shards",
                    ));
                }
                select.projection[i] = SelectItem::ExprWithAlias {
                    expr: x.clone(),
                    alias: ident(&alias),
                };
                distinct_col.get_or_insert((i, x));
                if name == "count" {
                    AggregateOpcode::CountDistinct
                } else {
                    AggregateOpcode::SumDistinct
                }
            }
            ("sum", false, Some(_)) => AggregateOpcode::Sum,
            ("group_concat", false, Some(_)) if agg.order_by.is_empty() => {
                AggregateOpcode::GroupConcat {
                    separator: agg.separator.clone().unwrap_or_default(),
                    distinct: false,
                }
            }
            ("min", _, Some(_)) => AggregateOpcode::Min,
            ("max", _, Some(_)) => AggregateOpcode::Max,
            ("avg", false, Some(x)) => {
                select.projection[i] = SelectItem::ExprWithAlias {
                    expr: call("sum", x.clone()),
                    alias: ident(&alias),
                };
                select
                    .projection
                    .push(SelectItem::UnnamedExpr(call("count", x)));
                hidden += 1;
                AggregateOpcode::Avg {
                    count_col: select.projection.len() - 1,
                }
            }
            _ => {
                return Err(EngineError::unsupported(format!(
                    "in scatter query: aggregation function '{e}'"
                )))
            }
        };
        aggregates.push(AggregateParam {
            opcode,
            col: i,
            alias,
        });
    }
    let mut sort_cols = group_cols.clone();
    if let Some((col, x)) = &distinct_col {
        if let GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
            if !exprs.is_empty() || !group_cols.is_empty() {
                exprs.push(x.clone());
            } else {
                *exprs = vec![x.clone()];
            }
        }
        sort_cols.push(*col);
    }
    query.order_by = (!sort_cols.is_empty()).then(|| OrderBy {
        kind: OrderByKind::Expressions(
            sort_cols
                .iter()
                .map(|&c| OrderByExpr {
                    expr: position(c),
                    options: OrderByOptions {
                        sort: None,
                        nulls_first: None,
                    },
                    with_fill: None,
                })
                .collect(),
        ),
        interpolate: None,
    });
    let tail = {
        let mut hv = HavingContext {
            original: &original,
            projection: &mut select.projection,
            aggregates: &mut aggregates,
            hidden: &mut hidden,
            raw: false,
            computed: constants,
        };
        hv.compute_items(computed)?;
        Tail::resolve(&mut hv, having.as_ref(), user_order)?
    };
    let hidden = select.projection.len() - original.len();
    route.query = query.to_string();
    route.field_query = field_query(&query);
    route.order_by = sort_cols
        .iter()
        .map(|&col| OrderByParam { col, desc: false })
        .collect();
    tail.assemble(
        Box::new(route),
        Finish {
            group_by: group_cols,
            aggregates,
            hidden,
            distinct_groups,
            limit,
        },
    )
}

/// Turns HAVING into a [`Predicate`] over the aggregated row; aggregates
/// it needs that are not selected become hidden columns.
pub(super) struct HavingContext<'a> {
    /// The query's select items.
    pub original: &'a [SelectItem],
    /// The select items sent (original, then hidden).
    pub projection: &'a mut Vec<SelectItem>,
    /// The aggregates merged in vtgate.
    pub aggregates: &'a mut Vec<AggregateParam>,
    /// Number of hidden columns.
    pub hidden: &'a mut usize,
    /// Inputs are raw rows (a join), not shard partial aggregates.
    pub raw: bool,
    /// Columns computed over the merged row, in order.
    pub computed: Vec<ProjectedColumn>,
}

/// What the shards send in the place of a column vtgate computes.
pub(super) fn placeholder() -> Expr {
    Expr::value(AstValue::Null)
}

/// Whether `e` is arithmetic vtgate computes over the merged row.
fn is_arith(e: &Expr) -> bool {
    use sqlparser::ast::{BinaryOperator as B, UnaryOperator};
    match e {
        Expr::Nested(x) => is_arith(x),
        Expr::BinaryOp { op, .. } => {
            matches!(op, B::Plus | B::Minus | B::Multiply | B::Divide)
        }
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            ..
        } => PlanValue::from_expr(e).is_none(),
        _ => coalesce_args(e).is_some() || extreme_args(e).is_some() || round_args(e).is_some(),
    }
}

/// The arguments of `COALESCE(...)` or `IFNULL(a, b)`.
pub(super) fn coalesce_args(e: &Expr) -> Option<Vec<&Expr>> {
    let (name, args) = call_args(e)?;
    let fits = match name.as_str() {
        "coalesce" => !args.is_empty(),
        "ifnull" => args.len() == 2,
        _ => false,
    };
    fits.then_some(args)
}

/// The argument and digits of `ROUND(x)` or `ROUND(x, n)` with a literal `n`.
pub(super) fn round_args(e: &Expr) -> Option<(&Expr, i64)> {
    let (name, args) = call_args(e)?;
    if name != "round" {
        return None;
    }
    match args.as_slice() {
        [x] => Some((x, 0)),
        [x, n] => match PlanValue::from_expr(n)? {
            PlanValue::Literal(sql::literal::BindValue::Int64(n)) => Some((x, n)),
            _ => None,
        },
        _ => None,
    }
}

/// `sum(..)` and `count(..)` of `AVG(..)`'s arguments: MySQL's AVG inside an expression is the
/// quotient with the digits `decimal_div` gives it (`avg(x) * 3` of 1, 1, 2 is 4.0000, not
/// 3.9999), which the sum over the count reproduces, type and all.
fn avg_parts(e: &Expr) -> Option<(Expr, Expr)> {
    let Expr::Function(f) = e else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("avg") || f.over.is_some() || f.filter.is_some() {
        return None;
    }
    let named = |name: &str| {
        let mut g = f.clone();
        g.name = sqlparser::ast::ObjectName::from(vec![Ident::new(name)]);
        Expr::Function(g)
    };
    Some((named("sum"), named("count")))
}

/// Which end and the arguments of `GREATEST(...)` or `LEAST(...)`.
pub(super) fn extreme_args(e: &Expr) -> Option<(Pick, Vec<&Expr>)> {
    let (name, args) = call_args(e)?;
    let pick = match name.as_str() {
        "greatest" => Pick::Greatest,
        "least" => Pick::Least,
        _ => return None,
    };
    (args.len() >= 2).then_some((pick, args))
}

/// The lower-case name and the plain arguments of a function call with no
/// OVER, FILTER, DISTINCT or other clauses.
fn call_args(e: &Expr) -> Option<(String, Vec<&Expr>)> {
    let Expr::Function(Function {
        name,
        args: FunctionArguments::List(list),
        over: None,
        filter: None,
        within_group,
        ..
    }) = e
    else {
        return None;
    };
    if !within_group.is_empty() || list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    let args = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some((name.to_string().to_ascii_lowercase(), args))
}

impl HavingContext<'_> {
    /// Select items over aggregates `(column, expression, name)`, computed
    /// in place of the placeholders the shards send.
    pub(super) fn compute_items(&mut self, items: Vec<(usize, Expr, String)>) -> Result<()> {
        for (col, e, name) in items {
            if !is_arith(&e) {
                return Err(over_aggregates(&e));
            }
            let expr = self.arith(&e)?;
            self.computed.push(ProjectedColumn { col, name, expr });
        }
        Ok(())
    }

    /// `e` as arithmetic over columns of the merged row; its leaves are
    /// operands (aggregates become hidden columns).
    ///
    /// MySQL carries a division's (or AVG's) quotient with more digits than
    /// it shows, and vtgate computes them ([`crate::decimal::Dec::div_truncated`]);
    /// AVG written inside an expression is its sum over its count. MariaDB
    /// compares and sorts a DECIMAL value rounded to its scale (`2/3 = 0.6667`
    /// is true), which is the value a computed column shows; only an AVG or a
    /// quotient named by its select alias inside arithmetic is refused, as
    /// its column holds the digits shown, not those the arithmetic needs.
    fn arith(&mut self, e: &Expr) -> Result<Arith> {
        use sqlparser::ast::{BinaryOperator as B, UnaryOperator};
        if let Some((pick, list)) = extreme_args(e) {
            let mut args = Vec::new();
            for a in list {
                args.push(self.arith(a)?);
            }
            return Ok(Arith::Extreme(pick, args));
        }
        if let Some((x, n)) = round_args(e) {
            return Ok(Arith::Round(Box::new(self.arith(x)?), n));
        }
        if let Some((sum, count)) = avg_parts(e) {
            return Ok(Arith::Binary(
                Box::new(self.arith(&sum)?),
                ArithOp::Div,
                Box::new(self.arith(&count)?),
            ));
        }
        Ok(match e {
            Expr::Nested(x) => self.arith(x)?,
            Expr::BinaryOp { left, op, right } if is_arith(e) => {
                let op = match op {
                    B::Plus => ArithOp::Add,
                    B::Minus => ArithOp::Sub,
                    B::Multiply => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                Arith::Binary(
                    Box::new(self.arith(left)?),
                    op,
                    Box::new(self.arith(right)?),
                )
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } if is_arith(e) => Arith::Neg(Box::new(self.arith(expr)?)),
            _ if coalesce_args(e).is_some() => {
                let mut args = Vec::new();
                for a in coalesce_args(e).unwrap_or_default() {
                    args.push(self.arith(a)?);
                }
                Arith::Coalesce(args)
            }
            _ => match self.operand(e) {
                Ok(Operand::Column(c)) if self.rounded(c) => return Err(rounded(e)),
                Ok(Operand::Column(c)) => Arith::Column(c),
                Ok(Operand::Value(v)) => Arith::Value(v),
                Err(EngineError::Unsupported(_)) => return Err(over_aggregates(e)),
                Err(other) => return Err(other),
            },
        })
    }

    /// Whether column `c` holds a rounded quotient (AVG or a division).
    fn rounded(&self, c: usize) -> bool {
        let avg = self
            .aggregates
            .iter()
            .any(|a| a.col == c && matches!(a.opcode, AggregateOpcode::Avg { .. }));
        let division = self.computed.iter().any(|p| p.col == c && p.expr.divides());
        avg || division
    }

    /// Arithmetic in HAVING or ORDER BY: a hidden column computed after
    /// the merge.
    fn computed_operand(&mut self, e: &Expr) -> Result<Operand> {
        let expr = self.arith(e)?;
        self.projection.push(SelectItem::UnnamedExpr(placeholder()));
        *self.hidden += 1;
        let col = self.projection.len() - 1;
        self.computed.push(ProjectedColumn {
            col,
            name: e.to_string(),
            expr,
        });
        Ok(Operand::Column(col))
    }

    /// The HAVING condition `e` as a predicate.
    pub(super) fn predicate(&mut self, e: &Expr) -> Result<Predicate> {
        build_predicate(e, &mut |x| self.operand(x))
    }

    /// A value in HAVING or ORDER BY: a literal, a selected or hidden
    /// column, or an aggregate added as a hidden column.
    /// [`Self::operand`] for ORDER BY, where a select alias comes before a
    /// column of the same name.
    pub(super) fn order_operand(&mut self, e: &Expr) -> Result<Operand> {
        match find_order_column(e, self.original)? {
            Some(i) if matches!(self.original[i], SelectItem::ExprWithAlias { .. }) => {
                Ok(Operand::Column(i))
            }
            _ => self.operand_in(e, "ORDER BY"),
        }
    }

    pub(super) fn operand(&mut self, e: &Expr) -> Result<Operand> {
        self.operand_in(e, "HAVING")
    }

    /// [`Self::operand`] of the clause named `clause` (in its refusals).
    fn operand_in(&mut self, e: &Expr, clause: &str) -> Result<Operand> {
        let refuse = || EngineError::unsupported(format!("{clause} {e} across shards"));
        if let Some(v) = PlanValue::from_expr(e) {
            return Ok(Operand::Value(v));
        }
        if let Some(i) = find_column(e, self.original)? {
            return Ok(Operand::Column(i));
        }
        if let Some(i) = find_column(e, &self.projection[self.original.len()..])? {
            let col = self.original.len() + i;
            // A hidden column holding raw shard partials (AVG's `count(x)`) is
            // not merged: an aggregate asked for again gets a column of its own.
            let merged = self.aggregates.iter().any(|a| a.col == col);
            if merged || aggregate_call(e)?.is_none() {
                return Ok(Operand::Column(col));
            }
        }
        if is_arith(e) || avg_parts(e).is_some() {
            return self.computed_operand(e);
        }
        let (opcode, arg) = match aggregate_call(e)? {
            Some(AggregateCall {
                name,
                distinct: false,
                arg,
                ..
            }) => match (name.as_str(), arg) {
                ("count", None) => (AggregateOpcode::CountStar, None),
                ("count", Some(x)) => (AggregateOpcode::Count, Some(x)),
                ("sum", Some(x)) => (AggregateOpcode::Sum, Some(x)),
                ("min", Some(x)) => (AggregateOpcode::Min, Some(x)),
                ("max", Some(x)) => (AggregateOpcode::Max, Some(x)),
                _ => return Err(refuse()),
            },
            _ => return Err(refuse()),
        };
        let item = match (self.raw, &opcode, arg) {
            (false, _, _) => e.clone(),
            (true, AggregateOpcode::CountStar, _) => {
                Expr::value(AstValue::Number("1".into(), false))
            }
            (true, AggregateOpcode::Count, Some(x)) => Expr::IsNotNull(Box::new(x)),
            (true, _, Some(x)) => x,
            (true, _, None) => return Err(refuse()),
        };
        self.projection.push(SelectItem::UnnamedExpr(item));
        *self.hidden += 1;
        let col = self.projection.len() - 1;
        self.aggregates.push(AggregateParam {
            opcode,
            col,
            alias: e.to_string(),
        });
        Ok(Operand::Column(col))
    }
}

/// A condition as a [`Predicate`]; `operand` resolves its values.
pub(super) fn build_predicate(
    e: &Expr,
    operand: &mut dyn FnMut(&Expr) -> Result<Operand>,
) -> Result<Predicate> {
    use sqlparser::ast::{BinaryOperator as B, UnaryOperator};
    Ok(match e {
        Expr::Nested(inner) => build_predicate(inner, operand)?,
        Expr::BinaryOp {
            left,
            op: B::And,
            right,
        } => Predicate::And(
            Box::new(build_predicate(left, operand)?),
            Box::new(build_predicate(right, operand)?),
        ),
        Expr::BinaryOp {
            left,
            op: B::Or,
            right,
        } => Predicate::Or(
            Box::new(build_predicate(left, operand)?),
            Box::new(build_predicate(right, operand)?),
        ),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Predicate::Not(Box::new(build_predicate(expr, operand)?)),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let x = operand(expr)?;
            let p = Predicate::And(
                Box::new(Predicate::Compare(x.clone(), CmpOp::Ge, operand(low)?)),
                Box::new(Predicate::Compare(x, CmpOp::Le, operand(high)?)),
            );
            if *negated {
                Predicate::Not(Box::new(p))
            } else {
                p
            }
        }
        Expr::In {
            expr,
            target: sqlparser::ast::InTarget::List(list),
            negated,
            ..
        } if !list.is_empty() => {
            let x = operand(expr)?;
            let mut p: Option<Predicate> = None;
            for item in list {
                let eq = Predicate::Compare(x.clone(), CmpOp::Eq, operand(item)?);
                p = Some(match p {
                    None => eq,
                    Some(q) => Predicate::Or(Box::new(q), Box::new(eq)),
                });
            }
            let p = p.ok_or_else(|| having_unsupported(e))?;
            if *negated {
                Predicate::Not(Box::new(p))
            } else {
                p
            }
        }
        Expr::IsNull(x) => Predicate::IsNull(operand(x)?, false),
        Expr::IsNotNull(x) => Predicate::IsNull(operand(x)?, true),
        // `a <=> b`: both NULL, or neither and equal; never NULL itself.
        Expr::BinaryOp {
            left,
            op: B::Spaceship,
            right,
        } => {
            let (a, b) = (operand(left)?, operand(right)?);
            let both = |negated: bool| {
                Box::new(Predicate::And(
                    Box::new(Predicate::IsNull(a.clone(), negated)),
                    Box::new(Predicate::IsNull(b.clone(), negated)),
                ))
            };
            Predicate::Or(
                both(false),
                Box::new(Predicate::And(
                    both(true),
                    Box::new(Predicate::Compare(a.clone(), CmpOp::Eq, b.clone())),
                )),
            )
        }
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                B::Eq => CmpOp::Eq,
                B::NotEq => CmpOp::Ne,
                B::Lt => CmpOp::Lt,
                B::LtEq => CmpOp::Le,
                B::Gt => CmpOp::Gt,
                B::GtEq => CmpOp::Ge,
                _ => return Err(having_unsupported(e)),
            };
            Predicate::Compare(operand(left)?, op, operand(right)?)
        }
        _ => return Err(having_unsupported(e)),
    })
}

fn rounded(e: &Expr) -> EngineError {
    EngineError::unsupported(format!(
        "an AVG or quotient named by its alias inside arithmetic across shards: {e}"
    ))
}

fn over_aggregates(e: &Expr) -> EngineError {
    EngineError::unsupported(format!("expression over aggregates across shards: {e}"))
}

pub(super) fn having_unsupported(e: &Expr) -> EngineError {
    EngineError::unsupported(format!("HAVING {e} across shards"))
}

fn ident(name: &str) -> Ident {
    Ident::with_quote('`', name)
}

/// The expression of a select item (`None` for `*`).
pub(super) fn item_expr(item: &SelectItem) -> Option<&Expr> {
    match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}
