//! Vindex benches (issue 4): `hash` (DES) and `xxhash` mapping 1,000
//! integer ids to keyspace ids.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vschema::vindexes::Params;
use vschema::{create_vindex, Value};

fn map(c: &mut Criterion) {
    let ids: Vec<Value> = (0..1_000).map(|i| Value::Int(i * 7919)).collect();
    let mut g = c.benchmark_group("vindex_map_1000_ids");
    g.throughput(Throughput::Elements(ids.len() as u64));
    for kind in ["hash", "xxhash"] {
        let vindex = create_vindex(kind, kind, &Params::new()).unwrap();
        g.bench_function(kind, |b| b.iter(|| vindex.map(&ids).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, map);
criterion_main!(benches);
