//! Tests of VSchema building and name resolution.

use super::*;
use proto::topodata::TabletType;

fn srv(json: &str) -> SrvVSchema {
    SrvVSchema::from_json(json).unwrap()
}

fn build(json: &str) -> VSchema {
    VSchema::build(&srv(json))
}

fn ks_error(json: &str) -> String {
    let ks = model::Keyspace::from_json(json).unwrap();
    validate_keyspace("ks", &ks).unwrap_err().to_string()
}

const COMMERCE_AND_CUSTOMER: &str = r#"{"keyspaces": {
  "commerce": {"tables": {"customer_seq": {"type": "sequence"}, "order_seq": {"type": "sequence"}, "product": {}}},
  "customer": {"sharded": true,
    "vindexes": {"xxhash": {"type": "xxhash"}},
    "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "xxhash"}],
                            "auto_increment": {"column": "customer_id", "sequence": "customer_seq"}},
               "corder": {"column_vindexes": [{"column": "customer_id", "name": "xxhash"}],
                          "auto_increment": {"column": "order_id", "sequence": "order_seq"}}}}}}"#;

#[test]
fn builds_the_sharded_example() {
    let vs = build(COMMERCE_AND_CUSTOMER);
    assert_eq!(vs.keyspace_errors().count(), 0);
    assert!(vs.keyspace("customer").unwrap().sharded());
    assert!(!vs.keyspace("commerce").unwrap().sharded());

    let customer = vs.find_table(None, "customer").unwrap();
    assert_eq!(customer.keyspace.name, "customer");
    let primary = customer.primary_vindex().unwrap();
    assert_eq!(primary.columns, vec!["customer_id"]);
    assert_eq!(primary.vindex.type_name(), "xxhash");
    let ai = customer.auto_increment.as_ref().unwrap();
    assert_eq!(ai.column, "customer_id");
    assert_eq!(ai.sequence.to_string(), "commerce.customer_seq");

    assert_eq!(vs.first_keyspace().unwrap().keyspace.name, "commerce");
    let seq = vs.find_table(Some("commerce"), "customer_seq").unwrap();
    assert_eq!(seq.table_type, TableType::Sequence);
}

#[test]
fn unqualified_names() {
    let vs = build(
        r#"{"keyspaces": {
            "a": {"tables": {"t": {}, "only_a": {}}},
            "b": {"tables": {"t": {}}}}}"#,
    );
    assert_eq!(
        vs.find_table(None, "t").unwrap_err().to_string(),
        "ambiguous table reference: t"
    );
    assert_eq!(vs.find_table(None, "only_a").unwrap().keyspace.name, "a");
    assert_eq!(
        vs.find_table(None, "nope").unwrap_err().to_string(),
        "table nope not found"
    );
    // Qualified names resolve; unsharded keyspaces accept unlisted tables.
    assert_eq!(vs.find_table(Some("b"), "t").unwrap().keyspace.name, "b");
    assert_eq!(
        vs.find_table(Some("b"), "unlisted").unwrap().name,
        "unlisted"
    );
    assert_eq!(
        vs.find_table(Some("zz"), "t").unwrap_err().to_string(),
        "VT05003: unknown database 'zz' in vschema"
    );
}

#[test]
fn single_unsharded_keyspace_accepts_any_table() {
    let vs = build(r#"{"keyspaces": {"commerce": {"tables": {"product": {}}}}}"#);
    let t = vs.find_table(None, "anything").unwrap();
    assert_eq!(
        (t.keyspace.name.as_str(), t.keyspace.sharded),
        ("commerce", false)
    );
    let sharded = build(
        r#"{"keyspaces": {"s": {"sharded": true, "vindexes": {"h": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}}}}"#,
    );
    assert!(sharded.find_table(None, "t").is_ok());
    assert_eq!(
        sharded.find_table(None, "u").unwrap_err().to_string(),
        "table u not found"
    );
    assert_eq!(
        sharded.find_table(Some("s"), "u").unwrap_err().to_string(),
        "table u not found"
    );
}

#[test]
fn require_explicit_routing_hides_tables() {
    let vs = build(
        r#"{"keyspaces": {
            "a": {"tables": {"t": {}}},
            "b": {"require_explicit_routing": true, "tables": {"t": {}, "u": {}}}}}"#,
    );
    assert_eq!(vs.find_table(None, "t").unwrap().keyspace.name, "a");
    assert_eq!(
        vs.find_table(None, "u").unwrap_err().to_string(),
        "table u not found"
    );
    assert_eq!(vs.find_table(Some("b"), "u").unwrap().keyspace.name, "b");
}

