//! Plans made for bind variables, as vtgate's plan cache makes them (`:vtgN` in place of
//! the literals compared in WHERE): each statement is planned once and run with values of
//! several types and spellings in turn; every run must give the rows MariaDB gives for the
//! statement with that value written in, or an honest VT12001.

use sql::literal::{BindValue, BindVars};

use super::{cells, crate_rows, run, sorted, Cluster};

/// Values compared with the `hash` vindex column `user.id` (a signed BIGINT).
fn ids() -> Vec<BindValue> {
    let s = |v: &str| BindValue::VarChar(v.as_bytes().to_vec());
    vec![
        BindValue::Int64(7),
        s("7"),
        s(" 7"),
        s("7 "),
        s("07"),
        s("7.0"),
        s("+7"),
        s("7abc"),
        s("abc"),
        s(""),
        BindValue::Decimal("7.00".into()),
        BindValue::Decimal("7.5".into()),
        BindValue::Float64("7e0".into()),
        BindValue::Int64(-5),
        s("-5"),
        BindValue::Uint64(u64::MAX),
        s("18446744073709551615"),
        BindValue::Null,
        BindValue::HexNum("7".into()),
        BindValue::Int64(12),
    ]
}

/// Values compared with text (`user.name`, `utf8mb4_general_ci`) and with `user.col` (INT).
fn texts() -> Vec<BindValue> {
    let s = |v: &str| BindValue::VarChar(v.as_bytes().to_vec());
    vec![
        s("alice"),
        s("ALICE "),
        s("bob"),
        s("eve\t"),
        s("Eve"),
        s("0"),
        s("1"),
        s(" 1"),
        s("1.0"),
        BindValue::Int64(1),
        BindValue::Int64(0),
        BindValue::Int64(-1),
        BindValue::Decimal("1.0".into()),
        BindValue::Null,
    ]
}

const ID_SHAPES: &[&str] = &[
    "select id, name, col from user where id = :v",
    "select id from user where id in (:v, 5)",
    "select id from user where id in (:v)",
    "select id from user where id = :v or id = 5",
    "select id from user where id <=> :v",
    "select id from user where id between :v and 12",
    "select count(*), sum(col) from user where id = :v",
    "select u.id, e.k, e.v from user u join extra e on u.id = e.user_id where u.id = :v",
    "select u.id, e.k from user u join extra e on e.user_id = u.id where e.user_id = :v",
    "select u.id from user u where u.id = :v and exists \
     (select 1 from extra e where e.user_id = u.id)",
    "select u.id from user u where exists \
     (select 1 from extra e where e.user_id = u.id and e.user_id = :v)",
    "select * from (select id, name from user where id = :v) d",
    "select id from user where id = :v union select id from user where id = 3",
    "select id from user where id = col and col = :v",
];

/// Joins pinned to one shard by `:v` on the hash vindex: each must plan as one route (which
/// runs a NULL value on any one shard, and refuses a value hash cannot map), with reference
/// tables and aggregates that need an answer when no sharded row matches.
const MERGED_SHAPES: &[&str] = &[
    "select u.id, e.k, e.v from user u join extra e on e.k >= 0 \
     where u.id = :v and e.user_id = :v",
    "select count(*), max(e.v) from user u join extra e on e.k >= 0 \
     where u.id = :v and e.user_id = :v",
    "select r.id, r.label, u.name from ref r left join user u on u.id = :v",
    "select r.label, count(u.id) from ref r left join user u on u.id = :v group by r.label",
    "select count(*) from ref r join user u on u.id = :v",
    "select t.n, e.k from (select count(*) as n from user where id = :v) t \
     left join extra e on e.user_id = :v",
    "select t.id, e.k from (select id from user where id = :v) t join extra e on t.id = e.user_id",
    "select r.id, u.col, e.k from ref r left join user u on u.id = :v \
     left join extra e on e.user_id = :v",
];

