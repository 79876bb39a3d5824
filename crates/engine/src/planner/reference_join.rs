//! Joining a sharded keyspace's tables with tables of an unsharded
//! keyspace that are the `source` of reference tables in the sharded
//! keyspace (Vitess: the reference copy is on every shard, so the join
//! merges into one route of the sharded keyspace).
//!
//! The statement is rewritten to name the sharded keyspace's reference
//! copies (`main.source_of_ref` becomes `user.ref_with_source` with the
//! written name kept as alias) and planned again, where the co-located
//! join rules of `join` apply: a reference table joins anything as long as
//! a sharded table is inner-joined first. Anything else keeps the nested
//! loop.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Statement, TableAlias, TableFactor, Visit, VisitMut,
    Visitor, VisitorMut,
};

use super::tables::{resolve_name, Scope, Tables};
use vschema::TableRef;

/// The statement with every table outside the one sharded keyspace
/// replaced by its reference copy in that keyspace, or `None` when some
/// table has no such copy (or the statement names columns with a keyspace
/// qualifier, which would no longer resolve).
pub(super) fn to_reference_copies(
    stmt: &Statement,
    tables: &Tables,
    scope: &Scope<'_>,
) -> Option<Statement> {
    let mut sharded = tables.uses.iter().filter(|u| u.table.keyspace.sharded);
    let target = sharded.next()?.table.keyspace.name.clone();
    if sharded.any(|u| u.table.keyspace.name != target) {
        return None;
    }
    let copy_of = |t: &TableRef| -> Option<String> {
        if t.keyspace.name == target {
            return Some(t.name.clone());
        }
        if t.keyspace.sharded {
            return None;
        }
        t.referenced_by.get(&target).cloned()
    };
    if tables.uses.iter().any(|u| copy_of(&u.table).is_none()) {
        return None;
    }
    if keyspace_qualified_columns(stmt) {
        return None;
    }
    let mut out = stmt.clone();
    let mut r = Rewriter {
        scope,
        target: &target,
        copy_of: &copy_of,
    };
    let _ = VisitMut::visit(&mut out, &mut r);
    Some(out)
}

/// Whether any column is written `ks.table.column`.
fn keyspace_qualified_columns(stmt: &Statement) -> bool {
    struct Finder;
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::CompoundIdentifier(i) if i.len() > 2 => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    Visit::visit(stmt, &mut Finder).is_break()
}

struct Rewriter<'a> {
    scope: &'a Scope<'a>,
    target: &'a str,
    copy_of: &'a dyn Fn(&TableRef) -> Option<String>,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let Ok(Some(table)) = resolve_name(name, self.scope) else {
            return ControlFlow::Continue(());
        };
        if table.keyspace.name == self.target {
            return ControlFlow::Continue(());
        }
        let (Some(copy), Some(ObjectNamePart::Identifier(last))) =
            ((self.copy_of)(&table), name.0.last().cloned())
        else {
            return ControlFlow::Continue(());
        };
        if alias.is_none() && last.value != copy {
            *alias = Some(TableAlias {
                explicit: true,
                name: last,
                columns: Vec::new(),
                at: None,
            });
        }
        *name = ObjectName(vec![
            ObjectNamePart::Identifier(Ident::with_quote('`', self.target)),
            ObjectNamePart::Identifier(Ident::with_quote('`', &copy)),
        ]);
        ControlFlow::Continue(())
    }
}
