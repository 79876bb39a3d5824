//! `WITH RECURSIVE` over sharded tables, iterated in vtgate ([`RecurseCte`], as Vitess's
//! RecurseCTE): the CTE must be one SELECT (the seed) `UNION [ALL | DISTINCT]` one SELECT
//! (the recursive part) that reads the CTE once, inner-joined at the top of its FROM. The
//! recursive part becomes a query of its other tables (`dual` when there is none) in which
//! the CTE's columns are bind variables, planned like any query (so `e.manager_id =
//! :vt_cte_1` routes by vindex when it can), and run per row of the previous iteration;
//! that is exact because MySQL's recursive part may not aggregate, group, sort or limit.
//! The statement's own query reads the CTE as a derived table computed by vtgate
//! ([`plan_derived_rows`]).
//!
//! A statement that joins the CTE reads it as a derived table holding the recursive
//! statement reduced to the CTE ([`plan_joined`]); no plan may send that to a shard.
//!
//! Refused: several CTEs, more than two SELECTs, the CTE LEFT JOINed or read twice, aggregates,
//! DISTINCT, ORDER BY or LIMIT in the recursive part, an unqualified CTE column beside other
//! tables (which table has it is not known).

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, ObjectNamePart,
    Query, Select, SetExpr, SetOperator, SetQuantifier, Statement, TableAlias, TableFactor,
    TableWithJoins, Value as AstValue, Visit, VisitMut, Visitor, VisitorMut,
};

use super::derived::{derived_columns, plan_derived_rows};
use super::derived_routing::and_all;
use super::order::features;
use super::select::{plan_select, plan_side};
use super::Context;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::recurse_cte::RecurseCte;

fn refuse(what: &str) -> EngineError {
    EngineError::unsupported(format!("WITH RECURSIVE across shards: {what}"))
}

/// Whether `f` is a plain reference to the CTE `name`.
fn is_cte(f: &TableFactor, name: &str) -> bool {
    matches!(f, TableFactor::Table { name: n, args: None, .. }
        if matches!(n.0.as_slice(), [ObjectNamePart::Identifier(t)] if t.value.eq_ignore_ascii_case(name)))
}

/// How many times `v` reads the CTE `name` as a table.
fn references<V: Visit>(v: &V, name: &str) -> usize {
    struct Count<'a> {
        name: &'a str,
        n: usize,
    }
    impl Visitor for Count<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
            if is_cte(f, self.name) {
                self.n += 1;
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = Count { name, n: 0 };
    let _ = v.visit(&mut c);
    c.n
}

fn as_query(select: Select) -> Query {
    Query {
        with: None,
        body: Box::new(SetExpr::Select(Box::new(select))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    }
}

fn inner_on(op: &JoinOperator) -> Option<Option<&Expr>> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::StraightJoin(c) => match c {
            JoinConstraint::On(e) => Some(Some(e)),
            JoinConstraint::None => Some(None),
            _ => None,
        },
        _ => None,
    }
}

/// The recursive part without the CTE: its FROM without it (its ON conditions moved to
/// WHERE), the qualifier its columns had, and whether it was the only table.
fn without_cte(term: &Select, name: &str) -> Result<(Select, String, bool)> {
    let mut select = term.clone();
    let mut moved: Vec<Expr> = Vec::new();
    let mut qualifier = None;
    let mut from = Vec::new();
    for twj in &term.from {
        if twj.joins.iter().any(|j| {
            matches!(
                j.join_operator,
                JoinOperator::Right(_) | JoinOperator::RightOuter(_)
            )
        }) {
            return Err(refuse("RIGHT JOIN in the recursive part"));
        }
        let alias_of = |f: &TableFactor| match f {
            TableFactor::Table { alias, .. } => alias
                .as_ref()
                .map_or(name.to_string(), |a| a.name.value.clone()),
            _ => name.to_string(),
        };
        if is_cte(&twj.relation, name) {
            qualifier = Some(alias_of(&twj.relation));
            let mut joins = twj.joins.iter();
            match joins.next() {
                None => {}
                Some(first) => {
                    let on = inner_on(&first.join_operator)
                        .ok_or_else(|| refuse("the CTE outer-joined in the recursive part"))?;
                    moved.extend(on.cloned());
                    from.push(TableWithJoins {
                        relation: first.relation.clone(),
                        joins: joins.cloned().collect(),
                    });
                }
            }
            continue;
        }
        let mut kept = TableWithJoins {
            relation: twj.relation.clone(),
            joins: Vec::new(),
        };
        for j in &twj.joins {
            if is_cte(&j.relation, name) {
                qualifier = Some(alias_of(&j.relation));
                let on = inner_on(&j.join_operator)
                    .ok_or_else(|| refuse("the CTE outer-joined in the recursive part"))?;
                moved.extend(on.cloned());
            } else {
                kept.joins.push(j.clone());
            }
        }
        from.push(kept);
    }
    let qualifier =
        qualifier.ok_or_else(|| refuse("the CTE inside a join of the recursive part"))?;
    if from.is_empty() {
        from.push(dual()?);
    }
    let only_cte = from.len() == 1
        && from[0].joins.is_empty()
        && matches!(&from[0].relation, TableFactor::Table { name, .. } if name.to_string().eq_ignore_ascii_case("dual"));
    select.from = from;
    let mut conds: Vec<Expr> = select.selection.take().into_iter().collect();
    conds.extend(moved);
    select.selection = and_all(conds);
    Ok((select, qualifier, only_cte))
}

