//! Planner tests for joins merged into one route: FROM items pinned to
//! one shard by the same vindex value, and unsharded source tables read
//! through their reference copies.

use serde_json::Value as Json;

use super::plan;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {"hash": {"type": "hash"}, "other": {"type": "hash"}},
      "tables": {
        "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
        "extra": {"column_vindexes": [{"column": "user_id", "name": "hash"}]},
        "elsewhere": {"column_vindexes": [{"column": "user_id", "name": "other"}]},
        "two": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "other_id", "name": "hash"}]},
        "ref": {"type": "reference"},
        "src_copy": {"type": "reference", "source": "main.src"}
      }
    },
    "main": {"tables": {"src": {}, "plain": {}}}
  }
}"#;

fn planned(sql: &str) -> crate::error::Result<Json> {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    assert_eq!(vschema.keyspace_errors().count(), 0);
    let stmt = sql::parse::parse(sql).unwrap();
    Ok(plan(&stmt, &vschema, None)?.description().to_json())
}

fn describe(sql: &str) -> Json {
    planned(sql).unwrap()
}

/// Planned as something other than one route (or refused).
fn not_one_route(sql: &str) {
    if let Ok(d) = planned(sql) {
        assert_ne!(d["OperatorType"], "Route", "{sql}: {d}");
    }
}

#[test]
fn items_pinned_to_one_shard_by_one_value_are_one_route() {
    for sql in [
        "select u.col, e.v from user u join extra e on e.k = u.col where u.id = 5 and e.user_id = 5",
        "select u.col, e.v from user u, extra e where u.id = 5 and e.user_id = 5",
        "select u.col, e.v from user u left join extra e on e.user_id = 5 where u.id = 5",
        "select t.col, e.v from (select col from user where id = 5) t join extra e on e.k = t.col where e.user_id = 5",
        "select t.n, e.v from (select count(*) as n from user where id = 5) t left join extra e on e.user_id = 5",
        "select r.label, u.col from ref r left join user u on u.id = 5 and u.col = r.id",
        "select t.title, u.col from (select 'hello' as title) as t left join user u on u.id = 5",
        // The value flows through an equality of the pinned vindex columns.
        "select t.id, e.v from (select id from user where id = 5) as t join extra e on t.id = e.user_id",
        "select t.uid, e.v from (select id as uid from user where id = 5) t left join extra e on e.user_id = t.uid",
        "select e.v, t.id from extra e join (select id from user where id = 5) t on t.id = e.user_id",
    ] {
        let d = describe(sql);
        assert_eq!(d["OperatorType"], "Route", "{sql}: {d}");
        assert_eq!(d["Variant"], "EqualUnique", "{sql}: {d}");
        assert_eq!(d["Vindex"], "hash", "{sql}: {d}");
    }
}

#[test]
fn items_not_provably_on_one_shard_stay_nested_loops() {
    for sql in [
        // Different values, a list, another vindex with the same value.
        "select u.col, e.v from user u join extra e on e.k = u.col where u.id = 5 and e.user_id = 6",
        "select u.col, e.v from user u join extra e on e.k = u.col where u.id = 5 and e.user_id in (5, 6)",
        "select u.col, e.v from user u join elsewhere e on e.k = u.col where u.id = 5 and e.user_id = 5",
        // The LEFT JOINed table pinned only by the left table's ON clause: not pinned.
        "select u.col, e.v from user u left join extra e on e.k = u.col where u.id = 5",
        // The left table of a LEFT JOIN pinned only by the ON clause: not pinned.
        "select u.col, e.v from user u left join extra e on e.user_id = 5 and u.id = 5 where e.user_id = 5",
        // Equalities that carry no pinned vindex value.
        "select t.id, e.v from (select id, col from user where id = 5) t join extra e on t.col = e.user_id",
        "select t.id, e.v from (select id from user where id = 5) t join elsewhere e on t.id = e.user_id",
        "select t.id, e.v from (select id from user where id = 5) t left join extra e on e.k = t.id",
        "select t.id, e.v from (select id from user where id = 5 group by id) t join extra e on t.id = e.user_id",
        // A secondary vindex column does not place its rows.
        "select t.id, w.id from (select id from user where id = 5) t join two w on w.other_id = t.id",
        // A sharded table elsewhere in the statement.
        "select u.col from user u join extra e on e.k = u.col where u.id = 5 and e.user_id = 5 \
         and u.col in (select col from user)",
    ] {
        not_one_route(sql);
    }
}

#[test]
fn unsharded_sources_are_read_through_their_reference_copies() {
    let d = describe("select u.col, s.name from user u join main.src s on s.id = u.col");
    assert_eq!(d["OperatorType"], "Route", "{d}");
    assert_eq!(d["Keyspace"]["Name"], "user", "{d}");
    assert_eq!(d["Variant"], "Scatter", "{d}");
    let query = d["Query"].as_str().unwrap();
    assert!(query.contains("JOIN `src_copy` s ON"), "{query}");
    let d = describe(
        "select u.col, src.name from user u join main.src where src.id = u.col and u.id = 3",
    );
    assert_eq!(d["Variant"], "EqualUnique", "{d}");
    assert!(
        d["Query"].as_str().unwrap().contains("`src_copy` AS src"),
        "{d}"
    );
    // A table without a copy, or the copy LEFT JOINed first: nested loops.
    for sql in [
        "select u.col, p.name from user u join main.plain p on p.id = u.col",
        "select u.col, s.name from main.src s left join user u on s.id = u.col",
        "select u.col, s.name from user u join main.src s on s.id = main.src.id",
    ] {
        not_one_route(sql);
    }
}
