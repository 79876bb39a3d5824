//! Finding and resolving the tables a statement uses, and rewriting their
//! names for the shards: keyspace qualifiers dropped (a tablet's database
//! is its keyspace's), tables renamed by routing rules get their real name
//! with the written name kept as alias. Names resolve through the routing
//! rules of the statement's tablet type ([`Scope`]).

use std::ops::ControlFlow;

use proto::topodata::TabletType;
use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableAlias, TableFactor,
    TableObject, TableWithJoins, Visit, VisitMut, Visitor, VisitorMut,
};
use vschema::{FindTableError, TableRef, VSchema};

use super::vindex_func::missing_where;
use crate::error::{EngineError, Result};

/// Schemas vtgate would have to route as DBA queries.
const SYSTEM_SCHEMAS: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];

/// One table reference in the statement.
#[derive(Debug, Clone)]
pub struct TableUse {
    /// The resolved table.
    pub table: TableRef,
    /// The name as written, last part (the table name).
    pub written: String,
    /// Its alias, if any.
    pub alias: Option<String>,
}

impl TableUse {
    /// `table`, written as `name` with `alias`.
    pub fn new(table: TableRef, name: &ObjectName, alias: Option<&TableAlias>) -> Self {
        TableUse {
            table,
            written: table_name(name),
            alias: alias.map(|a| a.name.value.clone()),
        }
    }

    /// The name columns qualify it by: the alias, or the written name.
    pub fn qualifier(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.written)
    }

    /// `keyspace.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.table.keyspace.name, self.table.name)
    }
}

/// The tables of a statement, in the order written. `dual` is left out.
pub struct Tables {
    /// Table uses.
    pub uses: Vec<TableUse>,
}

fn parts(name: &ObjectName) -> Result<Vec<&Ident>> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(i),
            ObjectNamePart::Function(_) => Err(EngineError::unsupported("dynamic table names")),
        })
        .collect()
}

/// How a statement's table names resolve: the VSchema, the session's
/// keyspace for unqualified names, and the tablet type whose routing rules
/// apply.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The VSchema.
    pub vschema: &'a VSchema,
    /// The session's keyspace.
    pub default_keyspace: Option<&'a str>,
    /// The tablet type the statement runs on.
    pub tablet_type: TabletType,
}

/// Resolves `[ks.]table` through the VSchema and the routing rules;
/// `Ok(None)` for `dual`.
pub fn resolve_name(name: &ObjectName, scope: &Scope<'_>) -> Result<Option<TableRef>> {
    let parts = parts(name)?;
    let (ks, table) = match parts.as_slice() {
        [t] => (scope.default_keyspace, t.value.as_str()),
        [k, t] => (Some(k.value.as_str()), t.value.as_str()),
        _ => return Err(EngineError::unsupported(format!("table name {name}"))),
    };
    if let Some(k) = ks {
        if SYSTEM_SCHEMAS.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(EngineError::unsupported(format!(
                "queries on {k} through a sharded plan"
            )));
        }
    }
    if parts.len() == 1 && table.eq_ignore_ascii_case("dual") {
        return Ok(None);
    }
    Ok(Some(scope.vschema.find_routed_table(
        ks,
        table,
        scope.tablet_type,
    )?))
}

struct Collector<'a> {
    scope: &'a Scope<'a>,
    uses: Vec<TableUse>,
    error: Option<EngineError>,
    /// The names of the CTEs each query being visited defines (a recursive CTE left in
    /// the statement reads itself; its name is not a table).
    ctes: Vec<Vec<String>>,
    /// Whether CTE names are skipped: only in a SELECT, whose planner never sends a
    /// recursive CTE over sharded tables to the shards; in DML a CTE's name stays an
    /// unknown table.
    skip_ctes: bool,
}

impl Visitor for Collector<'_> {
    type Break = ();

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.ctes.pop();
        ControlFlow::Continue(())
    }

    /// A SELECT from a vindex alone (in a subquery, say) needs Vitess's
    /// WHERE clause; without one it fails as Vitess's does.
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.ctes.push(
            q.with
                .iter()
                .flat_map(|w| &w.cte_tables)
                .map(|c| c.alias.name.value.clone())
                .collect(),
        );
        let SetExpr::Select(s) = q.body.as_ref() else {
            return ControlFlow::Continue(());
        };
        let [only] = s.from.as_slice() else {
            return ControlFlow::Continue(());
        };
        let TableFactor::Table { name, .. } = &only.relation else {
            return ControlFlow::Continue(());
        };
        let not_a_table = matches!(
            resolve_name(name, self.scope),
            Err(EngineError::Table(FindTableError::NotFound(_)))
        );
        if only.joins.is_empty() && s.selection.is_none() && not_a_table && self.names_vindex(name)
        {
            self.error = Some(missing_where());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if let [ObjectNamePart::Identifier(t)] = name.0.as_slice() {
            if self.skip_ctes
                && self
                    .ctes
                    .iter()
                    .flatten()
                    .any(|c| c.eq_ignore_ascii_case(&t.value))
            {
                return ControlFlow::Continue(());
            }
        }
        if args.is_some() {
            self.error = Some(EngineError::unsupported("table functions"));
            return ControlFlow::Break(());
        }
        match resolve_name(name, self.scope) {
            Ok(Some(table)) => {
                self.uses.push(TableUse::new(table, name, alias.as_ref()));
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(match e {
                    EngineError::Table(FindTableError::NotFound(_)) if self.names_vindex(name) => {
                        EngineError::unsupported(format!(
                            "vindex {name} as a table outside a single-table SELECT"
                        ))
                    }
                    e => e,
                });
                ControlFlow::Break(())
            }
        }
    }
}

