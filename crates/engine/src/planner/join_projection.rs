//! Select items of a nested-loop join that no single table's query can
//! compute: arithmetic over columns of several tables (`o.price * c.rate`),
//! or an expression on a LEFT JOINed table that is not NULL for its NULL
//! row (`COALESCE(o.qty, 0)`). vtgate computes them over the joined rows
//! (a [`Projection`](crate::projection::Projection), with MySQL's types and
//! exact arithmetic) from their columns, read as hidden columns.

use sqlparser::ast::{BinaryOperator as B, Expr, UnaryOperator};

use super::aggregation::coalesce_args;
use super::nested_join::refuse;
use crate::bind::PlanValue;
use crate::error::Result;
use crate::projection::{Arith, ArithOp};

/// `e` as arithmetic over the joined rows; `column` adds a column
/// reference to them and returns its index there. A division only at the
/// top: MySQL keeps more digits of a quotient inside an expression than it
/// shows.
pub(super) fn arith_over(
    e: &Expr,
    top: bool,
    column: &mut dyn FnMut(&Expr) -> Result<usize>,
) -> Result<Arith> {
    let cannot = || refuse(&format!("select item {e} computed over the joined rows"));
    if let Some(v) = PlanValue::from_expr(e) {
        return Ok(Arith::Value(v));
    }
    if let Some(args) = coalesce_args(e) {
        let args = args
            .into_iter()
            .map(|a| arith_over(a, false, column))
            .collect::<Result<_>>()?;
        return Ok(Arith::Coalesce(args));
    }
    Ok(match e {
        Expr::Nested(x) => arith_over(x, top, column)?,
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Arith::Column(column(e)?),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => Arith::Neg(Box::new(arith_over(expr, false, column)?)),
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                B::Plus => ArithOp::Add,
                B::Minus => ArithOp::Sub,
                B::Multiply => ArithOp::Mul,
                B::Divide if top => ArithOp::Div,
                _ => return Err(cannot()),
            };
            Arith::Binary(
                Box::new(arith_over(left, false, column)?),
                op,
                Box::new(arith_over(right, false, column)?),
            )
        }
        _ => return Err(cannot()),
    })
}
