//! Pushing a join of tables in one sharded keyspace down to the shards
//! whole, when every output row is built from rows of a single shard:
//!
//! * reference tables are on every shard, so they join anything as long
//!   as a sharded table is inner-joined (otherwise each shard would add its
//!   own copy of the reference rows);
//! * sharded tables must be co-located: joined by equality of their
//!   primary vindex columns, with the same vindex (for a LEFT JOIN, in its
//!   ON clause).
//!
//! A derived table each shard computes whole stands for its table (see
//! `colocated_derived`); a parenthesized group of inner joins on the right
//! of a LEFT JOIN must be co-located with the tables before it or among
//! its own; `a RIGHT JOIN b` is checked as `b LEFT JOIN a`. Anything else
//! (RIGHT JOIN later in a chain, USING/NATURAL joins of sharded tables,
//! tables in subqueries, other derived tables) is refused.

use sqlparser::ast::{Expr, JoinConstraint, JoinOperator, Query, Select, SetExpr, TableFactor};
use vschema::TableType;

use super::colocated_derived;
use super::order::plan_multi_shard;
use super::routing::{conjuncts, equality, is_column, route_table, Routing};
use super::tables::{TableUse, Tables};
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::route::{Opcode, Route};

use super::select::field_query;

/// How a table entered the FROM clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JoinKind {
    /// First table, comma, inner, cross or straight join.
    Inner,
    /// Right side of a LEFT JOIN, alone or in a parenthesized group of
    /// inner joins that starts at item `group`.
    Left { group: usize },
}

fn unsupported_join() -> EngineError {
    EngineError::unsupported("cross-shard join")
}

/// A union-find over table indexes.
struct Groups(Vec<usize>);

impl Groups {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        self.0[i] = r;
        r
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        self.0[ra] = rb;
    }
}

/// Whether `u` is a sharded table (not a reference table).
pub(super) fn is_sharded(u: &TableUse) -> bool {
    u.table.keyspace.sharded && u.table.table_type != TableType::Reference
}

/// One FROM item of a pushed join: a table, or a derived table each shard
/// computes whole (see `colocated_derived`), standing for its table.
struct Item {
    /// The table, qualified as the outer query names the item.
    table: TableUse,
    /// Names under which the outer query reads the primary vindex column.
    vindex_columns: Vec<String>,
    /// How a sharded item alone routes (a derived table by its own WHERE).
    routing: Option<Routing>,
    /// Routed by a derived table's own WHERE rather than the statement's.
    own_where: bool,
}

/// The index of the sharded item whose primary vindex column `e` names.
fn primary_column_of(e: &Expr, items: &[Item]) -> Option<usize> {
    items.iter().position(|it| {
        is_sharded(&it.table)
            && it
                .vindex_columns
                .iter()
                .any(|c| is_column(e, &it.table, c, false))
    })
}

/// Co-location edges from `a.x = b.y` conditions.
fn edges(conds: &[&Expr], items: &[Item]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (left, right) in conds.iter().filter_map(|c| equality(c)) {
        let (Some(a), Some(b)) = (
            primary_column_of(left, items),
            primary_column_of(right, items),
        ) else {
            continue;
        };
        let same_vindex = match (
            items[a].table.table.primary_vindex(),
            items[b].table.table.primary_vindex(),
        ) {
            (Some(x), Some(y)) => x.name == y.name,
            _ => false,
        };
        if same_vindex {
            out.push((a, b));
        }
    }
    out
}

/// The FROM item `factor` as a pushed-join item; `uses` are the statement's
/// table uses not yet matched, in written order.
fn item<'a>(
    outer: &Select,
    factor: &TableFactor,
    uses: &mut impl Iterator<Item = &'a TableUse>,
) -> Result<Item> {
    let table = uses.next().ok_or_else(unsupported_join)?;
    match factor {
        TableFactor::Table { .. } => Ok(Item {
            table: table.clone(),
            vindex_columns: table
                .table
                .primary_vindex()
                .filter(|pv| pv.columns.len() == 1)
                .map(|pv| pv.columns.clone())
                .unwrap_or_default(),
            routing: if is_sharded(table) {
                Some(route_table(table, outer.selection.as_ref(), false)?)
            } else {
                None
            },
            own_where: false,
        }),
        _ => {
            let (table, vindex_columns, routing) =
                colocated_derived::item(outer, factor, table)?.ok_or_else(unsupported_join)?;
            Ok(Item {
                routing: is_sharded(&table).then_some(routing),
                table,
                vindex_columns,
                own_where: true,
            })
        }
    }
}

/// The FROM clause as pushed-join items, with how each was joined and the
/// ON conditions by the item that owns them (a LEFT JOINed group's first).
#[derive(Default)]
struct FromList<'q> {
    items: Vec<Item>,
    kinds: Vec<JoinKind>,
    on_conditions: Vec<(usize, &'q Expr)>,
}

