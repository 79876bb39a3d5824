//! Select items of a nested-loop join that no single table's query can
//! compute: arithmetic over columns of several tables (`o.price * c.rate`),
//! or an expression on a LEFT JOINed table that is not NULL for its NULL
//! row (`COALESCE(o.qty, 0)`). vtgate computes them over the joined rows
//! (a [`Projection`](crate::projection::Projection), with MySQL's types and
//! exact arithmetic) from their columns, read as hidden columns.
//!
//! `*` and `t.*` become the columns of the FROM items, in order, when all
//! are known (derived tables, tables with authoritative column lists).

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Query, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, UnaryOperator,
};

use super::aggregation::{coalesce_args, extreme_args};
use super::nested_join::{refuse, Unit};
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
    if let Some((pick, args)) = extreme_args(e) {
        let args = args
            .into_iter()
            .map(|a| arith_over(a, false, column))
            .collect::<Result<_>>()?;
        return Ok(Arith::Extreme(pick, args));
    }
    Ok(match e {
        Expr::Nested(x) => arith_over(x, top, column)?,
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Arith::Column(column(e)?),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => Arith::Neg(Box::new(arith_over(expr, false, column)?)),
        Expr::BinaryOp { left, op, right } => {
            let op = ArithOp::from_sql(op, top).ok_or_else(cannot)?;
            Arith::Binary(
                Box::new(arith_over(left, false, column)?),
                op,
                Box::new(arith_over(right, false, column)?),
            )
        }
        _ => return Err(cannot()),
    })
}

/// `CONCAT(...)` of columns and literals (nested CONCATs flattened) as a computed select
/// item over the joined rows; None when `e` is no CONCAT.
pub(super) fn concat_over(
    e: &Expr,
    column: &mut dyn FnMut(&Expr) -> Result<usize>,
) -> Result<Option<Arith>> {
    let Expr::Function(f) = e else {
        return Ok(None);
    };
    if !f.name.to_string().eq_ignore_ascii_case("concat") {
        return Ok(None);
    }
    let cannot = || refuse(&format!("select item {e} computed over the joined rows"));
    let FunctionArguments::List(list) = &f.args else {
        return Err(cannot());
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() || list.args.is_empty() {
        return Err(cannot());
    }
    let mut parts = Vec::new();
    for arg in &list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) = arg else {
            return Err(cannot());
        };
        let mut a = a;
        while let Expr::Nested(inner) = a {
            a = inner;
        }
        if let Some(v) = PlanValue::from_expr(a) {
            parts.push(Arith::Value(v));
        } else if matches!(a, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            parts.push(Arith::Column(column(a)?));
        } else if let Some(Arith::Concat(inner)) = concat_over(a, column)? {
            parts.extend(inner);
        } else {
            return Err(cannot());
        }
    }
    Ok(Some(Arith::Concat(parts)))
}

/// `original` with `*` and `t.*` replaced by the columns of `units` (the
/// FROM items in written order); `None` when it has no `*`.
pub(super) fn expand_wildcards(original: &Query, units: &[Unit]) -> Result<Option<Query>> {
    let mut q = original.clone();
    let SetExpr::Select(select) = q.body.as_mut() else {
        return Ok(None);
    };
    let columns_of = |u: &Unit| -> Result<Vec<SelectItem>> {
        let cols = u.columns.as_ref().ok_or_else(|| refuse("*"))?;
        Ok(cols
            .iter()
            .map(|c| {
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
                    Ident::new(u.qualifier.clone()),
                    Ident::with_quote('`', c),
                ]))
            })
            .collect())
    };
    let mut items = Vec::new();
    let mut any = false;
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(opts) if opts.to_string().trim().is_empty() => {
                any = true;
                for u in units {
                    items.extend(columns_of(u)?);
                }
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), opts)
                if opts.to_string().trim().is_empty() =>
            {
                any = true;
                let name = n.to_string();
                let mut named = units.iter().filter(|u| u.qualifier == name);
                match (named.next(), named.next()) {
                    (Some(u), None) => items.extend(columns_of(u)?),
                    _ => return Err(refuse(&format!("{name}.*"))),
                }
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => return Err(refuse("*")),
            other => items.push(other.clone()),
        }
    }
    if !any {
        return Ok(None);
    }
    select.projection = items;
    Ok(Some(q))
}
