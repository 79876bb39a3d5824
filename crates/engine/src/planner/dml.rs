//! Planning INSERT, UPDATE and DELETE (Vitess `planbuilder/insert.go`,
//! `update.go`, `delete.go`). Statements on an unsharded keyspace go whole
//! to its shard. On a sharded table: INSERT rows are split by their primary
//! vindex value; UPDATE and DELETE are routed by their WHERE clause like a
//! SELECT. Owned lookup vindexes are maintained (see [`super::owned`]).
//! A reference table with a source is written through its source.
//! Several tables not on the same shards, or ORDER BY / LIMIT over several
//! shards, are planned as a select of the rows' primary keys followed by
//! single-table statements ([`super::dml_with_input`]). What would change
//! a row's shard is refused.

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, Ident, Insert, ObjectName, ObjectNamePart, OnInsert,
    Parens, SetExpr, Statement, TableFactor, TableObject, Update,
};
use vschema::TableType;

use super::colocated_dml::{plan_colocated_dml, Dml};
use super::dml_with_input::{plan_delete_with_input, plan_update_with_input};
use super::insert_select::plan_insert_select;
use super::order::features_of_expr;
use super::owned::{insert_owned, insert_row_values, owned_inserts, wrap_owned};
use super::pullout::pull_out;
use super::reference_dml::to_source;
use super::routing::route_table;
use super::select::plan_side;
use super::set_pullout::plan_set_pullouts;
use super::tables::{resolve_name, rewrite_for_shards, table_name, TableUse, Tables};
use super::Context;
use crate::bind::PlanValue;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::insert::{Insert as InsertPrimitive, SequenceFill};
use crate::primitive::{Plan, Primitive};
use crate::route::{Opcode, Route};

/// Marks where the rows go when splitting an INSERT's text.
const ROWS_MARKER: &str = "__vt_insert_rows__";

/// The single table a DML statement writes, when all its tables are in
/// one keyspace; `Ok(Err(route))` when the keyspace is unsharded and the
/// statement can be sent whole.
pub(super) fn target<'t>(
    ctx: &Context,
    stmt: &Statement,
    tables: &'t Tables,
    operator: &'static str,
) -> Result<std::result::Result<&'t TableUse, Box<dyn Primitive>>> {
    let Some(first) = tables.uses.first() else {
        return Err(EngineError::unsupported(format!(
            "{operator} without a table"
        )));
    };
    let ks = &first.table.keyspace;
    if tables.uses.iter().any(|u| u.table.keyspace.name != ks.name) {
        return Err(EngineError::unsupported(format!(
            "cross-keyspace {operator}"
        )));
    }
    if !ks.sharded {
        let mut shard_stmt = stmt.clone();
        rewrite_for_shards(&mut shard_stmt, &ctx.scope());
        let desc = KeyspaceDesc {
            name: ks.name.clone(),
            sharded: false,
        };
        let mut r = Route::new(
            Opcode::Unsharded,
            desc,
            shard_stmt.to_string(),
            String::new(),
        );
        r.operator = operator;
        return Ok(Err(Box::new(r)));
    }
    if let (1, Some(source)) = (tables.uses.len(), &first.table.source) {
        if first.table.table_type == TableType::Reference {
            return Ok(Err(to_source(ctx, stmt, source, operator)?));
        }
    }
    if tables.uses.len() > 1 {
        return Err(EngineError::unsupported(format!(
            "multi-table or subquery {operator} on a sharded keyspace"
        )));
    }
    if first.table.table_type == TableType::Reference {
        return Err(EngineError::unsupported(format!(
            "{operator} on a reference table of a sharded keyspace"
        )));
    }
    Ok(Ok(first))
}

pub(super) fn plan_of(
    query_type: &'static str,
    tables: &Tables,
    instructions: Box<dyn Primitive>,
) -> Plan {
    Plan {
        query_type,
        instructions,
        tables_used: tables.used(),
        column_names: Vec::new(),
    }
}

