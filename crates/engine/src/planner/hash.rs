//! When a step of a cross-shard join becomes a [`HashJoin`](crate::hash_join::HashJoin)
//! instead of a nested loop (as Vitess plans `HashJoin` / `HashLeftJoin`):
//!
//! * the statement carries the `/*vt+ ALLOW_HASH_JOIN */` directive, or the
//!   joined FROM item is a derived table vtgate computes itself (GROUP BY,
//!   aggregates, DISTINCT or LIMIT inside), which could only take the join
//!   value as a filter over all its rows, once per left row;
//! * and the step's conditions reach earlier tables through exactly one
//!   equality between a column of an earlier table and a column of this
//!   one; its other conditions read this table only.
//!
//! Everything else (and any join under FOR UPDATE or LOCK IN SHARE MODE)
//! stays a nested loop.

use sqlparser::ast::{BinaryOperator, Expr, GroupByExpr, SelectItem, SetExpr, TableFactor};

use super::order::{features_of_expr, remove_limit};
use crate::error::Result;

/// Planner options read from the statement's comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `/*vt+ ALLOW_HASH_JOIN */`: joins on a column equality may be
    /// hash joins.
    pub allow_hash_join: bool,
}

impl PlanOptions {
    /// The options of the Vitess directives (`/*vt+ ... */`) in `sql`.
    pub fn from_sql(sql: &str) -> Self {
        let allow_hash_join = sql::split::block_comments(sql).iter().any(|body| {
            body.strip_prefix("vt+").is_some_and(|d| {
                d.split_whitespace()
                    .any(|w| w.eq_ignore_ascii_case("ALLOW_HASH_JOIN"))
            })
        });
        PlanOptions { allow_hash_join }
    }
}

/// The equality a hash join step joins on.
pub(super) struct HashKey<'a> {
    /// The whole condition.
    pub cond: &'a Expr,
    /// The earlier table and its column.
    pub left: (usize, &'a Expr),
    /// The column of the step's own table.
    pub right: &'a Expr,
}

/// A derived table vtgate computes itself (its inner query groups,
/// aggregates, is DISTINCT or has a LIMIT).
pub(super) fn computed_derived(f: &TableFactor) -> bool {
    let TableFactor::Derived { subquery, .. } = f else {
        return false;
    };
    if remove_limit(&mut subquery.as_ref().clone()).map_or(true, |l| l.is_some()) {
        return true;
    }
    let SetExpr::Select(s) = subquery.body.as_ref() else {
        return false;
    };
    let grouped =
        !matches!(&s.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    let aggregated = s.projection.iter().any(|i| match i {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            features_of_expr(e).aggregate
        }
        _ => false,
    });
    grouped || aggregated || s.distinct.is_some() || s.having.is_some()
}

fn is_column(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

/// The hash key of join step `step`, if it can be a hash join. `conds`
/// are the conditions placed at this step; `tables_of` gives the tables
/// an expression reads.
pub(super) fn hash_key<'a>(
    step: usize,
    conds: &[&'a Expr],
    tables_of: &dyn Fn(&Expr) -> Result<Vec<usize>>,
) -> Result<Option<HashKey<'a>>> {
    let mut key: Option<HashKey<'a>> = None;
    for c in conds {
        let read = tables_of(c)?;
        if read.iter().all(|t| *t == step) {
            continue;
        }
        let candidate = match c {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } if key.is_none() && is_column(left) && is_column(right) => {
                match (tables_of(left)?.as_slice(), tables_of(right)?.as_slice()) {
                    ([l], [r]) if *l < step && *r == step => Some(HashKey {
                        cond: c,
                        left: (*l, left.as_ref()),
                        right: right.as_ref(),
                    }),
                    ([l], [r]) if *r < step && *l == step => Some(HashKey {
                        cond: c,
                        left: (*r, right.as_ref()),
                        right: left.as_ref(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        match candidate {
            Some(k) => key = Some(k),
            // Another condition reads earlier tables: needs bind variables.
            None => return Ok(None),
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_is_read_from_vt_comments_only() {
        let on = |s| PlanOptions::from_sql(s).allow_hash_join;
        assert!(on("select /*vt+ ALLOW_HASH_JOIN */ 1"));
        assert!(on("select /*vt+ QUERY_TIMEOUT_MS=10 allow_hash_join */ 1"));
        assert!(!on("select /* ALLOW_HASH_JOIN */ 1"));
        assert!(!on("select '/*vt+ ALLOW_HASH_JOIN */'"));
        assert!(!on("select 1"));
    }
}
