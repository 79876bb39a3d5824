//! Which join steps the planner makes hash joins, and the queries their
//! sides send.

use serde_json::Value as Json;
use sqlparser::ast::Statement;

use super::{plan_with, PlanOptions};
use proto::topodata::TabletType;

const VSCHEMA: &str = r#"{"keyspaces": {"user": {"sharded": true,
  "vindexes": {"hash": {"type": "hash"}},
  "tables": {
    "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
    "music": {"column_vindexes": [{"column": "user_id", "name": "hash"}]}}}}}"#;

fn describe(sql: &str) -> Json {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    let stmt: Statement = sql::parse::parse(sql).unwrap();
    let options = PlanOptions::from_sql(sql);
    plan_with(&stmt, &vschema, None, TabletType::Primary, options)
        .unwrap()
        .description()
        .to_json()
}

fn queries(d: &Json) -> (String, String) {
    let q = |i: usize| {
        let mut n = &d["Inputs"][i];
        while n["Query"].is_null() {
            n = &n["Inputs"][0];
        }
        n["Query"].as_str().unwrap_or_default().to_string()
    };
    (q(0), q(1))
}

#[test]
fn directive_makes_column_equalities_hash_joins() {
    let d = describe(
        "select /*vt+ ALLOW_HASH_JOIN */ u.id, m.name from user u join music m on m.col = u.col",
    );
    assert_eq!(d["Variant"], "HashJoin", "{d}");
    assert_eq!(d["Predicate"], "m.col = u.col");
    assert_eq!(d["JoinColumnIndexes"], "-1,1");
    assert_eq!(
        queries(&d),
        (
            "SELECT u.id, u.col FROM user u".to_string(),
            "SELECT m.name, m.col FROM music m".to_string()
        )
    );
    assert_eq!(
        (d["LHSKey"].as_u64(), d["RHSKey"].as_u64()),
        (Some(1), Some(1))
    );
    let plain = describe("select u.id, m.name from user u join music m on m.col = u.col");
    assert_eq!(plain["Variant"], "Join");
}

#[test]
fn left_join_keeps_own_conditions_on_its_side() {
    let d = describe(
        "select /*vt+ ALLOW_HASH_JOIN */ u.id, m.name from user u \
         left join music m on u.col = m.col and m.name = 'x' where u.id > 3",
    );
    assert_eq!(d["Variant"], "HashLeftJoin", "{d}");
    let (left, right) = queries(&d);
    assert_eq!(left, "SELECT u.id, u.col FROM user u WHERE u.id > 3");
    assert_eq!(
        right,
        "SELECT m.name, m.col FROM music m WHERE m.name = 'x'"
    );
}

#[test]
fn other_conditions_on_earlier_tables_keep_the_nested_loop() {
    let d = describe(
        "select /*vt+ ALLOW_HASH_JOIN */ u.id, m.name from user u \
         join music m on m.col = u.col and m.id > u.id",
    );
    assert_eq!(d["Variant"], "Join", "{d}");
    let d = describe(
        "select /*vt+ ALLOW_HASH_JOIN */ u.id, m.name from user u join music m on m.col = u.col + 1",
    );
    assert_eq!(d["Variant"], "Join", "{d}");
    let d = describe(
        "select /*vt+ ALLOW_HASH_JOIN */ u.id, m.name from user u join music m on m.col = u.col \
         for update",
    );
    assert_eq!(d["Variant"], "Join", "{d}");
}

#[test]
fn derived_tables_computed_in_vtgate_are_hashed() {
    let d = describe(
        "select u.id, t.n from user u \
         join (select col, count(*) as n from music group by col) t on t.col = u.col",
    );
    assert_eq!(d["Variant"], "HashJoin", "{d}");
    let d = describe(
        "select u.id, t.col from user u left join (select col from music limit 10) t on u.col = t.col",
    );
    assert_eq!(d["Variant"], "HashLeftJoin", "{d}");
    let d =
        describe("select u.id, t.col from user u join (select col from music) t on u.col = t.col");
    assert_ne!(d["Variant"], "HashJoin", "{d}");
}
