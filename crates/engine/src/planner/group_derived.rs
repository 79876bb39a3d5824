//! A parenthesized join group that the nested-loop chain cannot take in
//! place (see `from_items::push_item` for those it flattens), as a derived
//! table: `c LEFT JOIN (o JOIN p ON op) ON oc` becomes
//! `c LEFT JOIN (SELECT o.x AS vt_g0, p.y AS vt_g1 FROM o JOIN p ON op)
//! AS vt_group ON ...`, and `a JOIN b ON ab RIGHT JOIN c ON cond` becomes
//! `c LEFT JOIN (a JOIN b ON ab) ON cond` first. The derived table has the
//! group's rows, and its columns are the group's columns the query reads, so
//! the rows are the same; a LEFT JOIN with a derived table on its right is a
//! nested loop whose right side is the derived table's own plan (merged, see
//! `derived_merge`) run per left row.
//!
//! Only when every column of the query is qualified by its table (an
//! unqualified one may belong to the group) but for the outer select's
//! aliases in GROUP BY, HAVING and ORDER BY, and without subqueries, `*` or
//! NATURAL/USING joins.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, Join, JoinConstraint, JoinOperator, ObjectNamePart, OrderByKind,
    Query, SelectItem, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins, VisitMut,
    VisitorMut,
};

use super::derived_merge::names_a_repeated_alias;
use super::order::{features, is_wildcard};
use super::using::constraint;

/// The alias of the derived table a group becomes.
const GROUP: &str = "vt_group";

/// `original` with its first join group the chain cannot take made a derived table; `None`
/// when there is none or the query is outside what this rewrite keeps exact.
pub(super) fn group_as_derived(original: &Query) -> Option<Query> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return None;
    };
    if features(original).subquery
        || select.projection.iter().any(is_wildcard)
        || original.with.is_some()
        || select.into.is_some()
    {
        return None;
    }
    let mut query = original.clone();
    let SetExpr::Select(s) = query.body.as_mut() else {
        return None;
    };
    let [twj] = s.from.as_mut_slice() else {
        return None;
    };
    right_join_as_left(twj)?;
    // The first join (LEFT or inner, with an ON condition) whose right side is a group.
    let at = twj.joins.iter().position(|j| {
        matches!(
            j.join_operator,
            JoinOperator::Left(JoinConstraint::On(_))
                | JoinOperator::LeftOuter(JoinConstraint::On(_))
                | JoinOperator::Join(JoinConstraint::On(_))
                | JoinOperator::Inner(JoinConstraint::On(_))
        ) && matches!(j.relation, TableFactor::NestedJoin { alias: None, .. })
    })?;
    let TableFactor::NestedJoin {
        table_with_joins: group,
        ..
    } = &twj.joins[at].relation
    else {
        return None;
    };
    let group = (**group).clone();
    let members = member_names(&group)?;
    let aliases: Vec<String> = s
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let mut columns = Columns {
        members: &members,
        read: Vec::new(),
        ok: true,
        aliases: &[],
    };
    // Names: an unaliased column of the group keeps its name as written.
    for item in &mut s.projection {
        if let SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(_)) = item {
            if let Some(name) = columns.member_column(e) {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: name,
                };
            }
        }
    }
    // The group's columns, read by the select list, the ON conditions (the group's own
    // included) and the WHERE, become the derived table's.
    let _ = VisitMut::visit(&mut s.projection, &mut columns);
    for j in &mut s.from[0].joins {
        if let JoinOperator::Left(JoinConstraint::On(e))
        | JoinOperator::LeftOuter(JoinConstraint::On(e))
        | JoinOperator::Join(JoinConstraint::On(e))
        | JoinOperator::Inner(JoinConstraint::On(e)) = &mut j.join_operator
        {
            let _ = VisitMut::visit(e, &mut columns);
        }
    }
    if let Some(w) = s.selection.as_mut() {
        let _ = VisitMut::visit(w, &mut columns);
    }
    columns.aliases = &aliases;
    if let GroupByExpr::Expressions(exprs, _) = &mut s.group_by {
        for e in exprs {
            let _ = VisitMut::visit(e, &mut columns);
        }
    }
    if let Some(h) = s.having.as_mut() {
        let _ = VisitMut::visit(h, &mut columns);
    }
    if let Some(order) = query.order_by.as_mut() {
        let OrderByKind::Expressions(exprs) = &mut order.kind else {
            return None;
        };
        for o in exprs {
            let _ = VisitMut::visit(&mut o.expr, &mut columns);
        }
    }
    if !columns.ok {
        return None;
    }
    if names_a_repeated_alias(original, &s.projection) {
        return None;
    }
    let items: Vec<String> = columns
        .read
        .iter()
        .enumerate()
        .map(|(n, e)| format!("{e} AS vt_g{n}"))
        .collect();
    let items = if items.is_empty() {
        "1 AS vt_g0".to_string()
    } else {
        items.join(", ")
    };
    let Ok(Statement::Query(subquery)) = sql::parse::parse(&format!("select {items} from {group}"))
    else {
        return None;
    };
    s.from[0].joins[at].relation = TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(TableAlias {
            explicit: true,
            name: Ident::new(GROUP),
            columns: Vec::new(),
            at: None,
        }),
        sample: None,
    };
    Some(query)
}

