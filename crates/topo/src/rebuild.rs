//! Rebuilding the serving graph from the global records, as Vitess's
//! `RebuildKeyspaceGraph` and `RebuildVSchemaGraph` do.

use std::cmp::Ordering;

use proto::topodata::srv_keyspace::KeyspacePartition;
use proto::topodata::{ShardReference, SrvKeyspace, TabletType};
use proto::vschema::{KeyspaceRoutingRules, MirrorRules, ShardRoutingRules, SrvVSchema};

use crate::error::{optional, Error, Result};
use crate::keyrange::compare_bounds;
use crate::paths;
use crate::server::TopoServer;

/// The tablet types a serving shard is published for, in Vitess's order.
const SERVED_TYPES: [TabletType; 3] =
    [TabletType::Primary, TabletType::Replica, TabletType::Rdonly];

impl TopoServer {
    /// Writes the keyspace's `SrvKeyspace` in `cells` (every cell when
    /// empty): one partition per served tablet type listing the shards whose
    /// primary is serving, ordered by key range and checked for holes.
    pub async fn rebuild_keyspace_graph(&self, ks: &str, cells: &[String]) -> Result<()> {
        let keyspace = self.get_keyspace(ks).await?;
        let mut references = Vec::new();
        for name in self.get_shard_names(ks).await? {
            let shard = self.get_shard(ks, &name).await?;
            if shard.is_primary_serving {
                references.push(ShardReference {
                    name,
                    key_range: shard.key_range,
                });
            }
        }
        // Stable sort: shards without a range keep their name order.
        references.sort_by(|a, b| range_start(a).cmp(range_start(b)));
        let mut srv = SrvKeyspace {
            throttler_config: keyspace.throttler_config,
            ..SrvKeyspace::default()
        };
        if !references.is_empty() {
            for served_type in SERVED_TYPES {
                srv.partitions.push(KeyspacePartition {
                    served_type: served_type as i32,
                    shard_references: references.clone(),
                    shard_tablet_controls: Vec::new(),
                });
            }
        }
        for cell in self.cells_or_all(cells).await? {
            check_partitions(&cell, &srv)?;
            tracing::info!(keyspace = ks, cell, "updating keyspace serving graph");
            self.update_srv_keyspace(&cell, ks, &srv).await?;
        }
        Ok(())
    }

    /// Writes `SrvVSchema` in `cells` (every cell when empty) from every
    /// keyspace's VSchema (an empty one when a keyspace has none) and the
    /// routing rules.
    pub async fn rebuild_vschema_graph(&self, cells: &[String]) -> Result<()> {
        let mut srv = SrvVSchema::default();
        for ks in self.get_keyspace_names().await? {
            let vschema = optional(self.get_vschema(&ks).await)?.unwrap_or_default();
            srv.keyspaces.insert(ks, vschema);
        }
        srv.routing_rules = Some(self.get_routing_rules().await?);
        srv.shard_routing_rules = Some(
            optional(
                self.get_global::<ShardRoutingRules>(paths::SHARD_ROUTING_RULES)
                    .await,
            )?
            .unwrap_or_default(),
        );
        srv.keyspace_routing_rules = optional(
            self.get_global::<KeyspaceRoutingRules>(paths::KEYSPACE_ROUTING_RULES)
                .await,
        )?;
        srv.mirror_rules = Some(
            optional(self.get_global::<MirrorRules>(paths::MIRROR_RULES).await)?
                .unwrap_or_default(),
        );
        for cell in self.cells_or_all(cells).await? {
            self.update_srv_vschema(&cell, &srv).await?;
        }
        Ok(())
    }
}

fn range_start(r: &ShardReference) -> &[u8] {
    r.key_range.as_ref().map_or(&[], |kr| kr.start.as_slice())
}

/// Vitess's `OrderAndCheckPartitions` checks on sorted partitions: the first
/// shard starts at the minimum, the last ends at the maximum, and each
/// shard ends where the next one starts.
fn check_partitions(cell: &str, srv: &SrvKeyspace) -> Result<()> {
    for partition in &srv.partitions {
        let tablet_type = TabletType::try_from(partition.served_type)
            .map(|t| t.as_str_name())
            .unwrap_or("UNKNOWN");
        let refs = &partition.shard_references;
        let (Some(first), Some(last)) = (refs.first(), refs.last()) else {
            continue;
        };
        if first
            .key_range
            .as_ref()
            .is_some_and(|kr| !kr.start.is_empty())
        {
            return Err(Error::Other(format!(
                "keyspace partition for {tablet_type} in cell {cell} does not start with min key"
            )));
        }
        if last.key_range.as_ref().is_some_and(|kr| !kr.end.is_empty()) {
            return Err(Error::Other(format!(
                "keyspace partition for {tablet_type} in cell {cell} does not end with max key"
            )));
        }
        for (i, pair) in refs.windows(2).enumerate() {
            match (&pair[0].key_range, &pair[1].key_range) {
                (None, None) => {}
                (Some(cur), Some(next)) => {
                    if compare_bounds(&cur.end, &next.start) != Ordering::Equal {
                        return Err(Error::Other(format!(
                            "non-contiguous KeyRange values for {tablet_type} in cell {cell} at shard {i} to {}: {} != {}",
                            i + 1,
                            hex(&cur.end),
                            hex(&next.start)
                        )));
                    }
                }
                _ => {
                    return Err(Error::Other(format!(
                        "shards with inconsistent KeyRanges for {tablet_type} in cell {cell}. shards: {}, {}",
                        pair[0].name, pair[1].name
                    )));
                }
            }
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
