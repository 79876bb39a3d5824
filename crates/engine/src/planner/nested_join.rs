//! Planning a join that cannot be sent to the shards as one query
//! (different keyspaces, or sharded tables not joined on their vindex): a
//! left-deep chain of nested-loop [`Join`]s over single-table queries, in
//! FROM order or, when all are inner joins, the cheapest order (see
//! `join_order`).
//!
//! Every column must be qualified by its table. Each condition runs in the
//! query of the last table it reads (at the earliest the join's own table
//! for the ON clause of a LEFT JOIN), with the columns of earlier tables as
//! bind variables; select items run in the query of their table. A WHERE
//! condition on a table that was LEFT JOINed makes it an inner join or
//! runs over the joined rows (see `left_join_where`). `a RIGHT JOIN b` is
//! planned as `b LEFT JOIN a`, also at the head of a longer chain;
//! STRAIGHT_JOIN as an inner join kept in order (the chain: `from_items`).
//! A parenthesized group the chain cannot take, or a RIGHT JOIN later in
//! it, is planned as a derived table (see `group_derived`).
//! A select item reading several tables is computed in vtgate when it is
//! arithmetic or CONCAT (see `join_projection`), else by the query of the last
//! table it reads, with the earlier tables' columns bound as typed values (each
//! step's query: `join_steps`); an
//! expression on a LEFT JOINed table that need not be NULL over a missing row
//! takes that table's NULL row from a query (see `null_row`).
//! ORDER BY and LIMIT run in vtgate over the joined rows; an ORDER BY key
//! that is not selected is read by its table's query as a hidden column,
//! dropped after the sort. A step joined
//! on one column equality may be a hash join instead (see `hash`). Aggregation
//! and DISTINCT are planned by `join_aggregate`; `*` is expanded when the
//! columns of every FROM item are known. `USING` is written as ON before
//! planning where the columns are known (see `using`). Subqueries, NATURAL
//! and the USING joins left are refused.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, Query, SelectItem, SetExpr, TableFactor, TableWithJoins, VisitMut,
    VisitorMut,
};

use super::aggregation::{coalesce_args, extreme_args};
use super::derived::{derived_columns, plan_derived};
use super::from_items::{from_tables, FromItem};
use super::group_derived::group_as_derived;
use super::hash::{computed_derived, hash_key};
use super::having;
use super::join_aggregate::plan_join_aggregate;
use super::join_order::plan_cheapest;
use super::join_projection::{arith_over, concat_over, expand_wildcards};
use super::join_steps::{hidden_column, place_condition, Steps, TableQuery};
use super::left_join_where::{after_join, inner_when_rejected};
use super::null_row::{null_row_route, null_strict};
use super::order::{features, features_of_expr, is_wildcard, order_and_limit, order_columns};
use super::routing::conjuncts;
use super::tables::{resolve_name, Tables};
use super::union::PlanSide;
use super::using::constraint;
use super::window::plan_windows_over;
use super::Context;
use crate::error::{EngineError, Result};
use crate::filter::Filter;
use crate::hash_join::HashJoin;
use crate::join::{Join, JoinColumn, NullRow};
use crate::primitive::Primitive;
use crate::projection::{ProjectedColumn, Projection};

pub(super) fn refuse(why: &str) -> EngineError {
    EngineError::unsupported(format!("cross-shard join: {why}"))
}

/// One FROM item of the join (a table or a derived table), by the names
/// its columns are qualified with.
pub(super) struct Unit {
    /// Its alias, or the table's name as written.
    pub qualifier: String,
    /// `keyspace.table` for a table without alias.
    keyspace_table: Option<(String, String)>,
    /// Its columns, when known: a derived table's select list, a table's
    /// authoritative VSchema column list.
    pub columns: Option<Vec<String>>,
    /// Columns it surely has: those of `columns`, or a table's VSchema
    /// columns and vindex columns.
    declared: Vec<String>,
}

