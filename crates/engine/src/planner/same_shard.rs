//! A join whose every sharded FROM item is pinned to the same single shard
//! by the same vindex value (`a.id = 5 and b.user_id = 5`, or a derived
//! table `(select ... from user where id = 5)` beside `user_extra` with
//! `user_extra.user_id = 5`) is sent whole to that shard: every row any
//! output row is built from lives there, and reference tables and derived
//! tables without tables are complete on every shard.
//!
//! The value must be the same with the same unique vindex: a literal
//! proven at plan time to map to exactly one shard, or one bind variable
//! (by name: vtgate's normaliser gives equal literals one variable) on a
//! functional vindex ([`TRUSTED_FOR_BIND_VARIABLES`]; a lookup vindex could
//! scatter). The merged route is [`Unmapped::OneShard`]: a bind value that
//! is NULL runs it on any one shard (no sharded row equals NULL, and
//! reference rows and aggregates such as `count(*)` = 0 still come back
//! once), and a non-NULL value the vindex cannot map is refused at run
//! time rather than scattered (each shard would repeat the reference rows).
//! Sharded tables pinned by a bind variable and joined on their vindex
//! columns alone are left to the pushed join, whose route scatters such a
//! value exactly as before.
//! Each item must be pinned by its own predicates: an inner-joined
//! table by WHERE and inner ON conditions, a LEFT-joined one also by its
//! ON clause (rows without partners are built on the shard of their
//! left row), a derived table by its own WHERE. Any other sharded table
//! in the statement (in a subquery, say) and any other join type keep the
//! nested loop.

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, JoinConstraint, JoinOperator, Query, Select, SelectItem,
    SetExpr, TableFactor,
};
use vschema::TableType;

use super::derived::derived_columns;
use super::routing::{conjuncts, equality, is_column, route_table, Routing};
use super::tables::{resolve_name, TableUse, Tables};
use super::Context;
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::route::{Opcode, Unmapped};

/// Vindex types whose unique mapping of a value needs nothing but the value,
/// so one bind variable on one of them names one keyspace id (or none).
const TRUSTED_FOR_BIND_VARIABLES: &[&str] = &[
    "hash",
    "xxhash",
    "numeric",
    "binary",
    "binary_md5",
    "unicode_loose_md5",
    "unicode_loose_xxhash",
    "reverse_bits",
];

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
    let mut pins = Vec::new();
    for (item, _) in &items {
        let conds: Vec<&Expr> = where_conds.iter().chain(&item.conds).copied().collect();
        match item_routing(ctx, item.factor, &conds)? {
            Pin::Unknown => return Ok(None),
            pin => pins.push((pin, conds)),
        }
    }
    flow_values(&mut pins);
    let joined_on_vindex = joined_on_vindex_columns(&items, &pins);
    let mut pinned: Vec<Routing> = Vec::new();
    for (pin, _) in pins {
        match pin {
            Pin::Everywhere => {}
            Pin::Shard(r, _) => pinned.push(r),
            Pin::Table(_) | Pin::Unknown => return Ok(None),
        }
    }
    let sharded_uses = tables.uses.iter().filter(|u| is_sharded(u)).count();
    let Some(first) = pinned.first() else {
        return Ok(None);
    };
    if pinned.len() != sharded_uses || !pinned.iter().all(|r| same_value(first, r)) {
        return Ok(None);
    }
    if !first.single_shard && joined_on_vindex {
        // Tables joined on their vindex columns alone: the pushed join routes
        // them as one query whose unmappable values scatter (exactly, since
        // joined rows share one value); a one-shard route would refuse those.
        return Ok(None);
    }
    let mut merged = first.clone();
    if let Some(v) = merged.vindex.as_mut() {
        v.unmapped = Unmapped::OneShard;
    }
    Ok(Some(merged))
}

