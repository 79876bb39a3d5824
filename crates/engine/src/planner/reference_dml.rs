//! DML on a reference table that has a `source` (Vitess: a reference table
//! materialized from a table of an unsharded keyspace): the statement is
//! sent to the source table instead, whose changes reach the reference
//! copies through their materialization, as Vitess does.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, visit_relations_mut, Expr, Ident, ObjectName, ObjectNamePart, Statement,
    TableObject,
};
use vschema::build::QualifiedName;

use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::route::{Opcode, Route};

/// The statement on `source` in its unsharded keyspace. Refused when the
/// source is sharded or the statement qualifies column names (they would
/// name the reference table).
pub(super) fn to_source(
    ctx: &Context,
    stmt: &Statement,
    source: &QualifiedName,
    operator: &'static str,
) -> Result<Box<dyn Primitive>> {
    let keyspace = Some(source.keyspace.as_str()).filter(|k| !k.is_empty());
    let table = ctx.vschema.find_table_direct(keyspace, &source.table)?;
    if table.keyspace.sharded {
        return Err(EngineError::unsupported(format!(
            "{operator} on a reference table whose source {} is sharded",
            source.table
        )));
    }
    let qualified = visit_expressions(stmt, |e| match e {
        Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    if qualified.is_break() {
        return Err(EngineError::unsupported(format!(
            "{operator} with qualified columns on a reference table with a source"
        )));
    }
    let name = || ObjectName(vec![ObjectNamePart::Identifier(Ident::new(&table.name))]);
    let mut sent = stmt.clone();
    let _ = visit_relations_mut(&mut sent, |n| {
        *n = name();
        ControlFlow::<()>::Continue(())
    });
    if let Statement::Insert(insert) = &mut sent {
        insert.table = TableObject::TableName(name());
    }
    let desc = KeyspaceDesc {
        name: table.keyspace.name.clone(),
        sharded: false,
    };
    let mut route = Route::new(Opcode::Unsharded, desc, sent.to_string(), String::new());
    route.operator = operator;
    Ok(Box::new(route))
}

#[cfg(test)]
mod tests {
    use crate::planner::plan;

    const VSCHEMA: &str = r#"{
      "keyspaces": {
        "main": {"tables": {"source_of_ref": {}}},
        "user": {
          "sharded": true,
          "tables": {
            "ref_with_source": {"type": "reference", "source": "main.source_of_ref"},
            "ref": {"type": "reference"}
          }
        }
      }
    }"#;

    fn planned(sql: &str) -> crate::Result<serde_json::Value> {
        let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
        let vschema = vschema::VSchema::build(&srv);
        let stmt = sql::parse::parse(sql).unwrap();
        Ok(plan(&stmt, &vschema, None)?.description().to_json())
    }

    #[test]
    fn writes_go_to_the_source_table() {
        for (sql, sent) in [
            (
                "delete from user.ref_with_source where col = 1",
                "DELETE FROM source_of_ref WHERE col = 1",
            ),
            (
                "update ref_with_source set x = 4 where col = 1",
                "UPDATE source_of_ref SET x = 4 WHERE col = 1",
            ),
            (
                "insert into user.ref_with_source(x) values (4)",
                "INSERT INTO source_of_ref (x) VALUES (4)",
            ),
        ] {
            let d = planned(sql).unwrap();
            assert_eq!(d["Variant"], "Unsharded", "{sql}");
            assert_eq!(d["Keyspace"]["Name"], "main", "{sql}");
            assert_eq!(d["Query"], sent, "{sql}");
        }
    }

    #[test]
    fn qualified_columns_and_references_without_source_are_refused() {
        for sql in [
            "delete from ref_with_source where ref_with_source.col = 1",
            "delete from ref where col = 1",
        ] {
            let e = planned(sql).unwrap_err().to_string();
            assert!(e.starts_with("VT12001"), "{sql}: {e}");
        }
    }
}