impl Unit {
    /// A table or an aliased derived table of FROM; other items (and `dual`)
    /// are refused.
    pub(super) fn of(ctx: &Context, factor: &TableFactor) -> Result<Unit> {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let table =
                    resolve_name(name, &ctx.scope())?.ok_or_else(|| refuse("dual in a join"))?;
                let written = name
                    .0
                    .last()
                    .map(|p| p.to_string().trim_matches('`').to_string())
                    .unwrap_or_default();
                Ok(Unit {
                    qualifier: alias
                        .as_ref()
                        .map_or_else(|| written.clone(), |a| a.name.value.clone()),
                    keyspace_table: alias
                        .is_none()
                        .then(|| (table.keyspace.name.clone(), written)),
                    columns: table
                        .column_list_authoritative
                        .then(|| table.columns.iter().map(|c| c.name.clone()).collect()),
                    declared: table.declared_columns().map(str::to_string).collect(),
                })
            }
            TableFactor::Derived {
                alias: Some(a),
                subquery,
                ..
            } => {
                let columns = match derived_columns(subquery, a) {
                    Ok(c) => Some(c),
                    Err(EngineError::Unsupported(_)) => None,
                    Err(e) => return Err(e),
                };
                Ok(Unit {
                    qualifier: a.name.value.clone(),
                    keyspace_table: None,
                    declared: columns.clone().unwrap_or_default(),
                    columns,
                })
            }
            _ => Err(refuse("derived table")),
        }
    }

    /// Whether it surely has column `name`.
    pub(super) fn declares(&self, name: &str) -> bool {
        self.declared.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// Its column `name`, qualified (`t.c`).
    pub(super) fn column(&self, name: &Ident) -> Vec<Ident> {
        vec![Ident::new(self.qualifier.as_str()), name.clone()]
    }
}

/// The join's FROM items as [`Unit`]s.
fn units(ctx: &Context, from: &[FromItem]) -> Result<Vec<Unit>> {
    from.iter()
        .map(|(factor, _, _)| Unit::of(ctx, factor))
        .collect()
}

/// The tables of FROM in the order written, parenthesized groups flattened: the order of
/// the columns `*` stands for when every join is joined ON a condition (`a RIGHT JOIN b ON
/// ...` gives a's columns, then b's, though it runs as b LEFT JOIN a; `c LEFT JOIN (o JOIN
/// p ON ...) ON ...` gives c's, o's, p's). `USING` and `NATURAL` put the shared columns
/// first: refused here.
/// `original` with its `*` and `t.*` written out, columns in the order MySQL lists them, when
/// every FROM item's columns are known (tracked or authoritative); `None` without a `*`.
pub(super) fn written_out(ctx: &Context, original: &Query) -> Result<Option<Query>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Ok(None);
    };
    if !select.projection.iter().any(is_wildcard) {
        return Ok(None);
    }
    expand_wildcards(original, &written_units(ctx, select)?)
}

fn written_units(ctx: &Context, select: &sqlparser::ast::Select) -> Result<Vec<Unit>> {
    let mut out = Vec::new();
    for twj in &select.from {
        push_written(ctx, twj, &mut out)?;
    }
    Ok(out)
}

fn push_written(ctx: &Context, twj: &TableWithJoins, out: &mut Vec<Unit>) -> Result<()> {
    push_written_factor(ctx, &twj.relation, out)?;
    for join in &twj.joins {
        let on = matches!(
            constraint(&join.join_operator),
            Some(JoinConstraint::On(_) | JoinConstraint::None)
        );
        if !on {
            return Err(refuse("* with USING or NATURAL"));
        }
        push_written_factor(ctx, &join.relation, out)?;
    }
    Ok(())
}

fn push_written_factor(ctx: &Context, factor: &TableFactor, out: &mut Vec<Unit>) -> Result<()> {
    match factor {
        TableFactor::NestedJoin {
            table_with_joins,
            alias: None,
        } => push_written(ctx, table_with_joins, out),
        other => {
            out.push(Unit::of(ctx, other)?);
            Ok(())
        }
    }
}

