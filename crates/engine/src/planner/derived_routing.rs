//! Routing a query over plain derived tables by its own WHERE too:
//! `select ... from (select id as foo from user) as t where t.foo = 5`
//! reads only `user` rows with `id = 5`, since each derived table here
//! only filters and renames the rows below it (no aggregation, DISTINCT,
//! LIMIT or window). The outer conditions are rewritten onto the table's
//! columns, level by level, and join the inner WHERE clauses in choosing
//! the shards; the query itself is sent unchanged.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, TableAlias,
    TableFactor, VisitMut, Visitor, VisitorMut,
};

use super::derived::derived_columns;
use super::order::{features, features_of_expr};
use super::routing::conjuncts;

/// The conditions every row of `select`'s one table must meet for the
/// row to reach the result: its own WHERE and those of the plain derived
/// tables above it, rewritten onto its columns. Conditions that cannot be
/// rewritten (over computed columns, with subqueries) are left out, which
/// only routes more widely.
pub(super) fn table_conditions(select: &Select) -> Vec<Expr> {
    let mut conds: Vec<Expr> = conjuncts(select.selection.as_ref())
        .into_iter()
        .cloned()
        .collect();
    let mut current = select;
    loop {
        let [only] = current.from.as_slice() else {
            return Vec::new();
        };
        let (subquery, alias) = match &only.relation {
            _ if !only.joins.is_empty() => return Vec::new(),
            TableFactor::Table { .. } => return conds,
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias: Some(alias),
                sample: None,
            } => (subquery, alias),
            _ => return Vec::new(),
        };
        let Some(inner) = plain_select(subquery) else {
            return Vec::new();
        };
        // `select *` passes every column of the row below under its own name.
        let star = matches!(
            inner.projection.as_slice(),
            [SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)]
        );
        let columns: Vec<(String, Option<Expr>)> = if star {
            Vec::new()
        } else {
            let Ok(names) = derived_columns(subquery, alias) else {
                return Vec::new();
            };
            names
                .into_iter()
                .zip(
                    inner
                        .projection
                        .iter()
                        .map(bare_column)
                        .chain(std::iter::repeat(None)),
                )
                .collect()
        };
        let rename = Rename {
            alias: &alias.name.value,
            columns: (!star).then_some(columns.as_slice()),
            keep: &[],
        };
        conds = conds
            .into_iter()
            .filter_map(|c| rename.apply(c))
            .chain(conjuncts(inner.selection.as_ref()).into_iter().cloned())
            .collect();
        current = inner;
    }
}

/// The SELECT of `q` when each of its rows is one row of its FROM item,
/// filtered and renamed (no aggregation, grouping, DISTINCT, HAVING,
/// window, LIMIT or WITH), over one table or such a derived table.
pub(super) fn plain_select(q: &Query) -> Option<&Select> {
    let s = row_by_row(q)?;
    let [only] = s.from.as_slice() else {
        return None;
    };
    match &only.relation {
        _ if !only.joins.is_empty() => None,
        TableFactor::Table { .. } => Some(s),
        TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(_),
            sample: None,
        } => plain_select(subquery).map(|_| s),
        _ => None,
    }
}

/// The SELECT of `q` when it passes its FROM's rows on one by one, filtered
/// and computed: no aggregation, grouping, DISTINCT, HAVING, window, LIMIT,
/// WITH, INTO or locking clause.
pub(super) fn row_by_row(q: &Query) -> Option<&Select> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let f = features(q);
    let grouped =
        !matches!(&s.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let plain = !(f.aggregate
        || f.window
        || grouped
        || s.distinct.is_some()
        || s.having.is_some()
        || s.into.is_some()
        || q.limit_clause.is_some()
        || q.fetch.is_some()
        || q.with.is_some()
        || !q.locks.is_empty());
    plain.then_some(s)
}

