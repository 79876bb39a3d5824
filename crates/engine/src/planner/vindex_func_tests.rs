//! Planner tests for vindex functions: a vindex selected as a table, run
//! against the fake vcursor, and Vitess's errors for the shapes it refuses.

use serde_json::Value as Json;
use sql::literal::BindVars;

use super::plan;
use crate::testing::FakeVCursor;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {"hash": {"type": "hash"}, "dup": {"type": "hash"}},
      "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    },
    "other": {
      "sharded": true,
      "vindexes": {"dup": {"type": "hash"}, "xx": {"type": "xxhash"}},
      "tables": {"t": {"column_vindexes": [{"column": "id", "name": "xx"}]}}
    }
  }
}"#;

fn vschema() -> vschema::VSchema {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    vschema::VSchema::build(&srv)
}

fn planned(sql: &str, ks: Option<&str>) -> crate::Result<crate::Plan> {
    plan(&sql::parse::parse(sql).unwrap(), &vschema(), ks)
}

fn describe(sql: &str) -> Json {
    planned(sql, None).unwrap().description().to_json()
}

fn error(sql: &str) -> String {
    planned(sql, None).unwrap_err().to_string()
}

#[test]
fn a_vindex_name_plans_a_vindex_function() {
    let d = describe("select id, keyspace_id, shard from hash where id = :id");
    assert_eq!(d["OperatorType"], "VindexFunc");
    assert_eq!(d["Vindex"], "hash");
    assert_eq!(d["Columns"], serde_json::json!([0, 1, 5]));
    let d = describe("select * from other.dup where id in (1, 2)");
    assert_eq!(d["Columns"], serde_json::json!([0, 1, 2, 3, 4, 5]));
    assert_eq!(d["Value"], "(1, 2)");
    let d = describe("select shard from hash where id = 1 order by 1 desc");
    assert_eq!(d["OperatorType"], "Sort");
    assert_eq!(d["Inputs"][0]["OperatorType"], "VindexFunc");
    // A table of that name wins; the session's keyspace qualifies names.
    assert_eq!(
        describe("select id from user where id = 1")["OperatorType"],
        "Route"
    );
    let p = planned("select id from xx where id = 1", Some("other")).unwrap();
    assert_eq!(p.description().to_json()["Vindex"], "xx");
}

#[test]
fn refused_shapes_give_vitess_errors() {
    let form = "VT09018: WHERE clause for vindex function must be of the form id = <val> or id in(<val>,...)";
    for (sql, reason) in [
        ("select keyspace_id from hash", "where clause missing"),
        (
            "select keyspace_id from hash where id = 1 and id = 2",
            "multiple filters",
        ),
        (
            "select keyspace_id from hash where f(id)",
            "not a comparison",
        ),
        ("select keyspace_id from hash where id > 1", "not equality"),
        (
            "select keyspace_id from hash where 1 = id",
            "lhs is not a column",
        ),
        (
            "select keyspace_id from hash where shard = 1",
            "lhs is not id",
        ),
        (
            "select keyspace_id from hash where id = id + 1",
            "rhs is not a value",
        ),
    ] {
        assert_eq!(error(sql), format!("{form} ({reason})"), "{sql}");
    }
    assert_eq!(
        error("select dup from dup where id = 1"),
        "ambiguous vindex reference: dup"
    );
    assert_eq!(
        error("select nope from hash where id = 1"),
        "column 'nope' not found in table 'hash'"
    );
    assert_eq!(
        error("select f(keyspace_id) from hash where id = 1"),
        "VT09018: cannot add 'f(keyspace_id)' expression to a table/vindex"
    );
    assert!(error("select id from hash where id = 1 limit 1").starts_with("VT12001"));
    // Joined or in a subquery: not planned, and said so.
    for sql in [
        "select hash.id from hash join user on user.id = hash.id where hash.id = 1",
        "select id from user where exists (select 1 from hash where id = 1)",
    ] {
        assert!(
            error(sql).starts_with("VT12001: unsupported: vindex hash as a table"),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn rows_are_sorted_by_the_selected_column() {
    let p = planned(
        "select id, shard from hash where id in (1, 2, 3, 4, 5) order by shard desc, id",
        None,
    )
    .unwrap();
    let vc = FakeVCursor::new("user", &["-80", "80-"]);
    let r = p.execute(&vc, &BindVars::default()).await.unwrap();
    let rows: Vec<Vec<Option<Vec<u8>>>> = r
        .rows
        .iter()
        .map(|row| {
            crate::merge_sort::split(row)
                .unwrap()
                .into_iter()
                .map(|c| c.map(<[u8]>::to_vec))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let shards: Vec<&[u8]> = rows.iter().map(|r| r[1].as_deref().unwrap()).collect();
    let mut sorted = shards.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(shards, sorted);
    assert!(vc.sent().is_empty(), "a vindex function sends no query");
}