#[test]
fn routing_rules() {
    let vs = build(
        r#"{"keyspaces": {
              "commerce": {"tables": {"customer": {}}},
              "customer": {"tables": {"customer": {}}}},
            "routing_rules": {"rules": [
              {"from_table": "customer", "to_tables": ["commerce.customer"]},
              {"from_table": "customer.customer", "to_tables": ["commerce.customer"]},
              {"from_table": "customer@replica", "to_tables": ["customer.customer"]},
              {"from_table": "two", "to_tables": ["a.b", "c.d"]},
              {"from_table": "off", "to_tables": []},
              {"from_table": "unq", "to_tables": ["customer"]},
              {"from_table": "dup", "to_tables": ["commerce.customer"]},
              {"from_table": "dup", "to_tables": ["commerce.customer"]},
              {"from_table": "badks", "to_tables": ["noks.t"]}]}}"#,
    );
    let primary = vs.find_table(None, "customer").unwrap();
    assert_eq!(primary.keyspace.name, "commerce");
    let qualified = vs.find_table(Some("customer"), "customer").unwrap();
    assert_eq!(qualified.keyspace.name, "commerce");
    let replica = vs
        .find_routed_table(None, "customer", TabletType::Replica)
        .unwrap();
    assert_eq!(replica.keyspace.name, "customer");
    let err = |t: &str| vs.find_table(None, t).unwrap_err().to_string();
    assert_eq!(err("two"), "table two has more than one target: [a.b c.d]");
    assert_eq!(err("off"), "table off has been disabled");
    assert_eq!(
        err("unq"),
        "invalid table name: customer, it must be of the qualified form <keyspace_name>.<table_name> (dots are not allowed in either name)"
    );
    assert_eq!(err("dup"), "duplicate rule for entry dup");
    assert_eq!(err("badks"), "VT05003: unknown database 'noks' in vschema");
    // Bypassing the rules.
    assert_eq!(
        vs.find_table_direct(Some("customer"), "customer")
            .unwrap()
            .keyspace
            .name,
        "customer"
    );
}

#[test]
fn shard_and_keyspace_routing_rules() {
    let vs = build(
        r#"{"keyspaces": {"a": {}, "b": {}},
            "shard_routing_rules": {"rules": [{"from_keyspace": "a", "to_keyspace": "b", "shard": "-80"}]},
            "keyspace_routing_rules": {"rules": [{"from_keyspace": "a", "to_keyspace": "b"}]}}"#,
    );
    assert_eq!(vs.find_routed_shard("a", "-80"), "b");
    assert_eq!(vs.find_routed_shard("a", "80-"), "a");
    assert_eq!(vs.find_routed_keyspace("a"), "b");
    assert_eq!(vs.find_routed_keyspace("b"), "b");
}

#[test]
fn column_vindex_order_and_ownership() {
    let vs = build(
        r#"{"keyspaces": {"user": {"sharded": true,
            "vindexes": {"user_index": {"type": "hash"},
                         "name_user_map": {"type": "lookup", "owner": "user",
                                           "params": {"table": "name_user_vdx", "from": "name", "to": "keyspace_id"}},
                         "bin": {"type": "binary"}},
            "tables": {"user": {"column_vindexes": [
                {"column": "Id", "name": "user_index"},
                {"column": "name", "name": "name_user_map"},
                {"columns": ["a", "b"], "name": "bin"}]}}}}}"#,
    );
    let user = vs.find_table(Some("user"), "user").unwrap();
    let names: Vec<&str> = user
        .column_vindexes
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["user_index", "name_user_map", "bin"]);
    let ordered: Vec<&str> = user.ordered_vindexes().map(|c| c.name.as_str()).collect();
    assert_eq!(ordered, ["bin", "user_index", "name_user_map"]);
    let owned: Vec<&str> = user.owned_vindexes().map(|c| c.name.as_str()).collect();
    assert_eq!(owned, ["name_user_map"]);
    assert_eq!(user.column_vindexes[2].columns, vec!["a", "b"]);
    assert!(vs
        .find_vindex(None, "name_user_map")
        .unwrap()
        .unwrap()
        .needs_vcursor());
    assert!(vs.find_vindex(Some("user"), "nope").unwrap().is_none());
}