impl Collector<'_> {
    /// Whether an unresolved table name names a vindex (a vindex function,
    /// planned only as the whole FROM of a SELECT).
    fn names_vindex(&self, name: &ObjectName) -> bool {
        let Ok(parts) = parts(name) else { return false };
        let (ks, vindex) = match parts.as_slice() {
            [v] => (self.scope.default_keyspace, v.value.as_str()),
            [k, v] => (Some(k.value.as_str()), v.value.as_str()),
            _ => return false,
        };
        self.scope
            .vschema
            .find_vindex(ks, vindex)
            .is_ok_and(|v| v.is_some())
    }
}

/// The FROM items of `from` in written order, parenthesised joins flattened into theirs.
pub(super) fn from_factors(from: &[TableWithJoins]) -> Vec<&TableFactor> {
    fn push<'a>(f: &'a TableFactor, out: &mut Vec<&'a TableFactor>) {
        match f {
            TableFactor::NestedJoin {
                table_with_joins: t,
                ..
            } => joined(t, out),
            other => out.push(other),
        }
    }
    fn joined<'a>(t: &'a TableWithJoins, out: &mut Vec<&'a TableFactor>) {
        push(&t.relation, out);
        t.joins.iter().for_each(|j| push(&j.relation, out));
    }
    let mut out = Vec::new();
    from.iter().for_each(|t| joined(t, &mut out));
    out
}

/// The table name of `[ks.]table` without quotes.
pub fn table_name(name: &ObjectName) -> String {
    parts(name)
        .ok()
        .and_then(|p| p.last().map(|i| i.value.clone()))
        .unwrap_or_default()
}

impl Tables {
    /// Collects and resolves every table of `stmt` (in subqueries too).
    pub fn collect(stmt: &Statement, scope: &Scope<'_>) -> Result<Self> {
        let mut c = Collector {
            scope,
            uses: Vec::new(),
            error: None,
            ctes: Vec::new(),
            skip_ctes: matches!(stmt, Statement::Query(_)),
        };
        let _ = Visit::visit(stmt, &mut c);
        match c.error {
            Some(e) => Err(e),
            None => Ok(Tables { uses: c.uses }),
        }
    }

    /// `keyspace.table` names, sorted and unique (Vitess `TablesUsed`).
    pub fn used(&self) -> Vec<String> {
        let mut v: Vec<String> = self.uses.iter().map(TableUse::qualified_name).collect();
        v.sort();
        v.dedup();
        v
    }
}

struct Renamer<'a> {
    scope: &'a Scope<'a>,
}

impl VisitorMut for Renamer<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let Ok(Some(table)) = resolve_name(name, self.scope) else {
            return ControlFlow::Continue(());
        };
        let Some(ObjectNamePart::Identifier(last)) = name.0.last().cloned() else {
            return ControlFlow::Continue(());
        };
        if last.value != table.name {
            if alias.is_none() {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: last.clone(),
                    columns: Vec::new(),
                    at: None,
                });
            }
            *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
                '`',
                &table.name,
            ))]);
        } else {
            *name = ObjectName(vec![ObjectNamePart::Identifier(last)]);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(idents) = expr {
            if idents.len() == 3 && self.scope.vschema.keyspace(&idents[0].value).is_some() {
                idents.remove(0);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites table names of `stmt` for the shards (see the module docs).
pub fn rewrite_for_shards(stmt: &mut Statement, scope: &Scope<'_>) {
    if let Statement::Insert(insert) = stmt {
        if let TableObject::TableName(name) = &mut insert.table {
            if let Ok(Some(table)) = resolve_name(name, scope) {
                let quote = match name.0.last() {
                    Some(ObjectNamePart::Identifier(i)) => i.quote_style,
                    _ => None,
                };
                let ident = Ident {
                    quote_style: quote,
                    ..Ident::new(&table.name)
                };
                *name = ObjectName(vec![ObjectNamePart::Identifier(ident)]);
            }
        }
    }
    let mut r = Renamer { scope };
    let _ = VisitMut::visit(stmt, &mut r);
}