/// `a JOIN b ... RIGHT JOIN c ON cond ...` as `c LEFT JOIN (a JOIN b ...) ON cond ...`:
/// for a RIGHT JOIN after the first join (the chain takes a first one itself). `None` for
/// a RIGHT JOIN it cannot turn.
fn right_join_as_left(twj: &mut TableWithJoins) -> Option<()> {
    let Some(n) = twj.joins.iter().skip(1).position(|j| {
        matches!(
            j.join_operator,
            JoinOperator::Right(_) | JoinOperator::RightOuter(_)
        )
    }) else {
        return Some(());
    };
    let n = n + 1;
    let mut rest = twj.joins.split_off(n);
    let right = rest.remove(0);
    let (JoinOperator::Right(JoinConstraint::On(on))
    | JoinOperator::RightOuter(JoinConstraint::On(on))) = right.join_operator
    else {
        return None;
    };
    if twj.joins.iter().chain(&rest).any(|j| {
        matches!(
            j.join_operator,
            JoinOperator::Right(_) | JoinOperator::RightOuter(_)
        )
    }) {
        return None;
    }
    let group = TableFactor::NestedJoin {
        table_with_joins: Box::new(TableWithJoins {
            relation: twj.relation.clone(),
            joins: std::mem::take(&mut twj.joins),
        }),
        alias: None,
    };
    twj.relation = right.relation;
    twj.joins = std::iter::once(Join {
        relation: group,
        global: false,
        join_operator: JoinOperator::Left(JoinConstraint::On(on)),
    })
    .chain(rest)
    .collect();
    Some(())
}

/// The names the group's tables are read by (aliases, else table names), lowercased.
fn member_names(group: &TableWithJoins) -> Option<Vec<String>> {
    fn add(t: &TableFactor, out: &mut Vec<String>) -> Option<()> {
        match t {
            TableFactor::Table { alias: Some(a), .. }
            | TableFactor::Derived { alias: Some(a), .. } => {
                out.push(a.name.value.to_ascii_lowercase())
            }
            TableFactor::Table { name, .. } => match name.0.last()? {
                ObjectNamePart::Identifier(i) => out.push(i.value.to_ascii_lowercase()),
                _ => return None,
            },
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => walk(table_with_joins, out)?,
            _ => return None,
        }
        Some(())
    }
    fn walk(twj: &TableWithJoins, out: &mut Vec<String>) -> Option<()> {
        add(&twj.relation, out)?;
        for j in &twj.joins {
            let constraint = constraint(&j.join_operator)?;
            if !matches!(constraint, JoinConstraint::On(_) | JoinConstraint::None) {
                return None;
            }
            add(&j.relation, out)?;
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(group, &mut out)?;
    Some(out)
}

/// Rewrites reads of the group's columns into the derived table's, collecting them.
struct Columns<'a> {
    members: &'a [String],
    /// The group's columns read, in order: the derived table's `vt_g<n>`.
    read: Vec<Expr>,
    ok: bool,
    /// The outer select's aliases, which a bare name may read (GROUP BY, HAVING, ORDER BY).
    aliases: &'a [String],
}

impl Columns<'_> {
    /// The column name of `t.c` when `t` is one of the group's tables.
    fn member_column(&self, e: &Expr) -> Option<Ident> {
        match e {
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] if self.members.contains(&t.value.to_ascii_lowercase()) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        }
    }
}

