//! Tables qualified by a Vitess target instead of a keyspace
//! (`` `user[-]`.t ``, `` `user:-80`.t ``, `` `user@replica`.t ``): Vitess
//! refuses a SELECT or INSERT that names shards that way, and an UPDATE or
//! DELETE aimed at a replica, before planning. Other uses are left to name
//! resolution (which does not know such keyspaces).

use std::ops::ControlFlow;

use sql::target::{TabletType, Target};
use sqlparser::ast::{ObjectName, ObjectNamePart, Statement, Visit, Visitor};
use vschema::VSchema;

use crate::error::{EngineError, Result};

/// The targets written as table qualifiers in a statement.
struct Qualifiers<'a> {
    vschema: &'a VSchema,
    found: Vec<Target>,
}

impl Visitor for Qualifiers<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
        if let [ObjectNamePart::Identifier(q), _] = name.0.as_slice() {
            if q.value.contains(['[', ':', '/', '@']) {
                if let Ok(t) = Target::parse(&q.value) {
                    if self.vschema.keyspace(&t.keyspace).is_some() {
                        self.found.push(t);
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Vitess's refusal of a target qualifier `stmt` may not use.
pub(super) fn check_target_qualifiers(stmt: &Statement, vschema: &VSchema) -> Result<()> {
    let mut q = Qualifiers {
        vschema,
        found: Vec::new(),
    };
    let _ = stmt.visit(&mut q);
    let (kind, writes) = match stmt {
        Statement::Query(_) => ("SELECT", false),
        Statement::Insert(_) => ("INSERT", false),
        Statement::Update(_) => ("update", true),
        Statement::Delete(_) => ("delete", true),
        _ => return Ok(()),
    };
    for t in &q.found {
        if writes {
            if t.tablet_type.is_some_and(|tt| tt != TabletType::Primary) {
                return Err(EngineError::mysql(
                    1874,
                    "HY000",
                    format!("VT09002: {kind} statement with a replica target"),
                ));
            }
        } else if t.destination.is_some() {
            return Err(EngineError::mysql(
                1105,
                "HY000",
                format!("VT09017: {kind} with a target destination is not allowed"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{refused, vschema};
    use super::check_target_qualifiers;

    fn check(sql: &str) -> Result<(), String> {
        let stmt = sql::parse::parse(sql).unwrap();
        check_target_qualifiers(&stmt, &vschema()).map_err(|e| e.to_string())
    }

    #[test]
    fn shard_targets_in_reads_and_inserts_and_replica_writes_are_refused() {
        assert_eq!(
            refused("select * from `user[-]`.music"),
            "VT09017: SELECT with a target destination is not allowed"
        );
        assert_eq!(
            refused("insert into `user:-80`.music (user_id) values (1)"),
            "VT09017: INSERT with a target destination is not allowed"
        );
        assert_eq!(
            refused("delete from `user[-]@replica`.music limit 1"),
            "VT09002: delete statement with a replica target"
        );
        assert_eq!(
            refused("update `user@rdonly`.music set col = 2"),
            "VT09002: update statement with a replica target"
        );
    }

    #[test]
    fn plain_and_unknown_qualifiers_are_left_to_name_resolution() {
        for sql in [
            "select * from user.music",
            "select * from `nosuch[-]`.music",
            "update `user[-]`.music set col = 1",
            "select * from `user@replica`.music",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }
}
