//! Per-tablet-type edits of `SrvKeyspace` for resharding, as Vitess's
//! `MigrateServedType` and `UpdateDisableQueryService`
//! (`go/vt/topo/srv_keyspace.go`) do: a traffic switch moves one served
//! type's partition from the source shards to the target shards, and a
//! write switch disables the query service of shards in a partition's
//! `shard_tablet_controls`.

use proto::topodata::srv_keyspace::KeyspacePartition;
use proto::topodata::{ShardReference, ShardTabletControl, SrvKeyspace, TabletType};

use crate::error::Result;
use crate::server::TopoServer;

impl TopoServer {
    /// In `cells` (every cell when empty), replaces `remove` by `add` in the
    /// partition of `served_type` of `ks`'s `SrvKeyspace`; the shard
    /// references come from the shard records and stay ordered by key range.
    pub async fn migrate_served_type(
        &self,
        ks: &str,
        add: &[String],
        remove: &[String],
        served_type: TabletType,
        cells: &[String],
    ) -> Result<()> {
        let mut added = Vec::with_capacity(add.len());
        for name in add {
            let shard = self.get_shard(ks, name).await?;
            added.push(ShardReference {
                name: name.clone(),
                key_range: shard.key_range,
            });
        }
        for cell in self.cells_or_all(cells).await? {
            let mut srv = self.get_srv_keyspace(&cell, ks).await?;
            let partition = partition_mut(&mut srv, served_type);
            partition
                .shard_references
                .retain(|r| !remove.contains(&r.name) && !add.contains(&r.name));
            partition.shard_references.extend(added.iter().cloned());
            partition.shard_references.sort_by(|a, b| {
                let start = |r: &ShardReference| {
                    r.key_range.as_ref().map_or(Vec::new(), |k| k.start.clone())
                };
                start(a).cmp(&start(b))
            });
            tracing::info!(keyspace = ks, cell, ?served_type, "migrating served type");
            self.update_srv_keyspace(&cell, ks, &srv).await?;
        }
        Ok(())
    }

    /// In `cells` (every cell when empty), sets `query_service_disabled` of
    /// `shards` in the `served_type` partition of `ks`'s `SrvKeyspace`.
    /// Tablets of those shards and type stop serving queries while it is set.
    pub async fn update_disable_query_service(
        &self,
        ks: &str,
        shards: &[String],
        served_type: TabletType,
        cells: &[String],
        disabled: bool,
    ) -> Result<()> {
        let mut controls = Vec::with_capacity(shards.len());
        for name in shards {
            let shard = self.get_shard(ks, name).await?;
            controls.push(ShardTabletControl {
                name: name.clone(),
                key_range: shard.key_range,
                query_service_disabled: disabled,
            });
        }
        for cell in self.cells_or_all(cells).await? {
            let mut srv = self.get_srv_keyspace(&cell, ks).await?;
            let partition = partition_mut(&mut srv, served_type);
            partition
                .shard_tablet_controls
                .retain(|c| !shards.contains(&c.name));
            if disabled {
                partition.shard_tablet_controls.extend(controls.clone());
            }
            self.update_srv_keyspace(&cell, ks, &srv).await?;
        }
        Ok(())
    }
}

/// Whether `srv` disables the query service of `shard` for `tablet_type`.
pub fn query_service_disabled(srv: &SrvKeyspace, shard: &str, tablet_type: TabletType) -> bool {
    srv.partitions
        .iter()
        .filter(|p| p.served_type == tablet_type as i32)
        .flat_map(|p| &p.shard_tablet_controls)
        .any(|c| c.name == shard && c.query_service_disabled)
}

/// The names of the shards serving `tablet_type` in `srv`, in key-range order.
pub fn served_shards(srv: &SrvKeyspace, tablet_type: TabletType) -> Vec<String> {
    srv.partitions
        .iter()
        .filter(|p| p.served_type == tablet_type as i32)
        .flat_map(|p| &p.shard_references)
        .map(|r| r.name.clone())
        .collect()
}

fn partition_mut(srv: &mut SrvKeyspace, served_type: TabletType) -> &mut KeyspacePartition {
    let index = match srv
        .partitions
        .iter()
        .position(|p| p.served_type == served_type as i32)
    {
        Some(i) => i,
        None => {
            srv.partitions.push(KeyspacePartition {
                served_type: served_type as i32,
                ..KeyspacePartition::default()
            });
            srv.partitions.len() - 1
        }
    };
    &mut srv.partitions[index]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::topodata::Keyspace;

    #[tokio::test]
    async fn served_types_move_one_at_a_time_and_query_service_toggles() {
        let ts = TopoServer::memory(&["zone1"]);
        ts.create_keyspace("customer", &Keyspace::default())
            .await
            .unwrap();
        ts.create_shard("customer", "0").await.unwrap();
        ts.create_shard("customer", "-80").await.unwrap();
        ts.create_shard("customer", "80-").await.unwrap();
        ts.rebuild_keyspace_graph("customer", &[]).await.unwrap();
        let targets = ["-80".to_owned(), "80-".to_owned()];
        let source = ["0".to_owned()];
        ts.migrate_served_type("customer", &targets, &source, TabletType::Replica, &[])
            .await
            .unwrap();
        let srv = ts.get_srv_keyspace("zone1", "customer").await.unwrap();
        assert_eq!(served_shards(&srv, TabletType::Replica), ["-80", "80-"]);
        assert_eq!(served_shards(&srv, TabletType::Primary), ["0"]);
        assert_eq!(served_shards(&srv, TabletType::Rdonly), ["0"]);

        ts.update_disable_query_service("customer", &source, TabletType::Primary, &[], true)
            .await
            .unwrap();
        let srv = ts.get_srv_keyspace("zone1", "customer").await.unwrap();
        assert!(query_service_disabled(&srv, "0", TabletType::Primary));
        assert!(!query_service_disabled(&srv, "0", TabletType::Replica));
        assert!(!query_service_disabled(&srv, "-80", TabletType::Primary));
        ts.update_disable_query_service("customer", &source, TabletType::Primary, &[], false)
            .await
            .unwrap();
        let srv = ts.get_srv_keyspace("zone1", "customer").await.unwrap();
        assert!(!query_service_disabled(&srv, "0", TabletType::Primary));

        ts.migrate_served_type("customer", &source, &targets, TabletType::Replica, &[])
            .await
            .unwrap();
        let srv = ts.get_srv_keyspace("zone1", "customer").await.unwrap();
        assert_eq!(served_shards(&srv, TabletType::Replica), ["0"]);
    }
}
