//! Planner tests on a small VSchema: route choice, queries sent to the
//! shards, vtgate-side ORDER BY / LIMIT, and refusals.

use proto::query::Type;
use serde_json::Value as Json;
use sql::literal::BindVars;

use super::plan;
use crate::testing::{field, result, rows_of, FakeVCursor};

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"},
        "name_idx": {"type": "lookup", "params": {"table": "name_idx", "from": "name", "to": "keyspace_id"}, "owner": "user"}
      },
      "tables": {
        "user": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_idx"}]},
        "music": {"column_vindexes": [{"column": "user_id", "name": "hash"}]},
        "orders": {"column_vindexes": [{"column": "user_id", "name": "hash"}],
                   "auto_increment": {"column": "id", "sequence": "seq"}},
        "auto": {"column_vindexes": [{"column": "id", "name": "hash"}],
                 "auto_increment": {"column": "id", "sequence": "main.seq"}},
        "ref": {"type": "reference"}
      }
    },
    "main": {"tables": {"seq": {"type": "sequence"}}}
  }
}"#;

pub(super) fn vschema() -> vschema::VSchema {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let v = vschema::VSchema::build(&srv);
    assert_eq!(v.keyspace_errors().count(), 0);
    v
}

pub(super) fn describe(sql: &str) -> Json {
    let stmt = sql::parse::parse(sql).unwrap();
    plan(&stmt, &vschema(), None)
        .unwrap()
        .description()
        .to_json()
}

pub(super) fn refused(sql: &str) -> String {
    let stmt = sql::parse::parse(sql).unwrap();
    plan(&stmt, &vschema(), None).unwrap_err().to_string()
}

#[test]
fn point_select_goes_whole_to_one_shard() {
    let d = describe("select * from user where id = 5 order by name limit 3");
    assert_eq!(d["OperatorType"], "Route");
    assert_eq!(d["Variant"], "EqualUnique");
    assert_eq!(d["Vindex"], "hash");
    assert_eq!(d["Values"][0], "5");
    assert_eq!(
        d["Query"],
        "SELECT * FROM user WHERE id = 5 ORDER BY name LIMIT 3"
    );
    assert_eq!(d["FieldQuery"], "SELECT * FROM user WHERE 1 <> 1");
}

#[test]
fn cheapest_vindex_wins_and_in_lists_route_by_values() {
    let d = describe("select id from user where name = 'x' and id = 1");
    assert_eq!(
        (d["Variant"].as_str(), d["Vindex"].as_str()),
        (Some("EqualUnique"), Some("hash"))
    );
    let d = describe("select id from user where name = 'x'");
    assert_eq!(
        (d["Variant"].as_str(), d["Vindex"].as_str()),
        (Some("Equal"), Some("name_idx"))
    );
    let d = describe("select id from user as u where u.id in (1, 2, -3)");
    assert_eq!(d["Variant"], "IN");
    assert_eq!(d["Values"][0], "(1, 2, -3)");
    let d = describe("select id from user where id in (1, 2) and name = 'x' and id = 1");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("EqualUnique"), Some("1"))
    );
    let d = describe("select id from user where id = 1 or (id = 2 and name = 'x') or id in (1, 3)");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("IN"), Some("(1, 2, 3)"))
    );
    let d = describe("select id from user where (id = 4 and col = 1) or (id = 4 and col = 2)");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("EqualUnique"), Some("4"))
    );
    let d = describe("select id from user where id = 1 or 2 < 1 or id = 3 - 1");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("IN"), Some("(1, 2)"))
    );
    let d = describe("select id from user where id in (7)");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("EqualUnique"), Some("7"))
    );
    let d = describe("select id from user where id = 9223372036854775807 + 1");
    assert_eq!(d["Variant"], "Scatter");
    // One branch without a vindex value scatters.
    let d = describe("select id from user where id = 1 or col = 2");
    assert_eq!(d["Variant"], "Scatter");
    let d = describe("select id from user where id = null");
    assert_eq!(d["Variant"], "None");
}

#[test]
fn unsharded_reference_and_dual() {
    let d = describe("select * from main.seq join main.other using (id)");
    assert_eq!(
        (d["Variant"].as_str(), d["Keyspace"]["Name"].as_str()),
        (Some("Unsharded"), Some("main"))
    );
    assert_eq!(d["Query"], "SELECT * FROM seq JOIN other USING(id)");
    let d = describe("select * from ref");
    assert_eq!(d["Variant"], "Reference");
    let d = describe("select 1 from dual");
    assert_eq!(
        (d["Variant"].as_str(), d["Keyspace"]["Name"].as_str()),
        (Some("Reference"), Some("main"))
    );
}

