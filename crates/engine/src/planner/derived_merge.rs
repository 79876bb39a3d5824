//! Merging a derived table into the query over it, as MySQL's `derived_merge` does:
//! `select j.name, count(*) from (select o.id, c.name from corder o join customer c on ...
//! where o.id < 200) j where j.id > 5 group by j.name` is planned as `select c.name,
//! count(*) from corder o join customer c on ... where o.id < 200 and o.id > 5 group by
//! c.name`, so the outer query gets the whole planner (expressions on the shards, joins,
//! aggregation, routing by its WHERE) instead of what vtgate computes over derived rows.
//!
//! Only a derived table that passes its FROM's rows on one by one (no aggregation, GROUP
//! BY, DISTINCT, HAVING, window, LIMIT or WITH), whose columns are expressions without
//! subqueries or functions whose value changes between calls, under an outer query without
//! subqueries. The merged query is a plan's first choice only: where the planner cannot
//! take it, the derived table is planned on its own as before.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, ObjectNamePart, OrderByKind, Query, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableFactor,
};

use super::derived::derived_columns;
use super::derived_routing::{and_all, Rename};
use super::order::{features, features_of_expr};

/// Functions whose value may differ between two calls in one statement: a derived column
/// computed by one is read once per row, and merging would call it once per reference.
const VOLATILE: &[&str] = &[
    "rand",
    "uuid",
    "uuid_short",
    "sys_guid",
    "sysdate",
    "sleep",
    "benchmark",
    "get_lock",
    "release_lock",
    "is_free_lock",
    "is_used_lock",
    "nextval",
    "lastval",
    "setval",
    "last_insert_id",
    "row_count",
    "found_rows",
];

/// `original` with its one derived table merged into it, when that keeps its rows.
pub(super) fn merge_derived(original: &Query) -> Option<Query> {
    let SetExpr::Select(outer) = original.body.as_ref() else {
        return None;
    };
    if original.with.is_some() || !original.locks.is_empty() || outer.into.is_some() {
        return None;
    }
    let [only] = outer.from.as_slice() else {
        return None;
    };
    let TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        sample: None,
    } = &only.relation
    else {
        return None;
    };
    if !only.joins.is_empty() {
        return None;
    }
    let inner = row_by_row(subquery)?;
    // Subqueries of the outer query would see the inner tables' names.
    let mut outer_only = original.clone();
    if let SetExpr::Select(s) = outer_only.body.as_mut() {
        s.from.clear();
    }
    if features(&outer_only).subquery {
        return None;
    }
    let names = derived_columns(subquery, alias).ok()?;
    if names.len() != inner.projection.len() {
        return None;
    }
    // Each column, the expression it reads, and whether its name is an alias or a column's
    // (`select *` over an unaliased expression would name it after its text as written).
    let mut columns = Vec::new();
    let mut named = Vec::new();
    for (name, item) in names.into_iter().zip(&inner.projection) {
        let (expr, unnamed) = match item {
            SelectItem::UnnamedExpr(e) => (e, true),
            SelectItem::ExprWithAlias { expr, .. } => (expr, false),
            _ => return None,
        };
        if !substitutable(expr) {
            return None;
        }
        let is_column = matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
        named.push(is_column || !unnamed);
        columns.push((name, Some(expr.clone())));
    }
    let outer_aliases: Vec<String> = outer
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect();
    // A bare inner column named like an outer alias would read the alias in the merged
    // ORDER BY, GROUP BY or HAVING.
    let bare = |e: &Expr| {
        let mut names = Vec::new();
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Identifier(i) = x {
                names.push(i.value.clone());
            }
            ControlFlow::<()>::Continue(())
        });
        names
    };
    if columns
        .iter()
        .flat_map(|(_, e)| e.iter().flat_map(bare))
        .any(|n| outer_aliases.iter().any(|a| a.eq_ignore_ascii_case(&n)))
    {
        return None;
    }
    let derived = alias.name.value.as_str();
    let rename = Rename {
        alias: derived,
        columns: Some(&columns),
        keep: &[],
    };
    // GROUP BY, HAVING and ORDER BY may name the outer select's aliases.
    let rename_keys = Rename {
        keep: &outer_aliases,
        ..rename
    };
    let mut merged = original.clone();
    let SetExpr::Select(select) = merged.body.as_mut() else {
        return None;
    };
    // The select list: its columns keep the names the derived table gives them.
    let mut projection = Vec::new();
    for item in &outer.projection {
        match item {
            SelectItem::Wildcard(_) => expand(&columns, &named, &mut projection)?,
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _)
                if matches!(n.0.as_slice(), [ObjectNamePart::Identifier(t)] if t.value == derived) =>
            {
                expand(&columns, &named, &mut projection)?
            }
            SelectItem::UnnamedExpr(e) => {
                let new = rename.apply(e.clone())?;
                projection.push(match column_name(e, derived, &columns) {
                    Some(name) => SelectItem::ExprWithAlias {
                        expr: new,
                        alias: Ident::new(name),
                    },
                    None => SelectItem::UnnamedExpr(new),
                });
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                projection.push(SelectItem::ExprWithAlias {
                    expr: rename.apply(expr.clone())?,
                    alias: alias.clone(),
                });
            }
            _ => return None,
        }
    }
    select.projection = projection;
    if names_a_repeated_alias(original, &select.projection) {
        return None;
    }
    select.from = inner.from.clone();
    let condition = match &outer.selection {
        Some(c) => Some(rename.apply(c.clone())?),
        None => None,
    };
    select.selection = and_all(inner.selection.iter().cloned().chain(condition).collect());
    // A literal left alone as a sort or group key would read as a column position.
    let keyed = |e: &mut Expr| {
        *e = rename_keys.apply(e.clone())?;
        (!matches!(e, Expr::Value(_))).then_some(())
    };
    match &mut select.group_by {
        GroupByExpr::Expressions(exprs, _) => {
            for e in exprs {
                keyed(e)?;
            }
        }
        GroupByExpr::All(_) => return None,
    }
    if let Some(h) = select.having.as_mut() {
        *h = rename_keys.apply(h.clone())?;
    }
    if let Some(order) = merged.order_by.as_mut() {
        let OrderByKind::Expressions(exprs) = &mut order.kind else {
            return None;
        };
        for o in exprs {
            keyed(&mut o.expr)?;
        }
    }
    Some(merged)
}

