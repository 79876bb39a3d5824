//! `JOIN ... USING (c)` written as `JOIN ... ON l.c = r.c`, where the
//! columns of the tables on the left are known (an authoritative or tracked
//! column list, a derived table's select list), so that a join the shards
//! cannot run whole can be planned like any other.
//!
//! MySQL joins `USING (c)` on the left operand's one column `c` (a column
//! an earlier USING coalesced counts once) and the right table's `c`; an
//! unqualified `c` elsewhere in the query is the coalesced column, which
//! for an inner or left join is the left column's value. So every such `c`
//! outside subqueries is qualified with the left table (a query with a
//! select alias of another value named like `c` is not rewritten). `SELECT *` lists the
//! shared columns first, in the left operand's order, then the left's
//! other columns, then the right's, as MySQL does. Not rewritten, and left
//! to the rest of the planner: `*` over a table whose columns are not known,
//! `t.*` next to USING, RIGHT JOIN, and a column the left tables do not have
//! exactly once. NATURAL JOIN is USING every column the right table shares with the
//! left ones.

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, JoinConstraint, JoinOperator, OrderByKind, Query, SelectItem,
    SetExpr, TableFactor, VisitMut, VisitorMut,
};

use super::nested_join::Unit;
use super::order::is_wildcard;
use super::Context;
use crate::error::{EngineError, Result};