#[test]
fn scatter_order_and_limit_complete_in_vtgate() {
    let d = describe("select name from user order by id desc limit 2, 3");
    assert_eq!(d["OperatorType"], "Limit");
    assert_eq!(
        (d["Count"].as_str(), d["Offset"].as_str()),
        (Some("3"), Some("2"))
    );
    let r = &d["Inputs"][0];
    assert_eq!(r["Variant"], "Scatter");
    assert_eq!(r["OrderBy"], "1 DESC");
    assert_eq!(
        r["Query"],
        "SELECT name, id FROM user ORDER BY id DESC LIMIT 5"
    );
}

#[test]
fn star_queries_sort_on_trailing_hidden_columns() {
    let d = describe("select * from user order by name desc, id limit 2");
    let r = &d["Inputs"][0];
    assert_eq!(
        r["Query"],
        "SELECT *, name, id FROM user ORDER BY name DESC, id LIMIT 2"
    );
    assert_eq!(r["OrderBy"], "0 DESC, 1 ASC (of the 2 trailing columns)");
    // A select alias is not a column the select list can read: its expression is sorted on.
    let d = describe("select id < 5 as e0, u.* from user u order by e0 desc");
    assert_eq!(
        d["Query"],
        "SELECT id < 5 AS e0, u.*, id < 5 FROM user u ORDER BY e0 DESC"
    );
}

#[test]
fn refusals_use_vitess_texts() {
    assert_eq!(refused("select * from nouser"), "table nouser not found");
    assert_eq!(
        refused("select upper(max(name)) from user"),
        "VT12001: unsupported: expression over aggregates across shards: upper(max(name))"
    );
    // Vitess refuses GROUP_CONCAT with DISTINCT or ORDER BY; vtgate sorts the rows.
    for (sql, query, order) in [
        (
            "select group_concat(distinct name) from user",
            "SELECT concat(name), name FROM user",
            "1 ASC",
        ),
        (
            "select col, group_concat(name, id order by id desc separator '/') from user \
             group by col",
            "SELECT col, concat(name, id), id FROM user",
            "0 ASC, 2 DESC",
        ),
    ] {
        let plan = describe(sql);
        assert_eq!(plan["OperatorType"], "Aggregate", "{plan}");
        assert_eq!(plan["Inputs"][0]["OperatorType"], "Sort", "{plan}");
        assert_eq!(plan["Inputs"][0]["OrderBy"], order, "{plan}");
        assert_eq!(plan["Inputs"][0]["Inputs"][0]["Query"], query, "{plan}");
    }
    assert!(
        refused("select group_concat(distinct name order by id) from user").starts_with("VT12001")
    );
    assert!(
        refused("select group_concat(distinct name), group_concat(id order by id) from user")
            .starts_with("VT12001")
    );
    // DISTINCT aggregates of several expressions: over raw rows, the first by their order,
    // the others by a set of keys per group.
    let plan = describe("select sum(distinct a), sum(distinct b), count(distinct c) from user");
    assert_eq!(plan["OperatorType"], "Aggregate", "{plan}");
    assert_eq!(
        plan["Aggregates"],
        "sum_distinct(0) AS sum(DISTINCT a), sum_distinct_hashed(1) AS sum(DISTINCT b), \
         count_distinct_hashed(2) AS count(DISTINCT c)",
        "{plan}"
    );
    assert!(refused("select * from user u join user v on u.id = v.name").starts_with("VT12001"));
    assert!(refused("select * from user order by 2, col").starts_with("VT12001"));
    // Windows over aggregated rows: the aggregation first, then the windows.
    let plan = describe("select count(*), row_number() over () from user");
    assert_eq!(plan["OperatorType"], "Window", "{plan}");
    assert!(plan["Inputs"].to_string().contains(r#""Scalar""#), "{plan}");
    assert_eq!(
        refused("select row_number() over () + 1 from user"),
        "VT12001: unsupported: window functions across shards: an expression over them: \
         row_number() OVER () + 1"
    );
}

#[test]
fn windows_across_shards_run_in_vtgate_over_every_row() {
    let plan = describe(
        "select id, sum(a) over (partition by b order by id desc) as s from user where c > 1 \
         order by s limit 3",
    );
    assert_eq!(plan["OperatorType"], "Limit", "{plan}");
    let sort = &plan["Inputs"][0];
    assert_eq!(sort["OperatorType"], "Sort", "{plan}");
    let window = &sort["Inputs"][0];
    assert_eq!(
        window["Functions"], "sum(1) OVER (PARTITION BY 2 ORDER BY 3 DESC) AS s",
        "{plan}"
    );
    let route = &window["Inputs"][0];
    assert_eq!(route["Variant"], "Scatter", "{plan}");
    assert_eq!(
        route["Query"], "SELECT id, a AS w1, b, id FROM user WHERE c > 1",
        "{plan}"
    );
    // Over a nested-loop join: over every joined row, never inside one side's query (where
    // a route to one shard per outer row would number each outer row's matches apart).
    let plan = describe(
        "select u.id, row_number() over (order by e.id) as rn from user u \
         join music e on e.user_id = u.col",
    );
    assert_eq!(plan["OperatorType"], "Window", "{plan}");
    assert_eq!(plan["Inputs"][0]["OperatorType"], "Join", "{plan}");
    assert_eq!(plan.to_string().matches("\"Window\"").count(), 1, "{plan}");
}

#[tokio::test]
async fn planned_scatter_runs_and_merges() {
    let stmt = sql::parse::parse("select name from user order by id limit 3 offset 1").unwrap();
    let p = plan(&stmt, &vschema(), None).unwrap();
    let f = [field("name", Type::Varchar), field("id", Type::Int64)];
    let vc = FakeVCursor::new("user", &["-80", "80-"])
        .result(
            "user",
            "-80",
            result(&f, &[&[Some("b"), Some("2")], &[Some("c"), Some("3")]]),
        )
        .result(
            "user",
            "80-",
            result(&f, &[&[Some("a"), Some("1")], &[Some("d"), Some("4")]]),
        );
    let r = p.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(r.fields.len(), 1);
    let names: Vec<_> = rows_of(&r)
        .into_iter()
        .map(|row| row[0].clone().unwrap())
        .collect();
    assert_eq!(names, ["b", "c", "d"]);
    let sent = vc.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(
        |(_, q)| q == "SELECT name, id FROM user ORDER BY id ASC LIMIT 4"
            || q == "SELECT name, id FROM user ORDER BY id LIMIT 4"
    ));
}

#[test]
fn aggregates_are_split_between_shards_and_vtgate() {
    let d = describe(
        "select col, count(*), avg(x) as a from user group by col order by a desc limit 5",
    );
    assert_eq!(d["OperatorType"], "Limit");
    let sort = &d["Inputs"][0];
    assert_eq!(
        (sort["OperatorType"].as_str(), sort["OrderBy"].as_str()),
        (Some("Sort"), Some("2 DESC"))
    );
    let agg = &sort["Inputs"][0];
    assert_eq!(
        (agg["Variant"].as_str(), agg["GroupBy"].as_str()),
        (Some("Ordered"), Some("0"))
    );
    let route = &agg["Inputs"][0];
    assert_eq!(
        route["Query"],
        "SELECT col, count(*), sum(x) AS `a`, count(x) FROM user GROUP BY col ORDER BY 1"
    );
    assert_eq!(route["OrderBy"], "0 ASC");
    let d = describe("select count(distinct name), count(*) from user where id in (1, 2)");
    assert_eq!(d["Variant"], "Scalar");
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT name AS `count(DISTINCT name)`, count(*) FROM user WHERE id IN (1, 2) GROUP BY name ORDER BY 1"
    );
    let d = describe("select count(distinct `a``b`) from user");
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT `a``b` AS `count(DISTINCT ``a``b``)` FROM user GROUP BY `a``b` ORDER BY 1"
    );
    let d = describe("select distinct name from user");
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT DISTINCT name FROM user ORDER BY 1"
    );
}

