//! Tests of VSchema JSON parsing and protobuf conversion.

use super::*;
use std::path::{Path, PathBuf};

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn is_vschema_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("vschema"))
}

#[test]
fn parses_repository_config_vschemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let files: Vec<_> = json_files(&dir)
        .into_iter()
        .filter(|p| is_vschema_file(p))
        .collect();
    assert!(files.len() >= 3, "expected the example vschemas in {dir:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let ks = Keyspace::from_json(&text).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        assert!(!ks.tables.is_empty(), "{f:?}");
        let back = Keyspace::decode_proto(&ks.encode_proto()).unwrap();
        assert_eq!(back, ks, "{f:?}");
        assert_eq!(Keyspace::from_json(&ks.to_json()).unwrap(), ks, "{f:?}");
    }
}

#[test]
fn parses_vitess_example_and_planner_vschemas() {
    let shared = Path::new("/work/shared/vitess-data");
    if !shared.exists() {
        eprintln!("skipping: {shared:?} not present");
        return;
    }
    let examples: Vec<_> = json_files(&shared.join("examples"))
        .into_iter()
        .filter(|p| is_vschema_file(p))
        .collect();
    assert!(examples.len() >= 8);
    for f in examples {
        let text = std::fs::read_to_string(&f).unwrap();
        Keyspace::from_json(&text).unwrap_or_else(|e| panic!("{f:?}: {e}"));
    }
    let srv = json_files(&shared.join("planbuilder/vschemas"));
    assert!(srv.len() >= 5);
    for f in srv {
        let text = std::fs::read_to_string(&f).unwrap();
        let v = SrvVSchema::from_json(&text).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        assert!(!v.keyspaces.is_empty(), "{f:?}");
        assert_eq!(SrvVSchema::decode_proto(&v.encode_proto()).unwrap(), v);
    }
}

#[test]
fn sharded_example_fields() {
    let ks = Keyspace::from_json(
        r#"{"sharded": true,
            "vindexes": {"xxhash": {"type": "xxhash"}},
            "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "xxhash"}],
                                    "auto_increment": {"column": "customer_id", "sequence": "customer_seq"}}}}"#,
    )
    .unwrap();
    assert!(ks.sharded);
    assert_eq!(ks.vindexes["xxhash"].vindex_type, "xxhash");
    let t = &ks.tables["customer"];
    assert_eq!(t.column_vindexes[0].column, "customer_id");
    assert_eq!(t.column_vindexes[0].name, "xxhash");
    let ai = t.auto_increment.as_ref().unwrap();
    assert_eq!(
        (ai.column.as_str(), ai.sequence.as_str()),
        ("customer_id", "customer_seq")
    );
}

#[test]
fn accepts_camel_case_nulls_and_enum_numbers() {
    let ks = Keyspace::from_json(
        r#"{"sharded": null, "requireExplicitRouting": true, "foreignKeyMode": 3,
            "vindexes": null,
            "tables": {"t": {"columnVindexes": [{"columns": ["a", "b"], "name": "v"}],
                             "autoIncrement": {"column": "id", "sequence": "ks.seq"},
                             "columnListAuthoritative": true,
                             "columns": [{"name": "a", "type": "VARCHAR", "collationName": "utf8mb4_bin",
                                          "size": "10", "nullable": false},
                                         {"name": "b", "type": 265}]},
                       "r": {"type": "reference", "source": "main.r"}},
            "some_future_field": {"x": 1}}"#,
    )
    .unwrap();
    assert!(!ks.sharded);
    assert!(ks.require_explicit_routing);
    assert_eq!(ks.foreign_key_mode, ForeignKeyMode::Managed);
    let t = &ks.tables["t"];
    assert_eq!(t.column_vindexes[0].columns, vec!["a", "b"]);
    assert!(t.column_list_authoritative);
    assert_eq!(t.columns[0].column_type.name(), Some("VARCHAR"));
    assert_eq!(t.columns[0].size, 10);
    assert_eq!(t.columns[0].nullable, Some(false));
    assert_eq!(t.columns[0].collation_name, "utf8mb4_bin");
    assert_eq!(t.columns[1].column_type.name(), Some("INT64"));
    assert_eq!(ks.tables["r"].source, "main.r");

    let fk = Keyspace::from_json(r#"{"foreign_key_mode": "unmanaged"}"#).unwrap();
    assert_eq!(fk.foreign_key_mode, ForeignKeyMode::Unmanaged);
}

