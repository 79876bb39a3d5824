//! Routing a table by a multi-column vindex (Vitess `multicol`,
//! `region_experimental`): every column of the vindex (or of a prefix of
//! them, for a vindex that maps prefixes to key ranges) must be limited by
//! an AND-ed condition of the WHERE clause.
//!
//! All columns `=` a value gives `EqualUnique`; a prefix `=` values gives
//! `SubShard` (the shards of the prefix's key range); any column limited to
//! a list (`IN`, an OR of values) gives `IN` over every combination; the
//! columns of one `(a, b) in ((1, 2), ...)` list give `MultiEqual`, which
//! pairs the values position by position.

use sqlparser::ast::Expr;
use vschema::build::ColumnVindex;
use vschema::{ColumnKind, Destination};

use super::routing::{candidate, through_columns, Candidate, Routing};
use super::tables::TableUse;
use crate::bind::{routing_value, PlanValue};
use crate::route::{ColumnValues, Opcode, RouteVindex, Unmapped};

/// How one column of the vindex is limited.
enum Limit {
    /// `col = v`.
    One(PlanValue),
    /// `col in (...)` or an OR of values.
    List(Vec<PlanValue>),
    /// The column inside a tuple compared with a list of tuples: the
    /// conjunct it came from and the column's item of each tuple.
    Tuple(usize, Vec<PlanValue>),
}

/// The narrowest limit on `column`: a single value first, then the
/// shortest list.
fn limit_of(conds: &[&Expr], table: &TableUse, column: &str, unqualified: bool) -> Option<Limit> {
    let direct = conds.iter().enumerate().filter_map(|(i, c)| {
        Some(match candidate(c, table, column, unqualified)? {
            Candidate::Equal(v) => Limit::One(v),
            Candidate::In(mut vs) if vs.len() == 1 => Limit::One(vs.remove(0)),
            Candidate::In(vs) => Limit::List(vs),
            Candidate::MultiEqual(vs) => Limit::Tuple(i, vs),
        })
    });
    let through = through_columns(conds, table, column, unqualified)
        .into_iter()
        .filter_map(|c| match c {
            Candidate::Equal(v) => Some(Limit::One(v)),
            _ => None,
        });
    direct.chain(through).min_by_key(|l| match l {
        Limit::One(_) => (0, 1),
        Limit::List(vs) | Limit::Tuple(_, vs) => (1, vs.len()),
    })
}

/// The routing by the multi-column vindex `cv` (a whole vindex or, when
/// `cv.partial`, a prefix of its columns), with its rank among candidate
/// routings (lower is better), or `None` when some column is not limited.
pub(super) fn route_multi_column(
    cv: &ColumnVindex,
    conds: &[&Expr],
    table: &TableUse,
    unqualified: bool,
) -> Option<(u32, Routing)> {
    let limits = cv
        .columns
        .iter()
        .map(|c| limit_of(conds, table, c, unqualified))
        .collect::<Option<Vec<_>>>()?;
    let one_tuple_list = match limits.first() {
        Some(Limit::Tuple(first, _)) => limits
            .iter()
            .all(|l| matches!(l, Limit::Tuple(i, _) if i == first)),
        _ => false,
    };
    let all_single = limits.iter().all(|l| matches!(l, Limit::One(_)));
    let columns: Vec<ColumnValues> = limits
        .into_iter()
        .map(|l| match l {
            Limit::One(v) => ColumnValues::One(v),
            Limit::List(vs) | Limit::Tuple(_, vs) => ColumnValues::List(vs),
        })
        .collect();
    let (rank, opcode) = match (all_single, cv.partial, one_tuple_list) {
        (true, false, _) => (0, Opcode::EqualUnique),
        (true, true, _) => (3, Opcode::SubShard),
        (false, _, true) => (2, Opcode::MultiEqual),
        (false, _, false) => (2, Opcode::In),
    };
    let single_shard = opcode == Opcode::EqualUnique && maps_to_one_keyspace_id(cv, &columns);
    let routing = Routing {
        opcode,
        vindex: Some(RouteVindex {
            name: cv.name.clone(),
            vindex: cv.vindex.clone(),
            values: Vec::new(),
            unmapped: Unmapped::Scatter,
            columns,
            kind: ColumnKind::Unknown,
        }),
        single_shard,
    };
    Some((rank, routing))
}

/// Whether literal values for every column map to one keyspace id.
fn maps_to_one_keyspace_id(cv: &ColumnVindex, columns: &[ColumnValues]) -> bool {
    let row = columns
        .iter()
        .map(|c| match c {
            ColumnValues::One(PlanValue::Literal(lit)) => {
                routing_value(lit, cv.vindex.as_ref(), ColumnKind::Unknown)
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>();
    row.is_some_and(|row| {
        matches!(
            cv.vindex.map_rows(&[row]).as_deref(),
            Ok([Destination::KeyspaceId(_)])
        )
    })
}
