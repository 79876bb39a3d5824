//! Choosing a table's route from its WHERE clause (Vitess `tableRoutingInfo`
//! / `ShardedRouting`): the cheapest vindex with an `=` or `IN` predicate
//! on its column (also inside a tuple, or in every branch of an OR),
//! `None` when the WHERE can never be true. Multi-column vindexes are
//! routed in [`super::multi_column`].

use std::sync::Arc;

use sqlparser::ast::{BinaryOperator, Expr, InTarget, Value as AstValue};
use vschema::build::ColumnVindex;
use vschema::{Destination, TableType};

use crate::bind::{routing_value, PlanValue};
use crate::error::{EngineError, Result};
use crate::route::{Opcode, RouteVindex, Unmapped};
use sql::literal::BindValue;

use super::multi_column::route_multi_column;
use super::tables::TableUse;

/// The routing chosen for one table.
#[derive(Debug, Clone)]
pub struct Routing {
    /// Shard selection.
    pub opcode: Opcode,
    /// Vindex and values, for Equal, EqualUnique and IN.
    pub vindex: Option<RouteVindex>,
    /// Proven at plan time to reach at most one shard, so the whole query
    /// (ORDER BY, LIMIT, aggregates) can run there.
    pub single_shard: bool,
}

impl Routing {
    fn new(opcode: Opcode, single_shard: bool) -> Self {
        Routing {
            opcode,
            vindex: None,
            single_shard,
        }
    }
}

/// The top-level AND-ed conditions of a WHERE clause.
pub fn conjuncts(expr: Option<&Expr>) -> Vec<&Expr> {
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                walk(left, out);
                walk(right, out);
            }
            Expr::Nested(inner) => walk(inner, out),
            other => out.push(other),
        }
    }
    let mut out = Vec::new();
    if let Some(e) = expr {
        walk(e, &mut out);
    }
    out
}

/// `expr` as an operand of AND: an OR, XOR or `||` (MySQL's OR; which
/// [`conjuncts`] hands out without the parentheses it was written in, and
/// which binds more loosely than AND) in parentheses, so the text of
/// `x AND expr` keeps its meaning.
pub fn and_operand(expr: Expr) -> Expr {
    match expr {
        Expr::BinaryOp {
            op: BinaryOperator::Or | BinaryOperator::Xor | BinaryOperator::StringConcat,
            ..
        } => Expr::Nested(Box::new(expr)),
        other => other,
    }
}

/// Whether `expr` names column `column` of `table` (unqualified names only
/// when `allow_unqualified`).
pub fn is_column(expr: &Expr, table: &TableUse, column: &str, allow_unqualified: bool) -> bool {
    match expr {
        Expr::Identifier(i) => allow_unqualified && i.value.eq_ignore_ascii_case(column),
        Expr::CompoundIdentifier(ids) => match ids.as_slice() {
            [q, c] => q.value == table.qualifier() && c.value.eq_ignore_ascii_case(column),
            [k, t, c] => {
                table.alias.is_none()
                    && k.value == table.table.keyspace.name
                    && t.value == table.written
                    && c.value.eq_ignore_ascii_case(column)
            }
            _ => false,
        },
        Expr::Nested(e) => is_column(e, table, column, allow_unqualified),
        _ => false,
    }
}

fn is_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if v.value == AstValue::Null)
}

/// A condition that can never be true: `false`, `0`, `x = NULL`,
/// `x IN (NULL, ...)` with only NULLs, `x NOT IN (..., NULL, ...)`, or a
/// comparison of two integer literals that is false.
pub fn never_true(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => match &v.value {
            AstValue::Boolean(false) | AstValue::Null => true,
            AstValue::Number(n, _) => n.parse::<f64>().is_ok_and(|f| f == 0.0),
            _ => false,
        },
        Expr::Nested(inner) => never_true(inner),
        Expr::BinaryOp { left, op, right } if is_comparison(op) => {
            is_null_literal(left) || is_null_literal(right) || false_int_comparison(left, op, right)
        }
        Expr::In {
            target: InTarget::List(list),
            negated,
            ..
        } => {
            if *negated {
                list.iter().any(is_null_literal)
            } else {
                !list.is_empty() && list.iter().all(is_null_literal)
            }
        }
        _ => false,
    }
}

/// `1 = 0`, `2 < 1 + 0`: both sides integer literals (or arithmetic on
/// them) and the comparison false.
fn false_int_comparison(left: &Expr, op: &BinaryOperator, right: &Expr) -> bool {
    use BinaryOperator as B;
    let (Some(l), Some(r)) = (fold_int(left), fold_int(right)) else {
        return false;
    };
    let holds = match op {
        B::Eq => l == r,
        B::NotEq => l != r,
        B::Lt => l < r,
        B::LtEq => l <= r,
        B::Gt => l > r,
        B::GtEq => l >= r,
        _ => return false,
    };
    !holds
}

fn is_comparison(op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq)
}