/// Plans an INSERT.
pub(super) fn plan_insert(ctx: &Context, stmt: &Statement, insert: &Insert) -> Result<Plan> {
    let TableObject::TableName(name) = &insert.table else {
        return Err(EngineError::unsupported("INSERT into a table function"));
    };
    let mut tables = Tables::collect(stmt, &ctx.scope())?;
    let into = resolve_name(name, &ctx.scope())
        .map_err(|e| vindex_not_writable(ctx, name, e))?
        .ok_or_else(|| EngineError::unsupported("INSERT into dual"))?;
    tables.uses.insert(
        0,
        TableUse {
            table: into,
            written: table_name(name),
            alias: None,
        },
    );
    if let Some(source) = insert.source.as_ref() {
        let into_ks = &tables.uses[0].table.keyspace;
        let one_keyspace = tables
            .uses
            .iter()
            .all(|u| u.table.keyspace.name == into_ks.name);
        let from_select = !matches!(source.body.as_ref(), SetExpr::Values(_));
        if from_select && (into_ks.sharded || !one_keyspace) {
            return plan_insert_select(ctx, stmt, insert, &tables, source);
        }
    }
    let table = match target(ctx, stmt, &tables, "Insert")? {
        Err(whole) => return Ok(plan_of("INSERT", &tables, whole)),
        Ok(t) => t,
    };
    let t = &table.table;
    if let Some(expanded) = with_authoritative_columns(insert, t) {
        return plan_insert(ctx, &Statement::Insert(expanded.clone()), &expanded);
    }
    if insert.replace_into {
        return Err(EngineError::unsupported(
            "REPLACE INTO with sharded keyspace",
        ));
    }
    let Some(source) = insert.source.as_ref() else {
        return Err(EngineError::unsupported(
            "INSERT ... SET on a sharded keyspace",
        ));
    };
    let SetExpr::Values(values) = source.body.as_ref() else {
        return Err(EngineError::unsupported(
            "INSERT ... SELECT on a sharded keyspace",
        ));
    };
    if !insert.columns.is_empty()
        && values
            .rows
            .iter()
            .any(|r| r.content.len() != insert.columns.len())
    {
        return Err(column_count());
    }
    let owned_specs = insert_owned(table, insert)?;
    if insert.columns.is_empty() {
        return Err(EngineError::insert_without_columns());
    }
    let mut columns: Vec<String> = insert.columns.iter().map(column_name).collect();
    // The auto-increment column: appended when missing, filled from the
    // sequence where missing, NULL or 0.
    let auto = t.auto_increment.as_ref();
    let auto_missing =
        auto.is_some_and(|a| !columns.iter().any(|c| c.eq_ignore_ascii_case(&a.column)));
    if let (Some(a), true) = (auto, auto_missing) {
        columns.push(a.column.clone());
    }
    let auto_idx = auto.and_then(|a| {
        columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(&a.column))
    });
    let pv = t
        .primary_vindex()
        .ok_or_else(|| EngineError::unsupported("table without vindex"))?;
    // Every column of the primary vindex (several for a multi-column one)
    // must be given: together they make the row's keyspace id.
    let pv_idxs = pv
        .columns
        .iter()
        .map(|pv_col| {
            columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(pv_col))
                .ok_or_else(|| EngineError::BadResult(format!(
                    "VT09003: INSERT query does not have primary vindex column '{pv_col}' in the column list"
                )))
        })
        .collect::<Result<Vec<usize>>>()?;
    if let Some(OnInsert::DuplicateKeyUpdate(assignments)) = &insert.on {
        for a in assignments {
            check_assignment(&a.target, table)?;
        }
    }
    let mut row_texts = Vec::new();
    let mut vindex_values = Vec::new();
    let mut generated_names = Vec::new();
    let mut owned_rows = Vec::new();
    for (n, row) in values.rows.iter().enumerate() {
        let mut cells: Vec<String> = row.content.iter().map(ToString::to_string).collect();
        let mut exprs: Vec<Option<&Expr>> = row.content.iter().map(Some).collect();
        if auto_missing {
            cells.push(String::new());
            exprs.push(None);
        }
        if cells.len() != columns.len() {
            return Err(column_count());
        }
        // NULL and 0 ask for a generated value: from the sequence, never
        // from one shard's own AUTO_INCREMENT.
        let generate = auto_idx.is_some_and(|i| match exprs[i].map(PlanValue::from_expr) {
            None => true,
            Some(Some(PlanValue::Literal(sql::literal::BindValue::Int64(0)))) => true,
            Some(Some(v)) => v.is_null_literal(),
            Some(None) => false,
        });
        let mut generated = None;
        if let (true, Some(i)) = (generate, auto_idx) {
            let name = format!("__seq{n}");
            cells[i] = format!(":{name}");
            generated_names.push(name.clone());
            generated = Some((i, name));
        }
        let row_values = pv_idxs
            .iter()
            .map(|&pv_idx| match (&generated, exprs[pv_idx]) {
                (Some((i, name)), _) if *i == pv_idx => Ok(PlanValue::BindVar(name.clone())),
                (_, Some(e)) => PlanValue::from_expr(e).ok_or_else(|| match e {
                    // Vitess's evaluator has no row to read a column from.
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_) => EngineError::mysql(
                        1054,
                        "42S22",
                        format!("cannot lookup column '{e}' (column access not supported here)"),
                    ),
                    _ => EngineError::unsupported(
                        "INSERT with a primary vindex value that is not a literal",
                    ),
                }),
                (_, None) => Err(EngineError::BadResult(
                    "missing primary vindex value".into(),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        vindex_values.push(row_values);
        owned_rows.push(
            owned_specs
                .iter()
                .map(|(cols, _)| insert_row_values(cols, &columns, &exprs, generated.as_ref()))
                .collect::<Result<Vec<_>>>()?,
        );
        row_texts.push(format!("({})", cells.join(", ")));
    }
    let sequence = match auto {
        Some(a) if !generated_names.is_empty() => Some(SequenceFill {
            keyspace: a.sequence.keyspace.clone(),
            table: a.sequence.table.clone(),
            bind_names: generated_names,
        }),
        _ => None,
    };
    let added_column = auto.filter(|_| auto_missing).map(|a| a.column.as_str());
    let (prefix, suffix) = split_around_rows(ctx, stmt, added_column)?;
    let primitive = InsertPrimitive {
        keyspace: KeyspaceDesc {
            name: t.keyspace.name.clone(),
            sharded: true,
        },
        table: t.name.clone(),
        prefix,
        rows: row_texts,
        suffix,
        vindex_name: pv.name.clone(),
        vindex: pv.vindex.clone(),
        values: vindex_values,
        sequence,
        owned: owned_inserts(owned_specs, owned_rows),
    };
    Ok(plan_of("INSERT", &tables, Box::new(primitive)))
}

/// MySQL's `ER_WRONG_VALUE_COUNT_ON_ROW` with Vitess's code.
pub(super) fn column_count() -> EngineError {
    EngineError::mysql(
        1136,
        "21S01",
        "VT03006: column count does not match value count with the row",
    )
}

/// The INSERT text before and after its rows.
pub(super) fn split_around_rows(
    ctx: &Context,
    stmt: &Statement,
    added_column: Option<&str>,
) -> Result<(String, String)> {
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    if let Statement::Insert(i) = &mut shard_stmt {
        if let Some(c) = added_column {
            i.columns.push(sqlparser::ast::ObjectName(vec![
                ObjectNamePart::Identifier(Ident::with_quote('`', c)),
            ]));
        }
        if let Some(source) = i.source.as_mut() {
            // VALUES (marker), whatever the source was (rows or a SELECT).
            source.with = None;
            source.order_by = None;
            source.limit_clause = None;
            source.locks.clear();
            *source.body = SetExpr::Values(sqlparser::ast::Values {
                explicit_row: false,
                value_keyword: false,
                rows: vec![Parens {
                    opening_token: AttachedToken::empty(),
                    content: vec![Expr::Identifier(Ident::new(ROWS_MARKER))],
                    closing_token: AttachedToken::empty(),
                }],
            });
        }
    }
    let text = shard_stmt.to_string();
    let marker = format!("({ROWS_MARKER})");
    match text.match_indices(&marker).collect::<Vec<_>>().as_slice() {
        [(at, _)] => Ok((
            text[..*at].to_string(),
            text[at + marker.len()..].to_string(),
        )),
        _ => Err(EngineError::unsupported(
            "INSERT text that cannot be split by rows",
        )),
    }
}

/// Vitess's VT09014 for a write to a name that is no table but a vindex.
fn vindex_not_writable(ctx: &Context, name: &ObjectName, e: EngineError) -> EngineError {
    let EngineError::Table(vschema::FindTableError::NotFound(_)) = &e else {
        return e;
    };
    let Some((ks, vindex)) = super::vindex_func::vindex_name(ctx, name) else {
        return e;
    };
    match ctx.vschema.find_vindex(ks, vindex) {
        Ok(Some(_)) => EngineError::mysql(1105, "HY000", "VT09014: vindex cannot be modified"),
        _ => e,
    }
}

/// An INSERT without a column list into a table whose VSchema column list
/// is authoritative, with those columns written out (as Vitess does);
/// `None` otherwise (also for `values ()`, which names no column).
fn with_authoritative_columns(insert: &Insert, t: &vschema::Table) -> Option<Insert> {
    if !insert.columns.is_empty() || !t.column_list_authoritative || t.columns.is_empty() {
        return None;
    }
    let SetExpr::Values(values) = insert.source.as_ref()?.body.as_ref() else {
        return None;
    };
    if values.rows.iter().any(|r| r.content.is_empty()) {
        return None;
    }
    let mut expanded = insert.clone();
    expanded.columns = t
        .columns
        .iter()
        .map(|c| ObjectName(vec![ObjectNamePart::Identifier(Ident::new(&c.name))]))
        .collect();
    Some(expanded)
}

pub(super) fn column_name(name: &sqlparser::ast::ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
        _ => name.to_string(),
    }
}

/// Refuses assignments to vindex columns.
pub(super) fn check_assignment(target: &AssignmentTarget, table: &TableUse) -> Result<()> {
    let AssignmentTarget::ColumnName(name) = target else {
        return Err(EngineError::unsupported(
            "tuple assignment on a sharded keyspace",
        ));
    };
    let col = column_name(name);
    for (i, cv) in table.table.column_vindexes.iter().enumerate() {
        if cv.columns.iter().any(|c| c.eq_ignore_ascii_case(&col)) {
            return Err(EngineError::unsupported(if i == 0 {
                format!(
                    "you cannot UPDATE primary vindex columns; invalid update on vindex: {}",
                    cv.name
                )
            } else {
                format!("updating the vindex column {col} (vindex {})", cv.name)
            }));
        }
    }
    Ok(())
}

/// Refuses UPDATE assignments to vindex columns, except to the columns of
/// owned lookup vindexes (maintained by [`wrap_owned`]).
/// A vindex column assigned twice in one UPDATE: Vitess's VT03015.
pub(super) fn check_duplicate_vindex_sets(
    assignments: &[sqlparser::ast::Assignment],
    table: &TableUse,
) -> Result<()> {
    let mut seen: Vec<String> = Vec::new();
    for a in assignments {
        let AssignmentTarget::ColumnName(name) = &a.target else {
            continue;
        };
        let col = column_name(name);
        let vindex_column = table
            .table
            .column_vindexes
            .iter()
            .any(|cv| cv.columns.iter().any(|c| c.eq_ignore_ascii_case(&col)));
        if vindex_column && seen.iter().any(|s| s.eq_ignore_ascii_case(&col)) {
            return Err(EngineError::mysql(
                1105,
                "HY000",
                format!("VT03015: column has duplicate set values: '{col}'"),
            ));
        }
        seen.push(col);
    }
    Ok(())
}

pub(super) fn check_update_assignment(target: &AssignmentTarget, table: &TableUse) -> Result<()> {
    if let AssignmentTarget::ColumnName(name) = target {
        let col = column_name(name);
        let owned_column = table
            .table
            .column_vindexes
            .iter()
            .skip(1)
            .any(|cv| cv.owned && cv.columns.iter().any(|c| c.eq_ignore_ascii_case(&col)));
        let primary_column = table
            .table
            .primary_vindex()
            .is_some_and(|pv| pv.columns.iter().any(|c| c.eq_ignore_ascii_case(&col)));
        if owned_column && !primary_column {
            return Ok(());
        }
    }
    check_assignment(target, table)
}

/// Whether every table of the statement is in one unsharded keyspace, so
/// that it goes there whole.
fn one_unsharded_keyspace(tables: &Tables) -> bool {
    let first_ks = tables.uses.first().map(|u| &u.table.keyspace);
    first_ks.is_some_and(|ks| {
        !ks.sharded && tables.uses.iter().all(|u| u.table.keyspace.name == ks.name)
    })
}

/// Whether an ORDER BY or LIMIT statement on `table` may reach several
/// shards, so that its rows must be chosen across them first.
fn limited_across_shards(
    table: &TableUse,
    selection: Option<&Expr>,
    order_by: &[sqlparser::ast::OrderByExpr],
    limit: Option<&Expr>,
) -> Result<bool> {
    let limited = limit.is_some() || !order_by.is_empty();
    Ok(limited && !route_table(table, selection, true)?.single_shard)
}

/// A routed UPDATE or DELETE of one sharded table, maintaining its owned
/// lookup vindexes (`assignments`: an UPDATE's).
pub(super) fn routed_dml(
    ctx: &Context,
    stmt: &Statement,
    table: &TableUse,
    selection: Option<&Expr>,
    operator: &'static str,
    assignments: Option<&[sqlparser::ast::Assignment]>,
) -> Result<Box<dyn Primitive>> {
    let routing = route_table(table, selection, true)?;
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    let desc = KeyspaceDesc {
        name: table.table.keyspace.name.clone(),
        sharded: true,
    };
    let mut r = Route::new(routing.opcode, desc, shard_stmt.to_string(), String::new());
    r.vindex = routing.vindex;
    r.operator = operator;
    if let Some(target) = &ctx.destination {
        // Aimed at shards: sent as written to those, whatever the WHERE says.
        r.opcode = Opcode::ByDestination;
        r.vindex = None;
        r.target = Some(target.clone());
    }
    wrap_owned(ctx, stmt, table, assignments, r)
}

pub(super) fn single_table(relation: &TableFactor, joins: usize) -> Result<()> {
    match relation {
        TableFactor::Table { .. } if joins == 0 => Ok(()),
        _ => Err(EngineError::unsupported(
            "multi-table DML on a sharded keyspace",
        )),
    }
}

/// Plans UPDATE or DELETE with its WHERE subqueries pulled out, when it
/// has some and is not sent whole to an unsharded keyspace.
fn dml_pullout(
    ctx: &Context,
    stmt: &Statement,
    tables: &Tables,
    selection: Option<&Expr>,
    outer: &[TableFactor],
    query_type: &'static str,
) -> Result<Option<Plan>> {
    let Some(selection) = selection.filter(|s| features_of_expr(s).subquery) else {
        return Ok(None);
    };
    if one_unsharded_keyspace(tables) {
        return Ok(None);
    }
    let rebuild = |conds: Option<Expr>| {
        let mut s = stmt.clone();
        match &mut s {
            Statement::Update(u) => u.selection = conds,
            Statement::Delete(d) => d.selection = conds,
            _ => {}
        }
        s.to_string()
    };
    let plan_outer = |sql: &str| -> Result<Box<dyn Primitive>> {
        let parsed = sql::parse::parse(sql)
            .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
        Ok(
            super::plan_for(&parsed, ctx.vschema, ctx.default_keyspace, ctx.tablet_type)?
                .instructions,
        )
    };
    let instructions = pull_out(ctx, selection, outer, &rebuild, &plan_outer, plan_side)?;
    Ok(Some(plan_of(query_type, tables, instructions)))
}

/// A WHERE subquery that cannot be pulled out (a correlated one, say) may
/// still be planned by the select of a [`super::dml_with_input`] plan (as a
/// semi-join, for one); when that fails too, the pull-out's refusal stands.
fn or_with_input(
    pulled: Result<Option<Plan>>,
    query_type: &'static str,
    tables: &Tables,
    with_input: impl FnOnce() -> Result<Box<dyn Primitive>>,
) -> Result<Option<Plan>> {
    match pulled {
        Err(refused @ EngineError::Unsupported(_)) => match with_input() {
            Ok(p) => Ok(Some(plan_of(query_type, tables, p))),
            Err(_) => Err(refused),
        },
        other => other,
    }
}

/// Plans an UPDATE.
pub(super) fn plan_update(ctx: &Context, stmt: &Statement, update: &Update) -> Result<Plan> {
    let misread = match &update.table.relation {
        TableFactor::Table { name, alias, .. } => alias.is_some() && is_modifier(name),
        _ => false,
    };
    let tables = Tables::collect(stmt, &ctx.scope()).map_err(|e| modifier_error(e, misread))?;
    if ctx.destination.is_some() {
        return super::targets::plan_aimed(ctx, stmt, &tables);
    }
    if let Some(route) = plan_colocated_dml(ctx, stmt, &tables, Dml::Update(update))? {
        return Ok(plan_of("UPDATE", &tables, route));
    }
    let set_pulled =
        plan_set_pullouts(ctx, stmt, &tables).map(|p| p.map(|p| plan_of("UPDATE", &tables, p)));
    if let Some(p) = or_with_input(set_pulled, "UPDATE", &tables, || {
        plan_update_with_input(ctx, update)
    })? {
        return Ok(p);
    }
    // Every table of the statement: a subquery naming one is correlated.
    let outer: Vec<TableFactor> = std::iter::once(&update.table.relation)
        .chain(update.table.joins.iter().map(|j| &j.relation))
        .cloned()
        .collect();
    let pulled = dml_pullout(
        ctx,
        stmt,
        &tables,
        update.selection.as_ref(),
        &outer,
        "UPDATE",
    );
    if let Some(p) = or_with_input(pulled, "UPDATE", &tables, || {
        plan_update_with_input(ctx, update)
    })? {
        return Ok(p);
    }
    let multi = !update.table.joins.is_empty() || tables.uses.len() > 1;
    if multi && !one_unsharded_keyspace(&tables) {
        return Ok(plan_of(
            "UPDATE",
            &tables,
            plan_update_with_input(ctx, update)?,
        ));
    }
    let table = match target(ctx, stmt, &tables, "Update")? {
        Err(whole) => return Ok(plan_of("UPDATE", &tables, whole)),
        Ok(t) => t,
    };
    single_table(&update.table.relation, update.table.joins.len())?;
    if update.from.is_some() {
        return Err(EngineError::unsupported(
            "multi-table DML on a sharded keyspace",
        ));
    }
    check_duplicate_vindex_sets(&update.assignments, table)?;
    for a in &update.assignments {
        check_update_assignment(&a.target, table)?;
    }
    let selection = update.selection.as_ref();
    if limited_across_shards(table, selection, &update.order_by, update.limit.as_ref())? {
        return Ok(plan_of(
            "UPDATE",
            &tables,
            plan_update_with_input(ctx, update)?,
        ));
    }
    let route = routed_dml(
        ctx,
        stmt,
        table,
        selection,
        "Update",
        Some(&update.assignments),
    )?;
    Ok(plan_of("UPDATE", &tables, route))
}

/// Plans a DELETE.
pub(super) fn plan_delete(ctx: &Context, stmt: &Statement, delete: &Delete) -> Result<Plan> {
    let misread = delete.tables.first().is_some_and(is_modifier);
    check_delete_targets(delete).map_err(|e| modifier_error(e, misread))?;
    super::checks::check_delete_sources(delete)?;
    let tables = Tables::collect(stmt, &ctx.scope())?;
    if ctx.destination.is_some() {
        return super::targets::plan_aimed(ctx, stmt, &tables);
    }
    if let Some(route) = plan_colocated_dml(ctx, stmt, &tables, Dml::Delete(delete))? {
        return Ok(plan_of("DELETE", &tables, route));
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let outer: Vec<TableFactor> = from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .cloned()
        .collect();
    let pulled = dml_pullout(
        ctx,
        stmt,
        &tables,
        delete.selection.as_ref(),
        &outer,
        "DELETE",
    );
    if let Some(p) = or_with_input(pulled, "DELETE", &tables, || {
        plan_delete_with_input(ctx, delete)
    })? {
        return Ok(p);
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let multi = !delete.tables.is_empty()
        || delete.using.is_some()
        || from.len() > 1
        || from.iter().any(|t| !t.joins.is_empty())
        || tables.uses.len() > 1;
    if multi && !one_unsharded_keyspace(&tables) {
        return Ok(plan_of(
            "DELETE",
            &tables,
            plan_delete_with_input(ctx, delete)?,
        ));
    }
    let table = match target(ctx, stmt, &tables, "Delete")? {
        Err(whole) => return Ok(plan_of("DELETE", &tables, whole)),
        Ok(t) => t,
    };
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let [only] = from.as_slice() else {
        return Err(EngineError::unsupported(
            "multi-table DML on a sharded keyspace",
        ));
    };
    single_table(&only.relation, only.joins.len())?;
    if !delete.tables.is_empty() || delete.using.is_some() {
        return Err(EngineError::unsupported(
            "multi-table DML on a sharded keyspace",
        ));
    }
    let selection = delete.selection.as_ref();
    if limited_across_shards(table, selection, &delete.order_by, delete.limit.as_ref())? {
        return Ok(plan_of(
            "DELETE",
            &tables,
            plan_delete_with_input(ctx, delete)?,
        ));
    }
    let route = routed_dml(ctx, stmt, table, selection, "Delete", None)?;
    Ok(plan_of("DELETE", &tables, route))
}

/// Whether `name` is an unquoted `IGNORE`, `LOW_PRIORITY` or `QUICK`: sqlparser
/// reads `UPDATE IGNORE t` as the table `ignore` aliased `t`, and `DELETE
/// IGNORE FROM t` as a DELETE of the table `ignore`.
fn is_modifier(name: &ObjectName) -> bool {
    matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)]
        if i.quote_style.is_none()
            && ["ignore", "low_priority", "quick"]
                .iter()
                .any(|m| i.value.eq_ignore_ascii_case(m)))
}

