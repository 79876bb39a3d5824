//! A join whose every sharded FROM item is pinned to the same single shard
//! by the same vindex value (`a.id = 5 and b.user_id = 5`, or a derived
//! table `(select ... from user where id = 5)` beside `user_extra` with
//! `user_extra.user_id = 5`) is sent whole to that shard: every row any
//! output row is built from lives there, and reference tables and derived
//! tables without tables are complete on every shard.
//!
//! The value must be the same literal or bind variable with the same
//! vindex, and each item pinned by its own predicates: an inner-joined
//! table by WHERE and inner ON conditions, a LEFT-joined one also by its
//! ON clause (rows without partners are built on the shard of their
//! left row), a derived table by its own WHERE. Any other sharded table
//! in the statement (in a subquery, say) and any other join type keep the
//! nested loop.

use sqlparser::ast::{
    BinaryOperator, Expr, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor,
};
use vschema::TableType;

use super::routing::{conjuncts, route_table, Routing};
use super::tables::{resolve_name, table_name, TableUse, Tables};
use super::Context;
use crate::error::Result;
use crate::route::Opcode;

/// One FROM item and the conditions that may pin it.
struct Item<'a> {
    factor: &'a TableFactor,
    conds: Vec<&'a Expr>,
}

/// The routing of the shard every sharded FROM item of `original` is
/// pinned to, or `None` when they are not provably on one shard.
pub(super) fn same_shard(
    ctx: &Context,
    tables: &Tables,
    original: &Query,
) -> Result<Option<Routing>> {
    let SetExpr::Select(select) = original.body.as_ref() else {
        return Ok(None);
    };
    let mut where_conds = conjuncts(select.selection.as_ref());
    let mut items: Vec<(Item, bool)> = Vec::new();
    for twj in &select.from {
        items.push((
            Item {
                factor: &twj.relation,
                conds: Vec::new(),
            },
            false,
        ));
        for j in &twj.joins {
            let (left, constraint) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => {
                    (false, c)
                }
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (true, c),
                _ => return Ok(None),
            };
            let on = match constraint {
                JoinConstraint::On(e) => conjuncts(Some(e)),
                JoinConstraint::None => Vec::new(),
                _ => return Ok(None),
            };
            if left {
                items.push((
                    Item {
                        factor: &j.relation,
                        conds: on,
                    },
                    true,
                ));
            } else {
                // Inner ON conditions filter the joined rows like WHERE.
                where_conds.extend(on);
                items.push((
                    Item {
                        factor: &j.relation,
                        conds: Vec::new(),
                    },
                    false,
                ));
            }
        }
    }
    let mut pinned: Vec<Routing> = Vec::new();
    for (item, _) in &items {
        let conds: Vec<&Expr> = where_conds.iter().chain(&item.conds).copied().collect();
        match item_routing(ctx, item.factor, &conds)? {
            Pin::Everywhere => {}
            Pin::Shard(r) => pinned.push(r),
            Pin::Unknown => return Ok(None),
        }
    }
    let sharded_uses = tables.uses.iter().filter(|u| is_sharded(u)).count();
    let Some(first) = pinned.first() else {
        return Ok(None);
    };
    if pinned.len() != sharded_uses || !pinned.iter().all(|r| same_value(first, r)) {
        return Ok(None);
    }
    Ok(Some(first.clone()))
}

enum Pin {
    /// Complete on every shard (reference table, no table).
    Everywhere,
    /// Pinned to one shard.
    Shard(Routing),
    /// Anything else.
    Unknown,
}

fn is_sharded(u: &TableUse) -> bool {
    u.table.keyspace.sharded && u.table.table_type != TableType::Reference
}

fn item_routing(ctx: &Context, factor: &TableFactor, conds: &[&Expr]) -> Result<Pin> {
    match factor {
        TableFactor::Table { name, alias, .. } => {
            let Some(table) = resolve_name(name, &ctx.scope())? else {
                return Ok(Pin::Everywhere);
            };
            let u = TableUse {
                table,
                written: table_name(name),
                alias: alias.as_ref().map(|a| a.name.value.clone()),
            };
            if !is_sharded(&u) {
                return Ok(Pin::Everywhere);
            }
            let selection = and_all(conds);
            pinned(route_table(&u, selection.as_ref(), false)?)
        }
        TableFactor::Derived {
            lateral: false,
            subquery,
            ..
        } => {
            let SetExpr::Select(inner) = subquery.body.as_ref() else {
                return Ok(Pin::Unknown);
            };
            match inner.from.as_slice() {
                [] => Ok(Pin::Everywhere),
                [t] if t.joins.is_empty() => {
                    let TableFactor::Table { name, alias, .. } = &t.relation else {
                        return Ok(Pin::Unknown);
                    };
                    let Some(table) = resolve_name(name, &ctx.scope())? else {
                        return Ok(Pin::Everywhere);
                    };
                    let u = TableUse {
                        table,
                        written: table_name(name),
                        alias: alias.as_ref().map(|a| a.name.value.clone()),
                    };
                    if !is_sharded(&u) {
                        return Ok(Pin::Everywhere);
                    }
                    pinned(route_table(&u, inner.selection.as_ref(), true)?)
                }
                _ => Ok(Pin::Unknown),
            }
        }
        _ => Ok(Pin::Unknown),
    }
}

fn pinned(r: Routing) -> Result<Pin> {
    Ok(if r.opcode == Opcode::EqualUnique && r.single_shard {
        Pin::Shard(r)
    } else {
        Pin::Unknown
    })
}

/// Same vindex and the same single value.
fn same_value(a: &Routing, b: &Routing) -> bool {
    match (&a.vindex, &b.vindex) {
        (Some(x), Some(y)) => x.name == y.name && x.values.len() == 1 && x.values == y.values,
        _ => false,
    }
}

fn and_all(conds: &[&Expr]) -> Option<Expr> {
    conds.iter().map(|c| (*c).clone()).reduce(|l, r| Expr::BinaryOp {
        left: Box::new(l),
        op: BinaryOperator::And,
        right: Box::new(r),
    })
}