/// `dual` as a FROM item.
fn dual() -> Result<TableWithJoins> {
    let parsed = sql::parse::parse("select 1 from dual")
        .map_err(|e| EngineError::BadResult(e.message().to_string()))?;
    if let sqlparser::ast::Statement::Query(q) = parsed {
        if let SetExpr::Select(s) = *q.body {
            if let Some(t) = s.from.into_iter().next() {
                return Ok(t);
            }
        }
    }
    Err(EngineError::BadResult("select 1 from dual".into()))
}

/// The name of the bind variable that carries CTE column `i`.
fn var(i: usize) -> String {
    format!("vt_cte_{i}")
}

/// Replaces the CTE's columns in `select` by bind variables; `alone` when the CTE was its
/// only table (then unqualified names are the CTE's too). Gives the columns it replaced.
fn bind_columns(
    select: &mut Select,
    qualifier: &str,
    alone: bool,
    cols: &[String],
) -> Result<Vec<usize>> {
    let mut used = Vec::new();
    let position = |c: &str| cols.iter().position(|x| x.eq_ignore_ascii_case(c));
    let mut failed = None;
    let _ = visit_expressions_mut(select, |e| {
        let found = match e {
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c] if q.value == qualifier => match position(&c.value) {
                    Some(i) => Some(i),
                    None => {
                        failed = Some(EngineError::mysql(
                            1054,
                            "42S22",
                            format!("Unknown column '{q}.{c}' in 'field list'"),
                        ));
                        return ControlFlow::Break(());
                    }
                },
                _ => None,
            },
            Expr::Identifier(c) => match position(&c.value) {
                Some(i) if alone => Some(i),
                Some(_) => {
                    failed = Some(refuse(&format!(
                        "the unqualified CTE column {c} beside other tables"
                    )));
                    return ControlFlow::Break(());
                }
                None => None,
            },
            _ => None,
        };
        if let Some(i) = found {
            *e = Expr::value(AstValue::Placeholder(format!(":{}", var(i))));
            if !used.contains(&i) {
                used.push(i);
            }
        }
        ControlFlow::Continue(())
    });
    failed.map_or(Ok(used), Err)
}

