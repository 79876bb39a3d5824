//! Errors MySQL (and Vitess) give for a SELECT before any planning:
//! ordinals past the select list, a table name or alias used twice in one
//! FROM, SQL_CALC_FOUND_ROWS in a nested query.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, OrderBy, OrderByKind, Query, SetExpr, Statement, TableFactor,
    Value as AstValue, Visit, Visitor,
};

use super::order::is_wildcard;
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
    fn names(f: &TableFactor, out: &mut Vec<String>) {
        match f {
            TableFactor::Table { name, alias, .. } => out.push(match alias {
                Some(a) => a.name.value.clone(),
                None => name.to_string(),
            }),
            TableFactor::Derived { alias: Some(a), .. } => out.push(a.name.value.clone()),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                names(&table_with_joins.relation, out);
                for j in &table_with_joins.joins {
                    names(&j.relation, out);
                }
            }
            _ => {}
        }
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(());
    };
    let mut seen = Vec::new();
    for t in &select.from {
        names(&t.relation, &mut seen);
        for j in &t.joins {
            names(&j.relation, &mut seen);
        }
    }
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