const TEXT_SHAPES: &[&str] = &[
    "select id from user where name = :v",
    "select id from user where col = :v",
    "select name, count(*) from user where name = :v group by name",
    "select col, count(*) from user where col = :v group by col",
    "select * from (select name, count(*) as c from user group by name) d where d.name = :v",
    "select * from (select col, count(*) as c from user group by col) d where d.col = :v",
    "select * from (select col, count(*) as c from user group by col) d where d.c > :v",
    "select /*vt+ ALLOW_HASH_JOIN */ u.id, e.k from user u join extra e on u.col = e.k \
     where e.v = :v",
    "select /*vt+ ALLOW_HASH_JOIN */ u.id, e.k from user u join extra e on u.col = e.k \
     where u.col = :v",
    "select u.id, t.c from user u join (select name, count(*) as c from user group by name) t \
     on t.name = u.name where u.id < 40 and t.name = :v",
];

/// Each shape planned once with `:v`, run with each value: the failures, and how many runs
/// gave MariaDB's rows.
pub async fn compare_binds(cluster: &Cluster, vschema: &vschema::VSchema) -> (Vec<String>, usize) {
    let (mut failures, mut same) = (Vec::new(), 0);
    let primary = proto::topodata::TabletType::Primary;
    let runs = ID_SHAPES
        .iter()
        .chain(MERGED_SHAPES)
        .map(|s| (*s, ids()))
        .chain(TEXT_SHAPES.iter().map(|s| (*s, texts())));
    for (shape, values) in runs {
        let stmt = sql::parse::parse(shape).unwrap();
        let options = engine::planner::PlanOptions::from_sql(shape);
        let plan = match engine::planner::plan_with(&stmt, vschema, None, primary, options) {
            Ok(p) if MERGED_SHAPES.contains(&shape) && !one_equal_unique_route(&p) => {
                failures.push(format!("{shape}: not one EqualUnique route"));
                continue;
            }
            Ok(p) => p,
            Err(engine::EngineError::Unsupported(_)) => continue,
            Err(e) => {
                failures.push(format!("{shape}: {e}"));
                continue;
            }
        };
        for value in values {
            let vars = BindVars::from_iter([("v".to_string(), value.clone())]);
            let literal = engine::bind::substitute(shape, &vars).unwrap();
            let want = run(&mut *cluster.plain.lock().await, &literal).await;
            let got = plan.execute(cluster, &vars).await;
            match (want, got) {
                (Ok(want), Ok(got)) => {
                    if same_rows(shape, &cells(&got), &cells(&want)) {
                        same += 1;
                    } else {
                        failures.push(format!(
                            "{shape} with {value:?} ({literal}): rows differ\n got {:?}\nwant {:?}",
                            crate_rows(&got),
                            crate_rows(&want)
                        ));
                    }
                }
                (Ok(_), Err(engine::EngineError::Unsupported(_))) | (Err(_), Err(_)) => {}
                (Ok(_), Err(e)) => failures.push(format!("{shape} with {value:?}: {e}")),
                (Err(e), Ok(_)) => failures.push(format!(
                    "{shape} with {value:?}: MariaDB fails ({e}), engine answers"
                )),
            }
        }
    }
    (failures, same)
}

/// The same rows, but for the letter case of a `_ci` group's representative under GROUP BY
/// (MariaDB shows whichever spelling it read first).
fn same_rows(shape: &str, got: &[Vec<Option<Vec<u8>>>], want: &[Vec<Option<Vec<u8>>>]) -> bool {
    let lower = |rows: &[Vec<Option<Vec<u8>>>]| {
        let rows = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| c.as_ref().map(|v| v.to_ascii_lowercase()))
                    .collect()
            })
            .collect();
        sorted(rows, false)
    };
    sorted(got.to_vec(), false) == sorted(want.to_vec(), false)
        || (shape.contains("group by") && lower(got) == lower(want))
}

fn one_equal_unique_route(plan: &engine::Plan) -> bool {
    let d = plan.description().to_json();
    d["OperatorType"] == "Route" && d["Variant"] == "EqualUnique"
}
