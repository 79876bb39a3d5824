//! The single-table queries of a nested-loop join's steps (see `nested_join`): what each
//! selects and filters, and the bind variables that carry earlier tables' columns into it.
//! A condition runs in the query of the last table it reads, its other columns bound as
//! compared values; an expression of several tables vtgate does not compute itself runs
//! there as a select item, its other columns bound as typed values
//! ([`crate::join::typed_cell_to_bind`]).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, TableFactor, Value as AstValue};

use super::from_items::FromItem;
use super::hash::computed_derived;
use super::nested_join::{refuse, table_of, tables_of, Unit};
use super::null_row::null_strict;
use super::order::features_of_expr;
use super::routing::and_operand;
use crate::error::Result;

/// One table's single-table query.
#[derive(Default)]
pub(super) struct TableQuery {
    pub(super) items: Vec<String>,
    pub(super) conds: Vec<String>,
    /// Bind variables it reads: name, source table, source item, and whether a select item
    /// computes with it (bound typed: [`crate::join::typed_cell_to_bind`]) rather than a
    /// condition comparing with it.
    pub(super) vars: Vec<(String, usize, usize, bool)>,
}

impl TableQuery {
    pub(super) fn item(&mut self, text: String) -> usize {
        match self.items.iter().position(|t| *t == text) {
            Some(i) => i,
            None => {
                self.items.push(text);
                self.items.len() - 1
            }
        }
    }

    pub(super) fn sql(&self, table: &TableFactor, locks: &str) -> String {
        let items = if self.items.is_empty() {
            "1".to_string()
        } else {
            self.items.join(", ")
        };
        let mut sql = format!("select {items} from {table}");
        if !self.conds.is_empty() {
            sql.push_str(" where ");
            sql.push_str(&self.conds.join(" and "));
        }
        sql.push_str(locks);
        sql
    }
}

/// Adds condition `c` to the query of table `step`, binding the columns
/// of earlier tables.
pub(super) fn place_condition(c: &Expr, step: usize, uses: &[Unit], queries: &mut [TableQuery]) {
    let bound = bind_earlier(c, step, uses, queries, false);
    queries[step].conds.push(and_operand(bound).to_string());
}

/// `e` with the columns of tables other than `step` replaced by bind variables of the
/// query of table `step`, read from their tables' queries; `typed` for a select item
/// (see [`TableQuery::vars`]).
fn bind_earlier(
    e: &Expr,
    step: usize,
    uses: &[Unit],
    queries: &mut [TableQuery],
    typed: bool,
) -> Expr {
    let mut bound = e.clone();
    let mut binds: Vec<(String, usize, String)> = Vec::new();
    let taken = &queries[step].vars;
    let _ = sqlparser::ast::visit_expressions_mut(&mut bound, |x| {
        if let Ok(Some(t)) = table_of(x, uses) {
            if t != step {
                let text = x.to_string();
                let clean = bind_safe(&text);
                let kind = if typed { "v" } else { "" };
                let mut name = format!("{}_{step}_{kind}{}", clean.trim_matches('_'), binds.len());
                // `u.col` and a column named `u_col` read the same name: another column's
                // variable of that name (of an earlier condition) must not be overwritten.
                while taken.iter().any(|(n, vt, vi, _)| {
                    *n == name && (*vt != t || queries[t].items.get(*vi) != Some(&text))
                }) {
                    name.push_str("_x");
                }
                binds.push((name.clone(), t, text));
                *x = Expr::value(AstValue::Placeholder(format!(":{name}")));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    for (name, t, text) in binds {
        let col = queries[t].item(text);
        queries[step].vars.push((name, t, col, typed));
    }
    bound
}

/// Select item `e` (named `name`) over several tables, computed by the query of the last
/// table it reads, `step`, with the earlier tables' columns bound as values of their
/// columns' types: MariaDB evaluates any expression there as over the joined row (Vitess
/// pushes such an expression to the join's right side the same way). Returns the item's
/// index in that query. Refused for a table computed in vtgate (no variables reach it) and
/// for subqueries; the caller keeps the step from being a hash join ([`Steps::computing`]).
fn place_item(
    e: &Expr,
    name: &str,
    step: usize,
    from: &[FromItem],
    uses: &[Unit],
    queries: &mut [TableQuery],
) -> Result<usize> {
    if features_of_expr(e).subquery || computed_derived(from[step].0) {
        return Err(refuse(&format!(
            "select item {e} computed over the joined rows"
        )));
    }
    let bound = bind_earlier(e, step, uses, queries, true);
    let text = format!("{bound} AS {}", Ident::with_quote('`', name));
    queries[step].items.push(text);
    Ok(queries[step].items.len() - 1)
}

/// `text` usable in a bind variable's name: lower-case ASCII letters and digits, every other
/// character `_`.
pub(super) fn bind_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the items of each step's query are: the queries, the LEFT JOINed tables whose NULL
/// row an item needs, and the steps that compute an item over earlier tables.
pub(super) struct Steps<'a, 'b> {
    pub(super) from: &'a [FromItem<'b>],
    pub(super) uses: &'a [Unit],
    pub(super) queries: Vec<TableQuery>,
    pub(super) null_rows: Vec<bool>,
    pub(super) computing: Vec<bool>,
}

impl Steps<'_, '_> {
    /// Places `e`, an expression of several tables, named `name`, with [`place_item`];
    /// returns its step and its index in that step's query.
    pub(super) fn place_over_several(&mut self, e: &Expr, name: &str) -> Result<(usize, usize)> {
        let step = tables_of(e, self.uses)?.into_iter().max().unwrap_or(0);
        let i = place_item(e, name, step, self.from, self.uses, &mut self.queries)?;
        self.null_rows[step] |= self.from[step].1 && !null_strict(e);
        self.computing[step] = true;
        Ok((step, i))
    }
}

/// Adds `e` to the query of the table it reads (or of the last of several, see
/// [`place_item`]) and to `cols` as a hidden column, and returns its index there; marks a
/// LEFT JOINed table whose NULL row it needs. Refused as `why` when it cannot be placed.
pub(super) fn hidden_column(
    e: &Expr,
    steps: &mut Steps,
    cols: &mut Vec<(usize, usize)>,
    why: &str,
) -> Result<usize> {
    let mut read = tables_of(e, steps.uses)?;
    read.sort_unstable();
    read.dedup();
    let t = match read.as_slice() {
        [] => 0,
        [t] => *t,
        _ => {
            let placed = steps.place_over_several(e, &e.to_string());
            cols.push(placed.map_err(|_| refuse(why))?);
            return Ok(cols.len() - 1);
        }
    };
    let (queries, null_rows) = (&mut steps.queries, &mut steps.null_rows);
    null_rows[t] |= !null_strict(e);
    let i = queries[t].item(e.to_string());
    if features_of_expr(e).subquery && !null_strict(e) {
        // Its NULL row would run the subquery on one shard only.
        return Err(refuse(why));
    }
    cols.push((t, i));
    Ok(cols.len() - 1)
}