#[tokio::test]
async fn planned_aggregate_runs() {
    let stmt = sql::parse::parse("select col, count(*) from user group by col").unwrap();
    let p = plan(&stmt, &vschema(), None).unwrap();
    let f = [field("col", Type::Int64), field("count(*)", Type::Int64)];
    let vc = FakeVCursor::new("user", &["-80", "80-"])
        .result(
            "user",
            "-80",
            result(&f, &[&[Some("1"), Some("2")], &[Some("3"), Some("1")]]),
        )
        .result(
            "user",
            "80-",
            result(&f, &[&[Some("1"), Some("5")], &[Some("2"), Some("1")]]),
        );
    let r = p.execute(&vc, &BindVars::default()).await.unwrap();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        rows_of(&r),
        vec![
            vec![s("1"), s("7")],
            vec![s("2"), s("1")],
            vec![s("3"), s("1")]
        ]
    );
}

#[test]
fn co_located_joins_are_pushed_down() {
    let d = describe("select * from user u join ref r on u.x = r.y where u.id = 4");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Route"), Some("EqualUnique"))
    );
    let d = describe("select * from user u, user v where u.id = v.id and v.id = 4");
    assert_eq!(d["Variant"], "EqualUnique");
    let d = describe("select u.a, v.b from user u left join user v on u.id = v.id order by u.a");
    assert_eq!(
        (d["Variant"].as_str(), d["OrderBy"].as_str()),
        (Some("Scatter"), Some("0 ASC"))
    );
    let d = describe("select r.a from ref r join user u on r.id = u.x join ref s on s.id = r.id");
    assert_eq!(d["Variant"], "Scatter");
    let d = describe("select * from user u right join user v on u.id = v.id");
    assert_eq!(d["Variant"], "Scatter");
    for sql in [
        "select * from ref r left join user u on r.id = u.id",
        "select * from user u join user v on u.name = v.name",
        "select * from user u left join user v on u.x = v.x where u.id = v.id",
        "select * from user u right join ref r on r.id = u.id",
        "select * from user u join user v using (id)",
    ] {
        assert!(
            refused(sql).starts_with("VT12001: unsupported: cross-shard join"),
            "{sql}"
        );
    }
}