impl VisitorMut for Columns<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::Identifier(name) if !self.aliases.contains(&name.value.to_ascii_lowercase()) => {
                self.ok = false;
                return ControlFlow::Break(());
            }
            Expr::CompoundIdentifier(parts) => {
                if parts.len() > 2 {
                    self.ok = false;
                    return ControlFlow::Break(());
                }
                if self.member_column(e).is_some() {
                    let n = match self.read.iter().position(|r| same_column(r, e)) {
                        Some(n) => n,
                        None => {
                            self.read.push(e.clone());
                            self.read.len() - 1
                        }
                    };
                    *e = Expr::CompoundIdentifier(vec![
                        Ident::new(GROUP),
                        Ident::new(format!("vt_g{n}")),
                    ]);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn same_column(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::CompoundIdentifier(x), Expr::CompoundIdentifier(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.value.eq_ignore_ascii_case(&q.value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::Statement;

    use super::super::tests::describe;
    use super::group_as_derived;

    fn rewritten(sql: &str) -> Option<String> {
        let Statement::Query(q) = sql::parse::parse(sql).unwrap() else {
            panic!("not a query")
        };
        group_as_derived(&q).map(|m| m.to_string())
    }

    #[test]
    fn a_group_on_the_right_of_a_left_join_becomes_a_derived_table() {
        assert_eq!(
            rewritten(
                "select u.id, m.id, count(x.col) as n from user u left join (music m join user x \
                 on x.name = m.user_id) on m.user_id = u.col where x.col is null or u.id > 2 \
                 group by u.id, m.id order by n, M.ID"
            )
            .unwrap(),
            "SELECT u.id, vt_group.vt_g0 AS id, count(vt_group.vt_g1) AS n FROM user u \
             LEFT JOIN (SELECT m.id AS vt_g0, x.col AS vt_g1, m.user_id AS vt_g2 FROM \
             music m JOIN user x ON x.name = m.user_id) AS vt_group \
             ON vt_group.vt_g2 = u.col WHERE vt_group.vt_g1 IS NULL OR u.id > 2 \
             GROUP BY u.id, vt_group.vt_g0 ORDER BY n, vt_group.vt_g0"
        );
        // A RIGHT JOIN after a join: the joined tables are the group.
        assert_eq!(
            rewritten(
                "select u.id, r.id from user u join music m on m.user_id = u.id \
                 right join ref r on r.id = u.col"
            )
            .unwrap(),
            "SELECT vt_group.vt_g0 AS id, r.id FROM ref r LEFT JOIN (SELECT u.id AS vt_g0, \
             u.col AS vt_g1 FROM user u JOIN music m ON m.user_id = u.id) AS vt_group \
             ON r.id = vt_group.vt_g1"
        );
        let d = describe(
            "select u.id, m.id from user u left join (music m join user x on x.name = m.user_id) \
             on m.user_id = u.col",
        );
        assert_eq!(d["Variant"], "LeftJoin", "{d}");
    }

    #[test]
    fn unqualified_columns_stars_and_subqueries_are_not_rewritten() {
        for sql in [
            "select id from user u left join (music m join user x on x.name = m.user_id) on m.user_id = u.col",
            "select * from user u left join (music m join user x on x.name = m.user_id) on m.user_id = u.col",
            "select u.id from user u left join (music m join user x on x.name = m.user_id) on m.user_id = u.col where u.id in (select 1)",
        ] {
            assert_eq!(rewritten(sql), None, "{sql}");
        }
    }
}