/// Moves the outer WHERE's conditions on a derived table's pass-through columns into its
/// own WHERE, so that planning it can route by them (`select * from (select u.id, e.k from
/// user u join extra e ...) t where t.id = 5` reads user 5 only). `outer` selects from the
/// derived table `subquery` named `alias`; the answer is the derived table's query with
/// the moved conditions, and what stays of the outer WHERE.
///
/// A moved condition reads the same columns (same values, types and collations) under
/// their inner names, so the rows are the same. `None` when nothing moves: the derived table
/// is not row by row (aggregation, DISTINCT, LIMIT, window, UNION), or no condition reads
/// its plain columns alone; conditions with function calls stay (one could be `rand()`).
pub(super) fn move_outer_conditions(
    outer: &Select,
    subquery: &Query,
    alias: &TableAlias,
) -> Option<(Query, Option<Expr>)> {
    let inner = row_by_row(subquery)?;
    let columns: Vec<(String, Option<Expr>)> = derived_columns(subquery, alias)
        .ok()?
        .into_iter()
        .zip(inner.projection.iter().map(bare_column))
        .collect();
    if inner.projection.len() != columns.len() {
        return None;
    }
    let rename = Rename {
        alias: &alias.name.value,
        columns: Some(&columns),
        keep: &[],
    };
    let mut moved = Vec::new();
    let mut kept = Vec::new();
    for c in conjuncts(outer.selection.as_ref()) {
        match rename.apply(c.clone()).filter(|_| !calls_a_function(c)) {
            Some(inner_cond) => moved.push(inner_cond),
            None => kept.push(c.clone()),
        }
    }
    if moved.is_empty() {
        return None;
    }
    let mut narrowed = subquery.clone();
    let SetExpr::Select(select) = narrowed.body.as_mut() else {
        return None;
    };
    let own = select.selection.take();
    select.selection = and_all(own.into_iter().chain(moved).collect());
    Some((narrowed, and_all(kept)))
}

/// Whether `e` calls a function anywhere, or reads no column at all.
fn calls_a_function(e: &Expr) -> bool {
    struct Calls {
        function: bool,
        column: bool,
    }
    impl Visitor for Calls {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Function(_) => self.function = true,
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => self.column = true,
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut calls = Calls {
        function: false,
        column: false,
    };
    let _ = sqlparser::ast::Visit::visit(e, &mut calls);
    calls.function || !calls.column
}

/// The column a select item passes through unchanged, if it is one.
fn bare_column(item: &SelectItem) -> Option<Expr> {
    let e = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return None,
    };
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)).then(|| e.clone())
}

/// Rewrites references to a derived table's columns into the inner
/// expressions they read (parenthesized where they are not atomic).
pub(super) struct Rename<'a> {
    /// The derived table's name.
    pub alias: &'a str,
    /// Each column and what it reads (`None`: nothing a reference can be renamed to);
    /// `None` for `select *`, which passes every column through under its name.
    pub columns: Option<&'a [(String, Option<Expr>)]>,
    /// Bare names left as they are (the outer select's aliases, which GROUP BY, HAVING and
    /// ORDER BY may name); one that is also a column fails.
    pub keep: &'a [String],
}

impl Rename<'_> {
    /// `cond` renamed, `None` when a reference cannot be (or `cond` has a subquery).
    pub(super) fn apply(&self, mut cond: Expr) -> Option<Expr> {
        if features_of_expr(&cond).subquery {
            return None;
        }
        let mut r = Renaming {
            rename: self,
            ok: true,
        };
        let _ = cond.visit(&mut r);
        r.ok.then_some(cond)
    }

    fn inner(&self, name: &Ident) -> Option<Expr> {
        let Some(columns) = self.columns else {
            return Some(Expr::Identifier(name.clone()));
        };
        let e = columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name.value))
            .and_then(|(_, e)| e.as_ref())?;
        Some(match e {
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Value(_)
            | Expr::Function(_)
            | Expr::Nested(_) => e.clone(),
            e => Expr::Nested(Box::new(e.clone())),
        })
    }
}

struct Renaming<'a> {
    rename: &'a Rename<'a>,
    ok: bool,
}

