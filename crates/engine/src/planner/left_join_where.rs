//! WHERE conditions on a LEFT JOINed table of a nested-loop join.
//!
//! * A condition that is never true for the row of NULLs a LEFT JOIN adds
//!   when its table has no partner (`t.x = 5`, `t.x < u.y`, `t.x IN (...)`,
//!   `t.x LIKE ...`, `t.x IS NOT NULL`, ...) drops those rows anyway: the
//!   join is an inner join (as MySQL's and Vitess's planners rewrite it),
//!   and the condition runs in the table's own query.
//! * Another condition (`t.x IS NULL`, `t.x <=> 1`, `t.x = 1 OR u.y = 2`)
//!   must see the joined rows: it runs in vtgate over them, as a
//!   [`Filter`](crate::filter::Filter) on columns and literals, or on what
//!   the table's query computes for a condition of one table (see
//!   [`after_join`]).

use sqlparser::ast::{BinaryOperator as B, Expr, InTarget, TableFactor};

use super::aggregation::build_predicate;
use super::nested_join::{refuse, table_of, Unit};
use super::routing::conjuncts;
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::filter::{CmpOp, Operand, Predicate};
use sql::literal::BindValue;

/// Whether `e` is a column of FROM item `t`.
fn column_of(e: &Expr, t: usize, units: &[Unit]) -> bool {
    match e {
        Expr::Nested(x) => column_of(x, t, units),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            matches!(table_of(e, units), Ok(Some(x)) if x == t)
        }
        _ => false,
    }
}

/// Whether condition `c` is never true when the columns of FROM item `t`
/// are all NULL.
pub(super) fn rejects_nulls_of(c: &Expr, t: usize, units: &[Unit]) -> bool {
    let col = |e: &Expr| column_of(e, t, units);
    match c {
        Expr::Nested(x) => rejects_nulls_of(x, t, units),
        Expr::BinaryOp { left, op, right } => match op {
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => col(left) || col(right),
            B::And => rejects_nulls_of(left, t, units) || rejects_nulls_of(right, t, units),
            B::Or => rejects_nulls_of(left, t, units) && rejects_nulls_of(right, t, units),
            _ => false,
        },
        // `NULL [NOT] BETWEEN`, `NULL [NOT] IN (...)` and `NULL [NOT] LIKE`
        // are NULL.
        Expr::Between { expr, .. } | Expr::Like { expr, .. } | Expr::ILike { expr, .. } => {
            col(expr)
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            ..
        } => !list.is_empty() && col(expr),
        Expr::IsNotNull(x) => col(x),
        _ => false,
    }
}

/// Turns each LEFT JOIN whose table a WHERE condition rejects the NULL
/// row of into an inner join. `from` holds each FROM item with its join
/// kind (true: LEFT JOIN) and ON condition.
pub(super) fn inner_when_rejected(
    where_: Option<&Expr>,
    units: &[Unit],
    from: &mut [(&TableFactor, bool, Option<&Expr>)],
) {
    let conds = conjuncts(where_);
    for (t, (_, left, _)) in from.iter_mut().enumerate() {
        if *left && conds.iter().any(|c| rejects_nulls_of(c, t, units)) {
            *left = false;
        }
    }
}

/// The conditions that run after the join, as one predicate over its
/// rows. `column` adds an expression (a column, or what a table's query
/// computes: of the last table it reads, with the others' columns bound) to
/// the joined rows as a hidden column and returns its index there.
///
/// vtgate compares columns and literals itself. A condition it cannot
/// (`coalesce(o.x, 0) = 0`, `o.note like 'g%'`, `not (o.x = 1 or c.y = 2)`)
/// runs in a table's query as `(c) IS TRUE`; AND and OR of such conditions
/// are kept, since a WHERE keeps only the rows whose condition is true,
/// and AND and OR are true exactly when the same operands are, whether
/// the others are false or NULL.
pub(super) fn after_join(
    conds: &[&Expr],
    column: &mut dyn FnMut(&Expr) -> Result<usize>,
) -> Result<Option<Predicate>> {
    let mut out: Option<Predicate> = None;
    for c in conds {
        let p = condition(c, column).map_err(|e| match e {
            EngineError::Unsupported(_) => refuse(&format!("WHERE {c} on a LEFT JOINed table")),
            other => other,
        })?;
        out = Some(match out {
            None => p,
            Some(q) => Predicate::And(Box::new(q), Box::new(p)),
        });
    }
    Ok(out)
}

fn condition(c: &Expr, column: &mut dyn FnMut(&Expr) -> Result<usize>) -> Result<Predicate> {
    let compared = build_predicate(c, &mut |e| {
        if let Some(v) = PlanValue::from_expr(e) {
            return Ok(Operand::Value(v));
        }
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Ok(Operand::Column(column(e)?)),
            _ => Err(EngineError::unsupported("an expression")),
        }
    });
    match compared {
        Err(EngineError::Unsupported(_)) => {}
        other => return other,
    }
    Ok(match c {
        Expr::Nested(x) => condition(x, column)?,
        Expr::BinaryOp {
            left,
            op: op @ (B::And | B::Or),
            right,
        } => {
            let (l, r) = (
                Box::new(condition(left, column)?),
                Box::new(condition(right, column)?),
            );
            if *op == B::And {
                Predicate::And(l, r)
            } else {
                Predicate::Or(l, r)
            }
        }
        // Its truth, computed by the query of (the last of) the tables it reads.
        _ => {
            let truth = Expr::IsTrue(Box::new(Expr::Nested(Box::new(c.clone()))));
            Predicate::Compare(
                Operand::Column(column(&truth)?),
                CmpOp::Eq,
                Operand::Value(PlanValue::Literal(BindValue::Int64(1))),
            )
        }
    })
}
