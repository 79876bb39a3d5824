//! Planner tests for WHERE conditions on LEFT JOINed tables of nested-loop
//! joins (an inner join when they reject the NULL row, else a filter over
//! the joined rows), RIGHT JOIN and STRAIGHT_JOIN, select items computed over the
//! joined rows, and ORDER BY keys that are not selected.

use serde_json::Value as Json;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {"hash": {"type": "hash"}},
      "tables": {
        "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
        "extra": {"column_vindexes": [{"column": "user_id", "name": "hash"}]}
      }
    },
    "main": {"tables": {"plain": {}}}
  }
}"#;

fn planned(sql: &str) -> crate::error::Result<Json> {
    super::plan_json_with_vschema(VSCHEMA, sql)
}

fn describe(sql: &str) -> Json {
    planned(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn refused(sql: &str) -> String {
    planned(sql).unwrap_err().to_string()
}

#[test]
fn a_condition_rejecting_the_null_row_makes_an_inner_join() {
    for (sql, right) in [
        (
            "select u.col from user u left join extra e on u.col = e.col where e.x = 5",
            "SELECT 1 FROM extra e WHERE e.x = 5 AND :u_col_1_0 = e.col",
        ),
        (
            "select u.col, e.x from user u left join extra e on u.col = e.col \
             where e.x between 1 and 2 and u.id > 3",
            "SELECT e.x FROM extra e WHERE e.x BETWEEN 1 AND 2 AND :u_col_1_0 = e.col",
        ),
        (
            "select u.col from user u left join extra e on u.col = e.col \
             where e.x in (1, 2) or e.y like 'a%'",
            "SELECT 1 FROM extra e WHERE (e.x IN (1, 2) OR e.y LIKE 'a%') AND :u_col_1_0 = e.col",
        ),
    ] {
        let d = describe(sql);
        assert_eq!(
            (d["OperatorType"].as_str(), d["Variant"].as_str()),
            (Some("Join"), Some("Join")),
            "{sql}"
        );
        assert_eq!(d["Inputs"][1]["Query"], right, "{sql}");
    }
}

#[test]
fn other_conditions_filter_the_joined_rows() {
    let d = describe(
        "select u.col from user u left join extra e on u.col = e.col \
         where e.x is null order by u.col limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit");
    let filter = &d["Inputs"][0]["Inputs"][0];
    assert_eq!(filter["OperatorType"], "Filter");
    let join = &filter["Inputs"][0];
    assert_eq!(join["Variant"], "LeftJoin");
    assert_eq!(
        join["Inputs"][1]["Query"],
        "SELECT e.x FROM extra e WHERE :u_col_1_0 = e.col"
    );
    // `OR` with another table's column: neither side alone rejects NULLs.
    let d = describe(
        "select u.col from user u left join extra e on u.col = e.col where e.x = 1 or u.col = 2",
    );
    assert_eq!(d["OperatorType"], "Filter");
    // `<=>` holds for the row of NULLs: over the joined rows too.
    let d =
        describe("select u.col from user u left join extra e on u.col = e.col where e.x <=> null");
    assert_eq!(d["OperatorType"], "Filter");
    assert_eq!(d["Inputs"][0]["Variant"], "LeftJoin");
    // A condition vtgate cannot evaluate runs in its table's query, `IS TRUE`, over the
    // NULL row too; kept under OR with another table's condition.
    let d = describe(
        "select u.col from user u left join extra e on u.col = e.col \
         where coalesce(e.x, 0) = 0 or (u.col > 3 and e.y like 'a%')",
    );
    assert_eq!(d["OperatorType"], "Filter");
    let join = &d["Inputs"][0];
    assert_eq!(
        join["Inputs"][1]["Query"],
        "SELECT (coalesce(e.x, 0) = 0) IS TRUE, (e.y LIKE 'a%') IS TRUE FROM extra e \
         WHERE :u_col_1_0 = e.col"
    );
    assert_eq!(
        join["NullRow"]["Query"],
        "SELECT (coalesce(e.x, 0) = 0) IS TRUE, (e.y LIKE 'a%') IS TRUE \
         FROM (SELECT 1) AS vt_null LEFT JOIN (SELECT * FROM extra LIMIT 0) e ON 1 = 0"
    );
    // Under NOT (where false and NULL differ) and over two tables, the condition's truth is
    // computed by the last table's query, the other's columns bound, and over its NULL row.
    for (sql, truth) in [
        (
            "select u.col from user u left join extra e on u.col = e.col \
             where not (e.y like 'a%' or u.col = 1)",
            "(NOT (e.y LIKE 'a%' OR :u_col_1_v0 = 1)) IS TRUE",
        ),
        (
            "select u.col from user u left join extra e on u.col = e.col \
             where coalesce(e.x, u.col) = 0",
            "(coalesce(e.x, :u_col_1_v0) = 0) IS TRUE",
        ),
    ] {
        let d = describe(sql);
        assert_eq!(d["OperatorType"], "Filter", "{sql}");
        let null_row = d["Inputs"][0]["NullRow"]["Query"]
            .as_str()
            .unwrap_or_default();
        assert!(
            null_row.starts_with(&format!("SELECT {truth} AS")),
            "{null_row}"
        );
    }
}

#[test]
fn right_join_is_the_swapped_left_join() {
    let d = describe("select u.col, p.x from user u right join main.plain p on u.col = p.x");
    assert_eq!(d["Variant"], "LeftJoin");
    assert_eq!(d["Inputs"][0]["Query"], "SELECT p.x FROM plain p");
    assert_eq!(d["JoinColumnIndexes"], "R:0,L:0");
    // After another join: the tables before it are the right side, as a derived table.
    let d = describe(
        "select u.col from user u join extra e on u.id = e.col right join main.plain p on p.x = u.col",
    );
    assert_eq!(d["Variant"], "LeftJoin");
    assert_eq!(d["Inputs"][0]["Query"], "SELECT p.x FROM plain p");
    // Unless a column is unqualified (it might be one of those tables').
    assert!(refused(
        "select col from user u join extra e on u.id = e.col right join main.plain p on p.x = u.col"
    )
    .contains("join type"));
}

#[test]
fn straight_join_keeps_its_order() {
    let d = describe("select u.col, p.x from user u straight_join main.plain p on u.col = p.x");
    assert_eq!(d["Inputs"][0]["Variant"], "Scatter");
    assert_eq!(d["Inputs"][1]["Variant"], "Unsharded");
}

#[test]
fn items_over_several_tables_are_computed_over_the_joined_rows() {
    let d = describe(
        "select u.col, e.x * u.col + 1 as v, -e.x / u.col from user u join extra e on u.col = e.col \
         order by v desc",
    );
    assert_eq!(d["OperatorType"], "Sort");
    let p = &d["Inputs"][0];
    assert_eq!(p["OperatorType"], "Projection");
    assert_eq!(
        p["Inputs"][0]["Inputs"][1]["Query"],
        "SELECT e.x FROM extra e WHERE :u_col_1_0 = e.col"
    );
    // CONCAT of columns of both sides and literals.
    let d =
        describe("select concat(u.col, ' ', e.x) as t from user u join extra e on u.col = e.col");
    assert_eq!(d["OperatorType"], "Projection");
    assert_eq!(d["Expressions"], "0: concat(:1, ' ', :2) as t");
    // Aggregates over them, too.
    let d = describe(
        "select max(u.col * e.x), sum(u.col + e.x) from user u join extra e on u.col = e.col",
    );
    assert_eq!(d["OperatorType"], "Aggregate");
    // Other expressions run in the query of the last table they read, with the earlier
    // tables' columns bound (typed) per row; that step is never a hash join.
    for (sql, right) in [
        (
            "select u.col / (e.x / 2) from user u join extra e on u.col = e.col",
            "SELECT :u_col_1_v0 / (e.x / 2) AS `u.col / (e.x / 2)` FROM extra e WHERE :u_col_1_0 = e.col",
        ),
        (
            "select case when u.col > e.x then 'a' end as k from user u join extra e on u.col = e.col",
            "SELECT CASE WHEN :u_col_1_v0 > e.x THEN 'a' END AS `k` FROM extra e WHERE :u_col_1_0 = e.col",
        ),
    ] {
        let d = describe(sql);
        assert_eq!(d["OperatorType"], "Join", "{sql}");
        assert_eq!(d["Inputs"][1]["Query"], right, "{sql}");
    }
    // So do ORDER BY keys and the operands of a WHERE over the joined rows that read
    // several tables, as hidden columns.
    let d = describe(
        "select u.col from user u join extra e on u.col = e.col \
         order by case when u.col > e.x then 1 else 0 end, u.col",
    );
    assert_eq!(d["OperatorType"], "Sort");
    assert_eq!(
        d["Inputs"][0]["Inputs"][1]["Query"],
        "SELECT CASE WHEN :u_col_1_v0 > e.x THEN 1 ELSE 0 END AS `CASE WHEN u.col > e.x THEN 1 ELSE 0 END` FROM extra e WHERE :u_col_1_0 = e.col"
    );
    let d = describe(
        "select u.col from user u left join extra e on u.col = e.col \
         where ifnull(e.x, u.col) > 3",
    );
    assert_eq!(d["OperatorType"], "Filter");
    assert_eq!(
        d["Inputs"][0]["NullRow"]["Query"],
        "SELECT (ifnull(e.x, :u_col_1_v0) > 3) IS TRUE AS `(ifnull(e.x, u.col) > 3) IS TRUE` FROM (SELECT 1) AS vt_null LEFT JOIN (SELECT * FROM extra LIMIT 0) e ON 1 = 0"
    );
}

#[test]
fn parenthesized_inner_joins_and_order_by_null() {
    let d = describe("select u.col, p.x from user u join (main.plain p join main.plain q on p.x = q.x) on u.col = q.x");
    assert_eq!(d["OperatorType"], "Join");
    // MariaDB has no `dual` in a FROM list (a syntax error there).
    assert!(refused("select 42, u.col from dual, user u").contains("dual"));
    let d = describe("select u.col, e.x from user u join extra e on u.col = e.col order by null");
    assert_eq!(d["OperatorType"], "Join");
    // A LEFT JOIN inside the parentheses is flattened when the group's ON condition does not
    // read its table (which would turn the group's null rows into no rows).
    let d = describe(
        "select u.col from user u join (extra e left join main.plain p on p.x = e.x) on u.col = e.col",
    );
    assert_eq!(d["OperatorType"], "Join");
    // Otherwise the group is a derived table (when every column is qualified).
    let d = describe(
        "select u.col from user u join (extra e left join main.plain p on p.x = e.x) on u.col = p.x",
    );
    assert_eq!(d["OperatorType"], "Join");
    assert!(refused(
        "select u.col from user u join (extra e left join main.plain p on p.x = e.x) on u.col = x"
    )
    .contains("derived table"));
}

#[test]
fn star_is_the_columns_of_every_from_item() {
    let d = describe(
        "select * from (select col from user) a join (select x, col from extra) b on a.col = b.col",
    );
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(d["JoinColumnIndexes"], "L:0,R:0,R:1");
    let d = describe("select b.*, a.col from (select col from user) a join (select x from extra) b on a.col = b.x");
    assert_eq!(d["JoinColumnIndexes"], "R:0,L:0");
    // A table without an authoritative column list: unknown columns.
    assert!(refused("select * from user u join extra e on u.col = e.col").contains("*"));
}

#[test]
fn order_by_columns_not_selected_are_hidden_sort_keys() {
    let d = describe(
        "select u.col from user u join extra e on u.col = e.col order by e.x desc, u.id limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit");
    let sort = &d["Inputs"][0];
    assert_eq!(sort["OperatorType"], "Sort", "{d}");
    assert_eq!(sort["OrderBy"], "1 DESC, 2 ASC", "{d}");
    assert_eq!(sort["Inputs"][0]["JoinColumnIndexes"], "L:0,R:0,L:1");
    let join = &sort["Inputs"][0];
    assert_eq!(join["Inputs"][0]["Query"], "SELECT u.col, u.id FROM user u");
    assert_eq!(
        join["Inputs"][1]["Query"],
        "SELECT e.x FROM extra e WHERE :u_col_1_0 = e.col"
    );
    // An expression of two tables runs in the last one's query.
    let d = describe("select u.col from user u join extra e on u.col = e.col order by u.id + e.x");
    assert_eq!(
        d["Inputs"][0]["Inputs"][1]["Query"],
        "SELECT :u_id_1_v0 + e.x AS `u.id + e.x` FROM extra e WHERE :u_col_1_0 = e.col"
    );
}

#[test]
fn left_joined_expressions_take_their_null_row_from_a_shard() {
    // NULL with the missing row: the join fills NULLs.
    let d = describe(
        "select u.col, e.x + 1 from user u left join extra e on u.col = e.col order by e.x, u.id",
    );
    assert_eq!(d["Inputs"][0].get("NullRow"), None, "{d}");
    // Not NULL with it: one shard evaluates the items over the table's NULL row.
    for sql in [
        "select u.col, coalesce(e.x, 0) from user u left join extra e on u.col = e.col",
        "select u.col, if(e.x is null, 'none', e.x) from user u left join extra e on u.col = e.col",
        "select u.col from user u left join extra e on u.col = e.col order by coalesce(e.x, 0)",
    ] {
        let d = describe(sql);
        let join = if d["OperatorType"] == "Sort" {
            &d["Inputs"][0]
        } else {
            &d
        };
        assert_eq!(join["Variant"], "LeftJoin", "{sql}: {d}");
        let null_row = &join["NullRow"];
        assert_eq!(null_row["Variant"], "Reference", "{sql}: {d}");
        let query = null_row["Query"].as_str().unwrap_or_default();
        assert!(
            query.ends_with(
                "FROM (SELECT 1) AS vt_null LEFT JOIN (SELECT * FROM extra LIMIT 0) e ON 1 = 0"
            ),
            "{sql}: {query}"
        );
    }
    let d = describe(
        "select u.col, case when p.a > 1 then 'hi' else 'lo' end from user u \
         left join main.plain p on p.id = u.col",
    );
    assert_eq!(
        d["NullRow"]["Query"],
        "SELECT CASE WHEN p.a > 1 THEN 'hi' ELSE 'lo' END FROM (SELECT 1) AS vt_null \
         LEFT JOIN (SELECT * FROM plain LIMIT 0) p ON 1 = 0",
        "{d}"
    );
    assert_eq!(d["NullRow"]["Variant"], "Unsharded");
}

#[test]
fn bind_variables_of_two_columns_never_share_a_name() {
    // `u.col` and the derived table's `u_col` both make the name `u_col_2_0` at the step of
    // `e`: the second condition's variable takes another.
    let d = describe(
        "select e.x from user u join (select 1 as u_col from dual) d join extra e \
         on e.x = u.col and e.y = u_col",
    );
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT e.x FROM extra e WHERE e.x = :u_col_2_0 AND e.y = :u_col_2_0_x"
    );
    assert_eq!(d["JoinVars"]["u_col_2_0"], 0);
    assert_eq!(d["JoinVars"]["u_col_2_0_x"], 1);
}
