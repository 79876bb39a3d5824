//! Planner tests for routing shapes (OR of values, tuples, NULL lists,
//! literal comparisons) and the errors Vitess and MySQL give at plan time
//! (ordinals, UNION widths, repeated aliases, grouping on aggregates, DML).

use super::tests::{describe, refused};

#[test]
fn tuples_route_by_their_vindex_column() {
    let d = describe("select id from user where (col, id) in ((1, 2), (3, 4))");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("MultiEqual"), Some("(2, 4)"))
    );
    let d = describe("select id from user where ((col, id), name) in (((1, 5), 'a'))");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("MultiEqual"), Some("(5)"))
    );
    let d = describe("select id from user where (id, col) = (7, 1)");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("EqualUnique"), Some("7"))
    );
    // A value that is not a literal, or a tuple of another shape: scatter.
    let d = describe("select id from user where (col, id) in ((1, col), (3, 4))");
    assert_eq!(d["Variant"], "Scatter");
    let d = describe("select id from user where (col, id) in ((1, 2), 3)");
    assert_eq!(d["Variant"], "Scatter");
}

#[test]
fn null_lists_and_false_literal_comparisons_route_nowhere() {
    for sql in [
        "select id from user where id in (null)",
        "select id from user where col not in (1, null)",
        "select id from user where 1 = 0",
        "select id from user where id = 3 and (2 < 1)",
    ] {
        assert_eq!(describe(sql)["Variant"], "None", "{sql}");
    }
    for sql in [
        "select id from user where col in (null, 1)",
        "select id from user where 1 = 1",
    ] {
        assert_ne!(describe(sql)["Variant"], "None", "{sql}");
    }
}

#[test]
fn ordinals_past_the_select_list_are_mysqls_unknown_column() {
    assert_eq!(
        refused("select id from user group by 2"),
        "Unknown column '2' in 'group clause'"
    );
    assert_eq!(
        refused("select id, col from user order by 0"),
        "Unknown column '0' in 'order clause'"
    );
    // After `*` the width is unknown: the shards answer MySQL's error if the position is
    // past it, and the merge sorts by that column of the result otherwise.
    let plan = describe("select * from user order by 9");
    assert_eq!(plan["OrderBy"], "8 ASC", "{plan}");
}

#[test]
fn union_sides_of_different_widths_are_refused_like_mysql() {
    assert_eq!(
        refused("select id, 42 from user where id = 1 union all select id from user where id = 5"),
        "The used SELECT statements have a different number of columns: 2, 1"
    );
}

#[test]
fn a_repeated_table_alias_is_refused() {
    for sql in [
        "select user.id from user join user",
        "select u.id from user as u join music as u on u.id = u.user_id",
    ] {
        assert!(
            refused(sql).starts_with("VT03013: not unique table/alias: '"),
            "{sql}"
        );
    }
    assert_eq!(
        describe("select u.id from user as u join user on u.id = user.id")["Variant"],
        "Scatter"
    );
}

#[test]
fn grouping_on_an_aggregate_is_refused() {
    assert_eq!(
        refused("select count(*) b from user group by b"),
        "VT03005: cannot group on 'count(*)'"
    );
}

#[test]
fn dml_errors_vitess_gives_at_plan_time() {
    assert_eq!(
        refused("insert into hash(id) values (1)"),
        "VT09014: vindex cannot be modified"
    );
    assert_eq!(
        refused("insert into music(id, user_id) select id, col, name from user"),
        "VT03006: column count does not match value count with the row"
    );
    assert_eq!(
        refused("update user set name = 'a', name = 'b' where id = 1"),
        "VT03015: column has duplicate set values: 'name'"
    );
}

#[test]
fn delete_targets_must_be_tables_of_the_from_clause() {
    assert_eq!(
        refused("delete music from user where id = 1"),
        "VT03003: unknown table 'music' in MULTI DELETE"
    );
    assert_eq!(
        refused("delete m from (select * from user) m where id = 1"),
        "VT03004: the target table m of the DELETE is not updatable"
    );
    assert!(!refused("delete u from user u join music m on u.col = m.col").starts_with("VT03"));
}

#[test]
fn a_multi_table_delete_may_not_read_its_target_in_a_subquery() {
    let twice = "Table 'u' is specified twice, both as a target for 'DELETE' and as a separate \
                 source for data";
    for sql in [
        "delete u from user u join music m on u.id = m.user_id \
         where u.col in (select col from user where id < 3)",
        "delete u from user u where exists (select 1 from user x where x.id = u.id + 1)",
        "delete u from user u join music m on m.user_id = u.id \
         and u.col = (select max(col) from user)",
    ] {
        assert_eq!(refused(sql), twice, "{sql}");
    }
    // Through a derived table, of another table, or a single-table DELETE: MariaDB runs them.
    for sql in [
        "delete u from user u where u.col in (select 1 from (select col from user) d)",
        "delete u from user u join music m on u.id = m.user_id \
         where u.col in (select col from music where id < 3)",
        "delete from user where col in (select col from user where id < 3)",
    ] {
        let stmt = sql::parse::parse(sql).unwrap();
        if let Err(e) = super::plan(&stmt, &super::tests::vschema(), None) {
            assert_ne!(e.to_string(), twice, "{sql}");
        }
    }
}

