//! Unit tests of [`SrvCache`] on the in-memory backend: values follow the
//! records, and survive watch failures.

use std::sync::Arc;
use std::time::Duration;

use proto::topodata::{Keyspace, Tablet, TabletAlias};
use proto::vschema::{Keyspace as VSchemaKeyspace, SrvVSchema};

use crate::cache::{SrvCache, SrvCacheOptions};
use crate::{Conn, MemoryConn, TopoServer};

fn fast() -> SrvCacheOptions {
    SrvCacheOptions {
        tablet_refresh: Duration::from_millis(50),
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
    }
}

fn vschema(keyspaces: &[&str]) -> SrvVSchema {
    let mut v = SrvVSchema::default();
    for ks in keyspaces {
        v.keyspaces
            .insert(ks.to_string(), VSchemaKeyspace::default());
    }
    v
}

#[tokio::test]
async fn follows_srv_vschema_and_survives_interrupted_watches() {
    let cell = Arc::new(MemoryConn::new());
    let cells: Vec<(String, Arc<dyn Conn>)> = vec![("zone1".to_string(), cell.clone())];
    let ts = TopoServer::from_conns(Arc::new(MemoryConn::new()), cells);
    let cache = SrvCache::with_options(ts.clone(), "zone1", fast());
    assert!(cache.get_srv_vschema().await.unwrap_err().is_no_node());
    let mut rx = cache.subscribe_srv_vschema();

    ts.update_srv_vschema("zone1", &vschema(&["a"]))
        .await
        .unwrap();
    rx.wait_for(|v| v.is_some()).await.unwrap();
    assert_eq!(*cache.get_srv_vschema().await.unwrap(), vschema(&["a"]));

    // The watch breaks: the value stays, and the re-established watch sees
    // a change made meanwhile.
    cell.interrupt_watches();
    assert_eq!(*cache.get_srv_vschema().await.unwrap(), vschema(&["a"]));
    ts.update_srv_vschema("zone1", &vschema(&["a", "b"]))
        .await
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        rx.wait_for(|v| v.as_ref().is_some_and(|v| v.keyspaces.len() == 2)),
    )
    .await
    .unwrap()
    .unwrap();
}

#[tokio::test]
async fn follows_srv_keyspace_and_tablets() {
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_keyspace("commerce", &Keyspace::default())
        .await
        .unwrap();
    ts.create_shard("commerce", "0").await.unwrap();
    ts.rebuild_keyspace_graph("commerce", &[]).await.unwrap();
    let cache = SrvCache::with_options(ts.clone(), "zone1", fast());
    let srv = cache.get_srv_keyspace("commerce").await.unwrap();
    assert_eq!(srv.partitions.len(), 3);
    assert!(cache
        .get_srv_keyspace("nope")
        .await
        .unwrap_err()
        .is_no_node());

    let mut rx = cache.subscribe_srv_keyspace("commerce");
    rx.wait_for(|v| v.is_some()).await.unwrap();
    ts.update_shard_fields("commerce", "0", |s| {
        s.is_primary_serving = false;
        Ok(())
    })
    .await
    .unwrap();
    ts.rebuild_keyspace_graph("commerce", &[]).await.unwrap();
    rx.wait_for(|v| v.as_ref().is_some_and(|v| v.partitions.is_empty()))
        .await
        .unwrap();

    assert_eq!(cache.get_srv_keyspace_names().await.unwrap(), ["commerce"]);
    ts.update_srv_keyspace("zone1", "customer", &Default::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(
        cache.get_srv_keyspace_names().await.unwrap(),
        ["commerce", "customer"]
    );

    assert!(cache.get_tablets().await.unwrap().is_empty());
    let mut tablets = cache.subscribe_tablets();
    let t = Tablet {
        alias: Some(TabletAlias::new("zone1", 100)),
        ..Tablet::default()
    };
    ts.create_tablet(&t).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        tablets.wait_for(|v| v.as_ref().is_some_and(|v| v.len() == 1)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(cache.get_tablets().await.unwrap(), [t]);
}

#[tokio::test]
async fn background_tasks_stop_on_drop() {
    let ts = TopoServer::memory(&["zone1"]);
    let cache = SrvCache::with_options(ts.clone(), "zone1", fast());
    cache.get_tablets().await.unwrap();
    let rx = cache.subscribe_srv_vschema();
    drop(cache);
    // Every sender is owned by the aborted tasks and the cache: all gone.
    tokio::time::timeout(Duration::from_secs(5), async {
        while rx.has_changed().is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
}
