//! The names MariaDB gives a SELECT's unaliased expression columns: the expression's text as
//! the client wrote it (`email is null`, `price*2`). A statement planned across shards reaches
//! MariaDB printed from its syntax tree (`email IS NULL`, `price * 2`), so the planner's
//! results are renamed with these.

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement, UnaryOperator, Value};

use crate::classify::Tokens;

/// MariaDB names a column after at most this many bytes of its text; longer ones keep the
/// name the shards give.
const MAX_NAME: usize = 256;

/// For each select item of `stmt` (the first SELECT of a UNION) up to the first `*`: the text
/// of an unaliased expression as written in `sql`, or `None` where the printed statement
/// already gives MariaDB's name (columns, aliases, literals) or the text cannot be told.
pub fn as_written(stmt: &Statement, sql: &str) -> Vec<Option<String>> {
    let Statement::Query(query) = stmt else {
        return Vec::new();
    };
    let Some(items) = first_select_items(query) else {
        return Vec::new();
    };
    let Some(texts) = item_texts(sql) else {
        return Vec::new();
    };
    let wildcard = items.iter().position(|i| {
        matches!(
            i,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    if wildcard.is_none() && texts.len() != items.len() {
        return Vec::new();
    }
    let mut names = Vec::new();
    for (item, text) in items
        .iter()
        .zip(&texts)
        .take(wildcard.unwrap_or(items.len()))
    {
        names.push(match item {
            SelectItem::UnnamedExpr(Expr::Value(v)) => string_name(&v.value),
            SelectItem::UnnamedExpr(e) if named(e) => checked(e, text),
            _ => None,
        });
    }
    while names.last() == Some(&None) {
        names.pop();
    }
    names
}

fn first_select_items(query: &Query) -> Option<&[SelectItem]> {
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::Select(s) => return Some(&s.projection),
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(q) => body = q.body.as_ref(),
            _ => return None,
        }
    }
}

/// Whether MariaDB's name for `e` is its text (not a column's or a literal's own name).
fn named(e: &Expr) -> bool {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Value(_) => false,
        Expr::TypedString { .. } | Expr::Prefixed { .. } => false,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => !matches!(expr.as_ref(), Expr::Value(_)),
        _ => true,
    }
}

/// The text of each item of the first SELECT's select list (after any WITH), split at the
/// commas outside parentheses; `None` when the statement does not start with that SELECT.
fn item_texts(sql: &str) -> Option<Vec<&str>> {
    let mut t = Tokens::new(sql);
    let offset = |tok: &str| tok.as_ptr() as usize - sql.as_ptr() as usize;
    let mut tok = t.next()?;
    if tok.eq_ignore_ascii_case("with") {
        // Past the common table expressions (their bodies are parenthesized).
        let mut depth = 0usize;
        loop {
            tok = t.next()?;
            match tok {
                "(" => depth += 1,
                ")" => depth = depth.checked_sub(1)?,
                _ if depth == 0 && tok.eq_ignore_ascii_case("select") => break,
                _ => {}
            }
        }
    }
    while tok == "(" {
        tok = t.next()?;
    }
    if !tok.eq_ignore_ascii_case("select") {
        return None;
    }
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut modifiers = true;
    for tok in t {
        let is = |k: &str| tok.eq_ignore_ascii_case(k);
        if modifiers {
            let modifier = [
                "distinct",
                "distinctrow",
                "all",
                "high_priority",
                "straight_join",
            ]
            .iter()
            .any(|k| is(k))
                || tok.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sql_"));
            if modifier {
                continue;
            }
            modifiers = false;
        }
        if depth == 0 {
            let ends = [
                "from",
                "into",
                "where",
                "group",
                "having",
                "order",
                "limit",
                "union",
                "window",
                "for",
                "lock",
                "except",
                "intersect",
                ";",
                ")",
            ]
            .iter()
            .any(|k| is(k));
            if ends {
                break;
            }
            if tok == "," {
                items.push(&sql[start?..end]);
                start = None;
                continue;
            }
        }
        match tok {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            _ => {}
        }
        start.get_or_insert(offset(tok));
        end = offset(tok) + tok.len();
    }
    items.push(&sql[start?..end]);
    Some(items)
}

/// A string literal's column name: its value (`select 'none'` names a column `none`).
fn string_name(v: &Value) -> Option<String> {
    let (Value::SingleQuotedString(raw) | Value::DoubleQuotedString(raw)) = v else {
        return None;
    };
    let quote = if matches!(v, Value::SingleQuotedString(_)) {
        b'\''
    } else {
        b'"'
    };
    let name = String::from_utf8(crate::literal::unescape_quoted(raw, quote)).ok()?;
    (name.len() <= MAX_NAME).then_some(name)
}

/// `text` when it reads back as `e`.
fn checked(e: &Expr, text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_NAME {
        return None;
    }
    let reparsed = crate::parse::parse(&format!("select {text}")).ok()?;
    let Statement::Query(q) = reparsed else {
        return None;
    };
    match first_select_items(&q)? {
        [SelectItem::UnnamedExpr(back)] if back.to_string() == e.to_string() => {
            Some(text.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<Option<String>> {
        as_written(&crate::parse::parse(sql).unwrap(), sql)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_main_select_of_a_with_statement_is_named() {
        assert_eq!(
            names(
                "with j as (select a, b from t), k (x) as (select 1) select j.a div 10, b from j"
            ),
            [some("j.a div 10")]
        );
        assert_eq!(
            names("WITH RECURSIVE r AS (select 1 as n union all select n+1 from r where n<3) SELECT n*2 FROM r"),
            [some("n*2")]
        );
    }

    #[test]
    fn expressions_keep_their_text() {
        assert_eq!(
            names("select email is null, price*2, concat(a,'x'), COUNT( * ) from t"),
            [
                some("email is null"),
                some("price*2"),
                some("concat(a,'x')"),
                some("COUNT( * )")
            ]
        );
        assert_eq!(
            names("select a,\n  b+1 ,c as x, 'lit', -1, - a from t where b = :vtg1"),
            [None, some("b+1"), None, some("lit"), None, some("- a")]
        );
        // Values vtgate took out of the text: named when the plan runs (`Plan::execute`).
        assert_eq!(
            names("select (select 1 from u where x = :vtg1), :vtx1 + 0, 'it''s' from t"),
            [
                some("(select 1 from u where x = :vtg1)"),
                some(":vtx1 + 0"),
                some("it's")
            ]
        );
        assert_eq!(
            names("select ünï, lower(ünï)  from t"),
            [None, some("lower(ünï)")]
        );
    }

    #[test]
    fn the_first_select_of_a_union_names_the_columns() {
        assert_eq!(
            names("select x+1 from a union select y from b"),
            [some("x+1")]
        );
        assert_eq!(names("select a+1, *, b+1 from t"), [some("a+1")]);
        assert_eq!(names("insert into t values (1)"), []);
    }
}