#[test]
fn multi_column_vindexes() {
    let vs = build(
        r#"{"keyspaces": {"ks": {"sharded": true,
            "vindexes": {"mc": {"type": "multicol", "params": {"column_count": "3"}},
                         "h": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"columns": ["a", "b", "c"], "name": "mc"},
                                                 {"column": "d", "name": "h"}]}}}}}"#,
    );
    let t = vs.find_table(Some("ks"), "t").unwrap();
    let entries: Vec<(Vec<String>, u32, bool)> = t
        .column_vindexes
        .iter()
        .map(|c| (c.columns.clone(), c.cost, c.partial))
        .collect();
    let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        entries,
        vec![
            (cols(&["a", "b", "c"]), 3, false),
            (cols(&["a", "b"]), 4, true),
            (cols(&["a"]), 5, true),
            (cols(&["d"]), 1, false),
        ]
    );
    let ordered: Vec<u32> = t.ordered_vindexes().map(|c| c.cost).collect();
    assert_eq!(ordered, [1, 3, 4, 5]);
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "vindexes": {"h": {"type": "hash"}, "mc": {"type": "multicol", "params": {"column_count": "2"}}},
                "tables": {"t": {"column_vindexes": [{"column": "a", "name": "h"}, {"columns": ["b", "c"], "name": "mc"}]}}}"#
        ),
        "multi-column vindex mc should be a primary vindex for table t"
    );
}

#[test]
fn validation_errors() {
    assert_eq!(
        ks_error(r#"{"sharded": true, "tables": {"t": {}}}"#),
        "missing primary col vindex for table: t"
    );
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "tables": {"t": {"column_vindexes": [{"column": "a", "name": "v"}]}}}"#
        ),
        "vindex v not found for table t"
    );
    assert_eq!(
        ks_error(r#"{"sharded": true, "vindexes": {"v": {"type": "nope"}}}"#),
        r#"vindexType "nope" not found"#
    );
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "vindexes": {"l": {"type": "lookup"}},
                "tables": {"t": {"column_vindexes": [{"column": "a", "name": "l"}]}}}"#
        ),
        "primary vindex l is not Unique for table t"
    );
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "vindexes": {"l": {"type": "lookup_unique", "owner": "t"}},
                "tables": {"t": {"column_vindexes": [{"column": "a", "name": "l"}]}}}"#
        ),
        "primary vindex l cannot be owned for table t"
    );
    assert_eq!(
        ks_error(r#"{"sharded": true, "tables": {"s": {"type": "sequence"}}}"#),
        "sequence table has to be in an unsharded keyspace or must be pinned: s"
    );
    assert_eq!(
        ks_error(r#"{"tables": {"t": {"type": "view"}}}"#),
        "unidentified table type view"
    );
    assert_eq!(
        ks_error(r#"{"tables": {"t": {"pinned": "zz"}}}"#),
        "could not decode the keyspace id for pin: encoding/hex: invalid byte: U+007A 'z'"
    );
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "vindexes": {"h": {"type": "hash"}},
                "tables": {"t": {"column_vindexes": [{"column": "a", "columns": ["b"], "name": "h"}]}}}"#
        ),
        "can't use column and columns at the same time in vindex (h) and table (t)"
    );
    assert_eq!(
        ks_error(
            r#"{"sharded": true, "vindexes": {"h": {"type": "hash"}},
                "tables": {"t": {"column_vindexes": [{"name": "h"}]}}}"#
        ),
        "must specify at least one column for vindex (h) and table (t)"
    );
    assert_eq!(
        ks_error(r#"{"tables": {"t": {"columns": [{"name": "a"}, {"name": "A"}]}}}"#),
        "duplicate column name 'A' for table: t"
    );
    let ok = model::Keyspace::from_json(r#"{"sharded": true, "tables": {"p": {"pinned": "80"}, "s": {"type": "sequence", "pinned": "00"}}}"#).unwrap();
    validate_keyspace("ks", &ok).unwrap();
}

#[test]
fn bad_keyspace_does_not_break_others() {
    let vs = build(
        r#"{"keyspaces": {"good": {"tables": {"t": {}}},
                          "bad": {"sharded": true, "tables": {"u": {}}}}}"#,
    );
    let errors: Vec<_> = vs
        .keyspace_errors()
        .map(|(k, e)| (k, e.to_string()))
        .collect();
    assert_eq!(
        errors,
        [("bad", "missing primary col vindex for table: u".to_string())]
    );
    assert_eq!(vs.find_table(None, "t").unwrap().keyspace.name, "good");
}