/// Plans `original` (a statement whose WITH RECURSIVE reads sharded tables).
pub(super) fn plan_iterated(ctx: &Context, original: &Query) -> Result<Box<dyn Primitive>> {
    let Some(with) = &original.with else {
        return Err(refuse("no WITH"));
    };
    let [cte] = with.cte_tables.as_slice() else {
        return Err(refuse("several CTEs"));
    };
    if cte.materialized.is_some() || cte.from.is_some() {
        return Err(refuse("a MATERIALIZED hint or FROM"));
    }
    let name = cte.alias.name.value.as_str();
    let q = &cte.query;
    if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() || !q.locks.is_empty() {
        return Err(refuse("WITH, ORDER BY or LIMIT on the CTE's UNION"));
    }
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        set_quantifier,
        left,
        right,
    } = q.body.as_ref()
    else {
        return Err(refuse("a CTE other than one SELECT UNION [ALL] one SELECT"));
    };
    let distinct = match set_quantifier {
        SetQuantifier::All => false,
        SetQuantifier::Distinct | SetQuantifier::None => true,
        _ => return Err(refuse("a CTE other than one SELECT UNION [ALL] one SELECT")),
    };
    let (SetExpr::Select(seed), SetExpr::Select(term)) = (left.as_ref(), right.as_ref()) else {
        return Err(refuse("a CTE other than one SELECT UNION [ALL] one SELECT"));
    };
    if references(seed.as_ref(), name) != 0 || references(term.as_ref(), name) != 1 {
        return Err(refuse(
            "the CTE read other than once, in its recursive part",
        ));
    }
    let grouped =
        !matches!(&term.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let used = features(&as_query(term.as_ref().clone()));
    if grouped || term.having.is_some() || term.distinct.is_some() || used.aggregate || used.window
    {
        return Err(refuse(
            "a recursive part that aggregates, groups or is DISTINCT",
        ));
    }
    let cols = derived_columns(q, &cte.alias)?;
    if term.projection.len() != cols.len() {
        return Err(EngineError::mysql(
            1222,
            "21000",
            "The used SELECT statements have a different number of columns",
        ));
    }
    let (mut rest, qualifier, alone) = without_cte(term, name)?;
    let used = bind_columns(&mut rest, &qualifier, alone, &cols)?;
    let seed_plan = plan_side(ctx, &as_query(seed.as_ref().clone()).to_string())?;
    let term_plan = plan_side(ctx, &as_query(rest).to_string())?;
    let recurse = RecurseCte {
        seed: seed_plan,
        term: term_plan,
        // Only the columns the recursive part reads: a text column of a collation vtgate
        // cannot bind exactly is refused only when it is read.
        vars: used.into_iter().map(|i| (var(i), i)).collect(),
        distinct,
    };
    // The statement's query over the CTE's rows, as over a derived table.
    let mut outer = original.clone();
    outer.with = None;
    if references(&outer, name) != 1 {
        return Err(refuse("the statement reads the CTE twice"));
    }
    let SetExpr::Select(select) = outer.body.as_mut() else {
        return Err(refuse("a UNION over the CTE"));
    };
    let only_cte = matches!(select.from.as_slice(), [only] if only.joins.is_empty() && is_cte(&only.relation, name));
    if !only_cte {
        return plan_joined(ctx, original, &cols);
    }
    let [only] = select.from.as_mut_slice() else {
        return Err(refuse("the CTE joined with other tables"));
    };
    let alias = match &only.relation {
        TableFactor::Table { alias: Some(a), .. } => a.name.clone(),
        _ => cte.alias.name.clone(),
    };
    only.relation = TableFactor::Derived {
        lateral: false,
        subquery: q.clone(),
        alias: Some(TableAlias {
            explicit: true,
            name: alias,
            columns: cte.alias.columns.clone(),
            at: None,
        }),
        sample: None,
    };
    plan_derived_rows(&outer, Box::new(recurse))
}

/// Plans a statement that joins the CTE (or reads it in a subquery): each reference becomes
/// a derived table holding the recursive statement reduced to its CTE
/// (`(with recursive r as (...) select r.a, r.b from r) as r`), which the join planners
/// plan on its own, landing in [`plan_iterated`] again.
fn plan_joined(ctx: &Context, original: &Query, cols: &[String]) -> Result<Box<dyn Primitive>> {
    let Some(with) = &original.with else {
        return Err(refuse("no WITH"));
    };
    let name = with.cte_tables[0].alias.name.clone();
    let mut reduced = sql::parse::parse(&format!(
        "select {} from {}",
        cols.iter()
            .map(|c| format!("{}.{}", name, Ident::with_quote('`', c)))
            .collect::<Vec<_>>()
            .join(", "),
        name
    ))
    .map_err(|e| EngineError::BadResult(e.message().to_string()))
    .and_then(|s| match s {
        Statement::Query(q) => Ok(*q),
        _ => Err(EngineError::BadResult("not a query".into())),
    })?;
    reduced.with = Some(with.clone());
    let mut outer = original.clone();
    outer.with = None;
    let mut replace = Replace {
        name: &name.value,
        reduced: &reduced,
    };
    let _ = VisitMut::visit(&mut outer, &mut replace);
    // plan_select refuses a plan that would send the reduced statement to shards.
    Ok(plan_select(ctx, &Statement::Query(Box::new(outer)))?.instructions)
}

struct Replace<'a> {
    name: &'a str,
    reduced: &'a Query,
}

impl VisitorMut for Replace<'_> {
    type Break = ();
    fn post_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
        if !is_cte(f, self.name) {
            return ControlFlow::Continue(());
        }
        let alias = match f {
            TableFactor::Table { alias: Some(a), .. } => a.name.clone(),
            _ => Ident::new(self.name),
        };
        *f = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(self.reduced.clone()),
            alias: Some(TableAlias {
                explicit: true,
                name: alias,
                columns: Vec::new(),
                at: None,
            }),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}