/// The error for a statement whose modifier was read as a table (see
/// [`is_modifier`]): an honest refusal rather than an unknown table. (An
/// unsharded keyspace gets the statement as written, modifier included.)
fn modifier_error(e: EngineError, misread: bool) -> EngineError {
    if misread {
        EngineError::unsupported(
            "IGNORE, LOW_PRIORITY or QUICK in UPDATE or DELETE on a sharded keyspace",
        )
    } else {
        e
    }
}

/// `DELETE t FROM ...`: each target must be a table of the FROM clause
/// (Vitess's VT03003, MySQL's 1109), and not a derived table (VT03004).
fn check_delete_targets(delete: &Delete) -> Result<()> {
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    // Each FROM item's qualifier, and whether it is a derived table.
    let known: Vec<(String, bool)> = super::tables::from_factors(from)
        .into_iter()
        .filter_map(|f| match f {
            TableFactor::Table { name, alias, .. } => Some(match alias {
                Some(a) => (a.name.value.clone(), false),
                None => (super::tables::table_name(name), false),
            }),
            TableFactor::Derived { alias: Some(a), .. } => Some((a.name.value.clone(), true)),
            _ => None,
        })
        .collect();
    for target in &delete.tables {
        let name = target
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) if i.value != "*" => Some(i.value.as_str()),
                _ => None,
            })
            .next_back()
            .unwrap_or_default();
        match known.iter().find(|(n, _)| n == name) {
            None => {
                return Err(EngineError::mysql(
                    1109,
                    "42S02",
                    format!("VT03003: unknown table '{name}' in MULTI DELETE"),
                ))
            }
            Some((_, true)) => {
                return Err(EngineError::mysql(
                    1288,
                    "HY000",
                    format!("VT03004: the target table {name} of the DELETE is not updatable"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
