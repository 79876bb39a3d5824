//! Engine benches (issue 4, Speed): the streaming merge of two sorted shard
//! results (rows/s), and parse + plan of point selects on the example
//! VSchemas (unsharded `commerce`, `customer` sharded by xxhash).
//!
//! The `plan_cache` group measures what vtgate does on a cache hit: take the
//! statement's literals out (`vtgate::normalize`) and look the plan up in
//! vtgate's plan cache.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use engine::merge_sort::{merge_sorted, OrderByParam};
use proto::query::{Field, QueryResult, Row, Type};

/// `rows` rows `(id BIGINT, name VARCHAR)`, ids `start, start+2, ...`.
fn shard_result(start: i64, rows: usize) -> QueryResult {
    let fields = vec![
        Field {
            name: "id".into(),
            r#type: Type::Int64 as i32,
            charset: 63,
            ..Default::default()
        },
        Field {
            name: "name".into(),
            r#type: Type::Varchar as i32,
            charset: 45,
            ..Default::default()
        },
    ];
    let rows = (0..rows as i64)
        .map(|i| {
            let id = (start + 2 * i).to_string();
            let name = format!("customer-{i:06}");
            Row::from_values([Some(id.as_bytes()), Some(name.as_bytes())])
        })
        .collect();
    QueryResult {
        fields,
        rows,
        ..Default::default()
    }
}

fn merge(c: &mut Criterion) {
    const PER_SHARD: usize = 10_000;
    let inputs = vec![shard_result(0, PER_SHARD), shard_result(1, PER_SHARD)];
    let by_id = [OrderByParam {
        col: 0,
        desc: false,
    }];
    let by_name = [OrderByParam { col: 1, desc: true }];
    let mut g = c.benchmark_group("merge_two_sorted_streams");
    g.throughput(Throughput::Elements(2 * PER_SHARD as u64));
    g.bench_function("bigint_asc", |b| {
        b.iter_batched(
            || inputs.clone(),
            |r| assert_eq!(merge_sorted(r, &by_id).unwrap().rows.len(), 2 * PER_SHARD),
            BatchSize::LargeInput,
        )
    });
    let mut by_name_inputs = inputs.clone();
    for r in &mut by_name_inputs {
        r.rows.reverse();
    }
    g.bench_function("varchar_desc", |b| {
        b.iter_batched(
            || by_name_inputs.clone(),
            |r| assert_eq!(merge_sorted(r, &by_name).unwrap().rows.len(), 2 * PER_SHARD),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn example_vschema() -> vschema::VSchema {
    let text = format!(
        r#"{{"keyspaces": {{"commerce": {}, "customer": {}}}}}"#,
        include_str!("../../config/vschema_commerce_seq.json"),
        include_str!("../../config/vschema_customer_sharded.json"),
    );
    let srv = vschema::model::SrvVSchema::from_json(&text).unwrap();
    let v = vschema::VSchema::build(&srv);
    assert_eq!(v.keyspace_errors().count(), 0);
    v
}

fn plan(c: &mut Criterion) {
    let vschema = example_vschema();
    let cases = [
        (
            "parse_plan_sharded_point_select",
            "select customer_id, email from customer where customer_id = 5",
            None,
        ),
        (
            "parse_plan_unsharded_point_select",
            "select sku, price from product where sku = 'SKU-1001'",
            Some("commerce"),
        ),
    ];
    let mut g = c.benchmark_group("plan");
    for (name, query, keyspace) in cases {
        g.bench_function(name, |b| {
            b.iter(|| {
                let stmt = sql::parse::parse(query).unwrap();
                engine::planner::plan(&stmt, &vschema, keyspace).unwrap()
            })
        });
    }
    let stmt = sql::parse::parse(cases[0].1).unwrap();
    g.bench_function("plan_only_sharded_point_select", |b| {
        b.iter(|| engine::planner::plan(&stmt, &vschema, None).unwrap())
    });
    g.bench_function("parse_only_point_select", |b| {
        b.iter(|| sql::parse::parse(cases[0].1).unwrap())
    });
    g.finish();
}

fn plan_cache(c: &mut Criterion) {
    use std::sync::Arc;
    use vtgate::normalize::normalize;
    use vtgate::plan_cache::{PlanCache, PlanKey};

    let vschema = example_vschema();
    let cache = PlanCache::default();
    let key = |sql: String| PlanKey {
        sql,
        keyspace: String::new(),
        tablet_type: proto::topodata::TabletType::Primary as i32,
    };
    let query = "select customer_id, email from customer where customer_id = 5";
    let normalized = normalize(query).unwrap();
    let stmt = sql::parse::parse(&normalized.sql).unwrap();
    let plan = Arc::new(engine::planner::plan(&stmt, &vschema, None).unwrap());
    cache.insert(key(normalized.sql), plan);
    // A full cache, so the lookup runs against a realistic table.
    for i in 0..4999 {
        let other = Arc::new(engine::planner::plan(&stmt, &vschema, None).unwrap());
        cache.insert(
            key(format!(
                "select {i} from customer where customer_id = :vtg1"
            )),
            other,
        );
    }
    let mut g = c.benchmark_group("plan_cache");
    g.bench_function("normalize_point_select", |b| {
        b.iter(|| normalize(query).unwrap())
    });
    g.bench_function("hit_point_select", |b| {
        b.iter(|| {
            let n = normalize(query).unwrap();
            let plan = cache.get(&key(n.sql)).unwrap();
            (plan, n.vars)
        })
    });
    g.finish();
}

criterion_group!(benches, merge, plan, plan_cache);
criterion_main!(benches);
