//! HAVING without grouping over a cross-shard join.
//!
//! With no GROUP BY and no aggregate, MySQL's HAVING keeps the rows whose
//! condition is true, like WHERE, but reads names from the select list:
//! a select item's alias first, then the column a select item reads (MariaDB
//! 10.11 accepts `select a.x as y ... having x = 1`). Such a HAVING is the
//! same filter as a WHERE conjunct in which every name is replaced by the
//! item it names, so a nested-loop join runs it where its columns are,
//! as Vitess's planner does.

use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions_mut, BinaryOperator, Expr, Query, SelectItem, SetExpr};

use super::order::{column_name, features_of_expr};
use crate::error::{EngineError, Result};

/// `query` with its HAVING moved into WHERE, or `None` when the HAVING
/// aggregates, holds a subquery or a window function (the caller refuses
/// or aggregates as before). The caller checks there is no GROUP BY and no
/// aggregate among the select items.
pub(super) fn as_where(query: &Query) -> Result<Option<Query>> {
    let mut query = query.clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(None);
    };
    let Some(mut having) = select.having.take() else {
        return Ok(None);
    };
    let features = features_of_expr(&having);
    if features.aggregate || features.subquery || features.window {
        return Ok(None);
    }
    let mut failed = None;
    let _ = visit_expressions_mut(&mut having, |e| {
        match resolve(e, &select.projection) {
            Ok(Some(item @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_)))) => *e = item,
            Ok(Some(item)) => *e = Expr::Nested(Box::new(item)),
            Ok(None) => {}
            Err(err) => {
                failed = Some(err);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    if let Some(err) = failed {
        return Err(err);
    }
    select.selection = Some(match select.selection.take() {
        Some(w) => Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(w))),
            op: BinaryOperator::And,
            right: Box::new(Expr::Nested(Box::new(having))),
        },
        None => having,
    });
    Ok(Some(query))
}

/// The select item a HAVING name stands for; `None` for what is not a
/// name (it stays as written).
fn resolve(e: &Expr, items: &[SelectItem]) -> Result<Option<Expr>> {
    match e {
        Expr::Identifier(name) => {
            let name = &name.value;
            // By the name each item has in the result.
            let named = matching(items, |alias, expr| match alias {
                Some(a) => a.eq_ignore_ascii_case(name),
                None => column_name(expr).is_some_and(|c| c.eq_ignore_ascii_case(name)),
            });
            // Then by the column an aliased item reads.
            let named = match named {
                Found::None => matching(items, |alias, expr| {
                    alias.is_some()
                        && column_name(expr).is_some_and(|c| c.eq_ignore_ascii_case(name))
                }),
                found => found,
            };
            match named {
                Found::One(expr) => Ok(Some(*expr)),
                Found::Several => Err(ambiguous(name)),
                Found::None => Err(unknown(name)),
            }
        }
        Expr::CompoundIdentifier(parts) => {
            let Some((column, qualifier)) = parts.split_last() else {
                return Ok(None);
            };
            // A qualified name keeps its meaning in WHERE once it is selected.
            let selected = items.iter().any(|item| {
                let expr = match item {
                    SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => x,
                    _ => return false,
                };
                match expr {
                    Expr::Identifier(c) => c.value.eq_ignore_ascii_case(&column.value),
                    Expr::CompoundIdentifier(p) => p.split_last().is_some_and(|(c, q)| {
                        c.value.eq_ignore_ascii_case(&column.value)
                            && q.len() == qualifier.len()
                            && q.iter().zip(qualifier).all(|(a, b)| a.value == b.value)
                    }),
                    _ => false,
                }
            });
            if selected {
                Ok(None)
            } else {
                Err(unknown(&e.to_string()))
            }
        }
        _ => Ok(None),
    }
}

enum Found {
    None,
    One(Box<Expr>),
    Several,
}

