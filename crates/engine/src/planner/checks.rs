//! Errors MySQL (and Vitess) give for a SELECT before any planning:
//! ordinals past the select list, a table name or alias used twice in one
//! FROM, SQL_CALC_FOUND_ROWS in a nested query; and MariaDB's for a
//! multi-table DELETE reading its target in a subquery.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, Delete, Expr, FromTable, GroupByExpr, InTarget, JoinConstraint,
    JoinOperator, OrderBy, OrderByKind, Query, SetExpr, Statement, TableFactor, Value as AstValue,
    Visit, Visitor,
};

use super::order::is_wildcard;
use super::tables::{from_factors, table_name};
use crate::error::{EngineError, Result};

/// Runs every check on `stmt` (whose query is `query`).
pub(super) fn check_query(stmt: &Statement, query: &Query) -> Result<()> {
    check_ordinals(query)?;
    check_unique_aliases(query)?;
    check_nested_calc_found_rows(stmt)
}

/// MySQL's error for `GROUP BY n` / `ORDER BY n` past the select list
/// (without `*`, whose width is unknown here): `Unknown column 'n' in
/// 'group clause'`, 1054 / 42S22.
fn check_ordinals(query: &Query) -> Result<()> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    if select.projection.iter().any(is_wildcard) {
        return Ok(());
    }
    let width = select.projection.len();
    let check = |e: &Expr, clause: &str| -> Result<()> {
        let Expr::Value(v) = e else { return Ok(()) };
        let AstValue::Number(n, _) = &v.value else {
            return Ok(());
        };
        match n.parse::<usize>() {
            Ok(i) if (1..=width).contains(&i) => Ok(()),
            Ok(_) => Err(EngineError::mysql(
                1054,
                "42S22",
                format!("Unknown column '{n}' in '{clause} clause'"),
            )),
            // Vitess's text for an ordinal too large for a number.
            Err(_) if n.bytes().all(|b| b.is_ascii_digit()) => Err(EngineError::mysql(
                1105,
                "HY000",
                format!("error parsing column number: {n}"),
            )),
            Err(_) => Ok(()),
        }
    };
    if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
        for e in exprs {
            check(e, "group")?;
        }
    }
    if let Some(OrderBy {
        kind: OrderByKind::Expressions(exprs),
        ..
    }) = &query.order_by
    {
        for o in exprs {
            check(&o.expr, "order")?;
        }
    }
    Ok(())
}

/// Two FROM items of one SELECT with the same name or alias: Vitess's
/// VT03013 (MySQL's 1066). Names qualified by different keyspaces differ.
fn check_unique_aliases(query: &Query) -> Result<()> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    let seen: Vec<String> = from_factors(&select.from)
        .into_iter()
        .filter_map(|f| match f {
            TableFactor::Table { name, alias, .. } => Some(match alias {
                Some(a) => a.name.value.clone(),
                None => name.to_string(),
            }),
            TableFactor::Derived { alias: Some(a), .. } => Some(a.name.value.clone()),
            _ => None,
        })
        .collect();
    for (i, name) in seen.iter().enumerate() {
        if seen[..i].contains(name) {
            return Err(EngineError::mysql(
                1066,
                "42000",
                format!("VT03013: not unique table/alias: '{name}'"),
            ));
        }
    }
    Ok(())
}

/// SQL_CALC_FOUND_ROWS in a subquery or derived table: MySQL's 1234.
fn check_nested_calc_found_rows(stmt: &Statement) -> Result<()> {
    struct Nested {
        depth: usize,
    }
    fn calc(set: &SetExpr) -> bool {
        match set {
            SetExpr::Select(s) => s
                .select_modifiers
                .as_ref()
                .is_some_and(|m| m.sql_calc_found_rows),
            SetExpr::Query(q) => calc(&q.body),
            SetExpr::SetOperation { left, right, .. } => calc(left) || calc(right),
            _ => false,
        }
    }
    impl Visitor for Nested {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            self.depth += 1;
            if self.depth > 1 && calc(&q.body) {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    if Visit::visit(stmt, &mut Nested { depth: 0 }).is_break() {
        return Err(EngineError::mysql(
            1234,
            "42000",
            "Incorrect usage/placement of 'SQL_CALC_FOUND_ROWS'",
        ));
    }
    Ok(())
}

/// MariaDB's error for a multi-table DELETE whose target table a subquery of its WHERE or ON
/// conditions reads (not through a derived table, which MariaDB materializes first):
/// 1093. A single-table DELETE, and UPDATE, may read their target since MariaDB 10.3.
pub(super) fn check_delete_sources(delete: &Delete) -> Result<()> {
    if delete.tables.is_empty() {
        return Ok(());
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    // Every FROM table by the name its columns are qualified with.
    let mut named = Vec::new();
    for f in from_factors(from) {
        if let TableFactor::Table { name, alias, .. } = f {
            let table = table_name(name);
            let qualifier = alias
                .as_ref()
                .map_or(table.clone(), |a| a.name.value.clone());
            named.push((qualifier, table));
        }
    }
    let mut conditions: Vec<&Expr> = delete.selection.iter().collect();
    for t in from {
        conditions.extend(
            t.joins
                .iter()
                .filter_map(|j| join_condition(&j.join_operator)),
        );
    }
    let mut read = Vec::new();
    for c in conditions {
        let _ = visit_expressions(c, |e| {
            match e {
                Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => query_tables(q, &mut read),
                Expr::In {
                    target: InTarget::Subquery(q),
                    ..
                } => query_tables(q, &mut read),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
    }
    for target in &delete.tables {
        let target = table_name(target);
        let table = named
            .iter()
            .find(|(q, _)| q.eq_ignore_ascii_case(&target))
            .map_or(target.as_str(), |(_, t)| t.as_str());
        if read.iter().any(|r| r.eq_ignore_ascii_case(table)) {
            return Err(EngineError::mysql(
                1093,
                "HY000",
                format!(
                    "Table '{target}' is specified twice, both as a target for 'DELETE' and as \
                     a separate source for data"
                ),
            ));
        }
    }
    Ok(())
}

fn join_condition(op: &JoinOperator) -> Option<&Expr> {
    match op {
        JoinOperator::Join(JoinConstraint::On(e))
        | JoinOperator::Inner(JoinConstraint::On(e))
        | JoinOperator::Left(JoinConstraint::On(e))
        | JoinOperator::LeftOuter(JoinConstraint::On(e))
        | JoinOperator::Right(JoinConstraint::On(e))
        | JoinOperator::RightOuter(JoinConstraint::On(e))
        | JoinOperator::StraightJoin(JoinConstraint::On(e)) => Some(e),
        _ => None,
    }
}

/// The tables a query reads in its FROM clauses (its own and its set operations'), not
/// inside derived tables.
fn query_tables(q: &Query, out: &mut Vec<String>) {
    fn set(s: &SetExpr, out: &mut Vec<String>) {
        match s {
            SetExpr::Select(s) => {
                out.extend(from_factors(&s.from).into_iter().filter_map(|f| match f {
                    TableFactor::Table { name, .. } => Some(table_name(name)),
                    _ => None,
                }));
            }
            SetExpr::Query(q) => set(&q.body, out),
            SetExpr::SetOperation { left, right, .. } => {
                set(left, out);
                set(right, out);
            }
            _ => {}
        }
    }
    set(&q.body, out);
}
