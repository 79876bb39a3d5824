//! `SELECT SQL_CALC_FOUND_ROWS ... LIMIT n`: MySQL counts the rows the
//! statement would give without its LIMIT, for a later `FOUND_ROWS()`.
//! Through vtgate the statement and `FOUND_ROWS()` may reach different
//! pooled connections (or shards), so vtgate runs the statement without the
//! modifier, then a second query that counts its rows, as Vitess's
//! `SQLCalcFoundRows` primitive does.

use sqlparser::ast::{
    Expr, GroupByExpr, Query, SelectItem, SetExpr, Statement, Value, ValueWithSpan,
};

use crate::split::{comment_at, quoted_end};

const MODIFIER: &str = "sql_calc_found_rows";

/// A top-level `SELECT SQL_CALC_FOUND_ROWS` split in two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalcFoundRows {
    /// The client's statement without the modifier (its text otherwise unchanged).
    pub query: String,
    /// With a LIMIT: a query giving the number of rows without it. Without
    /// one, `FOUND_ROWS()` is the number of rows the statement returns.
    pub count: Option<String>,
}

/// The split statement, when `sql` is a query whose top-level (first)
/// SELECT has `SQL_CALC_FOUND_ROWS`. A nested one is left to the planner or
/// MySQL, which refuse it.
pub fn split(sql: &str) -> Option<CalcFoundRows> {
    let at = first_modifier(sql)?;
    let Ok(Statement::Query(query)) = crate::parse::parse(sql) else {
        return None;
    };
    if !first_select_calcs(&query.body) {
        return None;
    }
    let stripped = format!("{}{}", &sql[..at], &sql[at + MODIFIER.len()..]);
    let count = query.limit_clause.is_some().then(|| count_query(&query));
    Some(CalcFoundRows {
        query: stripped,
        count,
    })
}

/// Byte offset of the first `SQL_CALC_FOUND_ROWS` word outside quotes and
/// comments (executable comments are code: searched too).
fn first_modifier(sql: &str) -> Option<usize> {
    let b = sql.as_bytes();
    if !mentions_modifier(b) {
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => i = quoted_end(b, i),
            _ => match comment_at(b, i) {
                Some((crate::split::CommentKind::Executable, _)) => i += 3,
                Some((_, end)) => i = end,
                None => {
                    let word_start = i == 0 || !is_word(b[i - 1]);
                    let end = i + MODIFIER.len();
                    if word_start
                        && b.get(i..end)
                            .is_some_and(|w| w.eq_ignore_ascii_case(MODIFIER.as_bytes()))
                        && b.get(end).is_none_or(|c| !is_word(*c))
                    {
                        return Some(i);
                    }
                    i += 1;
                }
            },
        }
    }
    None
}

/// Whether the modifier's letters appear anywhere (in quotes and comments too): every
/// SELECT is checked, and this finds none in most at a few instructions a byte, by looking
/// only around each `_`, where [`first_modifier`]'s scan weighs every byte.
fn mentions_modifier(b: &[u8]) -> bool {
    // The modifier's first `_` and the bytes before it.
    const BEFORE: usize = 3;
    b.iter().enumerate().any(|(i, &c)| {
        c == b'_'
            && i >= BEFORE
            && b.get(i - BEFORE..i - BEFORE + MODIFIER.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(MODIFIER.as_bytes()))
    })
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Whether the first SELECT of `body` (the left-most of a UNION) has the
/// modifier.
fn first_select_calcs(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => s
            .select_modifiers
            .as_ref()
            .is_some_and(|m| m.sql_calc_found_rows),
        SetExpr::SetOperation { left, .. } => first_select_calcs(left),
        SetExpr::Query(q) => first_select_calcs(&q.body),
        _ => false,
    }
}

/// `SELECT COUNT(*) FROM (<query without ORDER BY, LIMIT, locks>) AS t`.
/// A plain SELECT (no grouping, DISTINCT, HAVING or function in its select
/// list) selects `1` inside, so that columns of the same name do not clash.
fn count_query(query: &Query) -> String {
    let mut inner = query.clone();
    inner.order_by = None;
    inner.limit_clause = None;
    inner.locks.clear();
    inner.for_clause = None;
    clear_modifier(&mut inner.body);
    if let SetExpr::Select(s) = inner.body.as_mut() {
        let grouped = !matches!(&s.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
        let functions = s.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                e.to_string().contains('(')
            }
            _ => false,
        });
        if !grouped && s.distinct.is_none() && s.having.is_none() && !functions {
            s.projection = vec![SelectItem::UnnamedExpr(Expr::Value(ValueWithSpan::from(
                Value::Number("1".into(), false),
            )))];
        }
    }
    format!("select count(*) from ({inner}) as vt_found_rows")
}

fn clear_modifier(body: &mut SetExpr) {
    match body {
        SetExpr::Select(s) => {
            if let Some(m) = s.select_modifiers.as_mut() {
                m.sql_calc_found_rows = false;
            }
        }
        SetExpr::SetOperation { left, .. } => clear_modifier(left),
        SetExpr::Query(q) => clear_modifier(&mut q.body),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_limited_select() {
        let c =
            split("SELECT SQL_CALC_FOUND_ROWS * FROM t WHERE a > 1 ORDER BY a LIMIT 2, 3").unwrap();
        assert_eq!(
            c.query,
            "SELECT  * FROM t WHERE a > 1 ORDER BY a LIMIT 2, 3"
        );
        assert_eq!(
            c.count.as_deref(),
            Some("select count(*) from (SELECT 1 FROM t WHERE a > 1) as vt_found_rows")
        );
    }

    #[test]
    fn grouped_selects_and_unions_keep_their_columns() {
        let c = split("select sql_calc_found_rows a, count(*) from t group by a limit 1").unwrap();
        assert_eq!(
            c.count.as_deref(),
            Some("select count(*) from (SELECT a, count(*) FROM t GROUP BY a) as vt_found_rows")
        );
        let c = split("select sql_calc_found_rows a from t union select b from u limit 1").unwrap();
        assert_eq!(
            c.count.as_deref(),
            Some("select count(*) from (SELECT a FROM t UNION SELECT b FROM u) as vt_found_rows")
        );
    }

    #[test]
    fn the_modifier_is_found_in_any_case_and_at_the_very_end() {
        assert!(mentions_modifier(b"SELECT SQL_CALC_FOUND_ROWS"));
        assert!(mentions_modifier(b"sql_calc_found_rows"));
        assert!(!mentions_modifier(b"sql_calc_found_row"));
        assert!(!mentions_modifier(b"_calc_found_rows x"));
        let c = split("select /*!40000 SQL_Calc_Found_Rows */ a from t limit 1").unwrap();
        assert_eq!(c.query, "select /*!40000  */ a from t limit 1");
    }

    #[test]
    fn without_limit_there_is_nothing_to_count() {
        let c = split("select sql_calc_found_rows a from t").unwrap();
        assert_eq!(c.query, "select  a from t");
        assert_eq!(c.count, None);
    }

    #[test]
    fn quotes_comments_and_nested_uses_are_left_alone() {
        assert_eq!(split("select 'sql_calc_found_rows' from t limit 1"), None);
        assert_eq!(
            split("select a /* sql_calc_found_rows */ from t limit 1"),
            None
        );
        assert_eq!(split("select my_sql_calc_found_rows from t limit 1"), None);
        assert_eq!(split("select sql_calc_found_row from t limit 1"), None);
        assert_eq!(split("select c from sbtest1 where id = 5"), None);
        assert_eq!(
            split("select * from (select sql_calc_found_rows a from t) x limit 1"),
            None
        );
    }
}
