//! Unit tests of the serving-graph rebuilds on the in-memory backend.

use proto::topodata::{KeyRange, Keyspace, ThrottlerConfig};
use proto::vschema::{Keyspace as VSchemaKeyspace, RoutingRule, RoutingRules};

use crate::TopoServer;

fn names(srv: &proto::topodata::SrvKeyspace, i: usize) -> Vec<&str> {
    srv.partitions[i]
        .shard_references
        .iter()
        .map(|r| r.name.as_str())
        .collect()
}

#[tokio::test]
async fn keyspace_graph_lists_serving_shards_per_type() {
    let ts = TopoServer::memory(&["zone1", "zone2"]);
    let ks = Keyspace {
        throttler_config: Some(ThrottlerConfig {
            enabled: true,
            ..ThrottlerConfig::default()
        }),
        ..Keyspace::default()
    };
    ts.create_keyspace("customer", &ks).await.unwrap();
    for shard in ["c0-", "80-c0", "-80"] {
        ts.create_shard("customer", shard).await.unwrap();
    }
    // A non-serving overlapping shard is left out.
    assert!(
        !ts.create_shard("customer", "-40")
            .await
            .unwrap()
            .is_primary_serving
    );
    ts.rebuild_keyspace_graph("customer", &[]).await.unwrap();
    for cell in ["zone1", "zone2"] {
        let srv = ts.get_srv_keyspace(cell, "customer").await.unwrap();
        let types: Vec<i32> = srv.partitions.iter().map(|p| p.served_type).collect();
        assert_eq!(types, [1, 2, 3], "PRIMARY, REPLICA, RDONLY");
        for i in 0..3 {
            assert_eq!(names(&srv, i), ["-80", "80-c0", "c0-"]);
        }
        assert_eq!(
            srv.partitions[0].shard_references[1].key_range,
            Some(KeyRange {
                start: vec![0x80],
                end: vec![0xc0]
            })
        );
        assert_eq!(srv.throttler_config, ks.throttler_config);
    }
}

#[tokio::test]
async fn keyspace_graph_only_in_given_cells_and_unsharded() {
    let ts = TopoServer::memory(&["zone1", "zone2"]);
    ts.create_keyspace("commerce", &Keyspace::default())
        .await
        .unwrap();
    ts.create_shard("commerce", "0").await.unwrap();
    ts.rebuild_keyspace_graph("commerce", &["zone2".to_string()])
        .await
        .unwrap();
    let srv = ts.get_srv_keyspace("zone2", "commerce").await.unwrap();
    assert_eq!(names(&srv, 0), ["0"]);
    assert_eq!(srv.partitions[0].shard_references[0].key_range, None);
    assert!(ts
        .get_srv_keyspace("zone1", "commerce")
        .await
        .unwrap_err()
        .is_no_node());
    assert!(ts
        .rebuild_keyspace_graph("nope", &[])
        .await
        .unwrap_err()
        .is_no_node());
}

#[tokio::test]
async fn keyspace_graph_rejects_holes() {
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_keyspace("ks", &Keyspace::default())
        .await
        .unwrap();
    ts.create_shard("ks", "-40").await.unwrap();
    ts.create_shard("ks", "80-").await.unwrap();
    let err = ts.rebuild_keyspace_graph("ks", &[]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "non-contiguous KeyRange values for PRIMARY in cell zone1 at shard 0 to 1: 40 != 80"
    );
    let ts = TopoServer::memory(&["zone1"]);
    ts.create_shard("ks", "40-").await.unwrap();
    ts.create_keyspace("ks", &Keyspace::default())
        .await
        .unwrap();
    let err = ts.rebuild_keyspace_graph("ks", &[]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "keyspace partition for PRIMARY in cell zone1 does not start with min key"
    );
}

#[tokio::test]
async fn vschema_graph_gathers_keyspaces_and_rules() {
    let ts = TopoServer::memory(&["zone1", "zone2"]);
    ts.create_keyspace("commerce", &Keyspace::default())
        .await
        .unwrap();
    ts.create_keyspace("customer", &Keyspace::default())
        .await
        .unwrap();
    let sharded = VSchemaKeyspace {
        sharded: true,
        ..VSchemaKeyspace::default()
    };
    ts.save_vschema("customer", &sharded).await.unwrap();
    let rules = RoutingRules {
        rules: vec![RoutingRule {
            from_table: "t".to_string(),
            to_tables: vec!["customer.t".to_string()],
        }],
    };
    ts.save_routing_rules(&rules).await.unwrap();
    ts.rebuild_vschema_graph(&[]).await.unwrap();
    for cell in ["zone1", "zone2"] {
        let srv = ts.get_srv_vschema(cell).await.unwrap();
        assert_eq!(srv.keyspaces.len(), 2);
        assert_eq!(srv.keyspaces["commerce"], VSchemaKeyspace::default());
        assert_eq!(srv.keyspaces["customer"], sharded);
        assert_eq!(srv.routing_rules.as_ref(), Some(&rules));
    }
}