impl VisitorMut for Renaming<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let r = self.rename;
        let renamed = match e {
            Expr::Identifier(c) => {
                let kept = r.keep.iter().any(|k| k.eq_ignore_ascii_case(&c.value));
                match (r.inner(c), kept) {
                    (None, true) => return ControlFlow::Continue(()),
                    (inner, false) => inner,
                    (Some(_), true) => None,
                }
            }
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] if t.value == r.alias => r.inner(c),
                _ => None,
            },
            _ => return ControlFlow::Continue(()),
        };
        match renamed {
            Some(inner) => *e = inner,
            None => {
                self.ok = false;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// The AND of `conds`, `None` when there are none.
pub(super) fn and_all(conds: Vec<Expr>) -> Option<Expr> {
    conds.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(super::routing::and_operand(a)),
        op: BinaryOperator::And,
        right: Box::new(super::routing::and_operand(b)),
    })
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::{SetExpr, Statement};

    use super::super::tests::describe;
    use super::table_conditions;

    fn conditions(sql: &str) -> Vec<String> {
        let Statement::Query(q) = sql::parse::parse(sql).unwrap() else {
            panic!("not a query")
        };
        let SetExpr::Select(s) = q.body.as_ref() else {
            panic!("not a select")
        };
        table_conditions(s).iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn outer_conditions_are_renamed_onto_the_table_level_by_level() {
        assert_eq!(
            conditions(
                "select * from (select b as c from (select id as b, name from user where col = 1) \
                 as t1 where t1.name = 'x') as t2 where t2.c = 5 and c > 2"
            ),
            ["id = 5", "id > 2", "name = 'x'", "col = 1"]
        );
        assert_eq!(
            conditions("select a from (select user.id, name from user) u (a, n) where u.n = 1"),
            ["name = 1"]
        );
        // `*` passes every column through under its name.
        assert_eq!(
            conditions(
                "select t.x from (select * from (select id as k, x from user where col = 1) a) t \
                 where t.k = 5 and x > 1 and other.id = 3"
            ),
            ["id = 5", "x > 1", "col = 1"]
        );
    }

    #[test]
    fn conditions_over_computed_columns_or_with_subqueries_are_left_out() {
        assert_eq!(
            conditions(
                "select f from (select id + 1 as f, id from user) t \
                 where f = 5 and id in (select 1) and other.id = 3"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn nothing_routes_through_a_derived_table_that_is_not_row_by_row() {
        for sql in [
            "select * from (select id from user limit 10) t where id = 5",
            "select * from (select id, count(*) from user group by id) t where id = 5",
            "select * from (select distinct id from user) t where id = 5",
            "select * from (select id from (select id from user limit 2) a) t where id = 5",
        ] {
            assert_eq!(conditions(sql), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn outer_conditions_narrow_a_derived_join() {
        let d = describe(
            "select t.id from (select user.id, user.col + 1 as c from user join music \
             on music.user_id = user.col) as t where t.id = 5 and t.c = 3",
        );
        let text = d.to_string();
        // The user side reads user 5 only; the condition on a computed column stays in vtgate.
        assert!(text.contains("FROM user WHERE user.id = 5"), "{text}");
        assert!(!text.contains("user.col + 1 = 3"), "{text}");
        // Not into a derived table that is not row by row.
        for sql in [
            "select t.id from (select user.id from user join music on music.user_id = user.col \
             limit 3) as t where t.id = 5",
            "select t.id from (select distinct user.id from user join music \
             on music.user_id = user.col) as t where t.id = 5",
        ] {
            let text = describe(sql).to_string();
            assert!(!text.contains("user.id = 5"), "{sql}: {text}");
        }
    }

    #[test]
    fn a_query_over_plain_derived_tables_routes_by_its_where() {
        let d = describe(
            "select * from (select x as y from (select id as x from user) as a) as b where y = 12",
        );
        assert_eq!(
            (d["Variant"].as_str(), d["Values"][0].as_str()),
            (Some("EqualUnique"), Some("12"))
        );
        let d = describe("select f from (select id + 1 as f from user) t where f = 8");
        assert_eq!(d["OperatorType"], "Route");
        assert_eq!(d["Variant"], "Scatter");
    }
}
