//! Planner tests for routing rules: table names resolve through the rules of
//! the statement's tablet type, as during a MoveTables from `commerce` to a
//! sharded `customer` keyspace.

use proto::topodata::TabletType;
use serde_json::Value as Json;

use super::plan_for;

/// Both keyspaces list `customer`; reads for replica are switched, rdonly
/// only for `commerce.customer`, primary stays on `commerce`.
const VSCHEMA: &str = r#"{
  "keyspaces": {
    "commerce": {"tables": {"customer": {}, "product": {}}},
    "customer": {
      "sharded": true,
      "vindexes": {"hash": {"type": "hash"}},
      "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}
    }
  },
  "routing_rules": {"rules": [
    {"from_table": "customer", "to_tables": ["commerce.customer"]},
    {"from_table": "commerce.customer", "to_tables": ["commerce.customer"]},
    {"from_table": "customer.customer", "to_tables": ["commerce.customer"]},
    {"from_table": "customer@replica", "to_tables": ["customer.customer"]},
    {"from_table": "commerce.customer@replica", "to_tables": ["customer.customer"]},
    {"from_table": "commerce.customer@rdonly", "to_tables": ["customer.customer"]},
    {"from_table": "product@rdonly", "to_tables": []}
  ]}
}"#;

fn describe(sql: &str, ks: Option<&str>, tablet_type: TabletType) -> Result<Json, String> {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vs = vschema::VSchema::build(&srv);
    let stmt = sql::parse::parse(sql).unwrap();
    plan_for(&stmt, &vs, ks, tablet_type)
        .map(|p| p.description().to_json())
        .map_err(|e| e.to_string())
}

fn keyspace(sql: &str, ks: Option<&str>, tablet_type: TabletType) -> String {
    let d = describe(sql, ks, tablet_type).unwrap();
    d["Keyspace"]["Name"].as_str().unwrap().to_string()
}

#[test]
fn unqualified_names_follow_the_rules_of_the_tablet_type() {
    let sql = "select * from customer where customer_id = 1";
    assert_eq!(keyspace(sql, None, TabletType::Primary), "commerce");
    assert_eq!(keyspace(sql, None, TabletType::Replica), "customer");
    // No `customer@rdonly` rule: the plain `customer` rule applies.
    assert_eq!(keyspace(sql, None, TabletType::Rdonly), "commerce");
}

#[test]
fn qualified_names_follow_the_rules_and_lose_their_qualifier() {
    let sql = "select * from commerce.customer where customer_id = 1";
    assert_eq!(keyspace(sql, None, TabletType::Primary), "commerce");
    let d = describe(sql, None, TabletType::Rdonly).unwrap();
    assert_eq!(d["Keyspace"]["Name"], "customer");
    assert_eq!(d["Variant"], "EqualUnique");
    assert_eq!(d["Query"], "SELECT * FROM customer WHERE customer_id = 1");
    // The session's keyspace qualifies unqualified names for the rules.
    let sql = "select * from customer where customer_id = 1";
    assert_eq!(
        keyspace(sql, Some("commerce"), TabletType::Rdonly),
        "customer"
    );
}

#[test]
fn a_rule_with_no_target_disables_the_table() {
    let err = describe("select * from product", None, TabletType::Rdonly).unwrap_err();
    assert!(err.contains("product"), "{err}");
    assert_eq!(
        keyspace("select * from product", None, TabletType::Primary),
        "commerce"
    );
}
