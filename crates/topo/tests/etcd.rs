//! Integration tests against a real etcd (`/usr/bin/etcd`, started per test
//! on free ports): compare-and-set, listing, watches, typed records at
//! Vitess's exact keys, rebuilds, and the serving cache across an outage.

use std::time::Duration;

use etcd_client::Client;
use futures::StreamExt;
use prost::Message;
use proto::topodata::{Keyspace, SrvKeyspace, Tablet, TabletAlias, TabletType};
use proto::vschema::{Keyspace as VSchemaKeyspace, SrvVSchema};
use topo::cache::{SrvCache, SrvCacheOptions};
use topo::testutil::EtcdProcess;
use topo::{Conn, EtcdConn, TopoServer};

async fn raw_get(etcd: &EtcdProcess, key: &str) -> Option<Vec<u8>> {
    let mut client = Client::connect([etcd.address()], None).await.unwrap();
    let resp = client.get(key, None).await.unwrap();
    resp.kvs().first().map(|kv| kv.value().to_vec())
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn conn_compare_and_set_list_and_delete() {
    let etcd = EtcdProcess::start().unwrap();
    let conn = EtcdConn::connect(&[etcd.address()], "/vitess/global")
        .await
        .unwrap();
    let v1 = conn.create("a/b/File", b"one".to_vec()).await.unwrap();
    let err = conn.create("a/b/File", b"two".to_vec()).await.unwrap_err();
    assert!(err.is_node_exists(), "{err}");
    assert_eq!(conn.get("a/b/File").await.unwrap(), (b"one".to_vec(), v1));

    let v2 = conn
        .update("a/b/File", b"two".to_vec(), Some(v1))
        .await
        .unwrap();
    assert!(v2 > v1);
    assert!(conn
        .update("a/b/File", b"x".to_vec(), Some(v1))
        .await
        .unwrap_err()
        .is_bad_version());
    assert!(conn
        .update("missing", b"x".to_vec(), Some(v1))
        .await
        .unwrap_err()
        .is_bad_version());
    let v3 = conn.update("a/c", b"new".to_vec(), None).await.unwrap();
    assert_eq!(conn.get("a/c").await.unwrap().1, v3);

    conn.create("a/b/sub/File", vec![]).await.unwrap();
    conn.create("ab/File", vec![]).await.unwrap();
    assert_eq!(conn.list_dir("a").await.unwrap(), ["b", "c"]);
    assert_eq!(conn.list_dir("a/b").await.unwrap(), ["File", "sub"]);
    assert_eq!(conn.list_dir("").await.unwrap(), ["a", "ab"]);
    assert!(conn.list_dir("none").await.unwrap_err().is_no_node());

    assert!(conn
        .delete("a/b/File", Some(v1))
        .await
        .unwrap_err()
        .is_bad_version());
    assert!(conn
        .delete("nope", Some(v1))
        .await
        .unwrap_err()
        .is_no_node());
    conn.delete("a/b/File", Some(v2)).await.unwrap();
    assert!(conn.get("a/b/File").await.unwrap_err().is_no_node());
    assert!(conn
        .delete("a/b/File", None)
        .await
        .unwrap_err()
        .is_no_node());

    // Keys live under the root, exactly.
    assert_eq!(raw_get(&etcd, "/vitess/global/a/c").await.unwrap(), b"new");
    // Another root on the same server is another tree.
    let cell = conn.with_root("/vitess/zone1/");
    assert!(cell.get("a/c").await.unwrap_err().is_no_node());
}

#[tokio::test]
async fn conn_watch_sees_changes_and_deletion() {
    let etcd = EtcdProcess::start().unwrap();
    let conn = EtcdConn::connect(&[etcd.address()], "/vitess/zone1")
        .await
        .unwrap();
    let (initial, mut changes) = conn.watch("SrvVSchema").await.unwrap();
    assert_eq!(initial, None);
    let v1 = conn.create("SrvVSchema", b"1".to_vec()).await.unwrap();
    conn.create("Other", b"x".to_vec()).await.unwrap();
    let v2 = conn
        .update("SrvVSchema", b"2".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        Some((b"1".to_vec(), v1))
    );
    assert_eq!(
        changes.next().await.unwrap().unwrap(),
        Some((b"2".to_vec(), v2))
    );
    conn.delete("SrvVSchema", None).await.unwrap();
    assert_eq!(changes.next().await.unwrap().unwrap(), None);

    let v3 = conn.create("SrvVSchema", b"3".to_vec()).await.unwrap();
    let (initial, _) = conn.watch("SrvVSchema").await.unwrap();
    assert_eq!(initial, Some((b"3".to_vec(), v3)));
}

#[tokio::test]
async fn conn_reports_unavailable_and_recovers() {
    let mut etcd = EtcdProcess::start().unwrap();
    let conn = EtcdConn::connect(&[etcd.address()], "/vitess/global")
        .await
        .unwrap()
        .with_request_timeout(Duration::from_secs(3));
    conn.create("k", b"v".to_vec()).await.unwrap();
    let (_, mut changes) = conn.watch("k").await.unwrap();
    etcd.stop();
    let err = changes.next().await.unwrap().unwrap_err();
    assert!(matches!(err, topo::Error::Unavailable(_)), "{err}");
    let err = conn.get("k").await.unwrap_err();
    assert!(matches!(err, topo::Error::Unavailable(_)), "{err}");
    // Connecting while etcd is down succeeds; requests fail until it is back.
    let late = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    let err = late.get_keyspace_names().await.unwrap_err();
    assert!(matches!(err, topo::Error::Unavailable(_)), "{err}");
    etcd.restart().unwrap();
    assert!(late.get_keyspace_names().await.unwrap().is_empty());
    let mut value = None;
    for _ in 0..100 {
        if let Ok((v, _)) = conn.get("k").await {
            value = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value.unwrap(), b"v");
}

#[tokio::test]
async fn typed_records_use_vitess_keys_and_bytes() {
    let etcd = EtcdProcess::start().unwrap();
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    ts.add_cell_info("zone1", &etcd.address(), "/vitess/zone1")
        .await
        .unwrap();
    assert_eq!(ts.get_cell_names().await.unwrap(), ["zone1"]);

    ts.create_keyspace("commerce", &Keyspace::default())
        .await
        .unwrap();
    ts.create_shard("commerce", "0").await.unwrap();
    let tablet = Tablet {
        alias: Some(TabletAlias::new("zone1", 100)),
        hostname: "127.0.0.1".to_string(),
        port_map: [("grpc".to_string(), 16100)].into_iter().collect(),
        keyspace: "commerce".to_string(),
        shard: "0".to_string(),
        r#type: TabletType::Primary as i32,
        mysql_port: 17100,
        ..Tablet::default()
    };
    ts.create_tablet(&tablet).await.unwrap();

    // Read the raw keys with a plain etcd client and decode them as Vitess would.
    let raw = raw_get(&etcd, "/vitess/zone1/tablets/zone1-0000000100/Tablet")
        .await
        .unwrap();
    assert_eq!(Tablet::decode(raw.as_slice()).unwrap(), tablet);
    let raw = raw_get(&etcd, "/vitess/global/keyspaces/commerce/shards/0/Shard")
        .await
        .unwrap();
    let shard = proto::topodata::Shard::decode(raw.as_slice()).unwrap();
    assert!(shard.is_primary_serving);
    assert_eq!(shard.key_range, None);
    let raw = raw_get(&etcd, "/vitess/global/cells/zone1/CellInfo")
        .await
        .unwrap();
    let info = proto::topodata::CellInfo::decode(raw.as_slice()).unwrap();
    assert_eq!(info.root, "/vitess/zone1");
    assert!(raw_get(&etcd, "/vitess/global/keyspaces/commerce/Keyspace")
        .await
        .is_some());
    let raw = raw_get(
        &etcd,
        "/vitess/zone1/keyspaces/commerce/shards/0/ShardReplication",
    )
    .await
    .unwrap();
    let sr = proto::topodata::ShardReplication::decode(raw.as_slice()).unwrap();
    assert_eq!(sr.nodes[0].tablet_alias, tablet.alias);

    assert_eq!(
        ts.get_tablets_by_shard("commerce", "0").await.unwrap(),
        std::slice::from_ref(&tablet)
    );
    let mut restarted = tablet.clone();
    restarted.hostname = "localhost".to_string();
    ts.upsert_tablet(&restarted).await.unwrap();
    assert_eq!(
        ts.get_tablet(&TabletAlias::new("zone1", 100))
            .await
            .unwrap(),
        restarted
    );
}

#[tokio::test]
async fn cell_without_cell_info_uses_default_root() {
    let etcd = EtcdProcess::start().unwrap();
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    ts.update_srv_vschema("zone9", &SrvVSchema::default())
        .await
        .unwrap();
    assert!(raw_get(&etcd, "/vitess/zone9/SrvVSchema").await.is_some());
}

#[tokio::test]
async fn cell_on_another_server() {
    let global = EtcdProcess::start().unwrap();
    let local = EtcdProcess::start().unwrap();
    let ts = TopoServer::connect_etcd(&global.address(), "/vitess/global")
        .await
        .unwrap();
    ts.add_cell_info("zone2", &local.address(), "/zone2root")
        .await
        .unwrap();
    ts.update_srv_keyspace("zone2", "ks", &SrvKeyspace::default())
        .await
        .unwrap();
    assert!(raw_get(&local, "/zone2root/keyspaces/ks/SrvKeyspace")
        .await
        .is_some());
    assert!(raw_get(&global, "/zone2root/keyspaces/ks/SrvKeyspace")
        .await
        .is_none());
}

#[tokio::test]
async fn rebuild_graphs_in_etcd() {
    let etcd = EtcdProcess::start().unwrap();
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    ts.add_cell_info("zone1", &etcd.address(), "/vitess/zone1")
        .await
        .unwrap();
    ts.create_keyspace("customer", &Keyspace::default())
        .await
        .unwrap();
    ts.create_shard("customer", "80-").await.unwrap();
    ts.create_shard("customer", "-80").await.unwrap();
    ts.rebuild_keyspace_graph("customer", &[]).await.unwrap();
    let raw = raw_get(&etcd, "/vitess/zone1/keyspaces/customer/SrvKeyspace")
        .await
        .unwrap();
    let srv = SrvKeyspace::decode(raw.as_slice()).unwrap();
    let types: Vec<i32> = srv.partitions.iter().map(|p| p.served_type).collect();
    assert_eq!(types, [1, 2, 3]);
    let names: Vec<&str> = srv.partitions[0]
        .shard_references
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["-80", "80-"]);

    let vs = VSchemaKeyspace {
        sharded: true,
        ..VSchemaKeyspace::default()
    };
    ts.save_vschema("customer", &vs).await.unwrap();
    ts.rebuild_vschema_graph(&["zone1".to_string()])
        .await
        .unwrap();
    let raw = raw_get(&etcd, "/vitess/zone1/SrvVSchema").await.unwrap();
    let srv = SrvVSchema::decode(raw.as_slice()).unwrap();
    assert_eq!(srv.keyspaces["customer"], vs);
}

#[tokio::test]
async fn srv_cache_serves_through_an_outage() {
    let mut etcd = EtcdProcess::start().unwrap();
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    ts.add_cell_info("zone1", &etcd.address(), "/vitess/zone1")
        .await
        .unwrap();
    ts.create_keyspace("commerce", &Keyspace::default())
        .await
        .unwrap();
    ts.save_vschema("commerce", &VSchemaKeyspace::default())
        .await
        .unwrap();
    ts.create_shard("commerce", "0").await.unwrap();
    ts.rebuild_keyspace_graph("commerce", &[]).await.unwrap();
    ts.rebuild_vschema_graph(&[]).await.unwrap();
    let tablet = Tablet {
        alias: Some(TabletAlias::new("zone1", 100)),
        keyspace: "commerce".to_string(),
        shard: "0".to_string(),
        ..Tablet::default()
    };
    ts.create_tablet(&tablet).await.unwrap();

    // A separate client for the cache, as vtgate would have.
    let vtgate_ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    let options = SrvCacheOptions {
        tablet_refresh: Duration::from_millis(200),
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
    };
    let cache = SrvCache::with_options(vtgate_ts, "zone1", options);
    let mut updates = cache.subscribe_srv_vschema();
    let vschema = cache.get_srv_vschema().await.unwrap();
    assert!(vschema.keyspaces.contains_key("commerce"));
    let srv_ks = cache.get_srv_keyspace("commerce").await.unwrap();
    assert_eq!(srv_ks.partitions.len(), 3);
    assert_eq!(cache.get_srv_keyspace_names().await.unwrap(), ["commerce"]);
    assert_eq!(
        cache.get_tablets().await.unwrap(),
        std::slice::from_ref(&tablet)
    );
    updates.wait_for(|v| v.is_some()).await.unwrap();
    eventually("keyspace watch", || async {
        cache.subscribe_srv_keyspace("commerce").borrow().is_some()
    })
    .await;

    // etcd goes away: everything keeps being served from the cache.
    etcd.stop();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(cache
        .get_srv_vschema()
        .await
        .unwrap()
        .keyspaces
        .contains_key("commerce"));
    assert_eq!(cache.get_srv_keyspace("commerce").await.unwrap(), srv_ks);
    assert_eq!(cache.get_srv_keyspace_names().await.unwrap(), ["commerce"]);
    assert_eq!(
        cache.get_tablets().await.unwrap(),
        std::slice::from_ref(&tablet)
    );

    // etcd comes back and a change made afterwards reaches the cache.
    etcd.restart().unwrap();
    let mut changed = SrvVSchema::default();
    changed
        .keyspaces
        .insert("commerce".to_string(), VSchemaKeyspace::default());
    changed
        .keyspaces
        .insert("customer".to_string(), VSchemaKeyspace::default());
    let writer = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .unwrap();
    writer.update_srv_vschema("zone1", &changed).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(20),
        updates.wait_for(|v| {
            v.as_ref()
                .is_some_and(|v| v.keyspaces.contains_key("customer"))
        }),
    )
    .await
    .expect("the cache did not see the change after the restart")
    .unwrap();
    assert!(cache
        .get_srv_vschema()
        .await
        .unwrap()
        .keyspaces
        .contains_key("customer"));

    let second = Tablet {
        alias: Some(TabletAlias::new("zone1", 101)),
        ..tablet.clone()
    };
    writer.create_tablet(&second).await.unwrap();
    eventually("the new tablet", || async {
        cache.get_tablets().await.unwrap().len() == 2
    })
    .await;
}
