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
//! Anything else (RIGHT JOIN, USING/NATURAL joins of sharded tables,
//! tables in subqueries, derived tables) is refused.

use sqlparser::ast::{Expr, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor};
use vschema::TableType;

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
    /// Right side of a LEFT JOIN.
    Left,
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

fn is_sharded(u: &TableUse) -> bool {
    u.table.keyspace.sharded && u.table.table_type != TableType::Reference
}

/// The index of the sharded table whose primary vindex column `e` names.
fn primary_column_of(e: &Expr, uses: &[TableUse]) -> Option<usize> {
    uses.iter().position(|u| {
        is_sharded(u)
            && u.table
                .primary_vindex()
                .is_some_and(|pv| pv.columns.len() == 1 && is_column(e, u, &pv.columns[0], false))
    })
}

/// Co-location edges from `a.x = b.y` conditions.
fn edges(conds: &[&Expr], uses: &[TableUse]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (left, right) in conds.iter().filter_map(|c| equality(c)) {
        let (Some(a), Some(b)) = (
            primary_column_of(left, uses),
            primary_column_of(right, uses),
        ) else {
            continue;
        };
        let same_vindex = match (
            uses[a].table.primary_vindex(),
            uses[b].table.primary_vindex(),
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

/// Plans a SELECT joining several tables of one sharded keyspace.
pub(super) fn plan_pushed_join(
    tables: &Tables,
    query: Query,
    keyspace: KeyspaceDesc,
) -> Result<Box<dyn Primitive>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(EngineError::unsupported("UNION on a sharded keyspace"));
    };
    let uses = &tables.uses;
    let mut kinds = Vec::new();
    let mut on_conditions: Vec<(usize, &Expr)> = Vec::new();
    for twj in &select.from {
        let TableFactor::Table { .. } = twj.relation else {
            return Err(unsupported_join());
        };
        kinds.push(JoinKind::Inner);
        for j in &twj.joins {
            let TableFactor::Table { .. } = j.relation else {
                return Err(unsupported_join());
            };
            let (kind, constraint) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (JoinKind::Inner, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
                _ => return Err(unsupported_join()),
            };
            match constraint {
                JoinConstraint::On(e) => {
                    for c in conjuncts(Some(e)) {
                        on_conditions.push((kinds.len(), c));
                    }
                }
                JoinConstraint::None => {}
                _ => return Err(unsupported_join()),
            }
            kinds.push(kind);
        }
    }
    if kinds.len() != uses.len() {
        return Err(unsupported_join());
    }
    let Some(first) = uses.iter().position(is_sharded) else {
        return Err(unsupported_join());
    };
    if kinds[first] != JoinKind::Inner {
        return Err(unsupported_join());
    }
    // Co-location of the sharded tables.
    let mut groups = Groups((0..uses.len()).collect());
    let where_conds = conjuncts(select.selection.as_ref());
    let inner_conds: Vec<&Expr> = on_conditions
        .iter()
        .filter(|(t, _)| kinds[*t] == JoinKind::Inner)
        .map(|(_, c)| *c)
        .chain(where_conds.iter().copied())
        .collect();
    for (a, b) in edges(&inner_conds, uses) {
        if kinds[a] == JoinKind::Inner && kinds[b] == JoinKind::Inner {
            groups.union(a, b);
        }
    }
    for (t, kind) in kinds.iter().enumerate() {
        if *kind != JoinKind::Left {
            continue;
        }
        let own: Vec<&Expr> = on_conditions
            .iter()
            .filter(|(i, _)| *i == t)
            .map(|(_, c)| *c)
            .collect();
        for (a, b) in edges(&own, uses) {
            if (a == t && b < t) || (b == t && a < t) {
                groups.union(a, b);
            }
        }
    }
    let root = groups.find(first);
    for (i, u) in uses.iter().enumerate() {
        if is_sharded(u) && groups.find(i) != root {
            return Err(unsupported_join());
        }
    }
    // Route by the best vindex predicate of any inner-joined sharded table,
    // or of a LEFT-joined one the WHERE pins by its vindex: that equality
    // or IN list is never true for a row without partner, so the WHERE
    // keeps only rows that have one, as for an inner join.
    let mut best: Option<Routing> = None;
    for (i, u) in uses.iter().enumerate() {
        if !is_sharded(u) {
            continue;
        }
        let r = route_table(u, select.selection.as_ref(), false)?;
        if kinds[i] != JoinKind::Inner && r.opcode == Opcode::Scatter {
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
