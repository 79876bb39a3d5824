//! Planner tests for UPDATE and DELETE reading several tables, sent whole
//! when co-located with their targets, and UPDATE with uncorrelated SET
//! subqueries run first.

use serde_json::Value as Json;

pub(super) const VSCHEMA: &str = r#"{
  "keyspaces": {
    "ks": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"},
        "name_idx": {"type": "lookup_unique", "params": {"table": "name_idx", "from": "name", "to": "keyspace_id"}, "owner": "customer"}
      },
      "tables": {
        "customer": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_idx"}]},
        "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]},
        "item": {"column_vindexes": [{"column": "order_id", "name": "hash"}]},
        "product": {"type": "reference"}
      }
    },
    "main": {"tables": {"plain": {}}}
  }
}"#;

fn planned(sql: &str) -> crate::error::Result<Json> {
    super::plan_json_with_vschema(VSCHEMA, sql)
}

#[test]
fn co_located_dml_goes_whole() {
    for (sql, variant) in [
        (
            "update corder o join item i on i.order_id = o.customer_id set o.qty = i.qty where o.customer_id = 5",
            "EqualUnique",
        ),
        (
            "update corder set qty = (select count(*) from item where item.order_id = corder.customer_id)",
            "Scatter",
        ),
        (
            "update customer set score = (select max(qty) from corder where customer_id = 4) where id = 4",
            "EqualUnique",
        ),
        (
            "delete o from corder o join product p on p.sku = o.sku where p.price > 10",
            "Scatter",
        ),
        (
            "delete o, i from corder o join item i on i.order_id = o.customer_id where o.customer_id in (1, 2)",
            "IN",
        ),
        (
            "delete from corder where exists (select 1 from item i where i.order_id = corder.customer_id)",
            "Scatter",
        ),
    ] {
        let d = planned(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(d["OperatorType"], if sql.starts_with("update") { "Update" } else { "Delete" }, "{sql}");
        assert_eq!(d["Variant"], variant, "{sql}");
    }
}

#[test]
fn uncorrelated_set_subqueries_run_first() {
    let d =
        planned("update corder set qty = (select max(x) from main.plain) where customer_id = 3")
            .unwrap();
    assert_eq!(
        (d["OperatorType"].as_str(), d["Variant"].as_str()),
        (Some("UncorrelatedSubquery"), Some("PulloutValue"))
    );
    assert_eq!(d["Inputs"][0]["Variant"], "Unsharded");
    assert_eq!(
        (
            d["Inputs"][1]["OperatorType"].as_str(),
            d["Inputs"][1]["Variant"].as_str()
        ),
        (Some("Update"), Some("EqualUnique"))
    );
    assert_eq!(
        d["Inputs"][1]["Query"],
        "UPDATE corder SET qty = :__sq1 WHERE customer_id = 3"
    );
    let d = planned("update customer set score = (select max(qty) from corder)").unwrap();
    assert_eq!(d["Inputs"][1]["Variant"], "Scatter");
}
