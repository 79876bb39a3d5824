//! MoveTables from an unsharded keyspace into a sharded one: one stream
//! per target shard, each keeping only the rows whose primary vindex maps
//! into its key range (`in_keyrange` filters), while the source keeps
//! writing during the copy. After the switch and `complete`, the two target
//! shards are disjoint, both hold rows, and together hold exactly the source rows.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use mysql_async::prelude::Queryable;
use topo::testutil::EtcdProcess;
use topo::TopoServer;

const VSCHEMA: &str = r#"{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
  "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}"#;

async fn customers(server: &Server, db: &str) -> BTreeMap<i64, String> {
    let mut conn = server.conn(db).await;
    let rows: Vec<(i64, String)> = conn
        .query("SELECT customer_id, email FROM customer")
        .await
        .unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn movetables_into_a_sharded_keyspace_splits_rows_by_key_range() {
    let root = temp_root("mts");
    let etcd = EtcdProcess::start().expect("etcd");
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    let (source_db, low_db, high_db) = tokio::join!(
        Server::start(root.path(), 421),
        Server::start(root.path(), 422),
        Server::start(root.path(), 423)
    );
    let commerce = tablet(&ts, &etcd, 101, "commerce", &source_db, free_port()).await;
    let low = shard_tablet(&ts, &etcd, 201, "customer", "-80", &low_db, free_port()).await;
    let high = shard_tablet(&ts, &etcd, 301, "customer", "80-", &high_db, free_port()).await;
    for (shard, alias) in [
        ("commerce/0", "zone1-0000000101"),
        ("customer/-80", "zone1-0000000201"),
        ("customer/80-", "zone1-0000000301"),
    ] {
        vtctl_ok(&etcd, &["InitShardPrimary", "--force", shard, alias]).await;
    }
    let config = |name: &str| format!("{}/../../config/{name}", env!("CARGO_MANIFEST_DIR"));
    vtctl_ok(
        &etcd,
        &[
            "ApplySchema",
            "--sql-file",
            &config("create_commerce_schema.sql"),
            "commerce",
        ],
    )
    .await;
    vtctl_ok(
        &etcd,
        &[
            "ApplyVSchema",
            "--vschema-file",
            &config("vschema_commerce_initial.json"),
            "commerce",
        ],
    )
    .await;
    vtctl_ok(&etcd, &["ApplyVSchema", "--vschema", VSCHEMA, "customer"]).await;
    let mut src = source_db.conn("vt_commerce").await;
    let values: Vec<String> = (1..=2000).map(|i| format!("({i}, 'c{i}')")).collect();
    src.query_drop(format!("INSERT INTO customer VALUES {}", values.join(",")))
        .await
        .unwrap();

    let writing = Arc::new(AtomicBool::new(true));
    let flag = writing.clone();
    let mut writer = source_db.conn("vt_commerce").await;
    let writes = tokio::spawn(async move {
        let mut n = 0;
        while flag.load(Ordering::Relaxed) {
            n += 1;
            writer
                .query_drop(format!("INSERT INTO customer VALUES ({}, 'new')", 2000 + n))
                .await
                .unwrap();
            writer
                .query_drop(format!(
                    "UPDATE customer SET email = 'u{n}' WHERE customer_id = {}",
                    n * 13 % 2000 + 1
                ))
                .await
                .unwrap();
            writer
                .query_drop(format!(
                    "DELETE FROM customer WHERE customer_id = {}",
                    n * 29 % 2000 + 1
                ))
                .await
                .unwrap();
        }
    });

    let wf = [
        "MoveTables",
        "--workflow",
        "split",
        "--target-keyspace",
        "customer",
    ];
    let run = |args: &'static [&'static str]| {
        let mut all = wf.to_vec();
        all.extend_from_slice(args);
        all
    };
    vtctl_ok(
        &etcd,
        &run(&[
            "create",
            "--source-keyspace",
            "commerce",
            "--tables",
            "customer",
        ]),
    )
    .await;
    let show: serde_json::Value =
        serde_json::from_str(&vtctl_ok(&etcd, &run(&["show"])).await).unwrap();
    let filters: Vec<String> = show["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shard"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        filters,
        ["-80", "80-"],
        "one stream per target shard: {show}"
    );
    assert!(
        eventually(120, || async {
            let out = vtctl_ok(&etcd, &run(&["show"])).await;
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            v["streams"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["state"] == "Running")
        })
        .await,
        "the copy finishes"
    );
    // VDiff compares each target shard with the source rows of its key range, while the
    // writes go on.
    let vdiff = |action: &'static [&'static str]| {
        let etcd = &etcd;
        async move {
            let mut args = vec![
                "VDiff",
                "--workflow",
                "split",
                "--target-keyspace",
                "customer",
            ];
            args.extend(action);
            vtctl_ok(etcd, &args).await
        }
    };
    let created = vdiff(&["create"]).await;
    assert!(created.contains("scheduled on target shards"), "{created}");
    let report: serde_json::Value =
        serde_json::from_str(&vdiff(&["show", "last", "--format", "json", "--verbose"]).await)
            .expect("VDiff show prints JSON");
    assert_eq!(report["HasMismatch"], false, "{report}");
    assert_eq!(report["Shards"], "-80,80-", "{report}");
    for shard in ["-80", "80-"] {
        let matching = report["Reports"]["customer"][shard]["MatchingRows"]
            .as_u64()
            .unwrap_or(0);
        assert!(matching > 0, "{shard} compared no rows: {report}");
    }
    // A row only the target has is reported for its shard.
    let mut high_conn = high_db.conn("vt_customer").await;
    high_conn
        .query_drop("SET sql_log_bin = 0; INSERT INTO customer VALUES (-5, 'stray')")
        .await
        .unwrap();
    vdiff(&["create"]).await;
    let report: serde_json::Value =
        serde_json::from_str(&vdiff(&["show", "last", "--format", "json"]).await)
            .expect("VDiff show prints JSON");
    assert_eq!(report["HasMismatch"], true, "{report}");
    assert_eq!(
        report["Reports"]["customer"]["80-"]["ExtraRowsTarget"], 1,
        "{report}"
    );
    high_conn
        .query_drop("SET sql_log_bin = 0; DELETE FROM customer WHERE customer_id = -5")
        .await
        .unwrap();

    writing.store(false, Ordering::Relaxed);
    writes.await.unwrap();
    // What the source holds once the writes stopped; the write switch waits
    // until the streams have applied all of it.
    let want = customers(&source_db, "vt_commerce").await;
    let out = vtctl_ok(&etcd, &run(&["switchtraffic"])).await;
    assert!(out.contains("Writes Switched"), "{out}");
    vtctl_ok(&etcd, &run(&["complete"])).await;

    let (low_rows, high_rows) = (
        customers(&low_db, "vt_customer").await,
        customers(&high_db, "vt_customer").await,
    );
    assert!(
        !low_rows.is_empty() && !high_rows.is_empty(),
        "both shards hold rows"
    );
    assert!(
        low_rows.keys().all(|k| !high_rows.contains_key(k)),
        "the shards are disjoint"
    );
    let mut union = low_rows;
    union.extend(high_rows);
    assert_eq!(union.len(), want.len());
    assert!(
        union == want,
        "the shards together hold exactly the source rows"
    );
    assert_eq!(source_db.tables("vt_commerce").await, ["corder", "product"]);
    low.shutdown().await;
    high.shutdown().await;
    commerce.shutdown().await;
}
