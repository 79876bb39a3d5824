//! Planning UNION and UNION ALL that cannot go whole to one shard: each
//! SELECT is planned on its own, UNION ALL concatenates their rows
//! ([`Concatenate`]), UNION also removes duplicates ([`Distinct`]); the
//! union's ORDER BY and LIMIT run in vtgate. INTERSECT and EXCEPT are
//! refused.

use sqlparser::ast::{Expr, OrderByKind, Query, SelectItem, SetExpr, SetOperator, SetQuantifier};

use super::order::{is_wildcard, order_and_limit, order_columns};
use super::Context;
use crate::concatenate::Concatenate;
use crate::distinct::Distinct;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;

/// Plans one SELECT (given as SQL text) on its own.
pub(super) type PlanSide = fn(&Context, &str) -> Result<Box<dyn Primitive>>;

fn plan_set(ctx: &Context, set: &SetExpr, plan_side: PlanSide) -> Result<Box<dyn Primitive>> {
    match set {
        SetExpr::Select(s) => plan_side(ctx, &s.to_string()),
        SetExpr::Query(q) => plan_side(ctx, &q.to_string()),
        SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier,
            left,
            right,
        } => {
            check_widths(left, right)?;
            let concat = Concatenate {
                inputs: vec![
                    plan_set(ctx, left, plan_side)?,
                    plan_set(ctx, right, plan_side)?,
                ],
            };
            Ok(match set_quantifier {
                SetQuantifier::All => Box::new(concat),
                SetQuantifier::Distinct | SetQuantifier::None => Box::new(Distinct {
                    input: Box::new(concat),
                }),
                _ => return Err(EngineError::unsupported("UNION BY NAME")),
            })
        }
        SetExpr::SetOperation { op, .. } => {
            Err(EngineError::unsupported(format!("{op} across shards")))
        }
        _ => Err(EngineError::unsupported(
            "this set expression across shards",
        )),
    }
}

/// Both sides must select as many columns (Vitess's text of MySQL's 1222);
/// with `*` the width is only known from the results.
fn check_widths(left: &SetExpr, right: &SetExpr) -> Result<()> {
    let width = |s: &SetExpr| {
        first_projection(s)
            .filter(|p| !p.iter().any(is_wildcard))
            .map(<[SelectItem]>::len)
    };
    match (width(left), width(right)) {
        (Some(l), Some(r)) if l != r => Err(EngineError::mysql(
            1222,
            "21000",
            format!("The used SELECT statements have a different number of columns: {l}, {r}"),
        )),
        _ => Ok(()),
    }
}

/// The select list of the first SELECT, which names the union's columns.
fn first_projection(set: &SetExpr) -> Option<&[SelectItem]> {
    match set {
        SetExpr::Select(s) => Some(&s.projection),
        SetExpr::Query(q) => first_projection(&q.body),
        SetExpr::SetOperation { left, .. } => first_projection(left),
        _ => None,
    }
}

/// Plans a query whose body is a set operation.
pub(super) fn plan_union(
    ctx: &Context,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let plan = plan_set(ctx, &original.body, plan_side)?;
    if let Some(OrderByKind::Expressions(exprs)) = original.order_by.as_ref().map(|o| &o.kind) {
        for o in exprs {
            if let Expr::CompoundIdentifier(ids) = &o.expr {
                let table = ids.iter().rev().nth(1).map_or("", |i| i.value.as_str());
                return Err(EngineError::mysql(
                    1250,
                    "42000",
                    format!(
                        "Table `{table}` from one of the SELECTs cannot be used in global ORDER clause"
                    ),
                ));
            }
        }
    }
    let projection = first_projection(&original.body).unwrap_or_default();
    let order_by = order_columns(original, projection, &mut |e| {
        Err(EngineError::unsupported(format!(
            "ORDER BY {e} of a UNION across shards"
        )))
    })?;
    order_and_limit(original, order_by, 0, plan)
}