/// The query with its top-level USING joins written as ON, or None when it
/// has none or one of them cannot be rewritten.
pub(super) fn using_to_on(ctx: &Context, q: &Query) -> Result<Option<Query>> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(None);
    };
    let has_using = select.from.iter().flat_map(|t| &t.joins).any(|j| {
        matches!(
            constraint(&j.join_operator),
            Some(JoinConstraint::Using(_) | JoinConstraint::Natural)
        )
    });
    let star = select
        .projection
        .iter()
        .any(|i| matches!(i, SelectItem::Wildcard(o) if o.to_string().is_empty()));
    let other_wildcard = select.projection.iter().any(|i| {
        is_wildcard(i) && !matches!(i, SelectItem::Wildcard(o) if o.to_string().is_empty())
    });
    if !has_using || other_wildcard {
        return Ok(None);
    }
    let mut out = q.clone();
    let SetExpr::Select(select) = out.body.as_mut() else {
        return Ok(None);
    };
    // Unqualified USING column (lowercase) to the column it stands for.
    let mut coalesced: HashMap<String, Vec<Ident>> = HashMap::new();
    let mut left: Vec<Unit> = Vec::new();
    // The columns `*` stands for so far, qualified; None when some are not known.
    let mut output: Option<Vec<Vec<Ident>>> = Some(Vec::new());
    for twj in select.from.iter_mut() {
        let Some(first) = unit(ctx, &twj.relation)? else {
            return Ok(None);
        };
        extend(&mut output, &first, &[]);
        left.push(first);
        for j in twj.joins.iter_mut() {
            let Some(right) = unit(ctx, &j.relation)? else {
                return Ok(None);
            };
            let inner_or_left = matches!(
                j.join_operator,
                JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::Left(_)
                    | JoinOperator::LeftOuter(_)
            );
            let names: Vec<Ident> = match constraint(&j.join_operator) {
                Some(JoinConstraint::Using(names)) if inner_or_left => {
                    let mut cols = Vec::new();
                    for name in names {
                        match name.0.as_slice() {
                            [col] => match col.as_ident() {
                                Some(c) => cols.push(c.clone()),
                                None => return Ok(None),
                            },
                            _ => return Ok(None),
                        }
                    }
                    cols
                }
                // NATURAL: USING every column the right table shares with the left.
                Some(JoinConstraint::Natural) if inner_or_left => match &right.columns {
                    Some(cols) => cols
                        .iter()
                        .filter(|c| {
                            coalesced.contains_key(&c.to_ascii_lowercase())
                                || left.iter().any(|i| lists(i, c))
                        })
                        .map(|c| Ident::new(c.as_str()))
                        .collect(),
                    None => return Ok(None),
                },
                Some(JoinConstraint::Using(_) | JoinConstraint::Natural) => return Ok(None),
                _ => {
                    extend(&mut output, &right, &[]);
                    left.push(right);
                    continue;
                }
            };
            let mut on: Option<Expr> = None;
            for col in &names {
                let key = col.value.to_ascii_lowercase();
                let Some(l) = coalesced
                    .get(&key)
                    .cloned()
                    .or_else(|| only_one_with(&left, &col.value))
                else {
                    return Ok(None);
                };
                if !lists(&right, &col.value) {
                    return Ok(None);
                }
                let eq = Expr::BinaryOp {
                    left: Box::new(Expr::CompoundIdentifier(l.clone())),
                    op: BinaryOperator::Eq,
                    right: Box::new(Expr::CompoundIdentifier(right.column(col))),
                };
                on = Some(match on {
                    None => eq,
                    Some(prev) => Expr::BinaryOp {
                        left: Box::new(prev),
                        op: BinaryOperator::And,
                        right: Box::new(eq),
                    },
                });
                coalesced.insert(key, l);
            }
            // A NATURAL join sharing no column is a cross join.
            let on = on.map_or(JoinConstraint::None, JoinConstraint::On);
            set_constraint(&mut j.join_operator, on);
            // `*`: the shared columns first, in the left operand's order.
            if let Some(cols) = output.as_mut() {
                let shared = |c: &Vec<Ident>| {
                    c.last().is_some_and(|l| {
                        names.iter().any(|n| n.value.eq_ignore_ascii_case(&l.value))
                    })
                };
                let (mut first, rest): (Vec<_>, Vec<_>) = cols.drain(..).partition(shared);
                first.extend(rest);
                *cols = first;
            }
            extend(&mut output, &right, &names);
            left.push(right);
        }
    }
    if star {
        let Some(columns) = output else {
            return Ok(None);
        };
        select.projection = select
            .projection
            .drain(..)
            .flat_map(|i| match i {
                SelectItem::Wildcard(_) => columns
                    .iter()
                    .map(|c| SelectItem::UnnamedExpr(Expr::CompoundIdentifier(c.clone())))
                    .collect(),
                other => vec![other],
            })
            .collect();
    }
    // A select alias of another value named like a USING column: MySQL reads
    // the name as one or the other depending on the clause; not rewritten.
    let shadowed = select.projection.iter().any(|i| match i {
        SelectItem::ExprWithAlias { alias, expr } => {
            coalesced.contains_key(&alias.value.to_ascii_lowercase())
                && !matches!(expr, Expr::Identifier(id) if id.value.eq_ignore_ascii_case(&alias.value))
        }
        _ => false,
    });
    if shadowed {
        return Ok(None);
    }
    let mut qualify = Qualify::new(&coalesced);
    for item in select.projection.iter_mut() {
        // An unaliased item keeps the name MySQL gives it, its text as written.
        if let SelectItem::UnnamedExpr(e) = item {
            if matches!(e, Expr::Identifier(_)) {
                let _ = e.visit(&mut qualify);
                continue;
            }
            let before = e.to_string();
            let _ = e.visit(&mut qualify);
            if e.to_string() != before {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::with_quote('`', before),
                };
            }
            continue;
        }
        let _ = item.visit(&mut qualify);
    }
    let _ = select.selection.visit(&mut qualify);
    let _ = select.group_by.visit(&mut qualify);
    let _ = select.having.visit(&mut qualify);
    for twj in select.from.iter_mut() {
        for j in twj.joins.iter_mut() {
            if let Some(JoinConstraint::On(e)) = constraint_mut(&mut j.join_operator) {
                let _ = e.visit(&mut qualify);
            }
        }
    }
    if let Some(order) = out.order_by.as_mut() {
        if let OrderByKind::Expressions(exprs) = &mut order.kind {
            for o in exprs {
                let _ = o.expr.visit(&mut qualify);
            }
        }
    }
    Ok(Some(out))
}