impl<'q> FromList<'q> {
    /// Adds `factor`, LEFT JOINed or not, with its ON condition. A
    /// parenthesized group of inner joins adds its items in order.
    fn push<'a>(
        &mut self,
        outer: &Select,
        factor: &'q TableFactor,
        left: bool,
        on: Option<&'q Expr>,
        uses: &mut impl Iterator<Item = &'a TableUse>,
    ) -> Result<()> {
        let start = self.items.len();
        let kind = if left {
            JoinKind::Left { group: start }
        } else {
            JoinKind::Inner
        };
        let owner = |i: usize| if left { start } else { i };
        let (first, joins) = match factor {
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => (
                &table_with_joins.relation,
                table_with_joins.joins.as_slice(),
            ),
            _ => (factor, &[][..]),
        };
        self.items.push(item(outer, first, uses)?);
        self.kinds.push(kind);
        for j in joins {
            let constraint = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => c,
                _ => return Err(unsupported_join()),
            };
            let i = self.items.len();
            self.items.push(item(outer, &j.relation, uses)?);
            self.kinds.push(kind);
            for c in conjuncts(on_clause(constraint)?) {
                self.on_conditions.push((owner(i), c));
            }
        }
        for c in conjuncts(on) {
            self.on_conditions.push((owner(start), c));
        }
        Ok(())
    }

    /// `a RIGHT JOIN b ON c`, `a` alone in the list so far, as `b LEFT JOIN
    /// a ON c` (the query is sent as written; only the analysis swaps).
    fn swap_right<'a>(
        &mut self,
        outer: &Select,
        right: &'q TableFactor,
        on: Option<&'q Expr>,
        uses: &mut impl Iterator<Item = &'a TableUse>,
    ) -> Result<()> {
        if self.items.len() != 1 || matches!(right, TableFactor::NestedJoin { .. }) {
            return Err(unsupported_join());
        }
        self.push(outer, right, false, None, uses)?;
        self.items.swap(0, 1);
        self.kinds = vec![JoinKind::Inner, JoinKind::Left { group: 1 }];
        self.on_conditions = conjuncts(on).into_iter().map(|c| (1, c)).collect();
        Ok(())
    }
}

/// The condition of an ON clause; USING and NATURAL are refused.
fn on_clause(c: &JoinConstraint) -> Result<Option<&Expr>> {
    match c {
        JoinConstraint::On(e) => Ok(Some(e)),
        JoinConstraint::None => Ok(None),
        _ => Err(unsupported_join()),
    }
}

/// Plans a SELECT joining several tables of one sharded keyspace.
pub(super) fn plan_pushed_join(
    tables: &Tables,
    query: Query,
    keyspace: KeyspaceDesc,
) -> Result<Box<dyn Primitive>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(EngineError::unsupported("UNION on a sharded keyspace"));
    };
    let mut uses = tables.uses.iter();
    let mut from = FromList::default();
    for twj in &select.from {
        from.push(select, &twj.relation, false, None, &mut uses)?;
        for (n, j) in twj.joins.iter().enumerate() {
            let (left, constraint) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (false, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (true, c),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c)
                    if select.from.len() == 1 && n == 0 =>
                {
                    from.swap_right(select, &j.relation, on_clause(c)?, &mut uses)?;
                    continue;
                }
                _ => return Err(unsupported_join()),
            };
            from.push(select, &j.relation, left, on_clause(constraint)?, &mut uses)?;
        }
    }
    let FromList {
        items,
        kinds,
        on_conditions,
    } = from;
    // Every table of the statement is a FROM item's (none in subqueries).
    if uses.next().is_some() {
        return Err(unsupported_join());
    }
    let Some(first) = items.iter().position(|it| is_sharded(&it.table)) else {
        return Err(unsupported_join());
    };
    if kinds[first] != JoinKind::Inner {
        return Err(unsupported_join());
    }
    // Co-location of the sharded tables.
    let mut groups = Groups((0..items.len()).collect());
    let where_conds = conjuncts(select.selection.as_ref());
    let inner_conds: Vec<&Expr> = on_conditions
        .iter()
        .filter(|(t, _)| kinds[*t] == JoinKind::Inner)
        .map(|(_, c)| *c)
        .chain(where_conds.iter().copied())
        .collect();
    for (a, b) in edges(&inner_conds, &items) {
        if kinds[a] == JoinKind::Inner && kinds[b] == JoinKind::Inner {
            groups.union(a, b);
        }
    }
    for (s, kind) in kinds.iter().enumerate() {
        if *kind != (JoinKind::Left { group: s }) {
            continue;
        }
        // A LEFT JOINed group is co-located by its ON clauses, with earlier
        // items or among its own.
        let in_group = |x: usize| x >= s && kinds[x] == *kind;
        let own: Vec<&Expr> = on_conditions
            .iter()
            .filter(|(i, _)| *i == s)
            .map(|(_, c)| *c)
            .collect();
        for (a, b) in edges(&own, &items) {
            if (in_group(a) && (b < s || in_group(b))) || (in_group(b) && a < s) {
                groups.union(a, b);
            }
        }
    }
    let root = groups.find(first);
    for (i, it) in items.iter().enumerate() {
        if is_sharded(&it.table) && groups.find(i) != root {
            return Err(unsupported_join());
        }
    }
    // Route by the best vindex predicate of any inner-joined sharded item,
    // or of a LEFT-joined table the WHERE pins by its vindex: that equality
    // or IN list is never true for a row without partner, so the WHERE
    // keeps only rows that have one, as for an inner join. (A LEFT-joined
    // derived table's own WHERE pins only its rows, not the rows without.)
    let mut best: Option<Routing> = None;
    for (i, it) in items.into_iter().enumerate() {
        let Some(r) = it.routing else {
            continue;
        };
        if kinds[i] != JoinKind::Inner && (r.opcode == Opcode::Scatter || it.own_where) {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| rank(r.opcode) < rank(b.opcode))
        {
            best = Some(r);
        }
    }
    let routing = best.ok_or_else(unsupported_join)?;
    let mut route = Route::new(
        routing.opcode,
        keyspace,
        query.to_string(),
        field_query(&query),
    );
    route.vindex = routing.vindex;
    if routing.single_shard {
        return Ok(Box::new(route));
    }
    plan_multi_shard(query, route)
}

fn rank(op: Opcode) -> u8 {
    match op {
        Opcode::None => 0,
        Opcode::EqualUnique => 1,
        Opcode::Equal => 2,
        Opcode::In => 3,
        _ => 4,
    }
}