/// Whether a bare name in `query`'s GROUP BY, HAVING or ORDER BY could read one of two
/// select items of one alias in `projection` (MariaDB's 1052), where the query as written
/// had one (the aliases a rewrite gives its columns may repeat one).
pub(super) fn names_a_repeated_alias(query: &Query, projection: &[SelectItem]) -> bool {
    let mut aliases: Vec<String> = projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    aliases.sort_unstable();
    let repeated: Vec<&String> = aliases
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    if repeated.is_empty() {
        return false;
    }
    let SetExpr::Select(s) = query.body.as_ref() else {
        return true;
    };
    let mut found = false;
    let mut look = |e: &Expr| {
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Identifier(i) = x {
                found |= repeated.contains(&&i.value.to_ascii_lowercase());
            }
            ControlFlow::<()>::Continue(())
        });
    };
    if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
        exprs.iter().for_each(&mut look);
    }
    if let Some(h) = &s.having {
        look(h);
    }
    if let Some(OrderByKind::Expressions(exprs)) = query.order_by.as_ref().map(|o| &o.kind) {
        exprs.iter().for_each(|o| look(&o.expr));
    }
    found
}

/// The SELECT of a derived table that passes its FROM's rows on one by one, and whose
/// text has nothing else that merging would lose (TOP, QUALIFY, WINDOW, modifiers).
fn row_by_row(q: &Query) -> Option<&sqlparser::ast::Select> {
    let s = super::derived_routing::row_by_row(q)?;
    let plain = s.top.is_none()
        && s.qualify.is_none()
        && s.named_window.is_empty()
        && s.select_modifiers.is_none();
    plain.then_some(s)
}

