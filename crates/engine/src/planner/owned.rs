//! Planning the maintenance of owned lookup vindexes (Vitess
//! `planbuilder/dml_planner.go`, `insert.go`): which lookup rows an INSERT
//! creates, and the [`OwnedDml`] wrapping an UPDATE or DELETE of an owner
//! table. What cannot be maintained exactly (INSERT IGNORE, ON DUPLICATE
//! KEY UPDATE, assignments that are not values) is refused.

use sqlparser::ast::{Assignment, Expr, Insert, OrderByExpr, Statement, TableWithJoins};

use vschema::build::ColumnVindex;

use super::dml::column_name;
use super::tables::{rewrite_for_shards, TableUse};
use super::Context;
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::insert::OwnedInsert;
use crate::lookup::{quote, Lookup, Owner};
use crate::owned_dml::{OwnedColumns, OwnedDml};
use crate::primitive::Primitive;
use crate::route::Route;

/// The lookup of an owned column vindex of `table`, with its owner.
fn owned_lookup(table: &TableUse, cv: &ColumnVindex) -> Result<Lookup> {
    let t = &table.table;
    let Some(mut lookup) = Lookup::of(&cv.name, cv.vindex.as_ref())? else {
        return Err(EngineError::unsupported(format!(
            "owned vindex {} that is not a lookup vindex",
            cv.name
        )));
    };
    if cv.columns.len() != lookup.params.from.len() {
        return Err(EngineError::BadResult(format!(
            "lookup vindex {}: {} columns for {} from columns",
            cv.name,
            cv.columns.len(),
            lookup.params.from.len()
        )));
    }
    lookup.owner = Some(Owner {
        keyspace: t.keyspace.name.clone(),
        table: t.name.clone(),
        columns: cv.columns.clone(),
    });
    Ok(lookup)
}

/// The owned lookup vindexes of `table` with their columns, in VSchema order.
fn owned_lookups(table: &TableUse) -> Result<Vec<(Vec<String>, Lookup)>> {
    table
        .table
        .owned_vindexes()
        .map(|cv| Ok((cv.columns.clone(), owned_lookup(table, cv)?)))
        .collect()
}

/// The owned vindexes an INSERT with `owned` lookups must write, with an
/// empty row list each; rows are added by [`insert_row_values`].
pub(super) fn insert_owned(
    table: &TableUse,
    insert: &Insert,
) -> Result<Vec<(Vec<String>, Lookup)>> {
    let owned = owned_lookups(table)?;
    if owned.is_empty() {
        return Ok(owned);
    }
    if insert.ignore {
        return Err(EngineError::unsupported(
            "INSERT IGNORE into a table with owned lookup vindexes",
        ));
    }
    if insert.on.is_some() {
        return Err(EngineError::unsupported(
            "ON DUPLICATE KEY UPDATE on a table with owned lookup vindexes",
        ));
    }
    Ok(owned)
}

/// One row's values of `vindex_columns`: the row's expression (a value),
/// the generated sequence bind variable, or NULL for a missing column.
pub(super) fn insert_row_values(
    vindex_columns: &[String],
    columns: &[String],
    exprs: &[Option<&Expr>],
    generated: Option<&(usize, String)>,
) -> Result<Vec<PlanValue>> {
    vindex_columns
        .iter()
        .map(|vc| {
            let Some(i) = columns.iter().position(|c| c.eq_ignore_ascii_case(vc)) else {
                return Ok(PlanValue::Literal(sql::literal::BindValue::Null));
            };
            if let Some((_, name)) = generated.filter(|(g, _)| *g == i) {
                return Ok(PlanValue::BindVar(name.clone()));
            }
            exprs
                .get(i)
                .copied()
                .flatten()
                .and_then(PlanValue::from_expr)
                .ok_or_else(|| {
                    EngineError::unsupported(format!(
                        "INSERT with a lookup vindex value that is not a literal (column {vc})"
                    ))
                })
        })
        .collect()
}

/// The owned inserts with their rows.
pub(super) fn owned_inserts(
    owned: Vec<(Vec<String>, Lookup)>,
    rows: Vec<Vec<Vec<PlanValue>>>,
) -> Vec<OwnedInsert> {
    owned
        .into_iter()
        .enumerate()
        .map(|(i, (_, lookup))| OwnedInsert {
            lookup,
            rows: rows.iter().map(|r| r[i].clone()).collect(),
        })
        .collect()
}

