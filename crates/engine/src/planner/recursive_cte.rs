//! `WITH RECURSIVE` sent whole: when every table the statement reads (besides its CTEs)
//! is in one unsharded keyspace, or is a reference table of one keyspace, or there is
//! none (`with recursive n as (select 1 union all select n + 1 from n where n < 5)`),
//! one shard answers the statement exactly as one MySQL would, as Vitess sends it.
//! A recursive CTE over sharded tables is iterated in vtgate
//! ([`super::recursive_iterated`]).

use sqlparser::ast::{Query, Statement};
use vschema::TableType;

use super::select::{dual_keyspace, dual_opcode, whole};
use super::tables::{rewrite_for_shards, Tables};
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::Plan;
use crate::route::Opcode;

/// Plans a statement with `WITH RECURSIVE` as one route, or refuses it.
pub(super) fn plan_recursive(ctx: &Context, stmt: &Statement, original: &Query) -> Result<Plan> {
    // Every table but the CTEs themselves.
    let uses = Tables::collect(stmt, &ctx.scope())?.uses;
    let mut shard_stmt = stmt.clone();
    rewrite_for_shards(&mut shard_stmt, &ctx.scope());
    let Statement::Query(query) = shard_stmt else {
        return Err(EngineError::unsupported("not a query"));
    };
    let instructions = match uses.first() {
        None => whole(dual_opcode(&query), dual_keyspace(ctx)?, &query),
        Some(first) => {
            let ks = &first.table.keyspace;
            let one_keyspace = uses.iter().all(|u| u.table.keyspace.name == ks.name);
            let desc = KeyspaceDesc {
                name: ks.name.clone(),
                sharded: ks.sharded,
            };
            let all_reference = uses
                .iter()
                .all(|u| u.table.table_type == TableType::Reference);
            match (one_keyspace, ks.sharded, all_reference) {
                (true, false, _) => whole(Opcode::Unsharded, desc, &query),
                (true, true, true) => whole(Opcode::Reference, desc, &query),
                _ => super::recursive_iterated::plan_iterated(ctx, original)?,
            }
        }
    };
    Ok(Plan {
        query_type: "SELECT",
        instructions,
        tables_used: Tables { uses }.used(),
        column_names: Vec::new(),
    })
}