#[test]
fn unresolved_sequence_drops_the_table() {
    let vs = build(
        r#"{"keyspaces": {"a": {"tables": {"t": {"auto_increment": {"column": "id", "sequence": "nope.seq"}}}},
                          "b": {"tables": {"u": {}}}}}"#,
    );
    let (ks, err) = vs.keyspace_errors().next().unwrap();
    assert_eq!(ks, "a");
    assert_eq!(
        err.to_string(),
        "cannot resolve sequence nope.seq: VT05003: unknown database 'nope' in vschema"
    );
    assert!(!vs.keyspace("a").unwrap().tables.contains_key("t"));
    assert_eq!(
        vs.find_table(None, "t").unwrap_err().to_string(),
        "table t not found"
    );
}

#[test]
fn reference_tables() {
    let vs = build(
        r#"{"keyspaces": {
            "main": {"tables": {"ref": {}}},
            "user": {"sharded": true, "vindexes": {"h": {"type": "hash"}},
                     "tables": {"ref": {"type": "reference", "source": "main.ref"},
                                "r2": {"type": "reference"}}}}}"#,
    );
    assert_eq!(vs.keyspace_errors().count(), 0);
    // Unqualified `ref` is not ambiguous: it resolves to the source.
    let r = vs.find_table(None, "ref").unwrap();
    assert_eq!(r.keyspace.name, "main");
    assert_eq!(r.referenced_by.get("user").map(String::as_str), Some("ref"));
    let copy = vs.find_table(Some("user"), "ref").unwrap();
    assert_eq!(copy.source.as_ref().unwrap().to_string(), "main.ref");
    assert_eq!(
        vs.find_table(None, "r2").unwrap().table_type,
        TableType::Reference
    );

    let bad = |json: &str| {
        let vs = build(json);
        let errors: Vec<String> = vs.keyspace_errors().map(|(_, e)| e.to_string()).collect();
        errors.join("; ")
    };
    assert_eq!(
        bad(r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "a.x"}}}}}"#),
        r#"source "a.x" may not reference a table in the same keyspace as table: r"#
    );
    assert_eq!(
        bad(r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "z.x"}}}}}"#),
        r#"source "z.x" references a non-existent keyspace "z""#
    );
    assert_eq!(
        bad(
            r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "b.x"}}},
                              "b": {"tables": {}}}}"#
        ),
        r#"source "b.x" references a table "x" that is not present in the VSchema of keyspace "b""#
    );
    assert_eq!(
        bad(
            r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "b.s"}}},
                              "b": {"tables": {"s": {"type": "sequence"}}}}}"#
        ),
        r#"source "b.s" may not reference a table of type "sequence": r"#
    );
    assert_eq!(
        bad(
            r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "b.x"},
                                                 "q": {"type": "reference", "source": "b.x"}}},
                              "b": {"tables": {"x": {}}}}}"#
        ),
        r#"source "b.x" may not be referenced more than once per keyspace: q, r"#
    );
    assert_eq!(
        bad(r#"{"keyspaces": {"a": {"tables": {"r": {"type": "reference", "source": "b.x.y"}}}}}"#),
        r#"invalid source "b.x.y" for reference table: r; invalid table name: b.x.y, it must be of the unqualified form <table_name> or the qualified form <keyspace_name>.<table_name> (dots are not allowed in either name)"#
    );
}

#[test]
fn builds_the_planner_test_vschema() {
    let path = std::path::Path::new("/work/shared/vitess-data/planbuilder/vschemas/schema.json");
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path:?} not present");
        return;
    };
    // Vitess's planner tests register these test-only vindex types.
    let mut registry = Registry::builtin();
    registry.register("hash_test", |n, p| {
        crate::vindexes::create_vindex("hash", n, p)
    });
    registry.register("lookup_cost", |n, p| {
        crate::vindexes::create_vindex("lookup", n, p)
    });
    registry.register("multicol", |n, _| {
        crate::vindexes::create_vindex("hash", n, &Default::default())
    });
    let vs = VSchema::build_with(&SrvVSchema::from_json(&text).unwrap(), &registry);
    let errors: Vec<_> = vs
        .keyspace_errors()
        .map(|(k, e)| format!("{k}: {e}"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let user = vs.find_table(Some("user"), "user").unwrap();
    assert_eq!(user.primary_vindex().unwrap().name, "user_index");
    assert_eq!(vs.find_table(None, "route1").unwrap().name, "user");
    assert_eq!(
        vs.find_table(None, "disabled").unwrap_err().to_string(),
        "table disabled has been disabled"
    );
    assert_eq!(
        vs.find_table(Some("main"), "unsharded")
            .unwrap()
            .keyspace
            .name,
        "main"
    );
}