/// A predicate on one vindex column.
pub(super) enum Candidate {
    Equal(PlanValue),
    In(Vec<PlanValue>),
    /// The column inside a tuple compared with a list of tuples.
    MultiEqual(Vec<PlanValue>),
}

impl Candidate {
    fn values(&self) -> &[PlanValue] {
        match self {
            Candidate::Equal(v) => std::slice::from_ref(v),
            Candidate::In(vs) | Candidate::MultiEqual(vs) => vs,
        }
    }
}

/// The limit condition `e` puts on `column`, if any.
pub(super) fn candidate(
    e: &Expr,
    table: &TableUse,
    column: &str,
    unqualified: bool,
) -> Option<Candidate> {
    let is_col = |x: &Expr| is_column(x, table, column, unqualified);
    match e {
        Expr::Nested(inner) => candidate(inner, table, column, unqualified),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_col(left) {
                value_of(right).map(Candidate::Equal)
            } else if is_col(right) {
                value_of(left).map(Candidate::Equal)
            } else if let Some(path) = tuple_path(left, &is_col) {
                value_at(right, &path).map(Candidate::Equal)
            } else if let Some(path) = tuple_path(right, &is_col) {
                value_at(left, &path).map(Candidate::Equal)
            } else {
                None
            }
        }
        Expr::BinaryOp {
            left: _,
            op: BinaryOperator::Or,
            right: _,
        } => or_candidate(e, table, column, unqualified),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } => {
            if is_col(expr) {
                list.iter()
                    .map(value_of)
                    .collect::<Option<Vec<_>>>()
                    .map(Candidate::In)
            } else {
                let path = tuple_path(expr, &is_col)?;
                list.iter()
                    .map(|item| value_at(item, &path))
                    .collect::<Option<Vec<_>>>()
                    .map(Candidate::MultiEqual)
            }
        }
        _ => None,
    }
}

/// The value of a literal, a placeholder, or integer arithmetic on
/// integer literals (`5 + 5`; none on overflow), as Vitess folds it.
fn value_of(e: &Expr) -> Option<PlanValue> {
    PlanValue::from_expr(e).or_else(|| fold_int(e).map(|i| PlanValue::Literal(BindValue::Int64(i))))
}

fn fold_int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Nested(inner) => fold_int(inner),
        Expr::BinaryOp { left, op, right } => {
            let (l, r) = (fold_int(left)?, fold_int(right)?);
            match op {
                BinaryOperator::Plus => l.checked_add(r),
                BinaryOperator::Minus => l.checked_sub(r),
                BinaryOperator::Multiply => l.checked_mul(r),
                _ => None,
            }
        }
        _ => match PlanValue::from_expr(e)? {
            PlanValue::Literal(BindValue::Int64(i)) => Some(i),
            _ => None,
        },
    }
}

/// Where the column sits in a (possibly nested) tuple: the index at each
/// level. `None` when `e` is not a tuple holding the column.
fn tuple_path(e: &Expr, is_col: &dyn Fn(&Expr) -> bool) -> Option<Vec<usize>> {
    let Expr::Tuple(items) = e else { return None };
    items.iter().enumerate().find_map(|(i, item)| {
        if is_col(item) {
            Some(vec![i])
        } else {
            let mut rest = tuple_path(item, is_col)?;
            rest.insert(0, i);
            Some(rest)
        }
    })
}

/// The literal at `path` inside the tuple `e` (a tuple whose shape differs
/// at some level gives `None`: MySQL refuses the comparison).
fn value_at(e: &Expr, path: &[usize]) -> Option<PlanValue> {
    match path.split_first() {
        None => value_of(e),
        Some((&i, rest)) => match e {
            Expr::Nested(inner) => value_at(inner, path),
            Expr::Tuple(items) => value_at(items.get(i)?, rest),
            _ => None,
        },
    }
}

/// `a OR b OR ...` where every branch limits the column to some values: the
/// column lies in their union (Vitess turns `id = 1 or id = 2` into `IN`).
fn or_candidate(e: &Expr, table: &TableUse, column: &str, unqualified: bool) -> Option<Candidate> {
    fn disjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                disjuncts(left, out);
                disjuncts(right, out);
            }
            Expr::Nested(inner) => disjuncts(inner, out),
            other => out.push(other),
        }
    }
    let mut branches = Vec::new();
    disjuncts(e, &mut branches);
    let mut values: Vec<PlanValue> = Vec::new();
    for branch in branches {
        if never_true(branch) {
            continue;
        }
        // The narrowest limit among the branch's AND-ed conditions.
        let found = conjuncts(Some(branch))
            .into_iter()
            .filter_map(|c| candidate(c, table, column, unqualified))
            .min_by_key(|c| c.values().len())?;
        for v in found.values() {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
    }
    match values.len() {
        0 => None,
        1 => values.pop().map(Candidate::Equal),
        _ => Some(Candidate::In(values)),
    }
}

/// The two sides of `left = right`, for any other expression `None`.
pub(super) fn equality(expr: &Expr) -> Option<(&Expr, &Expr)> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => Some((left, right)),
        _ => None,
    }
}

