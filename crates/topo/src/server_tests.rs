//! Unit tests of every [`TopoServer`] accessor on the in-memory backend.

use futures::StreamExt;
use prost::Message;
use proto::topodata::{
    srv_keyspace::KeyspacePartition, KeyRange, Keyspace, SrvKeyspace, Tablet, TabletAlias,
    TabletType,
};
use proto::vschema::{Keyspace as VSchemaKeyspace, RoutingRule, RoutingRules, SrvVSchema};

use crate::{paths, Error, TopoServer};

fn tablet(cell: &str, uid: u32, ks: &str, shard: &str, t: TabletType) -> Tablet {
    Tablet {
        alias: Some(TabletAlias::new(cell, uid)),
        hostname: "localhost".to_string(),
        keyspace: ks.to_string(),
        shard: shard.to_string(),
        r#type: t as i32,
        ..Tablet::default()
    }
}

fn kr(start: &[u8], end: &[u8]) -> Option<KeyRange> {
    Some(KeyRange {
        start: start.to_vec(),
        end: end.to_vec(),
    })
}

#[tokio::test]
async fn cells() {
    let ts = TopoServer::memory(&["zone1", "zone2"]);
    assert_eq!(ts.get_cell_names().await.unwrap(), ["zone1", "zone2"]);
    ts.add_cell_info("zone3", "127.0.0.1:2379", "/vitess/zone3")
        .await
        .unwrap();
    // The same record again is fine, a different one is not.
    ts.add_cell_info("zone3", "127.0.0.1:2379", "/vitess/zone3")
        .await
        .unwrap();
    let err = ts
        .add_cell_info("zone3", "127.0.0.1:2379", "/other")
        .await
        .unwrap_err();
    assert!(err.is_node_exists(), "{err}");
    assert_eq!(
        ts.get_cell_info("zone3").await.unwrap().root,
        "/vitess/zone3"
    );
    assert_eq!(
        ts.get_cell_names().await.unwrap(),
        ["zone1", "zone2", "zone3"]
    );
}

#[tokio::test]
async fn keyspaces() {
    let ts = TopoServer::memory(&["zone1"]);
    assert!(ts.get_keyspace_names().await.unwrap().is_empty());
    let ks = Keyspace {
        durability_policy: "semi_sync".to_string(),
        ..Keyspace::default()
    };
    ts.create_keyspace("commerce", &ks).await.unwrap();
    ts.create_keyspace("customer", &Keyspace::default())
        .await
        .unwrap();
    let err = ts.create_keyspace("commerce", &ks).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "node already exists: keyspaces/commerce/Keyspace"
    );
    assert_eq!(ts.get_keyspace("commerce").await.unwrap(), ks);
    assert_eq!(
        ts.get_keyspace_names().await.unwrap(),
        ["commerce", "customer"]
    );
    ts.save_vschema("customer", &VSchemaKeyspace::default())
        .await
        .unwrap();
    ts.update_srv_keyspace("zone1", "customer", &SrvKeyspace::default())
        .await
        .unwrap();
    ts.delete_keyspace("customer").await.unwrap();
    assert!(ts.get_keyspace("customer").await.unwrap_err().is_no_node());
    assert!(ts.get_vschema("customer").await.unwrap_err().is_no_node());
    assert!(ts
        .get_srv_keyspace("zone1", "customer")
        .await
        .unwrap_err()
        .is_no_node());
    assert_eq!(ts.get_keyspace_names().await.unwrap(), ["commerce"]);
    assert!(ts
        .delete_keyspace("customer")
        .await
        .unwrap_err()
        .is_no_node());
}

#[tokio::test]
async fn shards_serving_and_key_ranges() {
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_keyspace("ks", &Keyspace::default())
        .await
        .unwrap();
    let zero = ts.create_shard("ks", "0").await.unwrap();
    assert!(zero.is_primary_serving);
    assert_eq!(zero.key_range, None);
    // Overlaps the serving "0": created, but not serving.
    let low = ts.create_shard("ks", "-80").await.unwrap();
    assert_eq!(low.key_range, kr(b"", &[0x80]));
    assert!(!low.is_primary_serving);
    let high = ts.create_shard("ks", "80-").await.unwrap();
    assert!(!high.is_primary_serving);
    assert!(ts
        .create_shard("ks", "-80")
        .await
        .unwrap_err()
        .is_node_exists());
    assert!(ts.create_shard("ks", "80-40").await.is_err());
    assert_eq!(ts.get_shard_names("ks").await.unwrap(), ["-80", "0", "80-"]);
    assert_eq!(ts.get_shard("ks", "-80").await.unwrap(), low);

    let other = TopoServer::memory(&["zone1"]);
    assert!(
        other
            .create_shard("ks", "-80")
            .await
            .unwrap()
            .is_primary_serving
    );
    assert!(
        other
            .create_shard("ks", "80-C0")
            .await
            .unwrap()
            .is_primary_serving
    );
    assert_eq!(other.get_shard_names("ks").await.unwrap(), ["-80", "80-c0"]);
    assert!(
        !other
            .create_shard("ks", "-")
            .await
            .unwrap()
            .is_primary_serving
    );
    assert!(other.get_shard_names("none").await.unwrap().is_empty());
}