/// Whether a derived column's expression may be computed once per reference.
fn substitutable(e: &Expr) -> bool {
    if features_of_expr(e).subquery {
        return false;
    }
    struct Volatile(bool);
    impl sqlparser::ast::Visitor for Volatile {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Function(f) => {
                    let name = f.name.to_string().to_ascii_lowercase();
                    if VOLATILE.contains(&name.as_str()) {
                        self.0 = true;
                    }
                }
                Expr::BinaryOp {
                    op: sqlparser::ast::BinaryOperator::Assignment,
                    ..
                } => self.0 = true,
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Volatile(false);
    let _ = sqlparser::ast::Visit::visit(e, &mut v);
    !v.0
}

/// `select *` over the derived table: each column under its name.
fn expand(
    columns: &[(String, Option<Expr>)],
    named: &[bool],
    out: &mut Vec<SelectItem>,
) -> Option<()> {
    for ((name, expr), named) in columns.iter().zip(named) {
        out.push(SelectItem::ExprWithAlias {
            expr: expr.clone().filter(|_| *named)?,
            alias: Ident::new(name),
        });
    }
    Some(())
}

/// The name MariaDB gives an unaliased select item that reads a derived column: the
/// column's (`select j.CID` answers `cid`). Other items are named after their text.
fn column_name(e: &Expr, derived: &str, columns: &[(String, Option<Expr>)]) -> Option<String> {
    let name = match e {
        Expr::Identifier(c) => c,
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [t, c] if t.value == derived => c,
            _ => return None,
        },
        _ => return None,
    };
    columns
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&name.value))
        .map(|(n, _)| n.clone())
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::Statement;

    use super::super::tests::describe;
    use super::merge_derived;

    fn merged(sql: &str) -> Option<String> {
        let Statement::Query(q) = sql::parse::parse(sql).unwrap() else {
            panic!("not a query")
        };
        merge_derived(&q).map(|m| m.to_string())
    }

    #[test]
    fn a_row_by_row_derived_table_merges_into_the_outer_query() {
        assert_eq!(
            merged(
                "select t.n, count(*), t.p * 2 from (select u.name as n, u.x + 1 as p, e.k \
                 from user u join extra e on e.k = u.col where u.id > 3) t \
                 where t.k = 2 group by t.n, t.p having count(*) > 1 order by t.n"
            )
            .unwrap(),
            "SELECT u.name AS n, count(*), (u.x + 1) * 2 FROM user u JOIN extra e ON e.k = u.col \
             WHERE u.id > 3 AND e.k = 2 GROUP BY u.name, (u.x + 1) HAVING count(*) > 1 \
             ORDER BY u.name"
        );
        // `*` and a derived column read bare keep the derived table's names; the outer
        // select's aliases stay in ORDER BY.
        assert_eq!(
            merged(
                "select *, t.K, t.id + 1 as z from (select id, col as k from user) t order by z"
            )
            .unwrap(),
            "SELECT id AS id, col AS k, col AS k, id + 1 AS z FROM user ORDER BY z"
        );
    }

    #[test]
    fn the_merged_query_is_planned_when_the_planner_takes_it() {
        // A function of a derived column: computed on the shards, not refused in vtgate.
        let text = describe(
            "select lower(t.name) from (select user.name, music.id from user \
             join music on music.user_id = user.col) t where t.id = 3",
        )
        .to_string();
        assert!(text.contains("SELECT lower(user.name)"), "{text}");
    }

    #[test]
    fn what_would_change_the_rows_or_names_is_not_merged() {
        for sql in [
            "select * from (select id from user limit 3) t",
            "select * from (select distinct id from user) t",
            "select * from (select col, count(*) as n from user group by col) t",
            "select * from (select id, row_number() over () as r from user) t",
            "select * from (select id, rand() as r from user) t",
            "select * from (select id, (select 1) as s from user) t",
            "select * from (select id + 1 from user) t",
            "select t.id from (select id from user) t where t.id in (select 1)",
            "select t.id as col from (select id, col from user) t order by col",
            "select t.id from (select id from user) t where other = 1",
            "select t.id from (select id from user) t join extra e on e.k = t.id",
            // A literal column as a sort or group key would read as a position.
            "select t.a, t.b from (select id as a, col as b, 2 as k from user) t order by t.k",
            "select count(*), t.k from (select id, 1 as k from user) t group by t.k",
            // An inner bare column named like an outer alias would read the alias.
            "select t.id + 1 as col from (select id, col from user) t order by t.col",
            // A column named like an alias, where the query orders by that name.
            "select t.a, t.b as a from (select id as a, col as b from user) t order by a",
        ] {
            assert_eq!(merged(sql), None, "{sql}");
        }
    }
}
