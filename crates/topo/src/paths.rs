//! Vitess's topology key layout (`go/vt/topo/server.go`), relative to a cell
//! root: `/vitess/global` for the global cell, `/vitess/<cell>` for a cell.

use proto::topodata::TabletAlias;

/// Root of the global cell in the Vitess examples.
pub const GLOBAL_ROOT: &str = "/vitess/global";
/// Name of the global cell.
pub const GLOBAL_CELL: &str = "global";

/// Global directory of cell records.
pub const CELLS_DIR: &str = "cells";
/// Directory of keyspaces (global and per cell).
pub const KEYSPACES_DIR: &str = "keyspaces";
/// Per-cell directory of tablets.
pub const TABLETS_DIR: &str = "tablets";
/// Global routing rules.
pub const ROUTING_RULES: &str = "RoutingRules";
/// Global shard routing rules.
pub const SHARD_ROUTING_RULES: &str = "ShardRoutingRules";
/// Global keyspace routing rules.
pub const KEYSPACE_ROUTING_RULES: &str = "routing_rules/keyspace/Rules";
/// Global mirror rules.
pub const MIRROR_RULES: &str = "MirrorRules";
/// Per-cell serving VSchema.
pub const SRV_VSCHEMA: &str = "SrvVSchema";

/// Default root of a cell that has no `CellInfo` record.
pub fn default_cell_root(cell: &str) -> String {
    format!("/vitess/{cell}")
}

/// `cells/<cell>/CellInfo` (global).
pub fn cell_info(cell: &str) -> String {
    format!("{CELLS_DIR}/{cell}/CellInfo")
}

/// `keyspaces/<ks>/Keyspace` (global).
pub fn keyspace(ks: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/Keyspace")
}

/// `keyspaces/<ks>/shards` (global).
pub fn shards_dir(ks: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/shards")
}

/// `keyspaces/<ks>/shards/<shard>/Shard` (global).
pub fn shard(ks: &str, shard: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/shards/{shard}/Shard")
}

/// `keyspaces/<ks>/VSchema` (global).
pub fn vschema(ks: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/VSchema")
}

/// `tablets/<cell>-<uid10>/Tablet` (cell).
pub fn tablet(alias: &TabletAlias) -> String {
    format!("{TABLETS_DIR}/{alias}/Tablet")
}

/// `keyspaces/<ks>/shards/<shard>/ShardReplication` (cell).
pub fn shard_replication(ks: &str, shard: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/shards/{shard}/ShardReplication")
}

/// `keyspaces/<ks>/SrvKeyspace` (cell).
pub fn srv_keyspace(ks: &str) -> String {
    format!("{KEYSPACES_DIR}/{ks}/SrvKeyspace")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_vitess() {
        assert_eq!(cell_info("zone1"), "cells/zone1/CellInfo");
        assert_eq!(keyspace("commerce"), "keyspaces/commerce/Keyspace");
        assert_eq!(shard("commerce", "0"), "keyspaces/commerce/shards/0/Shard");
        assert_eq!(vschema("commerce"), "keyspaces/commerce/VSchema");
        assert_eq!(
            tablet(&TabletAlias::new("zone1", 100)),
            "tablets/zone1-0000000100/Tablet"
        );
        assert_eq!(
            shard_replication("commerce", "-80"),
            "keyspaces/commerce/shards/-80/ShardReplication"
        );
        assert_eq!(srv_keyspace("commerce"), "keyspaces/commerce/SrvKeyspace");
    }
}