#[tokio::test]
async fn update_and_delete_shard() {
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_shard("ks", "0").await.unwrap();
    let updated = ts
        .update_shard_fields("ks", "0", |s| {
            s.primary_alias = Some(TabletAlias::new("zone1", 100));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(ts.get_shard("ks", "0").await.unwrap(), updated);
    // An error from the closure aborts without writing.
    let err = ts
        .update_shard_fields("ks", "0", |s| {
            s.is_primary_serving = false;
            Err(Error::Other("no".to_string()))
        })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no");
    assert!(ts.get_shard("ks", "0").await.unwrap().is_primary_serving);
    ts.delete_shard("ks", "0").await.unwrap();
    assert!(ts.get_shard("ks", "0").await.unwrap_err().is_no_node());
    assert!(ts
        .update_shard_fields("ks", "0", |_| Ok(()))
        .await
        .unwrap_err()
        .is_no_node());
}

#[tokio::test]
async fn update_shard_fields_retries_on_concurrent_write() {
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_shard("ks", "0").await.unwrap();
    let global = ts.global_conn();
    let mut calls = 0;
    let result = ts
        .update_shard_fields("ks", "0", |s| {
            calls += 1;
            if calls == 1 {
                // Someone else writes between our read and our write.
                let mut theirs = s.clone();
                theirs.primary_alias = Some(TabletAlias::new("zone1", 7));
                let bytes = theirs.encode_to_vec();
                let path = paths::shard("ks", "0");
                let g = global.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    rt.block_on(g.update(&path, bytes, None)).unwrap();
                })
                .join()
                .unwrap();
            }
            s.tablet_controls.clear();
            s.is_primary_serving = false;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(calls, 2);
    // The retry started from the other writer's record.
    assert_eq!(result.primary_alias, Some(TabletAlias::new("zone1", 7)));
    assert!(!result.is_primary_serving);
}

#[tokio::test]
async fn watch_shard_sees_updates_and_deletion() {
    let ts = TopoServer::memory(&["zone1"]);
    assert!(ts.watch_shard("ks", "0").await.err().unwrap().is_no_node());
    ts.create_shard("ks", "0").await.unwrap();
    let (initial, mut changes) = ts.watch_shard("ks", "0").await.unwrap();
    assert!(initial.is_primary_serving);
    ts.update_shard_fields("ks", "0", |s| {
        s.is_primary_serving = false;
        Ok(())
    })
    .await
    .unwrap();
    assert!(!changes.next().await.unwrap().unwrap().is_primary_serving);
    ts.delete_shard("ks", "0").await.unwrap();
    assert!(changes.next().await.unwrap().unwrap_err().is_no_node());
    assert!(changes.next().await.is_none());
}

#[tokio::test]
async fn tablets() {
    let ts = TopoServer::memory(&["zone1", "zone2"]);
    let primary = tablet("zone1", 100, "commerce", "0", TabletType::Primary);
    let replica = tablet("zone1", 101, "commerce", "0", TabletType::Replica);
    let remote = tablet("zone2", 200, "commerce", "0", TabletType::Rdonly);
    let other = tablet("zone1", 300, "customer", "-80", TabletType::Primary);
    for t in [&primary, &replica, &remote, &other] {
        ts.create_tablet(t).await.unwrap();
    }
    assert!(ts
        .create_tablet(&primary)
        .await
        .unwrap_err()
        .is_node_exists());
    ts.upsert_tablet(&primary).await.unwrap();
    assert!(ts.create_tablet(&Tablet::default()).await.is_err());

    let alias = TabletAlias::new("zone1", 100);
    assert_eq!(ts.get_tablet(&alias).await.unwrap(), primary);
    assert_eq!(
        ts.get_tablet_aliases_by_cell("zone1").await.unwrap(),
        [
            alias.clone(),
            TabletAlias::new("zone1", 101),
            TabletAlias::new("zone1", 300)
        ]
    );
    assert_eq!(
        ts.get_tablets_by_cell("zone2").await.unwrap(),
        std::slice::from_ref(&remote)
    );
    let mut shard = ts.get_tablets_by_shard("commerce", "0").await.unwrap();
    shard.sort_by_key(|t| t.alias.as_ref().map(|a| a.uid));
    assert_eq!(shard, [primary.clone(), replica.clone(), remote]);

    // The replication index lists the shard's tablets of the cell.
    let conn = ts.cell_conn("zone1").await.unwrap();
    let (bytes, _) = conn
        .get(&paths::shard_replication("commerce", "0"))
        .await
        .unwrap();
    let sr = proto::topodata::ShardReplication::decode(bytes.as_slice()).unwrap();
    let uids: Vec<u32> = sr
        .nodes
        .iter()
        .filter_map(|n| n.tablet_alias.as_ref())
        .map(|a| a.uid)
        .collect();
    assert_eq!(uids, [100, 101]);

    let updated = ts
        .update_tablet_fields(&alias, |t| {
            t.r#type = TabletType::Replica as i32;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(updated.r#type, TabletType::Replica as i32);
    assert_eq!(ts.get_tablet(&alias).await.unwrap(), updated);

    ts.delete_tablet(&alias).await.unwrap();
    assert!(ts.get_tablet(&alias).await.unwrap_err().is_no_node());
    assert!(ts.delete_tablet(&alias).await.unwrap_err().is_no_node());
    let (bytes, _) = conn
        .get(&paths::shard_replication("commerce", "0"))
        .await
        .unwrap();
    let sr = proto::topodata::ShardReplication::decode(bytes.as_slice()).unwrap();
    assert_eq!(sr.nodes.len(), 1);
    assert!(ts.get_tablets_by_cell("zone3").await.unwrap().is_empty());
}

#[tokio::test]
async fn vschema_and_routing_rules() {
    let ts = TopoServer::memory(&["zone1"]);
    assert!(ts.get_vschema("commerce").await.unwrap_err().is_no_node());
    let vs = VSchemaKeyspace {
        sharded: true,
        ..VSchemaKeyspace::default()
    };
    ts.save_vschema("commerce", &vs).await.unwrap();
    assert_eq!(ts.get_vschema("commerce").await.unwrap(), vs);

    assert_eq!(
        ts.get_routing_rules().await.unwrap(),
        RoutingRules::default()
    );
    let rules = RoutingRules {
        rules: vec![RoutingRule {
            from_table: "customer".to_string(),
            to_tables: vec!["commerce.customer".to_string()],
        }],
    };
    ts.save_routing_rules(&rules).await.unwrap();
    assert_eq!(ts.get_routing_rules().await.unwrap(), rules);
    ts.save_routing_rules(&RoutingRules::default())
        .await
        .unwrap();
    assert!(ts
        .global_conn()
        .get(paths::ROUTING_RULES)
        .await
        .unwrap_err()
        .is_no_node());
    ts.save_routing_rules(&RoutingRules::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn serving_records_and_watches() {
    let ts = TopoServer::memory(&["zone1"]);
    assert!(ts.get_srv_vschema("zone1").await.unwrap_err().is_no_node());
    let (initial, mut changes) = ts.watch_srv_vschema("zone1").await.unwrap();
    assert_eq!(initial, None);
    let mut v = SrvVSchema::default();
    v.keyspaces
        .insert("commerce".to_string(), VSchemaKeyspace::default());
    ts.update_srv_vschema("zone1", &v).await.unwrap();
    assert_eq!(ts.get_srv_vschema("zone1").await.unwrap(), v);
    assert_eq!(changes.next().await.unwrap().unwrap(), Some(v.clone()));

    let srv = SrvKeyspace {
        partitions: vec![KeyspacePartition {
            served_type: TabletType::Primary as i32,
            ..KeyspacePartition::default()
        }],
        ..SrvKeyspace::default()
    };
    let (initial, mut ks_changes) = ts.watch_srv_keyspace("zone1", "commerce").await.unwrap();
    assert_eq!(initial, None);
    ts.update_srv_keyspace("zone1", "commerce", &srv)
        .await
        .unwrap();
    assert_eq!(ts.get_srv_keyspace("zone1", "commerce").await.unwrap(), srv);
    assert_eq!(ks_changes.next().await.unwrap().unwrap(), Some(srv));
    assert_eq!(
        ts.get_srv_keyspace_names("zone1").await.unwrap(),
        ["commerce"]
    );
    ts.cell_conn("zone1")
        .await
        .unwrap()
        .delete(&paths::srv_keyspace("commerce"), None)
        .await
        .unwrap();
    assert_eq!(ks_changes.next().await.unwrap().unwrap(), None);

    // Garbage bytes end a typed watch with a decoding error.
    ts.cell_conn("zone1")
        .await
        .unwrap()
        .update(paths::SRV_VSCHEMA, vec![0xff, 0xff], None)
        .await
        .unwrap();
    assert!(matches!(
        changes.next().await.unwrap(),
        Err(Error::Decode { .. })
    ));
    assert!(changes.next().await.is_none());
}
