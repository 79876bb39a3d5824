//! Planner tests for UPDATE and DELETE planned as a select of the rows'
//! primary keys followed by single-table statements (`DMLWithInput`).

use serde_json::Value as Json;

use super::colocated_dml_tests::VSCHEMA;

const KEYS: &[(&str, &str, &[&str])] = &[
    ("ks", "customer", &["id"]),
    ("ks", "corder", &["order_id"]),
    ("ks", "item", &["item_id", "order_id"]),
];

fn planned(sql: &str) -> crate::error::Result<Json> {
    Ok(super::plan_with_keys(VSCHEMA, KEYS, sql)?
        .description()
        .to_json())
}

fn error(sql: &str) -> String {
    planned(sql).unwrap_err().to_string()
}

#[test]
fn tables_on_other_shards_are_changed_by_primary_key() {
    let d = planned("delete o from corder o join item i on i.qty = o.qty where i.x = 3").unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
    assert_eq!(d["Offset"], serde_json::json!(["0:[0]"]));
    assert_eq!(d["Inputs"][0]["OperatorType"], "Join", "{d}");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "delete from `ks`.`corder` where `order_id` in ::dml_vals"
    );
    // Two targets, the second with a two-column key.
    let d = planned("delete o, i from corder o join item i on i.qty = o.qty").unwrap();
    assert_eq!(d["Offset"], serde_json::json!(["0:[0]", "1:[1 2]"]));
    assert_eq!(
        d["Inputs"][2]["Query"],
        "delete from `ks`.`item` where (`item_id`, `order_id`) in ::dml_vals"
    );
}

#[test]
fn update_values_from_other_tables_come_from_the_input() {
    let d = planned(
        "update corder o join item i on i.qty = o.qty \
         set o.note = concat(i.x, 'a'), o.qty = o.qty + 1",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
    assert_eq!(
        d["Inputs"][1]["Query"],
        "update `ks`.`corder` set `note` = :dml_input_1, `qty` = qty + 1 \
         where `order_id` in ::dml_vals"
    );
    // A computed value may read the column it assigns (its value before the statement)...
    let d =
        planned("update corder o join item i on i.qty = o.qty set o.qty = i.x + o.qty").unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
    // ... but not one an earlier assignment changes, nor one another table's assignment does.
    for sql in [
        "update corder o join item i on i.qty = o.qty set o.note = 'x', o.qty = length(o.note) + i.x",
        "update corder o join item i on i.qty = o.qty set o.qty = i.x, i.x = 1",
    ] {
        let e = error(sql);
        assert!(e.starts_with("VT12001"), "{sql}: {e}");
    }
    // ... but its subqueries may: they see the table as it was, as in MariaDB.
    let d = planned("update corder set qty = (select max(qty) from corder) where order_id = 5")
        .unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
}

#[test]
fn limit_over_several_shards_selects_the_rows_first() {
    let d = planned("delete from corder where qty > 3 order by order_id limit 2").unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
    assert_eq!(d["Inputs"][0]["OperatorType"], "Limit", "{d}");
    // One shard: the statement goes whole.
    let d = planned("delete from corder where customer_id = 3 limit 2").unwrap();
    assert_eq!(d["OperatorType"], "Delete");
    let d = planned("update corder set qty = 1 where qty > 3 limit 2").unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput");
}

#[test]
fn what_mysql_or_vitess_refuses() {
    // Multi-table with LIMIT or ORDER BY: MySQL's 1221.
    assert_eq!(
        error("delete o from corder o join item i on i.qty = o.qty limit 1"),
        "Incorrect usage of DELETE and LIMIT"
    );
    let e = error("update corder o join item i on i.qty = o.qty set o.qty = 1 limit 1");
    assert!(e.starts_with("VT12001"), "{e}");
    // A vindex column changes: refused before anything runs.
    let e =
        error("update corder o join item i on i.order_id = o.customer_id set o.customer_id = 1");
    assert!(e.starts_with("VT12001"), "{e}");
    // No primary key known: Vitess's VT09015.
    let e = super::plan_with_vschema(
        VSCHEMA,
        "delete o from corder o join item i on i.qty = o.qty",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("VT09015: schema tracking required"), "{e}");
}

#[test]
fn correlated_subqueries_run_in_the_select() {
    // Not pulled out (correlated) nor merged (another vindex): the select plans it.
    let d =
        planned("delete from corder where exists (select 1 from item i where i.qty = corder.qty)")
            .unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput", "{d}");
    assert_eq!(d["Inputs"][0]["OperatorType"], "SemiJoin", "{d}");
    let d = planned(
        "update corder set note = 'x' where exists (select 1 from item i where i.qty = corder.qty)",
    )
    .unwrap();
    assert_eq!(d["OperatorType"], "DMLWithInput", "{d}");
}

#[test]
fn modifiers_read_as_tables_are_refused_plainly() {
    for sql in [
        "update ignore corder set qty = 1 where customer_id = 3",
        "update low_priority corder set qty = 1",
        "delete ignore from corder where customer_id = 3",
        "delete quick from corder",
    ] {
        assert_eq!(
            error(sql),
            "VT12001: unsupported: IGNORE, LOW_PRIORITY or QUICK in UPDATE or DELETE on a sharded keyspace",
            "{sql}"
        );
    }
}
