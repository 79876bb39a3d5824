//! mysql-server benches (issue 2): packet decode and encode, and whole
//! 100-row results written by `ResultWriter` in the text protocol
//! (COM_QUERY) and the binary protocol (COM_STMT_EXECUTE), driven through
//! `serve_connection` over an in-memory pipe by a minimal client.

use std::sync::Arc;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mysql_server::packet::{decode_packet, PacketWriter};
use vt_benches::fixed::{FixedFactory, FixedResult};
use vt_benches::wire::RawClient;

const PACKETS: usize = 1_000;

fn packets(c: &mut Criterion) {
    let payload = vec![0x5au8; 200];
    let mut w = PacketWriter::default();
    for _ in 0..PACKETS {
        w.packet(&payload);
    }
    let framed = w.take();
    let mut g = c.benchmark_group("packets_1000x200B");
    g.throughput(Throughput::Elements(PACKETS as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&framed[..]);
            let mut seq = 0u8;
            let mut n = 0;
            while decode_packet(&mut buf, &mut seq, 1 << 24)
                .unwrap()
                .is_some()
            {
                n += 1;
            }
            assert_eq!(n, PACKETS);
        })
    });
    g.bench_function("encode", |b| {
        let mut w = PacketWriter::default();
        b.iter(|| {
            w.set_seq(0);
            for _ in 0..PACKETS {
                w.packet(&payload);
            }
            w.take()
        })
    });
    g.finish();
}

fn results(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let factory = Arc::new(FixedFactory(Arc::new(FixedResult::sbtest(100))));
    let mut client = rt.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(mysql_server::serve_connection(
            Box::new(server),
            "127.0.0.1:1".parse().unwrap(),
            Arc::new(mysql_server::ServerConfig::default()),
            factory,
        ));
        RawClient::connect(client, "bench").await.unwrap()
    });
    let stmt = rt
        .block_on(client.prepare("select * from sbtest1"))
        .unwrap();
    let mut g = c.benchmark_group("result_100_rows");
    g.throughput(Throughput::Elements(100));
    g.bench_function("text_com_query", |b| {
        b.iter(|| {
            let r = rt.block_on(client.query("select * from sbtest1")).unwrap();
            assert_eq!(r.rows, 100);
        })
    });
    g.bench_function("binary_com_stmt_execute", |b| {
        b.iter(|| {
            let r = rt.block_on(client.execute(stmt)).unwrap();
            assert_eq!(r.rows, 100);
        })
    });
    g.finish();
}

criterion_group!(benches, packets, results);
criterion_main!(benches);
