//! Tables qualified by a Vitess target instead of a keyspace
//! (`` `user[-]`.t ``, `` `user:-80`.t ``, `` `user@replica`.t ``): Vitess
//! refuses a SELECT or INSERT that names shards that way, and an UPDATE or
//! DELETE aimed at a replica, before planning. An UPDATE or DELETE aimed at
//! shards goes to them ([`dml_destination`]). Other uses are left to name
//! resolution (which does not know such keyspaces).

use std::ops::ControlFlow;

use sql::target::{Destination, TabletType, Target};
use sqlparser::ast::{
    visit_relations_mut, FromTable, Ident, ObjectName, ObjectNamePart, Statement, Visit, Visitor,
};
use vschema::VSchema;

use super::dml::{
    check_duplicate_vindex_sets, check_update_assignment, plan_of, routed_dml, single_table, target,
};
use super::tables::Tables;
use super::Context;
use crate::error::{EngineError, Result};
use crate::primitive::Plan;
use crate::route::TargetShards;

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

/// An UPDATE or DELETE whose table is qualified by a target with a destination
/// (`` update `ks[-80]`.t ``, `` delete from `ks:-80`.t ``): the statement with the
/// keyspace's own name there, and the shards the target names. Vitess sends such a
/// statement as written to those shards (`ByDestination`).
pub(super) fn dml_destination(
    stmt: &Statement,
    vschema: &VSchema,
) -> Option<(Statement, TargetShards)> {
    if !matches!(stmt, Statement::Update(_) | Statement::Delete(_)) {
        return None;
    }
    let mut q = Qualifiers {
        vschema,
        found: Vec::new(),
    };
    let _ = stmt.visit(&mut q);
    let [target] = q.found.as_slice() else {
        return None;
    };
    let shards = match target.destination.as_ref()? {
        Destination::Shard(s) => TargetShards::Shard(s.clone()),
        Destination::KeyRange(r) => {
            TargetShards::Keyspace(vschema::Destination::KeyRange(vschema::KeyRange {
                start: r.start.clone(),
                end: r.end.clone(),
            }))
        }
        Destination::KeyspaceId(k) => TargetShards::Keyspace(vschema::Destination::KeyspaceId(
            vschema::KeyspaceId(k.clone()),
        )),
    };
    let mut bare = stmt.clone();
    let _ = visit_relations_mut(&mut bare, |name| {
        if let [ObjectNamePart::Identifier(qualifier), _] = name.0.as_mut_slice() {
            if Target::parse(&qualifier.value).is_ok_and(|t| t.keyspace == target.keyspace) {
                *qualifier = Ident::new(target.keyspace.clone());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Some((bare, shards))
}

/// An UPDATE or DELETE of one table aimed at shards by its qualifier: the statement as
/// written goes to those shards (maintaining owned lookup vindexes), as Vitess sends it.
pub(super) fn plan_aimed(ctx: &Context, stmt: &Statement, tables: &Tables) -> Result<Plan> {
    let (query_type, operator, selection, assignments) = match stmt {
        Statement::Update(u) => {
            single_table(&u.table.relation, u.table.joins.len())?;
            (
                "UPDATE",
                "Update",
                u.selection.as_ref(),
                Some(u.assignments.as_slice()),
            )
        }
        Statement::Delete(d) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
            match from.as_slice() {
                [only] if d.tables.is_empty() && d.using.is_none() => {
                    single_table(&only.relation, only.joins.len())?
                }
                _ => {
                    return Err(EngineError::unsupported(
                        "multi-table DML on a sharded keyspace",
                    ))
                }
            }
            ("DELETE", "Delete", d.selection.as_ref(), None)
        }
        _ => return Err(EngineError::unsupported("a target destination here")),
    };
    let table = match target(ctx, stmt, tables, operator)? {
        Err(whole) => return Ok(plan_of(query_type, tables, whole)),
        Ok(t) => t,
    };
    if let Some(assignments) = assignments {
        check_duplicate_vindex_sets(assignments, table)?;
        for a in assignments {
            check_update_assignment(&a.target, table)?;
        }
    }
    let route = routed_dml(ctx, stmt, table, selection, operator, assignments)?;
    Ok(plan_of(query_type, tables, route))
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
    use super::super::tests::{describe, refused, vschema};
    use super::check_target_qualifiers;
    use crate::testing::{field, result, FakeVCursor};
    use proto::query::Type;
    use sql::literal::BindVars;

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
            "select * from `user@replica`.music",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn writes_aimed_at_shards_go_to_those_shards_as_written() {
        let d = describe("update `user[-]`.music set col = 1 where col = 2");
        assert_eq!(d["OperatorType"], "Update");
        assert_eq!(d["Variant"], "ByDestination");
        assert_eq!(d["Query"], "UPDATE music SET col = 1 WHERE col = 2");
        // The WHERE does not route a statement aimed at shards.
        let d = describe("delete from `user:80-`.music where user_id = 5");
        assert_eq!(
            (d["Variant"].as_str(), d["TargetDestination"].as_str()),
            (Some("ByDestination"), Some("Shard(80-)"))
        );
        assert_eq!(d["Query"], "DELETE FROM music WHERE user_id = 5");
    }

    #[tokio::test]
    async fn a_key_range_target_reaches_the_shards_it_covers() {
        let vc = FakeVCursor::new("user", &["-40", "40-80", "80-c0", "c0-"]).result(
            "user",
            "40-80",
            result(&[field("a", Type::Int64)], &[]),
        );
        for (sql, shards) in [
            ("update `user[-80]`.music set col = 1", vec!["-40", "40-80"]),
            (
                "update `user[60-]`.music set col = 1",
                vec!["40-80", "80-c0", "c0-"],
            ),
            ("delete from `user:c0-`.music", vec!["c0-"]),
        ] {
            let stmt = sql::parse::parse(sql).unwrap();
            let plan = crate::planner::plan(&stmt, &vschema(), None).unwrap();
            vc.log.lock().unwrap().clear();
            plan.execute(&vc, &BindVars::default()).await.unwrap();
            let sent: Vec<String> = vc.sent().into_iter().map(|(shard, _)| shard).collect();
            assert_eq!(sent, shards, "{sql}");
        }
        let stmt = sql::parse::parse("delete from `user:80-`.music").unwrap();
        let plan = crate::planner::plan(&stmt, &vschema(), None).unwrap();
        let err = plan.execute(&vc, &BindVars::default()).await.unwrap_err();
        assert_eq!(err.to_string(), "VT05003: unknown shard user/80-");
    }
}