/// The FROM item an unqualified column belongs to: the only one that
/// surely has it (its VSchema or schema tracking says so), else the only
/// one that may have it (a table whose columns are not known may have
/// any). A column that several surely have is ambiguous (MySQL's 1052).
/// As in Vitess, a column one table declares is that table's even when
/// another table's columns are not known: were the other to have it too,
/// MySQL would refuse the query as ambiguous, so no valid query reads
/// another column than MySQL would.
fn unqualified(e: &Expr, name: &str, uses: &[Unit]) -> Result<Option<usize>> {
    let surely: Vec<usize> = uses
        .iter()
        .enumerate()
        .filter(|(_, u)| u.declares(name))
        .map(|(i, _)| i)
        .collect();
    match surely.as_slice() {
        [i] => return Ok(Some(*i)),
        [] => {}
        _ => {
            return Err(EngineError::mysql(
                1052,
                "23000",
                format!("Column '{name}' in field list is ambiguous"),
            ))
        }
    }
    let may: Vec<usize> = uses
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            u.columns
                .as_ref()
                .is_none_or(|c| c.iter().any(|n| n.eq_ignore_ascii_case(name)))
        })
        .map(|(i, _)| i)
        .collect();
    match may.as_slice() {
        [i] => Ok(Some(*i)),
        [] => Err(EngineError::mysql(
            1054,
            "42S22",
            format!("column '{e}' not found"),
        )),
        _ => Err(refuse("unqualified column")),
    }
}

/// The table (index into the FROM order) a column reference names.
pub(super) fn table_of(e: &Expr, uses: &[Unit]) -> Result<Option<usize>> {
    let ids = match e {
        Expr::Identifier(id) => return unqualified(e, &id.value, uses),
        Expr::CompoundIdentifier(ids) => ids,
        _ => return Ok(None),
    };
    let names = |u: &Unit| match ids.as_slice() {
        [q, _] => q.value == u.qualifier,
        [k, t, _] => u
            .keyspace_table
            .as_ref()
            .is_some_and(|(ks, w)| k.value == *ks && t.value == *w),
        _ => false,
    };
    let mut found = uses
        .iter()
        .enumerate()
        .filter(|(_, u)| names(u))
        .map(|(i, _)| i);
    match (found.next(), found.next()) {
        (Some(i), None) => {
            if let (Some(cols), Some(c)) = (&uses[i].columns, ids.last()) {
                if !cols.iter().any(|n| n.eq_ignore_ascii_case(&c.value)) {
                    return Err(EngineError::mysql(
                        1054,
                        "42S22",
                        format!("column '{e}' not found"),
                    ));
                }
            }
            Ok(Some(i))
        }
        _ => Err(refuse(&format!("column {e}"))),
    }
}

/// Collects the tables an expression reads.
struct TableFinder<'a> {
    uses: &'a [Unit],
    tables: Vec<usize>,
    error: Option<EngineError>,
}

