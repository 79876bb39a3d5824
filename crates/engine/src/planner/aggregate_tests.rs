//! Planner tests for aggregation shapes across shards: non-aggregated
//! columns of a scalar aggregate, COUNT next to AVG, GROUP BY a column an
//! alias shadows, GROUP_CONCAT.

use super::tests::describe;

#[test]
fn scalar_aggregates_take_any_row_for_other_columns() {
    let d = describe("select name, count(*), max(id) from user");
    assert_eq!(
        d["Aggregates"],
        "sum_count_star(3) AS count(*), any_value(0) AS name, sum_count_star(1) AS count(*), \
         max(2) AS max(id)"
    );
    assert_eq!(
        d["Inputs"][0]["Query"],
        "SELECT name, count(*), max(id), count(*) FROM user"
    );
}

#[test]
fn count_next_to_avg_is_merged_on_its_own() {
    // avg(id) sends sum(id) and a hidden count(id) of raw partials; HAVING
    // count(id) gets a merged count of its own, not that column.
    let d = describe("select avg(id) from user having count(id) > 3");
    let text = d.to_string();
    assert!(text.contains("sum_count(2) AS count(id)"), "{text}");
    assert!(
        text.contains("SELECT sum(id) AS `avg(id)`, count(id), count(id) FROM user"),
        "{text}"
    );
}

#[test]
fn group_by_a_declared_column_shadowed_by_an_alias_groups_by_the_column() {
    // MySQL groups by the column `id` (columns before aliases), not by `1`.
    let d = describe("select 1 as id, count(*) from user group by id");
    let text = d.to_string();
    assert!(!text.contains("GROUP BY id"), "{text}");
    assert!(text.contains("user.id"), "{text}");
    // An alias of the column itself, or of a name the VSchema does not declare, stays.
    let d = describe("select id as id, count(*) from user group by id").to_string();
    assert!(!d.contains("user.id"), "{d}");
}

#[test]
fn having_prefers_the_group_by_column_to_a_shadowing_alias() {
    // MySQL: a HAVING name that is both a GROUP BY column and a select alias
    // is the column.
    let d =
        describe("select id + 1 as id, count(*) from user group by id having id > 2").to_string();
    assert!(!d.contains("GROUP BY id"), "{d}");
    // Column 2 is the hidden `user.id`, column 0 the alias.
    assert!(d.contains("Compare(Column(2), Gt"), "{d}");
}

#[test]
fn an_order_by_refusal_names_order_by() {
    let e = super::tests::refused("select col, count(*) from user group by col order by sin(col)");
    assert!(e.contains("ORDER BY sin(col) across shards"), "{e}");
}