#[test]
fn dml_routes_by_vindex_and_refuses_vindex_changes() {
    let d = describe("update user set x = 1 where id = 4");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Update"), Some("EqualUnique"))
    );
    let d = describe("delete from music where x > 3");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Delete"), Some("Scatter"))
    );
    let d = describe("delete from main.seq where id = 1");
    assert_eq!(
        (d["Variant"].as_str(), d["Query"].as_str()),
        (Some("Unsharded"), Some("DELETE FROM seq WHERE id = 1"))
    );
    assert_eq!(
        refused("update user set id = 5 where id = 4"),
        "VT12001: unsupported: you cannot UPDATE primary vindex columns; invalid update on vindex: hash"
    );
    // The table owns the lookup vindex name_idx: its DML reads the affected
    // rows first (lookup maintenance is tested in lookup/tests.rs).
    let d = describe("update user set name = 'y' where id = 4");
    assert_eq!(
        d["OwnedVindexQuery"],
        "select `id`, `name` from user where id = 4 for update"
    );
    let d = describe("delete from user where id = 4");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Delete"), Some("EqualUnique"))
    );
    assert_eq!(d["OwnedVindexes"][0], "name_idx");
    assert!(
        refused("update user set name = name where id = 4").starts_with("VT12001"),
        "not a value"
    );
    // LIMIT over several shards selects the rows' primary keys first,
    // which only schema tracking knows.
    assert_eq!(
        refused("update user set x = 1 where x = 2 limit 1"),
        "VT09015: schema tracking required: the primary key of user is not known"
    );
}

#[test]
fn inserts_split_rows_by_primary_vindex() {
    let srv = vschema::model::SrvVSchema::from_json(
        r#"{"keyspaces": {"ks": {"sharded": true, "vindexes": {"hash": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}}}"#,
    )
    .unwrap();
    let v = vschema::VSchema::build(&srv);
    let stmt = sql::parse::parse(
        "insert into ks.t (v, id) values ('a\\'b', 1), ('c', 4) on duplicate key update v = values(v)",
    )
    .unwrap();
    let d = plan(&stmt, &v, None).unwrap().description().to_json();
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Insert"), Some("Sharded"))
    );
    assert_eq!(
        d["Query"],
        "INSERT INTO t (v, id) VALUES ('a\\'b', 1), ('c', 4) ON DUPLICATE KEY UPDATE v = values(v)"
    );
    assert_eq!(d["VindexValues"], "hash:1, 4");
    let err = |sql: &str| {
        plan(&sql::parse::parse(sql).unwrap(), &v, None)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("insert into t (v) values (1)"),
        "VT09003: INSERT query does not have primary vindex column 'id' in the column list"
    );
    assert_eq!(
        err("insert into t (id, v) values (1)"),
        "VT03006: column count does not match value count with the row"
    );
    assert_eq!(
        err("replace into t (id) values (1)"),
        "VT12001: unsupported: REPLACE INTO with sharded keyspace"
    );
    assert!(
        err("insert into t (id, v) values (1, 2) on duplicate key update id = 3")
            .starts_with("VT12001")
    );
}

