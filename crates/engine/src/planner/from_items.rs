//! The FROM clause of a nested-loop join as a chain of items in order: each
//! with its join kind and ON condition. A RIGHT JOIN that is the first join
//! is its swapped LEFT JOIN; inner-joined parenthesized groups are flattened
//! into the chain where that keeps the rows; anything else is refused here
//! (and may become a derived table, `group_derived`).

use sqlparser::ast::{Expr, JoinConstraint, JoinOperator, TableFactor};

use super::nested_join::refuse;
use crate::error::Result;

/// A FROM item with its join kind (true for LEFT JOIN) and ON condition.
pub(super) type FromItem<'a> = (&'a TableFactor, bool, Option<&'a Expr>);

/// The FROM clause as tables in order, with each one's join kind and ON
/// condition, and whether that order is fixed (STRAIGHT_JOIN).
pub(super) fn from_tables(select: &sqlparser::ast::Select) -> Result<(Vec<FromItem<'_>>, bool)> {
    let mut out = Vec::new();
    let mut fixed = false;
    for twj in &select.from {
        push_item(&mut out, &twj.relation, false, None)?;
        for (n, j) in twj.joins.iter().enumerate() {
            let (left, c) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => {
                    (false, c)
                }
                JoinOperator::StraightJoin(c) => {
                    fixed = true;
                    (false, c)
                }
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (true, c),
                // `a RIGHT JOIN b ON c` is `b LEFT JOIN a ON c`, also as the
                // first join of a chain (`(a RIGHT JOIN b ON c) JOIN d ...`);
                // later in a chain its left operand is itself a join.
                JoinOperator::Right(JoinConstraint::On(on))
                | JoinOperator::RightOuter(JoinConstraint::On(on))
                    if select.from.len() == 1 && n == 0 && out.len() == 1 =>
                {
                    out = vec![(&j.relation, false, None), (&twj.relation, true, Some(on))];
                    continue;
                }
                _ => return Err(refuse("join type")),
            };
            let on = match c {
                JoinConstraint::On(e) => Some(e),
                JoinConstraint::None => None,
                _ => return Err(refuse("USING or NATURAL")),
            };
            push_item(&mut out, &j.relation, left, on)?;
        }
    }
    let plain = |t: &TableFactor| {
        matches!(
            t,
            TableFactor::Table { .. }
                | TableFactor::Derived {
                    lateral: false,
                    alias: Some(_),
                    ..
                }
        )
    };
    if !out.iter().all(|(t, _, _)| plain(t)) {
        return Err(refuse("derived table"));
    }
    Ok((out, fixed))
}

/// Adds a FROM item. A parenthesized group of inner joins that is itself
/// inner-joined is flattened into the chain (inner joins associate): its
/// ON condition goes with the group's first item, where, as every inner
/// join's, it runs at the last table it reads. LEFT JOINs inside the group
/// stay LEFT JOINs in the chain (`x JOIN (y LEFT JOIN z ON yz) ON xy` is
/// `x JOIN y ON xy LEFT JOIN z ON yz`) when the group's ON condition reads
/// none of their tables, by qualified columns only.
fn push_item<'a>(
    out: &mut Vec<FromItem<'a>>,
    factor: &'a TableFactor,
    left: bool,
    on: Option<&'a Expr>,
) -> Result<()> {
    let group = match factor {
        TableFactor::NestedJoin {
            table_with_joins,
            alias: None,
        } if !left => table_with_joins,
        _ => {
            out.push((factor, left, on));
            return Ok(());
        }
    };
    // Each join of the group: whether it is a LEFT JOIN, and its ON condition.
    let member = |j: &'a sqlparser::ast::Join| match &j.join_operator {
        JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => match c {
            JoinConstraint::On(e) => Some((false, Some(e))),
            JoinConstraint::None => Some((false, None)),
            _ => None,
        },
        JoinOperator::Left(JoinConstraint::On(e))
        | JoinOperator::LeftOuter(JoinConstraint::On(e)) => Some((true, Some(e))),
        _ => None,
    };
    let members: Option<Vec<_>> = group.joins.iter().map(member).collect();
    let left_joined: Vec<&TableFactor> = group
        .joins
        .iter()
        .zip(members.iter().flatten())
        .filter(|(_, (l, _))| *l)
        .map(|(j, _)| &j.relation)
        .collect();
    let Some(members) = members
        .filter(|_| left_joined.is_empty() || on.is_none_or(|e| reads_none_of(e, &left_joined)))
    else {
        out.push((factor, left, on));
        return Ok(());
    };
    push_item(out, &group.relation, false, on)?;
    for (j, (left, join_on)) in group.joins.iter().zip(members) {
        if left {
            out.push((&j.relation, true, join_on));
        } else {
            push_item(out, &j.relation, false, join_on)?;
        }
    }
    Ok(())
}

/// Whether `e` reads columns of none of `tables`, and names every column's table.
fn reads_none_of(e: &Expr, tables: &[&TableFactor]) -> bool {
    let names: Vec<&str> = tables
        .iter()
        .filter_map(|t| match t {
            TableFactor::Table { alias: Some(a), .. }
            | TableFactor::Derived { alias: Some(a), .. } => Some(a.name.value.as_str()),
            TableFactor::Table { name, .. } => name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.as_str()),
            _ => None,
        })
        .collect();
    if names.len() != tables.len() {
        return false;
    }
    let mut ok = true;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        match x {
            Expr::Identifier(_) => ok = false,
            Expr::CompoundIdentifier(parts) => {
                let qualifier = parts.len().checked_sub(2).and_then(|i| parts.get(i));
                if qualifier.is_none_or(|q| names.iter().any(|n| n.eq_ignore_ascii_case(&q.value)))
                {
                    ok = false;
                }
            }
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    ok
}
