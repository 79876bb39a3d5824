//! Choosing a table's route from its WHERE clause (Vitess `tableRoutingInfo`
//! / `ShardedRouting`): the cheapest vindex with an `=` or `IN` predicate
//! on its column, `None` when the WHERE can never be true.

use std::sync::Arc;

use sqlparser::ast::{BinaryOperator, Expr, InTarget, Value as AstValue};
use vschema::build::ColumnVindex;
use vschema::{Destination, TableType};

use crate::bind::{vindex_value, PlanValue};
use crate::error::{EngineError, Result};
use crate::route::{Opcode, RouteVindex};

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

/// A condition that can never be true: `false`, `0`, or `x = NULL`.
fn never_true(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => match &v.value {
            AstValue::Boolean(false) | AstValue::Null => true,
            AstValue::Number(n, _) => n.parse::<f64>().is_ok_and(|f| f == 0.0),
            _ => false,
        },
        Expr::BinaryOp { left, op, right } if is_comparison(op) => {
            is_null_literal(left) || is_null_literal(right)
        }
        _ => false,
    }
}

fn is_comparison(op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq)
}

/// A predicate on one vindex column.
enum Candidate {
    Equal(PlanValue),
    In(Vec<PlanValue>),
}

fn candidate(e: &Expr, table: &TableUse, column: &str, unqualified: bool) -> Option<Candidate> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_column(left, table, column, unqualified) {
                PlanValue::from_expr(right).map(Candidate::Equal)
            } else if is_column(right, table, column, unqualified) {
                PlanValue::from_expr(left).map(Candidate::Equal)
            } else {
                None
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } if is_column(expr, table, column, unqualified) => list
            .iter()
            .map(PlanValue::from_expr)
            .collect::<Option<Vec<_>>>()
            .map(Candidate::In),
        _ => None,
    }
}

/// Whether a literal value maps to exactly one keyspace id through `cv`.
fn maps_to_one_shard(cv: &ColumnVindex, value: &PlanValue) -> bool {
    let PlanValue::Literal(lit) = value else {
        return false;
    };
    let Some(v) = vindex_value(lit) else {
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
        if cv.columns.len() != 1 || cv.partial || cv.vindex.is_multi_column() {
            continue;
        }
        // A write-only lookup vindex is still being backfilled: never route by it.
        if cv.vindex.lookup().is_some_and(|l| l.write_only) {
            continue;
        }
        let column = &cv.columns[0];
        let unique = cv.vindex.is_unique();
        for found in conds
            .iter()
            .filter_map(|c| candidate(c, table, column, unqualified))
        {
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
        }),
        single_shard: single,
    }
}