#[test]
fn other_joins_become_nested_loops() {
    let d = describe(
        "select u.a, v.b from user u join user v on u.x = v.id where u.id = 4 order by v.b limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit");
    let j = &d["Inputs"][0]["Inputs"][0];
    assert_eq!(
        (j["OperatorType"].as_str(), j["JoinColumnIndexes"].as_str()),
        (Some("Join"), Some("L:0,R:0"))
    );
    assert_eq!(j["JoinVars"]["u_x_1_0"], 1);
    assert_eq!(
        j["Inputs"][0]["Query"],
        "SELECT u.a, u.x FROM user u WHERE u.id = 4"
    );
    assert_eq!(j["Inputs"][0]["Variant"], "EqualUnique");
    assert_eq!(
        j["Inputs"][1]["Query"],
        "SELECT v.b FROM user v WHERE :u_x_1_0 = v.id"
    );
    assert_eq!(j["Inputs"][1]["Variant"], "EqualUnique");
    let d = describe("select s.id, u.id from main.seq s left join user u on u.x = s.id");
    assert_eq!(
        (d["Variant"].as_str(), d["Inputs"][0]["Variant"].as_str()),
        (Some("LeftJoin"), Some("Unsharded"))
    );
    let d = describe("select u.a, max(v.b) from user u join user v on u.x = v.id group by u.a having count(*) > 1");
    assert_eq!(
        (
            d["OperatorType"].as_str(),
            d["Inputs"][0]["OperatorType"].as_str()
        ),
        (Some("Filter"), Some("Aggregate"))
    );
    // AVG not selected: its sum over its count, a hidden column.
    let d = describe(
        "select u.a from user u join user v on u.x = v.id group by u.a having avg(v.b) > 1",
    );
    assert_eq!(d["Inputs"][0]["Expressions"], "3: (:1 / :2) as avg(v.b)");
    let d = describe(
        "select u.a, count(*), avg(v.b) from user u join user v on u.x = v.id group by u.a",
    );
    assert_eq!(
        (
            d["OperatorType"].as_str(),
            d["Inputs"][0]["OperatorType"].as_str()
        ),
        (Some("Aggregate"), Some("Sort"))
    );
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["Inputs"][1]["Query"],
        "SELECT v.b, v.b IS NOT NULL FROM user v WHERE :u_x_1_0 = v.id"
    );
    assert!(
        refused("select a from user u join user v on u.x = v.id").contains("unqualified column")
    );
}

#[test]
fn unions_concatenate_and_dedupe() {
    let d = describe("select id from user union all select id from music where user_id = 4");
    assert_eq!(d["OperatorType"], "Concatenate");
    assert_eq!(d["Inputs"][1]["Variant"], "EqualUnique");
    let d = describe("select id from user union select x from main.seq order by id desc limit 1");
    assert_eq!(d["OperatorType"], "Limit");
    assert_eq!(d["Inputs"][0]["OrderBy"], "0 DESC");
    assert_eq!(d["Inputs"][0]["Inputs"][0]["OperatorType"], "Distinct");
    let d = describe("select id from main.a union select id from main.b");
    assert_eq!(d["Variant"], "Unsharded");
    assert!(refused("select id from user intersect select id from music").starts_with("VT12001"));
}

#[test]
fn having_filters_merged_groups() {
    let d = describe("select col, sum(x) as s from user group by col having s > 1 and count(*) >= 2 order by null");
    assert_eq!(
        (
            d["OperatorType"].as_str(),
            d["Inputs"][0]["OperatorType"].as_str()
        ),
        (Some("Filter"), Some("Aggregate"))
    );
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT col, sum(x) AS s, count(*) FROM user GROUP BY col ORDER BY 1"
    );
    assert_eq!(
        describe("select col from user group by col having avg(x) > 1")["OperatorType"],
        "Filter"
    );
    assert!(refused("select col from user group by col having x > 1").starts_with("VT12001"));
    let d = describe("select distinct count(*) from user group by col");
    assert_eq!(d["OperatorType"], "Distinct");
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT count(*), col FROM user GROUP BY col ORDER BY 2"
    );
}

#[test]
fn inserts_take_missing_auto_increment_values_from_sequences() {
    let d = describe("insert into orders (user_id, x) values (1, 2), (3, 4)");
    assert_eq!(
        d["Query"],
        "INSERT INTO orders (user_id, x, `id`) VALUES (1, 2, :__seq0), (3, 4, :__seq1)"
    );
    assert_eq!(d["VindexValues"], "hash:1, 3");
    let d = describe("insert into orders (id, user_id) values (null, 4), (7, 5), (0, 6)");
    assert_eq!(
        d["Query"],
        "INSERT INTO orders (id, user_id) VALUES (:__seq0, 4), (7, 5), (:__seq2, 6)"
    );
    let d = describe("insert into auto (v) values ('a')");
    assert_eq!(d["VindexValues"], "hash::__seq0");
}

#[tokio::test]
async fn generated_ids_route_the_rows() {
    let stmt = sql::parse::parse("insert into auto (v) values ('a'), ('b')").unwrap();
    let p = plan(&stmt, &vschema(), None).unwrap();
    let mut vc = FakeVCursor::new("user", &["-80", "80-"]);
    vc.next_value = 3;
    let r = p.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(r.insert_id, 3);
    assert_eq!(
        vc.sent(),
        vec![
            (
                "-80".to_string(),
                "INSERT INTO auto (v, `id`) VALUES ('a', 3)".to_string()
            ),
            (
                "80-".to_string(),
                "INSERT INTO auto (v, `id`) VALUES ('b', 4)".to_string()
            ),
        ]
    );
    assert_eq!(
        *vc.sequences.lock().unwrap(),
        vec![("main.seq".to_string(), 2)]
    );
}