#[test]
fn rejects_malformed_json() {
    assert!(Keyspace::from_json(r#"{"sharded": "yes"}"#).is_err());
    assert!(Keyspace::from_json(r#"{"foreign_key_mode": "sometimes"}"#).is_err());
    assert!(
        Keyspace::from_json(r#"{"vindexes": {"v": {"type": "hash", "params": {"a": 1}}}}"#)
            .is_err()
    );
    assert!(Keyspace::from_json(
        r#"{"tables": {"t": {"columns": [{"name": "a", "type": "NOPE"}]}}}"#
    )
    .is_err());
    assert!(Keyspace::from_json(r#"{"tables": []}"#).is_err());
    assert!(Keyspace::from_json("{").is_err());
}

#[test]
fn output_is_snake_case_without_defaults() {
    let ks = Keyspace::from_json(
        r#"{"sharded": true, "foreignKeyMode": "managed",
            "tables": {"t": {"columnVindexes": [{"column": "id", "name": "hash"}]}},
            "vindexes": {"hash": {"type": "hash"}}}"#,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ks.to_json()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"sharded": true, "foreign_key_mode": "managed",
            "vindexes": {"hash": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}})
    );
}

#[test]
fn proto_round_trip_keeps_every_field() {
    let ks = Keyspace::from_json(
        r#"{"sharded": true, "require_explicit_routing": true, "foreign_key_mode": "disallow",
            "multi_tenant_spec": {"tenant_id_column_name": "tid", "tenant_id_column_type": "INT64"},
            "vindexes": {"l": {"type": "lookup", "params": {"table": "lk", "from": "a", "to": "keyspace_id"}, "owner": "t"}},
            "tables": {"t": {"type": "", "column_vindexes": [{"column": "a", "name": "l"}],
                             "auto_increment": {"column": "id", "sequence": "seq"},
                             "columns": [{"name": "a", "type": "INT32", "invisible": true, "default": "1",
                                          "collation_name": "c", "size": 4, "scale": 2, "nullable": true,
                                          "values": ["x"]}],
                             "pinned": "80", "column_list_authoritative": true, "source": "s.t"}}}"#,
    )
    .unwrap();
    let bytes = ks.encode_proto();
    let decoded = proto::vschema::Keyspace::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded.foreign_key_mode, 1);
    assert_eq!(
        decoded.tables["t"].columns[0].r#type,
        proto::query::Type::Int32 as i32
    );
    assert_eq!(Keyspace::decode_proto(&bytes).unwrap(), ks);

    let srv = SrvVSchema::from_json(
        r#"{"keyspaces": {"ks": {"sharded": false}},
            "routing_rules": {"rules": [{"from_table": "t@replica", "to_tables": ["ks.t"]}]},
            "shardRoutingRules": {"rules": [{"fromKeyspace": "a", "toKeyspace": "b", "shard": "-80"}]},
            "keyspace_routing_rules": {"rules": [{"from_keyspace": "a", "to_keyspace": "b"}]},
            "mirror_rules": {"rules": [{"from_table": "a.t", "to_table": "b.t", "percent": 50}]}}"#,
    )
    .unwrap();
    assert_eq!(SrvVSchema::decode_proto(&srv.encode_proto()).unwrap(), srv);
    let rr = srv.routing_rules.clone().unwrap();
    assert_eq!(RoutingRules::decode_proto(&rr.encode_proto()).unwrap(), rr);
    assert!(Keyspace::decode_proto(&[0xff, 0xff]).is_err());
}

use prost::Message;