/// Whether a plan (as VEXPLAIN shows it) sends a recursive WITH to shards of a sharded
/// keyspace where it could read sharded rows: any route but a Reference one (chosen only
/// when the statement reads no sharded table) or one that sends nothing.
pub(super) fn sends_recursive_to_shards(d: &serde_json::Value) -> bool {
    let sharded = d["Keyspace"]["Sharded"].as_bool() == Some(true);
    let harmless = matches!(d["Variant"].as_str(), Some("Reference" | "None"));
    let recursive = d["Query"]
        .as_str()
        .is_some_and(|q| q.to_ascii_uppercase().contains("RECURSIVE"));
    (sharded && recursive && !harmless)
        || d["Inputs"]
            .as_array()
            .is_some_and(|inputs| inputs.iter().any(sends_recursive_to_shards))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{describe, refused};

    fn variant(sql: &str) -> (String, String, String) {
        let d = describe(sql);
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        (s(&d["Variant"]), s(&d["Keyspace"]["Name"]), s(&d["Query"]))
    }

    /// Each node of a plan as `OperatorType Variant Query`.
    fn walk(d: &serde_json::Value, out: &mut Vec<String>) {
        let op = d["OperatorType"].as_str().unwrap_or_default();
        let variant = d["Variant"].as_str().unwrap_or_default();
        let query = d["Query"].as_str().unwrap_or_default();
        out.push(format!("{op} {variant} {query}").trim().to_string());
        for i in d["Inputs"].as_array().into_iter().flatten() {
            walk(i, out);
        }
    }

    #[test]
    fn recursive_ctes_without_sharded_tables_go_whole() {
        let (v, ks, q) =
            variant("with recursive r as (select 1 as n union all select n + 1 from r where n < 5) select n from r");
        assert_eq!((v.as_str(), ks.as_str()), ("Reference", "main"));
        assert!(q.starts_with("WITH RECURSIVE r AS"), "{q}");
        let (v, ks, q) = variant(
            "with recursive r as (select id from main.seq union all select s.id from r join main.seq s on s.id = r.id + 1) select * from r",
        );
        assert_eq!((v.as_str(), ks.as_str()), ("Unsharded", "main"));
        assert!(q.contains("JOIN seq s ON"), "{q}");
        let (v, _, _) = variant(
            "with recursive r as (select id from ref union all select ref.id from r join ref on ref.id = r.id + 1) select * from r",
        );
        assert_eq!(v, "Reference");
    }

    #[test]
    fn recursive_ctes_over_sharded_tables_iterate_in_vtgate() {
        let d = describe(
            "with recursive r as (select id, name from user where id = 5 union all \
             select u.id, u.name from r join user u on u.id = r.id + 1 where r.id < 9) select name from r",
        );
        let mut shapes = Vec::new();
        walk(&d, &mut shapes);
        // The CTE's column is a bind variable of the recursive part, run per previous row.
        assert_eq!(
            shapes,
            [
                "Projection",
                "RecurseCTE",
                "Route EqualUnique SELECT id, name FROM user WHERE id = 5",
                "Route Scatter SELECT u.id, u.name FROM user u WHERE :vt_cte_0 < 9 AND u.id = :vt_cte_0 + 1",
            ]
        );
        // Joined by the statement: the CTE is a derived table vtgate computes, never a
        // statement for the shards.
        let d = describe(
            "with recursive r as (select id from user where id = 5 union all select u.id from r \
             join user u on u.id = r.id + 1 where r.id < 9) select r.id, m.id from r join music m on m.user_id = r.id",
        );
        let mut shapes = Vec::new();
        walk(&d, &mut shapes);
        assert!(shapes.iter().any(|s| s == "RecurseCTE"), "{shapes:?}");
        assert!(
            !shapes.iter().any(|s| s.contains("RECURSIVE")),
            "{shapes:?}"
        );
        for (sql, why) in [
            (
                "with recursive r as (select id from user union select id from user union select u.id from r join user u on u.id = r.id + 1) select * from r",
                "a CTE other than one SELECT UNION [ALL] one SELECT",
            ),
            (
                "with recursive r as (select id from user union all select u.id from r left join user u on u.id = r.id + 1) select * from r",
                "the CTE outer-joined in the recursive part",
            ),
            (
                "with recursive r as (select id from user union all select count(*) from r join user u on u.id = r.id) select * from r",
                "a recursive part that aggregates, groups or is DISTINCT",
            ),
            (
                "with recursive r as (select id from user union all select id + 1 from r join music m on m.user_id = r.id) select * from r",
                "the unqualified CTE column id beside other tables",
            ),
        ] {
            assert_eq!(
                refused(sql),
                format!("VT12001: unsupported: WITH RECURSIVE across shards: {why}"),
                "{sql}"
            );
        }
    }

    #[test]
    fn no_plan_sends_a_recursive_cte_over_sharded_tables_to_the_shards() {
        // Sent whole to user 5's shard, the CTE would read only that shard's music rows.
        assert_eq!(
            refused(
                "select (with recursive r as (select id from music where user_id = 5 union all \
                 select m.id from r join music m on m.user_id = r.id) select count(*) from r) \
                 from user where id = 5"
            ),
            "VT12001: unsupported: WITH RECURSIVE across shards: the CTE would run on each shard"
        );
        // A subquery vtgate runs first is planned on its own: iterated.
        let d = describe(
            "select id from user where id = 5 and exists (with recursive r as (select id from \
             music where user_id = 5 union all select m.id from r join music m \
             on m.user_id = r.id) select 1 from r)",
        );
        let mut shapes = Vec::new();
        walk(&d, &mut shapes);
        assert!(shapes.iter().any(|s| s == "RecurseCTE"), "{shapes:?}");
    }
}