#[test]
fn uncorrelated_subqueries_run_first() {
    let d = describe("select u.a from user u where u.id in (select m.user_id from music m where m.x = 1) and u.b > 2");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("UncorrelatedSubquery"), Some("PulloutIn"))
    );
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT m.user_id FROM music m WHERE m.x = 1"
    );
    let outer = &d["Inputs"][1];
    assert_eq!(outer["Variant"], "IN");
    assert_eq!(
        outer["Query"],
        "SELECT u.a FROM user u WHERE (:__sq_has_values1 = 1 AND u.id IN (:__sq1)) AND u.b > 2"
    );
    // Under OR or NOT, and in the select list, alike.
    let d = describe("select a from user where id = (select max(user_id) from music) or b = 1");
    assert_eq!(d["Variant"], "PulloutValue");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT a FROM user WHERE id = :__sq1 OR b = 1"
    );
    let d = describe("select a from user where not id in (select user_id from music)");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT a FROM user WHERE NOT (:__sq_has_values1 = 1 AND id IN (:__sq1))"
    );
    let d = describe("select a, 1 + (select max(user_id) from music), exists (select 1 from music) as e from user");
    assert_eq!(
        d["Inputs"][1]["Inputs"][1]["Query"],
        "SELECT a, 1 + :__sq1 AS `1 + (SELECT max(user_id) FROM music)`, (:__sq_has_values2 = 1) AS e FROM user"
    );
    let e = refused("select a from user where id > all (select user_id from music)");
    assert_eq!(e, "VT12001: unsupported: subquery in this position");
    let e = refused(
        "select u.a from user u where exists (select 1 from music m where m.x = u.id) or u.b = 1",
    );
    assert_eq!(e, "VT12001: unsupported: correlated subquery across shards");
}

#[test]
fn correlated_select_list_subqueries_run_per_row() {
    let d = describe(
        "select u.a, (select count(*) from music m where m.x = u.b) as c from user u order by u.a",
    );
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Projection"), Some("CorrelatedSubqueries")),
        "{d}"
    );
    assert_eq!(
        d["Inputs"][0]["Query"], "SELECT u.a, NULL AS c, u.b FROM user u ORDER BY u.a",
        "{d}"
    );
    assert_eq!(
        d["Inputs"][1]["Inputs"][0]["Query"], "SELECT count(*) FROM music m WHERE m.x = :u_b",
        "{d}"
    );
    // Ordered by the value: sorted and limited in vtgate, a key not selected
    // read as a hidden column of the outer query.
    let d = describe(
        "select u.a, (select count(*) from music m where m.x = u.b) as c from user u \
         order by c desc, u.id limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit", "{d}");
    assert_eq!(d["Inputs"][0]["OperatorType"], "Sort", "{d}");
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT u.a, NULL AS c, u.id, u.b FROM user u",
        "{d}"
    );
    // DISTINCT: over the rows with their values.
    let d = describe(
        "select distinct (select count(*) from music m where m.x = u.b) as c from user u \
         order by c limit 2",
    );
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["OperatorType"], "Distinct",
        "{d}"
    );
    // Aggregated, or DISTINCT ordered by a key not selected: refused.
    for sql in [
        "select count(*), (select count(*) from music m where m.x = u.b) from user u",
        "select distinct (select count(*) from music m where m.x = u.b) from user u order by u.a",
    ] {
        assert_eq!(
            refused(sql),
            "VT12001: unsupported: correlated subquery across shards",
            "{sql}"
        );
    }
}

#[test]
fn simple_derived_tables_act_like_their_table() {
    let d = describe("select t.n from (select id, name as n from user where id = 4) as t");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Route"), Some("EqualUnique"))
    );
    let d = describe(
        "select t.c, count(*) from (select col as c from user where x > 1) t group by t.c",
    );
    assert_eq!(d["Inputs"][0]["Query"], "SELECT t.c, count(*) FROM (SELECT col AS c FROM user WHERE x > 1) t GROUP BY t.c ORDER BY 1");
}

#[test]
fn other_derived_tables_run_their_outer_query_in_vtgate() {
    let d = describe("select * from (select col from user limit 3) t");
    assert_eq!(d["OperatorType"], "Projection");
    assert_eq!(d["Inputs"][0]["OperatorType"], "Limit");
    let d = describe("select t.n * 2 from (select col, count(*) as n from user group by col) t where t.col in (1, 2) order by t.col limit 1");
    let ops: Vec<&str> = [
        &d,
        &d["Inputs"][0],
        &d["Inputs"][0]["Inputs"][0],
        &d["Inputs"][0]["Inputs"][0]["Inputs"][0],
        &d["Inputs"][0]["Inputs"][0]["Inputs"][0]["Inputs"][0],
    ]
    .iter()
    .map(|n| n["OperatorType"].as_str().unwrap_or_default())
    .collect();
    assert_eq!(ops, ["Limit", "Sort", "Projection", "Filter", "Aggregate"]);
    // One shard: sent whole.
    let d =
        describe("select n from (select col, count(*) as n from user where id = 5 group by col) t");
    assert_eq!(d["Variant"], "EqualUnique");
    assert!(
        refused("select lower(t.c) from (select col as c from user limit 3) t")
            .starts_with("VT12001")
    );
    assert_eq!(
        describe("select t.s / 2 + 1 from (select sum(x) as s from user) t")["OperatorType"],
        "Projection"
    );
    assert!(
        refused("select * from (select col from user limit 3) t for update").starts_with("VT12001")
    );
    assert_eq!(
        refused("select t.nope from (select col from user limit 3) t"),
        "column 't.nope' not found"
    );
}