impl VisitorMut for TableFinder<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match table_of(e, self.uses) {
            Ok(Some(t)) => self.tables.push(t),
            Ok(None) => {}
            Err(err) => {
                self.error = Some(err);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// The tables `e` reads; subqueries and aggregates are refused.
pub(super) fn tables_of(e: &Expr, uses: &[Unit]) -> Result<Vec<usize>> {
    let f = features_of_expr(e);
    if f.subquery || f.aggregate {
        return Err(refuse("subquery or aggregate"));
    }
    let mut finder = TableFinder {
        uses,
        tables: Vec::new(),
        error: None,
    };
    let _ = VisitMut::visit(&mut e.clone(), &mut finder);
    match finder.error {
        Some(err) => Err(err),
        None => Ok(finder.tables),
    }
}

/// Plans the join as nested loops; `plan_side` plans each table's query.
pub(super) fn plan_nested_join(
    ctx: &Context,
    tables: &Tables,
    original: &Query,
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Err(refuse("UNION"));
    };
    if let [only] = select.from.as_slice() {
        if only.joins.is_empty() && matches!(only.relation, TableFactor::Derived { .. }) {
            // A join inside a derived table: the outer query over its rows.
            return plan_derived(ctx, original, plan_side);
        }
    }
    if select.into.is_some() {
        return Err(refuse("SELECT ... INTO"));
    }
    // Before anything moves the tables: the columns in the order written.
    if let Some(q) = written_out(ctx, original)? {
        return plan_nested_join(ctx, tables, &q, plan_side);
    }
    if from_tables(select).is_err() {
        // A group the chain cannot take in place, as a derived table; if that is refused
        // too, the refusal names the group, not the derived table's made-up columns.
        if let Some(plan) =
            group_as_derived(original).and_then(|q| plan_side(ctx, &q.to_string()).ok())
        {
            return Ok(plan);
        }
    }
    if features(original).window {
        // Over every joined row, never inside one table's query.
        return plan_windows_over(original, &mut |q| {
            plan_nested_join(ctx, tables, q, plan_side)
        });
    }
    let grouped = !matches!(&select.group_by,
        sqlparser::ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let aggregated = select.projection.iter().any(|i| match i {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            features_of_expr(e).aggregate
        }
        _ => false,
    });
    if select.having.is_some() && !grouped && !aggregated {
        if let Some(q) = having::as_where(original)? {
            return plan_nested_join(ctx, tables, &q, plan_side);
        }
    }
    if select.distinct.is_some() || grouped || select.having.is_some() || aggregated {
        return plan_join_aggregate(ctx, tables, original, plan_side);
    }
    let (mut from, fixed) = from_tables(select)?;
    if from.len() < 2 {
        return Err(refuse("subquery tables"));
    }
    let named = units(ctx, &from)?;
    inner_when_rejected(select.selection.as_ref(), &named, &mut from);
    // Only inner joins of tables (not derived tables) are reordered.
    let reorderable = !fixed
        && from
            .iter()
            .all(|(t, left, _)| !left && matches!(t, TableFactor::Table { .. }));
    plan_cheapest(&from, reorderable, |order| {
        plan_in_order(ctx, original, select, order, plan_side)
    })
}

/// Plans the join of the FROM items in the order of `from`.
fn plan_in_order(
    ctx: &Context,
    original: &Query,
    select: &sqlparser::ast::Select,
    from: &[FromItem],
    plan_side: PlanSide,
) -> Result<Box<dyn Primitive>> {
    let units = units(ctx, from)?;
    let uses = units.as_slice();
    let mut steps = Steps {
        from,
        uses,
        queries: (0..from.len()).map(|_| TableQuery::default()).collect(),
        null_rows: vec![false; from.len()],
        computing: vec![false; from.len()],
    };
    let mut cols = Vec::new();
    let mut computed = Vec::new();
    for item in &select.projection {
        if is_wildcard(item) {
            return Err(refuse("*"));
        }
        let (e, text) = match item {
            SelectItem::UnnamedExpr(e) => (e, e.to_string()),
            SelectItem::ExprWithAlias { expr, alias } => (
                expr,
                format!("{expr} AS {}", Ident::with_quote('`', &alias.value)),
            ),
            _ => return Err(refuse("select item")),
        };
        let mut read = tables_of(e, uses)?;
        read.sort_unstable();
        read.dedup();
        // A LEFT JOINed table's query only runs for matching rows; the
        // others get NULLs, which is right for a column (and for `x IS NOT
        // NULL` read as a count) but not for expressions like COALESCE.
        let plain = null_strict(e)
            || matches!(e, Expr::IsNotNull(x) if matches!(x.as_ref(), Expr::CompoundIdentifier(_) | Expr::Identifier(_)));
        let t = match read.as_slice() {
            [] => 0,
            [t] if !from[*t].1 || plain => *t,
            // A table's (or a derived table's) NULL row comes from one of its shards.
            [t] if matches!(
                from[*t].0,
                TableFactor::Table { .. } | TableFactor::Derived { .. }
            ) && !features_of_expr(e).subquery =>
            {
                steps.null_rows[*t] = true;
                *t
            }
            _ => {
                // Computed in vtgate over the joined rows; its slot is set below.
                let name = match item {
                    SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                    _ => e.to_string(),
                };
                computed.push((cols.len(), e, name));
                cols.push((0, 0));
                continue;
            }
        };
        steps.queries[t].items.push(text);
        cols.push((t, steps.queries[t].items.len() - 1));
    }
    let shown = cols.len();
    // ORDER BY expressions that are not selected: hidden columns of their table's query,
    // kept until the sort.
    let sorted = order_columns(original, &select.projection, &mut |e| {
        let why = "ORDER BY an expression of several tables not selected";
        hidden_column(e, &mut steps, &mut cols, why)
    })?;
    let unsorted_width = cols.len();
    let mut projected = Vec::with_capacity(computed.len());
    for (slot, e, name) in computed {
        // Arithmetic and CONCAT in vtgate (checked first: a refusal must not leave columns
        // behind); anything else in the query of the last table it reads, also COALESCE,
        // IFNULL, GREATEST and LEAST, which vtgate computes over numbers only.
        let computable = {
            let mut probe = |_: &Expr| Ok(0);
            match concat_over(e, &mut probe) {
                Ok(Some(_)) => true,
                Ok(None) => {
                    coalesce_args(e).is_none()
                        && extreme_args(e).is_none()
                        && arith_over(e, true, &mut probe).is_ok()
                }
                Err(_) => false,
            }
        };
        let mut read = tables_of(e, uses)?;
        read.sort_unstable();
        read.dedup();
        if !computable && read.len() > 1 {
            cols[slot] = steps.place_over_several(e, &name)?;
            continue;
        }
        let mut column = |x: &Expr| {
            let t = table_of(x, uses)?.ok_or_else(|| refuse(&format!("column {x}")))?;
            let i = steps.queries[t].item(x.to_string());
            cols.push((t, i));
            Ok(cols.len() - 1)
        };
        let expr = match concat_over(e, &mut column)? {
            Some(concat) => concat,
            None => arith_over(e, true, &mut column)?,
        };
        // The slot holds any column; the projection replaces it.
        cols[slot] = *cols
            .last()
            .ok_or_else(|| refuse(&format!("select item {e}")))?;
        projected.push(ProjectedColumn {
            col: slot,
            name,
            expr,
        });
    }
    // Each condition runs at the step of the last table it reads.
    let mut placed: Vec<(usize, &Expr)> = Vec::new();
    let mut late = Vec::new();
    for c in conjuncts(select.selection.as_ref()) {
        let step = tables_of(c, uses)?.into_iter().max().unwrap_or(0);
        if from[step].1 {
            late.push(c);
        } else {
            placed.push((step, c));
        }
    }
    // Conditions on a LEFT JOINed table run over the joined rows, on
    // hidden columns after the selected and computed ones.
    let selected = cols.len();
    let filter = after_join(&late, &mut |e| {
        let why = "WHERE on a LEFT JOINed table";
        hidden_column(e, &mut steps, &mut cols, why)
    })?;
    for (k, (_, left, on)) in from.iter().enumerate() {
        for c in conjuncts(*on) {
            let read = tables_of(c, uses)?.into_iter().max().unwrap_or(0);
            // An inner join's ON condition filters like a WHERE condition, so
            // one reading only earlier tables runs in the query of the last
            // of them (unless that one was LEFT JOINed: its query only sees
            // matching rows).
            let step = if !left && read < k && !from[read].1 {
                read
            } else {
                read.max(k)
            };
            if step > k && from[step].1 {
                return Err(refuse("ON condition on a later LEFT JOINed table"));
            }
            placed.push((step, c));
        }
    }
    // Steps joined by hashing on one column equality instead of binding
    // (not under FOR UPDATE: the right query would lock rows that match
    // no left row).
    let mut hash_keys = Vec::with_capacity(from.len());
    for (k, (factor, _, _)) in from.iter().enumerate() {
        let wanted = k > 0
            && !steps.computing[k]
            && original.locks.is_empty()
            && (ctx.options.allow_hash_join || computed_derived(factor));
        let conds: Vec<&Expr> = placed
            .iter()
            .filter(|(step, _)| *step == k)
            .map(|(_, c)| *c)
            .collect();
        hash_keys.push(if wanted {
            hash_key(k, &conds, &|e| tables_of(e, uses))?
        } else {
            None
        });
    }
    for (step, c) in &placed {
        let hashed = hash_keys[*step]
            .as_ref()
            .is_some_and(|h| std::ptr::eq(h.cond, *c));
        if !hashed {
            place_condition(c, *step, uses, &mut steps.queries);
        }
    }
    // The key columns of each hash join: (left table, its item), right item.
    let hash_items: Vec<Option<(usize, usize, usize, String)>> = hash_keys
        .iter()
        .enumerate()
        .map(|(k, h)| {
            h.as_ref().map(|h| {
                let (t, e) = h.left;
                let li = steps.queries[t].item(e.to_string());
                let ri = steps.queries[k].item(h.right.to_string());
                (t, li, ri, h.cond.to_string())
            })
        })
        .collect();
    // Offsets of each table's columns in the concatenated rows.
    let mut offsets = Vec::with_capacity(steps.queries.len());
    let mut width = 0;
    for q in &steps.queries {
        offsets.push(width);
        width += q.items.len();
    }
    // Each table's query locks the rows it reads, as the join would.
    let locks: String = original.locks.iter().map(|l| format!(" {l}")).collect();
    let mut plan = plan_side(ctx, &steps.queries[0].sql(from[0].0, &locks))?;
    for k in 1..steps.queries.len() {
        let last = k == steps.queries.len() - 1;
        let right = plan_side(ctx, &steps.queries[k].sql(from[k].0, &locks))?;
        let with_row = steps.null_rows[k] && from[k].1;
        let null_row = NullRow {
            query: if with_row {
                Some(null_row_route(ctx, from[k].0, &steps.queries[k].items)?)
            } else {
                None
            },
            per_row: with_row && steps.computing[k],
        };
        let join_cols = if last {
            cols.iter()
                .map(|&(t, i)| {
                    if t == k {
                        JoinColumn::Right(i)
                    } else {
                        JoinColumn::Left(offsets[t] + i)
                    }
                })
                .collect()
        } else {
            (0..offsets[k])
                .map(JoinColumn::Left)
                .chain((0..steps.queries[k].items.len()).map(JoinColumn::Right))
                .collect()
        };
        let vars_of = |typed: bool| {
            steps.queries[k]
                .vars
                .iter()
                .filter(|v| v.3 == typed)
                .map(|(name, t, i, _)| (name.clone(), offsets[*t] + i))
                .collect()
        };
        plan = match &hash_items[k] {
            Some((t, li, ri, predicate)) => Box::new(HashJoin {
                left_join: from[k].1,
                left: plan,
                right,
                cols: join_cols,
                left_key: offsets[*t] + li,
                right_key: *ri,
                predicate: predicate.clone(),
                null_row,
            }),
            None => Box::new(Join {
                left_join: from[k].1,
                left: plan,
                right,
                cols: join_cols,
                vars: vars_of(false),
                value_vars: vars_of(true),
                null_row,
            }),
        };
    }
    if let Some(predicate) = filter {
        plan = Box::new(Filter {
            predicate,
            hidden_columns: cols.len() - selected,
            input: plan,
        });
    }
    if !projected.is_empty() {
        plan = Box::new(Projection {
            columns: projected,
            hidden_columns: selected - unsorted_width,
            input: plan,
        });
    }
    order_and_limit(original, sorted, unsorted_width - shown, plan)
}
