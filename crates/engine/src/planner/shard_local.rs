//! What each shard of one sharded table computes exactly on its own: the
//! rows MySQL puts in one window partition or one GROUP BY group, when
//! the partition or grouping names every column of the table's primary
//! vindex and that vindex sends rows MySQL finds equal to the same shard
//! (`hash` and `numeric` over integer values; not text hashes, which a
//! `_ci` collation would split). Each partition or group is then whole on
//! one shard (after the WHERE, which every shard applies to its rows), so
//! the shards compute windows, aggregates and HAVING, and vtgate only
//! merges, orders and limits.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, GroupByExpr, Query, Select, SelectItem, Visit, Visitor, WindowType};

use vschema::build::ColumnVindex;

use super::routing::is_column;
use super::tables::TableUse;

/// What each shard computes whole for a SELECT on one table.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ShardLocal {
    /// Every window partition is on one shard.
    pub windows: bool,
    /// Every GROUP BY group is on one shard.
    pub groups: bool,
}

impl ShardLocal {
    /// What the shards of `table` compute whole for `query`, a SELECT on
    /// that table alone.
    pub(super) fn of(query: &Query, table: &TableUse) -> Self {
        let groups = match query.body.as_ref() {
            sqlparser::ast::SetExpr::Select(s) => groups_on_one_shard(s, table),
            _ => false,
        };
        ShardLocal {
            windows: partitions_on_one_shard(query, table),
            groups,
        }
    }
}

/// Vindex types that map MySQL-equal values to one shard.
const EQUALITY_PRESERVING: &[&str] = &["hash", "numeric"];

/// Checks the windows of the top-level query (not of its subqueries).
struct Windows<'a> {
    table: &'a TableUse,
    columns: &'a [String],
    depth: usize,
    all_on_one_shard: bool,
}

impl Visitor for Windows<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        let Expr::Function(f) = e else {
            return ControlFlow::Continue(());
        };
        let Some(over) = &f.over else {
            return ControlFlow::Continue(());
        };
        if self.depth > 1 {
            return ControlFlow::Continue(());
        }
        let on_one_shard = match over {
            WindowType::WindowSpec(spec) if spec.window_name.is_none() => {
                self.columns.iter().all(|c| {
                    spec.partition_by
                        .iter()
                        .any(|p| is_column(p, self.table, c, true))
                })
            }
            _ => false,
        };
        if on_one_shard {
            ControlFlow::Continue(())
        } else {
            self.all_on_one_shard = false;
            ControlFlow::Break(())
        }
    }
}

/// The table's primary vindex, when it sends MySQL-equal values to one
/// shard.
fn equality_preserving(table: &TableUse) -> Option<&ColumnVindex> {
    table
        .table
        .primary_vindex()
        .filter(|pv| EQUALITY_PRESERVING.contains(&pv.vindex.type_name()))
}

/// Whether every window function of `query`, a SELECT on `table` alone,
/// partitions by the table's primary vindex columns (see the module doc).
fn partitions_on_one_shard(query: &Query, table: &TableUse) -> bool {
    let Some(primary) = equality_preserving(table) else {
        return false;
    };
    let mut check = Windows {
        table,
        columns: &primary.columns,
        depth: 0,
        all_on_one_shard: true,
    };
    let _ = query.visit(&mut check);
    check.all_on_one_shard
}

/// Whether `select`, on `table` alone, groups by the table's primary
/// vindex columns (as plain columns, without WITH ROLLUP and the like).
fn groups_on_one_shard(select: &Select, table: &TableUse) -> bool {
    let Some(primary) = equality_preserving(table) else {
        return false;
    };
    let GroupByExpr::Expressions(exprs, modifiers) = &select.group_by else {
        return false;
    };
    // A select alias named like the column could be what GROUP BY means.
    let aliased = |c: &str| {
        select.projection.iter().any(|item| {
            matches!(item, SelectItem::ExprWithAlias { expr, alias }
                if alias.value.eq_ignore_ascii_case(c) && !is_column(expr, table, c, true))
        })
    };
    modifiers.is_empty()
        && primary
            .columns
            .iter()
            .all(|c| !aliased(c) && exprs.iter().any(|g| is_column(g, table, c, true)))
}