#[test]
fn aggregations_order_by_hidden_aggregates() {
    let d = describe("select col from user group by col order by count(*) desc limit 3");
    let sort = &d["Inputs"][0];
    assert_eq!(
        (sort["OperatorType"].as_str(), sort["OrderBy"].as_str()),
        (Some("Sort"), Some("1 DESC"))
    );
    assert_eq!(
        sort["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT col, count(*) FROM user GROUP BY col ORDER BY 1"
    );
    assert!(
        refused("select distinct col from user group by col order by count(*)")
            .starts_with("VT12001")
    );
}

#[test]
fn bind_variable_limits_use_an_upper_limit_variable() {
    let d = describe("select id from user order by id limit :n offset :o");
    assert_eq!(
        (d["Count"].as_str(), d["Offset"].as_str()),
        (Some(":n"), Some(":o"))
    );
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT id FROM user ORDER BY id LIMIT :__upper_limit"
    );
}

#[test]
fn dml_subqueries_are_pulled_out() {
    let d = describe("delete from music where user_id in (select id from user where x = 1)");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("UncorrelatedSubquery"), Some("PulloutIn"))
    );
    assert_eq!(
        (
            d["Inputs"][1]["OperatorType"].as_str(),
            d["Inputs"][1]["Variant"].as_str()
        ),
        (Some("Delete"), Some("IN"))
    );
    let d = describe("update music set x = 1 where user_id = (select max(id) from main.seq)");
    assert_eq!(d["Inputs"][1]["Variant"], "EqualUnique");
}

#[test]
fn left_joined_tables_give_their_own_expressions() {
    // An expression of one LEFT JOINed table runs in its query; where it need not be NULL
    // over a missing row, a shard evaluates it over the table's NULL row.
    let d = describe("select u.a, coalesce(v.b, 0) from user u left join user v on u.x = v.id");
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT coalesce(v.b, 0) FROM user v WHERE :u_x_1_0 = v.id"
    );
    assert_eq!(
        d["NullRow"]["Query"],
        "SELECT coalesce(v.b, 0) FROM (SELECT 1) AS vt_null LEFT JOIN (SELECT * FROM user LIMIT 0) v ON 1 = 0"
    );
    // CONCAT is NULL for the row of NULLs: no NULL row needed.
    let d = describe("select u.a, concat(v.b, v.c + 1) from user u left join user v on u.x = v.id");
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(d.get("NullRow"), None);
    // Over several tables: computed over the joined rows.
    let d = describe("select u.a, concat(v.b, u.c) from user u left join user v on u.x = v.id");
    assert_eq!(d["OperatorType"], "Projection");
    assert_eq!(d["Expressions"], "1: concat(:2, :3) as concat(v.b, u.c)");
    // Beyond that, by the last table's query, the earlier table's column bound typed; NULL
    // for a missing row, so no NULL row is needed.
    let d =
        describe("select u.a, concat(v.b, v.c + u.c) from user u left join user v on u.x = v.id");
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT concat(v.b, v.c + :u_c_1_v0) AS `concat(v.b, v.c + u.c)` FROM user v WHERE :u_x_1_0 = v.id"
    );
    assert_eq!(d.get("NullRow"), None);
    // One that need not be NULL there: the NULL row is evaluated with each left row's values.
    let d =
        describe("select if(v.b is null, u.c, 1) as b from user u left join user v on u.x = v.id");
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(
        d["NullRow"]["Query"],
        "SELECT if(v.b IS NULL, :u_c_1_v0, 1) AS `b` FROM (SELECT 1) AS vt_null LEFT JOIN (SELECT * FROM user LIMIT 0) v ON 1 = 0"
    );
    let d = describe(
        "select u.a, v.b, count(v.c) from user u left join user v on u.x = v.id group by u.a, v.b",
    );
    assert_eq!(d["OperatorType"], "Aggregate");
    // A subquery over the missing row would run on one shard: a NULL row only ever has one
    // pulled out first, as a bind variable.
    for sql in [
        "select u.a, coalesce((select count(*) from music), v.b) from user u \
         left join user v on u.x = v.id",
        "select u.a from user u left join user v on u.x = v.id \
         order by coalesce(v.b, (select max(id) from music))",
        "select u.a from user u left join user v on u.x = v.id \
         where coalesce(v.b, (select max(id) from music)) > 3",
        "select u.a, coalesce(v.b, (select max(m.id) from music m where m.user_id = v.id)) \
         from user u left join user v on u.x = v.id",
    ] {
        let stmt = sql::parse::parse(sql).unwrap();
        if let Ok(p) = plan(&stmt, &vschema(), None) {
            let d = p.description().to_json().to_string();
            for part in d.split("\"NullRow\"").skip(1) {
                let query = part.split("\"Query\":\"").nth(1).unwrap_or_default();
                let query = query.split('"').next().unwrap_or_default();
                // Outside quoted aliases (named after the item as written): the query, its
                // `(SELECT 1)` and the emptied table's `(SELECT * FROM user LIMIT 0)`.
                let code: String = query.split('`').step_by(2).collect();
                assert_eq!(code.matches("SELECT").count(), 3, "{sql}: {query}");
            }
        }
    }
}