/// `column = other and other = v` (both columns of the table): the column's
/// value is `v` too (Vitess follows such equalities).
pub(super) fn through_columns(
    conds: &[&Expr],
    table: &TableUse,
    column: &str,
    unqualified: bool,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (left, right) in conds.iter().filter_map(|c| equality(c)) {
        let other = if is_column(left, table, column, unqualified) {
            right
        } else if is_column(right, table, column, unqualified) {
            left
        } else {
            continue;
        };
        let other_name = match other {
            Expr::Identifier(i) if unqualified => &i.value,
            Expr::CompoundIdentifier(ids) => match ids.as_slice() {
                [q, c] if q.value == table.qualifier() => &c.value,
                _ => continue,
            },
            _ => continue,
        };
        if other_name.eq_ignore_ascii_case(column) {
            continue;
        }
        out.extend(conds.iter().filter_map(|c2| {
            match candidate(c2, table, other_name, unqualified)? {
                Candidate::Equal(v) => Some(Candidate::Equal(v)),
                _ => None,
            }
        }));
    }
    out
}

/// Whether a literal value maps to exactly one keyspace id through `cv`.
fn maps_to_one_shard(cv: &ColumnVindex, value: &PlanValue) -> bool {
    let PlanValue::Literal(lit) = value else {
        return false;
    };
    let Some(v) = routing_value(lit, cv.vindex.as_ref(), cv.kind) else {
        return false;
    };
    !cv.vindex.needs_vcursor()
        && matches!(
            cv.vindex.map(&[v]).as_deref(),
            Ok([Destination::KeyspaceId(_)])
        )
}

/// Routes a table given the WHERE conditions that apply to it.
pub fn route_table(
    table: &TableUse,
    selection: Option<&Expr>,
    unqualified: bool,
) -> Result<Routing> {
    let t = &table.table;
    if !t.keyspace.sharded {
        return Ok(Routing::new(Opcode::Unsharded, true));
    }
    if t.table_type == TableType::Reference {
        return Ok(Routing::new(Opcode::Reference, true));
    }
    if t.pinned.is_some() {
        return Err(EngineError::unsupported("pinned tables"));
    }
    let conds = conjuncts(selection);
    if conds.iter().any(|c| never_true(c)) {
        return Ok(Routing::new(Opcode::None, false));
    }
    let mut best: Option<(u32, u32, Routing)> = None;
    for cv in t.ordered_vindexes() {
        if cv.vindex.is_multi_column() && !cv.vindex.needs_vcursor() {
            if let Some((rank, routing)) = route_multi_column(cv, &conds, table, unqualified) {
                if best
                    .as_ref()
                    .is_none_or(|(r, c, _)| (rank, cv.cost) < (*r, *c))
                {
                    best = Some((rank, cv.cost, routing));
                }
            }
            continue;
        }
        if cv.columns.len() != 1 || cv.partial || cv.vindex.is_multi_column() {
            continue;
        }
        // A write-only lookup vindex is still being backfilled: never route by it.
        if cv.vindex.lookup().is_some_and(|l| l.write_only) {
            continue;
        }
        let column = &cv.columns[0];
        let unique = cv.vindex.is_unique();
        let direct = conds
            .iter()
            .filter_map(|c| candidate(c, table, column, unqualified));
        for found in direct.chain(through_columns(&conds, table, column, unqualified)) {
            // `x IN (v)` is `x = v`.
            let found = match found {
                Candidate::In(mut vs)
                    if vs.len() == 1 && matches!(vs[0], PlanValue::Literal(_)) =>
                {
                    Candidate::Equal(vs.remove(0))
                }
                other => other,
            };
            let (rank, routing) = match found {
                Candidate::Equal(v) => {
                    let opcode = if unique {
                        Opcode::EqualUnique
                    } else {
                        Opcode::Equal
                    };
                    let single = unique && maps_to_one_shard(cv, &v);
                    let rank = if unique { 0 } else { 1 };
                    (rank, with_vindex(opcode, single, cv, vec![v]))
                }
                Candidate::In(vs) => (2, with_vindex(Opcode::In, false, cv, vs)),
                Candidate::MultiEqual(vs) => (2, with_vindex(Opcode::MultiEqual, false, cv, vs)),
            };
            if best
                .as_ref()
                .is_none_or(|(r, c, _)| (rank, cv.cost) < (*r, *c))
            {
                best = Some((rank, cv.cost, routing));
            }
        }
    }
    Ok(best.map_or(Routing::new(Opcode::Scatter, false), |(_, _, r)| r))
}

fn with_vindex(opcode: Opcode, single: bool, cv: &ColumnVindex, values: Vec<PlanValue>) -> Routing {
    Routing {
        opcode,
        vindex: Some(RouteVindex {
            name: cv.name.clone(),
            vindex: Arc::clone(&cv.vindex),
            values,
            unmapped: Unmapped::Scatter,
            columns: Vec::new(),
            kind: cv.kind,
        }),
        single_shard: single,
    }
}