/// Wraps `route` (the routed UPDATE or DELETE of `table`; `assignments` are
/// an UPDATE's) to maintain the table's owned lookup vindexes, or returns it
/// as it is when none changes.
pub(super) fn wrap_owned(
    ctx: &Context,
    stmt: &Statement,
    table: &TableUse,
    assignments: Option<&[Assignment]>,
    route: Route,
) -> Result<Box<dyn Primitive>> {
    let mut changes = Vec::new();
    for cv in table.table.owned_vindexes() {
        let new_values: Vec<Option<PlanValue>> = match assignments {
            Some(a) => cv
                .columns
                .iter()
                .map(|c| assigned_value(a, c))
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        if assignments.is_some() && new_values.iter().all(Option::is_none) {
            continue;
        }
        changes.push((cv.columns.clone(), owned_lookup(table, cv)?, new_values));
    }
    if changes.is_empty() {
        return Ok(Box::new(route));
    }
    let t = &table.table;
    let pv = t
        .primary_vindex()
        .ok_or_else(|| EngineError::unsupported("table without vindex"))?;
    if pv.vindex.needs_vcursor() {
        return Err(EngineError::unsupported(
            "owned lookup vindexes with a lookup primary vindex",
        ));
    }
    let mut select_cols: Vec<String> = pv.columns.iter().map(|c| quote(c)).collect();
    let mut owned = Vec::new();
    for (columns, lookup, new_values) in changes {
        let mut positions = Vec::new();
        for c in &columns {
            positions.push(select_cols.len());
            select_cols.push(quote(c));
        }
        owned.push(OwnedColumns {
            lookup,
            columns: positions,
            new_values,
        });
    }
    let select = owned_vindex_query(ctx, stmt, &select_cols.join(", "))?;
    Ok(Box::new(OwnedDml {
        route,
        select,
        primary: pv.vindex.clone(),
        ksid_length: pv.columns.len(),
        owned,
    }))
}

/// The new value an assignment gives `column`, if any; a value must be a
/// literal (Vitess: only values are supported).
fn assigned_value(assignments: &[Assignment], column: &str) -> Result<Option<PlanValue>> {
    for a in assignments {
        let sqlparser::ast::AssignmentTarget::ColumnName(name) = &a.target else {
            continue;
        };
        if column_name(name).eq_ignore_ascii_case(column) {
            return PlanValue::from_expr(&a.value).map(Some).ok_or_else(|| {
                EngineError::unsupported(format!(
                    "only values are supported: invalid update on column: {column} with expr: [{}]",
                    a.value
                ))
            });
        }
    }
    Ok(None)
}

/// `select <cols> from <table> [where] [order by] for update`, from the
/// statement as the shards get it (LIMIT is refused).
fn owned_vindex_query(ctx: &Context, stmt: &Statement, cols: &str) -> Result<String> {
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    let (from, selection, order_by, limit): (
        &TableWithJoins,
        Option<&Expr>,
        Vec<&OrderByExpr>,
        Option<&Expr>,
    ) = match &shard_stmt {
        Statement::Delete(d) => {
            let (sqlparser::ast::FromTable::WithFromKeyword(from)
            | sqlparser::ast::FromTable::WithoutKeyword(from)) = &d.from;
            let [only] = from.as_slice() else {
                return Err(EngineError::unsupported(
                    "multi-table DML on a sharded keyspace",
                ));
            };
            (
                only,
                d.selection.as_ref(),
                d.order_by.iter().collect(),
                d.limit.as_ref(),
            )
        }
        Statement::Update(u) => (
            &u.table,
            u.selection.as_ref(),
            u.order_by.iter().collect(),
            u.limit.as_ref(),
        ),
        _ => {
            return Err(EngineError::BadResult(
                "owned vindex query of a non-DML".into(),
            ))
        }
    };
    let mut sql = format!("select {cols} from {from}");
    if let Some(s) = selection {
        sql.push_str(&format!(" where {s}"));
    }
    if !order_by.is_empty() {
        let o: Vec<String> = order_by.iter().map(ToString::to_string).collect();
        sql.push_str(&format!(" order by {}", o.join(", ")));
    }
    if limit.is_some() {
        // The statement's LIMIT could pick other rows among ties than the select did,
        // and their lookup rows would be the wrong ones.
        return Err(EngineError::unsupported(
            "UPDATE or DELETE with LIMIT that changes owned lookup vindexes",
        ));
    }
    sql.push_str(" for update");
    Ok(sql)
}
