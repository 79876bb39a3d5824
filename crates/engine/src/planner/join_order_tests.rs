//! Planner tests for the order of nested-loop joins, ON conditions run
//! early, LEFT joins routed by a WHERE pin, windows and groups on the
//! vindex column computed by the shards, and ambiguous columns.

use serde_json::Value as Json;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {"hash": {"type": "hash"}, "xx": {"type": "xxhash"}},
      "tables": {
        "user": {"column_vindexes": [{"column": "id", "name": "hash"}],
                 "columns": [{"name": "col"}]},
        "extra": {"column_vindexes": [{"column": "user_id", "name": "hash"}],
                  "columns": [{"name": "col"}]},
        "texts": {"column_vindexes": [{"column": "name", "name": "xx"}]}
      }
    },
    "main": {"tables": {"plain": {}}}
  }
}"#;

fn planned(sql: &str) -> crate::error::Result<Json> {
    super::plan_json_with_vschema(VSCHEMA, sql)
}

/// The queries of the join's inputs, left to right.
fn inputs(d: &Json) -> Vec<String> {
    d["Inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["Query"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_pinned_or_unsharded_table_is_read_first() {
    let d = planned(
        "select user.id from user join extra on user.id = extra.col where extra.user_id = 2",
    )
    .unwrap();
    let q = inputs(&d);
    assert!(q[0].contains("FROM extra WHERE extra.user_id = 2"), "{q:?}");
    assert!(q[1].contains("FROM user WHERE user.id = :"), "{q:?}");
    assert_eq!(d["Inputs"][1]["Variant"], "EqualUnique");

    let d = planned("select plain.id from user join main.plain where plain.id = user.id").unwrap();
    assert_eq!(d["Inputs"][0]["Variant"], "Unsharded");
    assert_eq!(d["Inputs"][1]["Variant"], "EqualUnique");
}

#[test]
fn left_joins_keep_the_written_order() {
    let d = planned(
        "select user.id, extra.col from user left join extra on user.id = extra.col \
         where user.col = 3",
    )
    .unwrap();
    assert!(inputs(&d)[0].contains("FROM user"), "{d}");
    assert_eq!(d["Variant"], "LeftJoin");
}

#[test]
fn an_inner_on_condition_on_an_earlier_table_runs_in_its_query() {
    let d = planned("select user.col from user join extra on user.id = 5").unwrap();
    let q = inputs(&d);
    assert!(q[0].contains("WHERE user.id = 5"), "{q:?}");
    assert!(!q[1].contains("WHERE"), "{q:?}");
    assert_eq!(d["Inputs"][0]["Variant"], "EqualUnique");
}

#[test]
fn a_left_join_pinned_by_the_where_routes_by_its_vindex() {
    let d = planned(
        "select extra.col from user left join extra on user.id = extra.user_id \
         where extra.user_id = 5",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "Route");
    assert_eq!(d["Variant"], "EqualUnique");
    // `IS NULL` keeps rows without partner: no pin.
    let d = planned(
        "select extra.col from user left join extra on user.id = extra.user_id \
         where extra.user_id is null",
    )
    .unwrap();
    assert_eq!(d["Variant"], "Scatter");
}

#[test]
fn windows_partitioned_by_a_hash_vindex_run_on_the_shards() {
    let d = planned(
        "select id, row_number() over (partition by id order by col) as rn from user \
         where id in (1, 2)",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "Route");
    assert_eq!(d["Variant"], "IN");
    let d = planned(
        "select id, sum(col) over (partition by col, id) as s from user order by s limit 3",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "Limit");
    // Partitions a shard does not hold whole: computed in vtgate. Over groups too: the aggregation, then the windows; in vtgate even when each shard
    // holds its partitions and groups whole (MariaDB may drop such a statement's ORDER BY).
    for sql in [
        "select id, row_number() over (partition by col) from user",
        "select name, row_number() over (partition by name) from texts",
        "select col, count(*), rank() over (partition by col order by count(*)) from user group by col",
        "select count(*), rank() over (order by count(*)) from user",
        "select id, count(*), row_number() over (partition by id) from user group by id",
    ] {
        assert_eq!(planned(sql).unwrap()["OperatorType"], "Window", "{sql}");
    }
    let d = planned(
        "select id, count(*), row_number() over (partition by id) from user group by id \
         order by id desc",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "Sort");
    assert_eq!(d["Inputs"][0]["OperatorType"], "Window");
}

#[test]
fn a_column_two_tables_declare_is_ambiguous() {
    let e = planned("select col from user join extra")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Column 'col' in field list is ambiguous");
    // Declared by one only, the other unknown: the declaring table's, as in
    // Vitess (were `plain` to have `id` too, MySQL would refuse the query).
    let d = planned("select id from user join main.plain").unwrap();
    let text = d.to_string();
    assert!(text.contains("SELECT id FROM user"), "{text}");
    // Declared by none, two unknown: refused, not guessed.
    let e = planned("select nothing from user join main.plain")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unqualified column"), "{e}");
}

#[test]
fn groups_by_a_hash_vindex_run_on_the_shards() {
    let d = planned(
        "select id, group_concat(col order by col), count(*) from user group by id \
         having count(*) > 1",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "Route");
    assert_eq!(d["Variant"], "Scatter");
    assert!(
        d["Query"].as_str().unwrap().contains("HAVING count(*) > 1"),
        "{d}"
    );
    // DISTINCT rows of different shards may repeat: still merged in vtgate.
    let d = planned("select distinct count(*) from user group by id").unwrap();
    assert_ne!(d["OperatorType"], "Route");
    // `GROUP BY id` might mean the alias: merged in vtgate.
    let d = planned("select col as id, count(*) from user group by id").unwrap();
    assert_ne!(d["OperatorType"], "Route");
    // Groups by a text hash are not whole on one shard.
    let d = planned("select name, group_concat(id) from texts group by name").unwrap();
    assert_eq!(d["OperatorType"], "Aggregate");
}

#[test]
fn star_beside_windows_vtgate_computes_is_written_out_from_known_columns() {
    const KNOWN: &str = r#"{"keyspaces": {"user": {"sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
          "user": {"column_vindexes": [{"column": "id", "name": "hash"}],
                   "columns": [{"name": "id"}, {"name": "col"}],
                   "column_list_authoritative": true},
          "other": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}}}"#;
    let d = super::plan_json_with_vschema(
        KNOWN,
        "select *, row_number() over (order by col desc, id) as rn from user order by rn",
    )
    .unwrap();
    let text = d.to_string();
    assert!(text.contains("\"OperatorType\":\"Window\""), "{d}");
    assert!(text.contains("SELECT user.`id`, user.`col`, "), "{d}");
    // Partitioned by the vindex column, the shards compute them with `*` as written.
    let d = super::plan_json_with_vschema(
        KNOWN,
        "select *, row_number() over (partition by id order by col) as rn from user",
    )
    .unwrap();
    assert!(d.to_string().contains("SELECT *, row_number()"), "{d}");
    // Columns not known: still refused.
    let e = super::plan_json_with_vschema(
        KNOWN,
        "select *, row_number() over (order by id) as rn from other",
    )
    .unwrap_err();
    assert!(e.to_string().contains("* beside them"), "{e}");
}