#[test]
fn union_order_by_a_qualified_column_and_huge_ordinals_are_refused() {
    assert_eq!(
        refused("select id from user union select 3 order by user.id"),
        "Table `user` from one of the SELECTs cannot be used in global ORDER clause"
    );
    assert_eq!(
        refused("select col from user order by 18446744073709551616"),
        "error parsing column number: 18446744073709551616"
    );
}

#[test]
fn nested_sql_calc_found_rows_is_misplaced() {
    for sql in [
        "select * from music where user_id in (select sql_calc_found_rows id from music limit 10)",
        "select * from (select sql_calc_found_rows id from music limit 10) t limit 1",
    ] {
        assert_eq!(
            refused(sql),
            "Incorrect usage/placement of 'SQL_CALC_FOUND_ROWS'",
            "{sql}"
        );
    }
}

#[test]
fn insert_select_into_an_unsharded_table_from_another_keyspace() {
    let d = describe("insert into main.other (id) select id from user");
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("Insert"), Some("Select"))
    );
    assert_eq!(d["Keyspace"]["Name"], "main");
    assert_eq!(d["Keyspace"]["Sharded"], false);
    assert!(d.get("VindexOffsetFromSelect").is_none());
    assert_eq!(d["Inputs"][0]["Variant"], "Scatter");
}

#[test]
fn dual_with_a_false_where_reaches_no_shard_unless_aggregated() {
    assert_eq!(
        describe("select 42 from dual where false")["Variant"],
        "None"
    );
    assert_eq!(
        describe("select 42 from dual where 1 = 1")["Variant"],
        "Reference"
    );
    // count(*) over no row is still one row.
    assert_eq!(
        describe("select count(*) from dual where false")["Variant"],
        "Reference"
    );
}

#[test]
fn an_equality_through_another_column_routes() {
    let d = describe("select id from user where user.id = user.col and user.col = 5");
    assert_eq!(
        (d["Variant"].as_str(), d["Values"][0].as_str()),
        (Some("EqualUnique"), Some("5"))
    );
    // Not through a column of another table.
    let d = describe("select id from user where user.id = music.col and music.col = 5");
    assert_ne!(d["Values"][0].as_str(), Some("5"));
}

#[test]
fn an_or_placed_in_a_join_side_keeps_its_parentheses() {
    // `a or b and c` would be `a or (b and c)`: the ON condition lost.
    let d = super::tests::describe(
        "select u.id, m.id from user u join music m on m.k <= u.col where u.id = 7 or m.user_id = 7",
    );
    assert_eq!(
        d["Inputs"][1]["Query"],
        "SELECT m.id FROM music m WHERE (:u_id_1_0 = 7 OR m.user_id = 7) AND m.k <= :u_col_1_0",
        "{d}"
    );
    let d = super::tests::describe(
        "select id from user where (id = 7 or col = 5) and id in (select user_id from music where id = 3)",
    );
    let text = d.to_string();
    assert!(text.contains("(id = 7 OR col = 5) AND"), "{d}");
}

#[test]
fn vitess_errors_for_column_values_and_vindexes_without_where() {
    assert_eq!(
        refused("insert into music (user_id) values (id)"),
        "cannot lookup column 'id' (column access not supported here)"
    );
    assert_eq!(
        refused("select id from user where exists (select keyspace_id from user.hash)"),
        "VT09018: WHERE clause for vindex function must be of the form id = <val> or id in(<val>,...) (where clause missing)"
    );
}

#[test]
fn a_tuple_in_a_pulled_out_subquery_is_refused() {
    // The subquery's rows would become a list of single values: MariaDB's 1241.
    let msg = refused("select id from user where (col, id) in (select id, col from music)");
    assert!(msg.contains("a tuple IN (subquery)"), "{msg}");
    // A single column still pulls out.
    let d = describe("select id from user where col in (select id from music)");
    assert_eq!(d["OperatorType"], "UncorrelatedSubquery");
}

#[test]
fn subqueries_naming_a_joined_table_of_the_dml_are_correlated() {
    // `m` is joined, not the first table: the subquery cannot run first on its own.
    for sql in [
        "update user u join music m on u.id = m.user_id set m.x = m.x + 1, u.y = u.y - 1 \
         where not exists (select 1 from music m2 where m2.col = m.col and m2.id > 3)",
        "delete u from user u join music m on u.id = m.user_id \
         where exists (select 1 from music e where e.col = m.col and e.id < 3)",
    ] {
        let stmt = sql::parse::parse(sql).unwrap();
        match super::plan(&stmt, &super::tests::vschema(), None) {
            Ok(p) => {
                let d = p.description().to_json().to_string();
                assert!(!d.contains("PulloutExists"), "{sql}: {d}");
            }
            // Refused as correlated, or by the select-then-write plan's own needs.
            Err(e) => assert!(e.to_string().starts_with("VT"), "{sql}: {e}"),
        }
    }
}