enum Pin {
    /// Complete on every shard (reference table, no table).
    Everywhere,
    /// Pinned to one shard, with the column (qualifier, name) that holds
    /// the pinned vindex value, when the outer query can name it.
    Shard(Routing, Option<(String, String)>),
    /// A sharded table not pinned by its own predicates.
    Table(TableUse),
    /// Anything else.
    Unknown,
}

/// Pins tables through `y.col = x.col` equalities with a pinned item `x`,
/// both columns of the pinned vindex: `y.col` then holds the same value
/// in every row the item contributes (NULL never equals).
fn flow_values(pins: &mut [(Pin, Vec<&Expr>)]) {
    loop {
        let mut changed = false;
        for y in 0..pins.len() {
            let Pin::Table(u) = &pins[y].0 else { continue };
            let found = pins[y].1.iter().find_map(|c| {
                let Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq,
                    right,
                } = c
                else {
                    return None;
                };
                pins.iter().find_map(|(p, _)| {
                    let Pin::Shard(r, Some((q, col))) = p else {
                        return None;
                    };
                    let vindex = &r.vindex.as_ref()?.name;
                    let names = |e: &Expr| match e {
                        Expr::CompoundIdentifier(i) => matches!(i.as_slice(),
                            [a, b] if a.value == *q && b.value.eq_ignore_ascii_case(col)),
                        _ => false,
                    };
                    let pair = (names(left) && vindex_column(u, vindex, right))
                        || (names(right) && vindex_column(u, vindex, left));
                    pair.then(|| {
                        let own = Some(r)
                            .and_then(|r| pinned_column(u, r))
                            .map(|c| (u.qualifier().to_string(), c));
                        Pin::Shard(r.clone(), own)
                    })
                })
            });
            if let Some(pin) = found {
                pins[y].0 = pin;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Whether the items are all sharded tables whose pinned vindex columns are
/// linked to each other by equalities (`u.id = e.user_id`): every joined
/// row then holds one vindex value, so the statement is a plain pushed join
/// (and without reference tables, nothing needs one shard's answer).
fn joined_on_vindex_columns(items: &[(Item, bool)], pins: &[(Pin, Vec<&Expr>)]) -> bool {
    let mut columns = Vec::new();
    for ((item, _), (pin, _)) in items.iter().zip(pins) {
        match pin {
            Pin::Shard(_, Some(col)) if matches!(item.factor, TableFactor::Table { .. }) => {
                columns.push(col)
            }
            _ => return false,
        }
    }
    let index = |e: &Expr| {
        match e {
        Expr::CompoundIdentifier(i) => columns.iter().position(|(q, c)| {
            matches!(i.as_slice(), [a, b] if a.value == *q && b.value.eq_ignore_ascii_case(c))
        }),
        _ => None,
    }
    };
    // Connected components by union of equal columns.
    let mut group: Vec<usize> = (0..columns.len()).collect();
    for (_, conds) in pins {
        for (left, right) in conds.iter().filter_map(|c| equality(c)) {
            if let (Some(a), Some(b)) = (index(left), index(right)) {
                let (from, to) = (group[a], group[b]);
                for g in &mut group {
                    if *g == from {
                        *g = to;
                    }
                }
            }
        }
    }
    group.iter().all(|g| *g == group[0])
}

/// Whether `e` names `u`'s primary vindex column, that vindex being
/// `vindex` (the primary vindex places the row, so equal values of it put
/// rows on one shard).
fn vindex_column(u: &TableUse, vindex: &str, e: &Expr) -> bool {
    u.table.column_vindexes.first().is_some_and(|cv| {
        cv.name == vindex && cv.columns.len() == 1 && is_column(e, u, &cv.columns[0], false)
    })
}

/// `u`'s primary vindex column, when that is the vindex `r` routes by.
fn pinned_column(u: &TableUse, r: &Routing) -> Option<String> {
    let name = &r.vindex.as_ref()?.name;
    u.table
        .column_vindexes
        .first()
        .filter(|cv| cv.name == *name && cv.columns.len() == 1)
        .map(|cv| cv.columns[0].clone())
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
            let u = TableUse::new(table, name, alias.as_ref());
            if !is_sharded(&u) {
                return Ok(Pin::Everywhere);
            }
            let selection = and_all(conds);
            let r = route_table(&u, selection.as_ref(), false)?;
            if !is_pinned(&r) {
                return Ok(Pin::Table(u));
            }
            let col = pinned_column(&u, &r).map(|c| (u.qualifier().to_string(), c));
            Ok(Pin::Shard(r, col))
        }
        TableFactor::Derived {
            lateral: false,
            subquery,
            alias,
            ..
        } => {
            let SetExpr::Select(inner) = subquery.body.as_ref() else {
                return Ok(Pin::Unknown);
            };
            if subquery.with.is_some() {
                // A recursive CTE reduced to a derived table: vtgate computes it.
                return Ok(Pin::Unknown);
            }
            if let Some(a) = alias {
                // MySQL's errors for the derived table's columns (duplicates).
                match derived_columns(subquery, a) {
                    Err(EngineError::Unsupported(_)) | Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
            match inner.from.as_slice() {
                [] => Ok(Pin::Everywhere),
                [t] if t.joins.is_empty() => {
                    let TableFactor::Table {
                        name,
                        alias: inner_alias,
                        ..
                    } = &t.relation
                    else {
                        return Ok(Pin::Unknown);
                    };
                    let Some(table) = resolve_name(name, &ctx.scope())? else {
                        return Ok(Pin::Everywhere);
                    };
                    let u = TableUse::new(table, name, inner_alias.as_ref());
                    if !is_sharded(&u) {
                        return Ok(Pin::Everywhere);
                    }
                    let r = route_table(&u, inner.selection.as_ref(), true)?;
                    if !is_pinned(&r) {
                        return Ok(Pin::Unknown);
                    }
                    let col = match (alias, pinned_column(&u, &r)) {
                        (Some(a), Some(c)) => {
                            derived_name(inner, &u, &c).map(|n| (a.name.value.clone(), n))
                        }
                        _ => None,
                    };
                    Ok(Pin::Shard(r, col))
                }
                _ => Ok(Pin::Unknown),
            }
        }
        _ => Ok(Pin::Unknown),
    }
}

/// Pinned to one shard: by a literal proven to map to one, or by one bind
/// variable on a trusted functional vindex.
fn is_pinned(r: &Routing) -> bool {
    let by_bind_variable = || {
        r.vindex.as_ref().is_some_and(|v| {
            matches!(v.values.as_slice(), [PlanValue::BindVar(_)])
                && v.vindex.is_unique()
                && !v.vindex.needs_vcursor()
                && TRUSTED_FOR_BIND_VARIABLES.contains(&v.vindex.type_name())
        })
    };
    r.opcode == Opcode::EqualUnique && (r.single_shard || by_bind_variable())
}

/// The name a derived table's select list gives the inner column `c`
/// (a plain reference to it, with or without alias).
fn derived_name(inner: &Select, u: &TableUse, c: &str) -> Option<String> {
    if inner.group_by != GroupByExpr::Expressions(Vec::new(), Vec::new()) {
        // Grouped rows still carry the column's value, but keep it simple.
        return None;
    }
    inner.projection.iter().find_map(|item| match item {
        SelectItem::UnnamedExpr(e) if is_column(e, u, c, true) => Some(c.to_string()),
        SelectItem::ExprWithAlias { expr, alias } if is_column(expr, u, c, true) => {
            Some(alias.value.clone())
        }
        _ => None,
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
    conds
        .iter()
        .map(|c| (*c).clone())
        .reduce(|l, r| Expr::BinaryOp {
            left: Box::new(super::routing::and_operand(l)),
            op: BinaryOperator::And,
            right: Box::new(super::routing::and_operand(r)),
        })
}