#[test]
fn locks_and_into_are_not_split() {
    let d = describe("select * from user where id = 4 for update");
    assert_eq!(d["Query"], "SELECT * FROM user WHERE id = 4 FOR UPDATE");
    let d = describe("select u.a from user u join user v on u.x = v.id for update");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT 1 FROM user v WHERE :u_x_1_0 = v.id FOR UPDATE"
    );
    let e = refused("select a from user where id in (select x from music) for update");
    assert!(e.starts_with("VT12001"), "{e}");
    assert!(refused("select a into @x from user where id = 4").starts_with("VT12001"));
}

#[test]
fn insert_select_routes_selected_rows() {
    let d = describe("insert into music (user_id, x) select id, col from user where col > 1");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Insert"), Some("Select"))
    );
    assert_eq!(d["Query"], "INSERT INTO music (user_id, x) VALUES <rows>");
    assert_eq!(d["Inputs"][0]["Variant"], "Scatter");
    let d = describe("insert into main.seq (id) select id from main.other");
    assert_eq!(d["Variant"], "Unsharded");
    // The auto-increment column not selected: appended, filled from the sequence.
    let d = describe("insert into orders (user_id) select id from user");
    assert_eq!(
        d["Query"],
        "INSERT INTO orders (user_id, `id`) VALUES <rows>"
    );
}

#[test]
fn arithmetic_over_aggregates_is_projected() {
    // A quotient inside a select item keeps MySQL's digits (AVG is the sum over the count);
    // ROUND gives a value with the digits it shows.
    for (sql, expr) in [
        ("select sum(x) / count(*) + 1 from user", "((:1 / :2) + 1)"),
        ("select avg(x) * 2 from user", "((:1 / :2) * 2)"),
        ("select round(avg(x), 2) from user", "round((:1 / :2), 2)"),
    ] {
        let d = describe(sql);
        assert_eq!(d["OperatorType"], "Projection", "{sql}");
        let name = &sql[7..sql.len() - 10];
        assert_eq!(d["Expressions"], format!("0: {expr} as {name}"), "{sql}");
    }
    // MariaDB sorts and compares a DECIMAL rounded to its scale: the value shown.
    for sql in [
        "select col, sum(x) / count(*) as r from user group by col order by r",
        "select col, avg(x) * 3 as r from user group by col order by r",
        "select col from user group by col having sum(x) / count(*) > 1",
        "select col from user group by col having round(avg(x), 2) > 1",
        "select col from user group by col order by avg(x) * 3, col",
    ] {
        describe(sql);
    }
    // An AVG or quotient named by its alias holds the digits shown, not those arithmetic needs.
    for sql in [
        "select col, avg(x) as a from user group by col having a * 3 > 1",
        "select col, sum(x) / count(*) as q from user group by col order by q + 1",
    ] {
        assert!(refused(sql).contains("named by its alias"), "{sql}");
    }
    let d = describe("select col, sum(x) / (count(*) + 1) as r from user group by col having sum(x) * 2 > 10 order by -max(id)");
    assert_eq!(d["OperatorType"], "Sort");
    let filter = &d["Inputs"][0];
    assert_eq!(filter["OperatorType"], "Filter");
    let projection = &filter["Inputs"][0];
    assert_eq!(projection["OperatorType"], "Projection");
    assert_eq!(
        projection["Expressions"],
        "1: (:2 / (:3 + 1)) as r, 4: (:2 * 2) as sum(x) * 2, 6: -(:5) as -max(id)"
    );
    assert_eq!(
        projection["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT col, NULL, sum(x), count(*), NULL, max(id), NULL FROM user GROUP BY col ORDER BY 1"
    );
}