/// Adds `item`'s columns but `except` to what `*` stands for.
fn extend(output: &mut Option<Vec<Vec<Ident>>>, item: &Unit, except: &[Ident]) {
    let (Some(out), Some(cols)) = (output.as_mut(), &item.columns) else {
        *output = None;
        return;
    };
    out.extend(
        cols.iter()
            .filter(|c| !except.iter().any(|e| e.value.eq_ignore_ascii_case(c)))
            .map(|c| item.column(&Ident::new(c.as_str()))),
    );
}

/// A FROM item as a [`Unit`]; None for one the rewrite leaves alone.
fn unit(ctx: &Context, factor: &TableFactor) -> Result<Option<Unit>> {
    match Unit::of(ctx, factor) {
        Ok(u) => Ok(Some(u)),
        Err(EngineError::Unsupported(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `u`'s columns are known and include `name`.
fn lists(u: &Unit, name: &str) -> bool {
    u.columns
        .as_ref()
        .is_some_and(|c| c.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

/// The qualifier of the one item of `items` with column `name`.
fn only_one_with(items: &[Unit], name: &str) -> Option<Vec<Ident>> {
    let mut with = items.iter().filter(|i| lists(i, name));
    match (with.next(), with.next()) {
        (Some(i), None) => Some(i.column(&Ident::new(name))),
        _ => None,
    }
}

/// The constraint (ON, USING...) of a join that has one.
pub(super) fn constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        _ => None,
    }
}

/// The constraint (ON, USING...) of a join that has one.
pub(super) fn constraint_mut(op: &mut JoinOperator) -> Option<&mut JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        _ => None,
    }
}

fn set_constraint(op: &mut JoinOperator, c: JoinConstraint) {
    if let Some(slot) = constraint_mut(op) {
        *slot = c;
    }
}

/// Qualifies bare column names (lower case in `columns`, with the qualified
/// name each stands for), outside subqueries.
pub(super) struct Qualify<'a> {
    columns: &'a HashMap<String, Vec<Ident>>,
    /// How many subqueries deep the visit is.
    depth: usize,
}

impl<'a> Qualify<'a> {
    pub(super) fn new(columns: &'a HashMap<String, Vec<Ident>>) -> Self {
        Qualify { columns, depth: 0 }
    }
}

impl VisitorMut for Qualify<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            if let Expr::Identifier(id) = e {
                if let Some(q) = self.columns.get(&id.value.to_ascii_lowercase()) {
                    *e = Expr::CompoundIdentifier(q.clone());
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use crate::planner::plan;

    const VSCHEMA: &str = r#"{"keyspaces": {"ks": {"sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "a": {"column_vindexes": [{"column": "id", "name": "hash"}],
                  "columns": [{"name": "id"}, {"name": "c"}, {"name": "x"}],
                  "column_list_authoritative": true},
            "b": {"column_vindexes": [{"column": "id", "name": "hash"}],
                  "columns": [{"name": "id"}, {"name": "c"}, {"name": "y"}],
                  "column_list_authoritative": true},
            "d": {"column_vindexes": [{"column": "id", "name": "hash"}],
                  "columns": [{"name": "id"}, {"name": "c"}],
                  "column_list_authoritative": true},
            "u": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}}}"#;

    fn describe(sql: &str) -> Result<String, String> {
        let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
        let vs = vschema::VSchema::build(&srv);
        let stmt = sql::parse::parse(sql).unwrap();
        plan(&stmt, &vs, Some("ks"))
            .map(|p| p.description().to_json().to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn using_on_a_non_vindex_column_becomes_a_nested_join_on_it() {
        let d = describe("select c, x, y from a join b using (c) where c > 3 order by c").unwrap();
        assert!(d.contains("\"OperatorType\":\"Join\""), "{d}");
        assert!(d.contains("SELECT a.c, x FROM a WHERE a.c > 3"), "{d}");
        assert!(d.contains("SELECT y FROM b WHERE :a_c_1_0 = b.c"), "{d}");
    }

    #[test]
    fn using_on_the_vindex_column_goes_whole_to_the_shards() {
        let d = describe("select id, x from a left join b using (id)").unwrap();
        assert!(d.contains("\"OperatorType\":\"Route\""), "{d}");
        assert!(d.contains("LEFT JOIN b ON a.id = b.id"), "{d}");
    }

    #[test]
    fn a_coalesced_column_counts_once_in_a_chain() {
        let d = describe("select c from a join b using (c) join d using (c)").unwrap();
        assert!(d.contains("WHERE :a_c_2_0 = d.c"), "{d}");
    }

    #[test]
    fn star_lists_the_shared_columns_first() {
        let d = describe("select * from a join b using (c) join d using (c)").unwrap();
        assert!(d.contains("SELECT a.c, a.id, a.x FROM a"), "{d}");
        assert!(d.contains("SELECT b.id, b.y FROM b"), "{d}");
        assert!(d.contains("SELECT d.id FROM d"), "{d}");
        let d = describe("select * from b natural join d").unwrap();
        assert!(d.contains("SELECT b.id, b.c, b.y FROM b"), "{d}");
    }

    #[test]
    fn rewritten_items_keep_their_names() {
        let d = describe("select c, sum(x) from a join b using (c) group by c").unwrap();
        assert!(d.contains("AS sum(x)"), "{d}");
        let d = describe("select count(c) from a join b using (c)").unwrap();
        assert!(d.contains("AS count(c)"), "{d}");
        assert!(!d.contains("AS count(a.c)"), "{d}");
    }

    #[test]
    fn star_lists_the_tables_as_written() {
        // A RIGHT JOIN runs as b LEFT JOIN a; `*` stays a's columns, then b's.
        let d = describe("select * from a right join b on a.c = b.c").unwrap();
        assert!(
            d.contains("SELECT b.`id`, b.`c`, b.`y`, b.c FROM b\""),
            "{d}"
        );
        assert!(
            d.contains("SELECT a.`id`, a.`c`, a.`x` FROM a WHERE a.c = :b_c_1_0"),
            "{d}"
        );
        assert!(
            d.contains("\"JoinColumnIndexes\":\"R:0,R:1,R:2,L:0,L:1,L:2\""),
            "{d}"
        );
        let d = describe("select * from d join a on d.c = a.c right join b on a.x = b.y").unwrap();
        assert!(
            d.contains("\"JoinColumnIndexes\":\"R:0,R:1,R:2,R:3,R:4,L:0,L:1,L:2\""),
            "{d}"
        );
        // A parenthesized group lists its tables in place.
        let d = describe("select * from a left join (b join d on d.c = b.c) on b.y = a.x").unwrap();
        assert!(d.contains("SELECT a.`id`, a.`c`, a.`x`, a.x FROM a"), "{d}");
        assert!(
            d.contains("\"JoinColumnIndexes\":\"L:0,L:1,L:2,R:0,R:1,R:2,R:3,R:4\""),
            "{d}"
        );
        // Windows over the joined rows read the expanded columns.
        let d = describe(
            "select b.*, row_number() over (order by a.x) as n from a join b on b.y = a.x",
        )
        .unwrap();
        assert!(d.contains("\"OperatorType\":\"Window\""), "{d}");
        let e = describe("select * from a right join b using (c)").unwrap_err();
        assert!(e.contains("VT12001"), "{e}");
    }

    #[test]
    fn natural_joins_on_the_shared_columns() {
        // a and d share id (the vindex column) and c: one route.
        let d = describe("select x from a natural join d").unwrap();
        assert!(d.contains("ON a.id = d.id AND a.c = d.c"), "{d}");
    }

    #[test]
    fn what_cannot_be_rewritten_is_refused() {
        for sql in [
            "select a.*, y from a join b using (c)",
            "select x from a right join b using (c)",
            "select x from a natural right join b",
            // `u`'s columns are not known.
            "select x from a join u using (c)",
            // `c` is in both a and b: ambiguous for MySQL too.
            "select y from a join b on a.id = b.x join d using (c)",
            // `c` names both the alias and the USING column.
            "select x as c from a join b using (c) order by c",
        ] {
            let e = describe(sql).unwrap_err();
            assert!(e.contains("VT12001"), "{sql}: {e}");
        }
    }
}
