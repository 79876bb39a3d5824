//! Planner tests for joins merged into one route: FROM items pinned to
//! one shard by the same vindex value, and unsharded source tables read
//! through their reference copies.

use serde_json::Value as Json;

use sql::literal::{BindValue, BindVars};

use crate::error::EngineError;
use crate::testing::{field, result, FakeVCursor};

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"}, "other": {"type": "hash"}, "xx": {"type": "xxhash"},
        "nul": {"type": "null"},
        "name_idx": {"type": "lookup_unique", "params": {"table": "name_idx", "from": "name", "to": "keyspace_id"}, "owner": "named"}
      },
      "tables": {
        "xa": {"column_vindexes": [{"column": "id", "name": "xx"}]},
        "xb": {"column_vindexes": [{"column": "a_id", "name": "xx"}]},
        "na": {"column_vindexes": [{"column": "id", "name": "nul"}]},
        "nb": {"column_vindexes": [{"column": "a_id", "name": "nul"}]},
        "named": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_idx"}]},
        "named_too": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_idx"}]},
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

fn planned_plan(sql: &str) -> crate::error::Result<crate::primitive::Plan> {
    super::plan_with_vschema(VSCHEMA, sql)
}

fn planned(sql: &str) -> crate::error::Result<Json> {
    Ok(planned_plan(sql)?.description().to_json())
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

#[test]
fn one_bind_variable_on_a_functional_vindex_pins_like_a_literal() {
    for (sql, vindex) in [
        ("select u.col, e.v from user u join extra e on e.k = u.col where u.id = :v and e.user_id = :v", "hash"),
        ("select u.col, e.v from user u left join extra e on e.user_id = :v where u.id = :v", "hash"),
        ("select r.label, u.col from ref r left join user u on u.id = :v and u.col = r.id", "hash"),
        ("select count(*) from ref r join user u on u.id = :v", "hash"),
        ("select t.n, e.v from (select count(*) as n from user where id = :v) t left join extra e on e.user_id = :v", "hash"),
        ("select t.id, e.v from (select id from user where id = :v) as t join extra e on t.id = e.user_id", "hash"),
        ("select a.c, b.c from xa a join xb b on b.k = a.k where a.id = :v and b.a_id = :v", "xx"),
    ] {
        let d = describe(sql);
        assert_eq!(d["OperatorType"], "Route", "{sql}: {d}");
        assert_eq!(d["Variant"], "EqualUnique", "{sql}: {d}");
        assert_eq!(d["Vindex"], vindex, "{sql}: {d}");
        assert_eq!(d["Values"][0], ":v", "{sql}: {d}");
    }
}

#[test]
fn other_bind_variables_keep_nested_loops() {
    for sql in [
        // Two variables (vtgate gives different literals different ones), or a literal and a variable.
        "select u.col, e.v from user u join extra e on e.k = u.col where u.id = :a and e.user_id = :b",
        "select u.col, e.v from user u join extra e on e.k = u.col where u.id = :a and e.user_id = 5",
        // A lookup vindex (its lookup could find nothing or scatter), the `null` vindex.
        "select a.c, b.c from named a join named_too b on b.k = a.k where a.name = :v and b.name = :v",
        "select a.c, b.c from na a join nb b on b.k = a.k where a.id = :v and b.a_id = :v",
        // Another vindex with the same variable.
        "select u.col, e.v from user u join elsewhere e on e.k = u.col where u.id = :v and e.user_id = :v",
    ] {
        not_one_route(sql);
    }
}

/// A merged join run with a bind value: the shards it was sent to, or the error.
async fn run_merged(sql: &str, value: BindValue) -> crate::error::Result<Vec<String>> {
    let p = planned_plan(sql).unwrap();
    assert_eq!(p.description().to_json()["OperatorType"], "Route", "{sql}");
    let f = [field("n", proto::query::Type::Int64)];
    let vc = FakeVCursor::new("user", &["-80", "80-"])
        .result("user", "-80", result(&f, &[&[Some("0")]]))
        .result("user", "80-", result(&f, &[&[Some("0")]]));
    let vars = BindVars::from_iter([("v".to_string(), value)]);
    let r = p.execute(&vc, &vars).await?;
    assert_eq!(r.rows.len(), 1, "{sql}: one shard's answer");
    Ok(vc.sent().into_iter().map(|(shard, _)| shard).collect())
}

#[tokio::test]
async fn a_merged_join_runs_on_exactly_one_shard_whatever_the_value() {
    let sql = "select count(*) from ref r join user u on u.id = :v join extra e on e.user_id = :v";
    // Its value's shard (4 hashes to 80-), any one shard for NULL (no row equals NULL, and
    // count(*) must still answer 0), and a refusal for a value hash cannot map.
    assert_eq!(run_merged(sql, BindValue::Int64(4)).await.unwrap(), ["80-"]);
    assert_eq!(run_merged(sql, BindValue::Null).await.unwrap(), ["-80"]);
    let err = run_merged(sql, BindValue::VarChar(b"4abc".to_vec()))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unsupported(_)), "{err}");
}

#[tokio::test]
async fn tables_joined_on_vindex_columns_keep_the_pushed_join() {
    // Joined rows share one value, so the pushed join's route may scatter a value hash
    // cannot map (as a one-table route does) instead of refusing it.
    let sql = "select u.col, e.v from user u join extra e on e.user_id = u.id \
               where u.id = :v and e.user_id = :v";
    let d = describe(sql);
    assert_eq!(d["OperatorType"], "Route", "{d}");
    assert_eq!(d["Variant"], "EqualUnique", "{d}");
    let p = planned_plan(sql).unwrap();
    let vc = FakeVCursor::new("user", &["-80", "80-"]);
    let vars = BindVars::from_iter([("v".to_string(), BindValue::VarChar(b"4abc".to_vec()))]);
    p.execute(&vc, &vars).await.unwrap();
    assert_eq!(vc.sent().len(), 2);
}