/// The one expression among the select items that `matches` (alias, expression) accepts;
/// the same expression twice is one.
fn matching(items: &[SelectItem], matches: impl Fn(Option<&str>, &Expr) -> bool) -> Found {
    let mut found: Option<&Expr> = None;
    for item in items {
        let (alias, expr) = match item {
            SelectItem::UnnamedExpr(x) => (None, x),
            SelectItem::ExprWithAlias { expr, alias } => (Some(alias.value.as_str()), expr),
            _ => continue,
        };
        if !matches(alias, expr) {
            continue;
        }
        match found {
            Some(f) if f.to_string() != expr.to_string() => return Found::Several,
            _ => found = Some(expr),
        }
    }
    found.map_or(Found::None, |e| Found::One(Box::new(e.clone())))
}

/// MySQL's 1052, in Vitess's words.
fn ambiguous(name: &str) -> EngineError {
    EngineError::mysql(
        1052,
        "23000",
        format!("Column '{name}' in field list is ambiguous"),
    )
}

/// MySQL's 1054 for a HAVING name that no select item has.
fn unknown(name: &str) -> EngineError {
    EngineError::mysql(
        1054,
        "42S22",
        format!("Unknown column '{name}' in 'having clause'"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(sql: &str) -> Result<Option<String>> {
        let stmt = sql::parse::parse(sql).expect("parses");
        let sqlparser::ast::Statement::Query(q) = stmt else {
            panic!("not a query")
        };
        Ok(as_where(&q)?.map(|q| q.to_string()))
    }

    #[test]
    fn names_become_the_items_they_name() {
        assert_eq!(
            rewrite("select u.c1 as a, u.c2, e.c3 from u join e having a = 1 and a = u.c2 and e.c3 = 1")
                .unwrap()
                .unwrap(),
            "SELECT u.c1 AS a, u.c2, e.c3 FROM u JOIN e WHERE u.c1 = 1 AND u.c1 = u.c2 AND e.c3 = 1"
        );
        // An alias before the column an aliased item reads.
        assert_eq!(
            rewrite("select u.c2 as c1, u.c1 as y from u join e where u.k > 0 having c1 = 1")
                .unwrap()
                .unwrap(),
            "SELECT u.c2 AS c1, u.c1 AS y FROM u JOIN e WHERE (u.k > 0) AND (u.c2 = 1)"
        );
        assert_eq!(
            rewrite("select u.c1 as y from u join e having c1 = 1")
                .unwrap()
                .unwrap(),
            "SELECT u.c1 AS y FROM u JOIN e WHERE u.c1 = 1"
        );
    }

    #[test]
    fn mysql_errors_for_names_no_item_or_two_items_have() {
        let err = rewrite("select u.c1, e.c1 from u join e having c1 = 2").unwrap_err();
        assert_eq!((err.errno(), err.sqlstate()), (1052, "23000"));
        assert_eq!(err.to_string(), "Column 'c1' in field list is ambiguous");
        let err = rewrite("select u.c1 as y, e.c1 as z from u join e having c1 = 2").unwrap_err();
        assert_eq!(err.errno(), 1052);
        let err = rewrite("select u.c1 from u join e having c3 = 1").unwrap_err();
        assert_eq!((err.errno(), err.sqlstate()), (1054, "42S22"));
        assert_eq!(err.to_string(), "Unknown column 'c3' in 'having clause'");
        let err = rewrite("select u.c1 from u join e having e.c1 = 1").unwrap_err();
        assert_eq!(err.to_string(), "Unknown column 'e.c1' in 'having clause'");
        // The same column twice is one.
        assert!(rewrite("select u.c1, u.c1 from u join e having c1 = 1")
            .unwrap()
            .is_some());
        // An expression keeps its own precedence.
        assert_eq!(
            rewrite("select u.c1 + 1 as z from u join e having z * 2 = 4")
                .unwrap()
                .unwrap(),
            "SELECT u.c1 + 1 AS z FROM u JOIN e WHERE (u.c1 + 1) * 2 = 4"
        );
    }

    #[test]
    fn aggregates_and_subqueries_stay_in_having() {
        assert_eq!(
            rewrite("select u.c1 from u join e having count(*) > 1").unwrap(),
            None
        );
        assert_eq!(
            rewrite("select u.c1 from u join e having c1 in (select 1)").unwrap(),
            None
        );
    }
}
