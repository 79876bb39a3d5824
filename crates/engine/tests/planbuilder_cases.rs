//! Runs Vitess's planner test cases (`planbuilder/testdata/*_cases.json`,
//! copied to `../shared/vitess-data/planbuilder`) through our planner with
//! their `vschemas/schema.json`, and counts how many agree with Vitess:
//! a plan whose top route (the first node with a keyspace) has Vitess's
//! Variant, Keyspace and Vindex, or an error case failing with Vitess's
//! exact error text. Skipped when the shared data is absent.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde_json::Value as Json;
use vschema::vindexes::Params;
use vschema::{Vindex, VindexError};

/// Files counted, and the least number of matches each must keep.
const FILES: &[(&str, usize)] = &[
    ("select", 171),
    ("filter", 130),
    ("aggr", 166),
    ("memory_sort", 16),
    ("postprocess", 65),
    ("dml", 213),
    ("reference", 34),
    ("from", 129),
    ("union", 44),
    ("vindex_func", 14),
    ("cte", 60),
];

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vitess-data/planbuilder");
    dir.join("vschemas/schema.json").exists().then_some(dir)
}

/// The first node (depth first) naming a keyspace, or a `VindexFunc`
/// (which has none).
fn top_route(node: &Json) -> Option<&Json> {
    if node.get("Keyspace").is_some() || node["OperatorType"] == "VindexFunc" {
        return Some(node);
    }
    node.get("Inputs")?.as_array()?.iter().find_map(top_route)
}

/// With `PLAN_CASES_VERBOSE` set, prints each case that does not match.
fn verbose(query: &str, what: &str) {
    if std::env::var_os("PLAN_CASES_VERBOSE").is_some() {
        println!("  {query}\n    -> {what}");
    }
}

#[derive(Default, Debug)]
struct Tally {
    plans: usize,
    plans_matched: usize,
    errors: usize,
    errors_matched: usize,
    refused: usize,
}

fn run_case(vschema: &vschema::VSchema, query: &str, expected: &Json, t: &mut Tally) {
    let ours = sql::parse::parse(query)
        .map_err(|e| e.message())
        .and_then(|stmt| engine::planner::plan(&stmt, vschema, None).map_err(|e| e.to_string()));
    match expected {
        Json::String(want) => {
            t.errors += 1;
            if ours.as_ref().err() == Some(want) {
                t.errors_matched += 1;
            } else {
                verbose(
                    query,
                    &format!("want error {want}, got {:?}", ours.as_ref().err()),
                );
            }
        }
        Json::Object(_) => {
            t.plans += 1;
            let Some(want) = expected.get("Instructions").and_then(top_route) else {
                return;
            };
            match ours {
                Ok(plan) => {
                    let d = plan.description().to_json();
                    let Some(got) = top_route(&d) else { return };
                    let same = |k: &str| want.get(k).is_none() || want.get(k) == got.get(k);
                    let same_ks = want["Keyspace"]["Name"] == got["Keyspace"]["Name"];
                    let same_op = want["OperatorType"] != "VindexFunc" || same("OperatorType");
                    if same_op && same("Variant") && same_ks && same("Vindex") {
                        t.plans_matched += 1;
                    } else {
                        verbose(query, &format!("got {got}, want {want}"));
                    }
                }
                Err(e) => {
                    t.refused += 1;
                    verbose(query, &e);
                }
            }
        }
        _ => {}
    }
}

/// Vitess's planner tests register test-only vindex types; these stand-ins
/// have the same uniqueness and kind (functional or lookup).
fn test_registry() -> vschema::Registry {
    fn hash_test(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
        vschema::create_vindex("hash", name, params)
    }
    fn lookup_cost(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
        vschema::create_vindex("lookup", name, params)
    }
    let mut r = vschema::Registry::builtin();
    r.register("hash_test", hash_test);
    r.register("lookup_cost", lookup_cost);
    r
}

#[test]
fn vitess_planner_cases() {
    // Debug builds of the parser and AST visitors use deep stacks.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_all)
        .unwrap()
        .join()
        .unwrap();
}

fn run_all() {
    let Some(dir) = data_dir() else {
        eprintln!("shared planbuilder data not found: skipped");
        return;
    };
    let text = std::fs::read_to_string(dir.join("vschemas/schema.json")).unwrap();
    let mut srv = vschema::model::SrvVSchema::from_json(&text).unwrap();
    // The primary keys Vitess's planner test adds (`addPKs`, `addPKsProvided`), as its
    // schema tracking would.
    for (ks, table, pk) in [
        ("user", "user", &["id"][..]),
        ("user", "music", &["id"]),
        ("user", "user_extra", &["id", "user_id"]),
        ("ordering", "order", &["oid", "region_id"]),
        ("ordering", "order_event", &["oid", "ename"]),
    ] {
        let t = srv
            .keyspaces
            .get_mut(ks)
            .and_then(|k| k.tables.get_mut(table))
            .unwrap();
        t.primary_key = pk.iter().map(|c| c.to_string()).collect();
    }
    let vschema = vschema::VSchema::build_with(&srv, &test_registry());
    assert_eq!(
        vschema.keyspace_errors().count(),
        0,
        "{:?}",
        vschema.keyspace_errors().collect::<Vec<_>>()
    );
    let mut total = Tally::default();
    let mut below_floor = Vec::new();
    for (file, floor) in FILES {
        let cases: Json = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{file}_cases.json"))).unwrap(),
        )
        .unwrap();
        let mut t = Tally::default();
        for case in cases.as_array().unwrap() {
            run_case(
                &vschema,
                case["query"].as_str().unwrap(),
                &case["plan"],
                &mut t,
            );
        }
        println!(
            "{file:12} plans {:3}/{:3} matched ({} refused), errors {:2}/{:2} matched",
            t.plans_matched, t.plans, t.refused, t.errors_matched, t.errors
        );
        if t.plans_matched + t.errors_matched < *floor {
            below_floor.push(format!(
                "{file}: {} < {floor}",
                t.plans_matched + t.errors_matched
            ));
        }
        total.plans += t.plans;
        total.plans_matched += t.plans_matched;
        total.errors += t.errors;
        total.errors_matched += t.errors_matched;
        total.refused += t.refused;
    }
    println!(
        "TOTAL        plans {}/{} matched ({} refused), errors {}/{} matched",
        total.plans_matched, total.plans, total.refused, total.errors_matched, total.errors
    );
    assert!(
        below_floor.is_empty(),
        "fewer matches than before: {below_floor:?}"
    );
}
