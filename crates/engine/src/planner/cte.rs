//! Common table expressions (`WITH c AS (select ...) select ... from c`) across shards:
//! a non-recursive CTE stands for its query, so each reference becomes that query as a
//! derived table (named as the reference names it, with the CTE's column list), and the
//! statement is planned as written that way. The rows are the same; MariaDB may compute a
//! CTE once where the plan computes it per reference.
//!
//! `WITH RECURSIVE` is planned apart ([`super::recursive_cte`]). Refused (VT12001): a WITH inside a subquery or a CTE, and
//! `MATERIALIZED` hints.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Cte, ObjectNamePart, Query, SelectItem, SetExpr, TableAlias, TableAliasColumnDef, TableFactor,
    Visit, VisitMut, Visitor, VisitorMut,
};

use crate::error::{EngineError, Result};

/// `query` with its CTEs written in as derived tables; `None` when it has no WITH.
pub(super) fn inline(query: &Query) -> Result<Option<Query>> {
    let Some(with) = &query.with else {
        return Ok(None);
    };
    if with.recursive {
        return Err(EngineError::unsupported("WITH RECURSIVE across shards"));
    }
    let mut defined: Vec<Cte> = Vec::new();
    for cte in &with.cte_tables {
        if cte.materialized.is_some() || cte.from.is_some() {
            return Err(EngineError::unsupported(format!(
                "WITH {} with a MATERIALIZED hint or FROM",
                cte.alias.name
            )));
        }
        if cte.query.with.is_some() {
            return Err(EngineError::unsupported(
                "WITH inside a subquery across shards",
            ));
        }
        refuse_nested_with(&cte.query)?;
        let mut own = cte.clone();
        // A CTE sees the ones defined before it; its own name there is a table.
        substitute(&mut own.query, &defined);
        // MariaDB takes no column list on a derived table: the names go on the select items.
        name_columns(&mut own.query, &own.alias.columns, &own.alias.name.value)?;
        own.alias.columns.clear();
        defined.push(own);
    }
    let mut body = query.clone();
    body.with = None;
    refuse_nested_with(&body)?;
    substitute(&mut body, &defined);
    Ok(Some(body))
}

/// Gives the select items of `query` (of its first SELECT, which names a UNION's columns)
/// the names of a CTE's column list.
fn name_columns(query: &mut Query, columns: &[TableAliasColumnDef], cte: &str) -> Result<()> {
    if columns.is_empty() {
        return Ok(());
    }
    let mut body = query.body.as_mut();
    let select = loop {
        match body {
            SetExpr::Select(s) => break s,
            SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            SetExpr::Query(q) => body = q.body.as_mut(),
            _ => {
                return Err(EngineError::unsupported(format!(
                    "the column list of WITH {cte}"
                )))
            }
        }
    };
    let plain = select.projection.iter().all(|i| {
        matches!(
            i,
            SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
        )
    });
    if !plain || select.projection.len() != columns.len() {
        return Err(EngineError::unsupported(format!(
            "the column list of WITH {cte} with * or another number of columns"
        )));
    }
    for (item, column) in select.projection.iter_mut().zip(columns) {
        match item {
            SelectItem::ExprWithAlias { alias, .. } => *alias = column.name.clone(),
            SelectItem::UnnamedExpr(e) => {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: column.name.clone(),
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a WITH anywhere inside `query` below its top level.
fn refuse_nested_with(query: &Query) -> Result<()> {
    if nested_with(query, false) {
        return Err(EngineError::unsupported(
            "WITH inside a subquery across shards",
        ));
    }
    Ok(())
}

/// Whether `query` holds a WITH (a recursive one, with `recursive_only`) below its top
/// level: in a derived table or a subquery.
pub(super) fn nested_with(query: &Query, recursive_only: bool) -> bool {
    struct Nested {
        depth: usize,
        recursive_only: bool,
    }
    impl Visitor for Nested {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            self.depth += 1;
            let found = q
                .with
                .as_ref()
                .is_some_and(|w| w.recursive || !self.recursive_only);
            if self.depth > 1 && found {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    query
        .visit(&mut Nested {
            depth: 0,
            recursive_only,
        })
        .is_break()
}

/// Replaces each unqualified table reference to one of `ctes` with its query.
fn substitute(query: &mut Query, ctes: &[Cte]) {
    struct Inline<'a> {
        ctes: &'a [Cte],
    }
    impl VisitorMut for Inline<'_> {
        type Break = ();
        fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            let [ObjectNamePart::Identifier(table)] = name.0.as_slice() else {
                return ControlFlow::Continue(());
            };
            let Some(cte) = self
                .ctes
                .iter()
                .rev()
                .find(|c| c.alias.name.value == table.value)
            else {
                return ControlFlow::Continue(());
            };
            let columns: Vec<TableAliasColumnDef> = cte.alias.columns.clone();
            let alias = match alias.take() {
                Some(mut a) => {
                    if a.columns.is_empty() {
                        a.columns = columns;
                    }
                    a
                }
                None => TableAlias {
                    explicit: true,
                    name: table.clone(),
                    columns,
                    at: None,
                },
            };
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: cte.query.clone(),
                alias: Some(alias),
                sample: None,
            };
            // Replaced after its children were visited: the inserted query (whose CTEs were
            // written in already) is not visited again.
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Inline { ctes });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::Statement;

    fn inlined(sql: &str) -> Result<String> {
        let Statement::Query(q) = sql::parse::parse(sql).unwrap() else {
            panic!("not a query")
        };
        Ok(inline(&q)?.map(|q| q.to_string()).unwrap_or_default())
    }

    #[test]
    fn references_become_derived_tables() {
        assert_eq!(
            inlined("with c as (select id from t) select * from c join u on u.id = c.id").unwrap(),
            "SELECT * FROM (SELECT id FROM t) AS c JOIN u ON u.id = c.id"
        );
        assert_eq!(
            inlined(
                "with a (x) as (select id from t), b as (select x from a where x > 1) \
                 select count(*) from b bb where x in (select x from a)"
            )
            .unwrap(),
            "SELECT count(*) FROM (SELECT x FROM (SELECT id AS x FROM t) AS a WHERE x > 1) bb \
             WHERE x IN (SELECT x FROM (SELECT id AS x FROM t) AS a)"
        );
        // A CTE's own name inside it is the table.
        assert_eq!(
            inlined("with t as (select * from t where id > 1) select * from t").unwrap(),
            "SELECT * FROM (SELECT * FROM t WHERE id > 1) AS t"
        );
        assert_eq!(inlined("select 1").unwrap(), "");
    }

    #[test]
    fn recursive_and_nested_withs_are_refused() {
        for sql in [
            "with recursive r as (select 1 as n union all select n + 1 from r where n < 3) \
             select * from r",
            "with c as (with d as (select 1) select * from d) select * from c",
            "with c as (select 1) select * from c where exists (with d as (select 2) select * from d)",
        ] {
            assert!(matches!(inlined(sql), Err(EngineError::Unsupported(_))), "{sql}");
        }
    }
}
