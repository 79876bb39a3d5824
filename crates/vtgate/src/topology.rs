//! An immutable snapshot of what vtgate knows from the topology: keyspaces (from SrvVSchema),
//! their tables, and their shards per tablet type (from SrvKeyspace), plus the lookups the
//! executor needs (resolve a table to its keyspace, list a keyspace's shards, follow the
//! table routing rules), the resolved [`VSchema`] the planner uses, and the plan cache that
//! goes with that VSchema.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use proto::topodata::{SrvKeyspace, TabletType};
use proto::vschema::SrvVSchema;
use vschema::{FindTableError, TableRef, VSchema};

use crate::error::VtError;
use crate::plan_cache::PlanCache;
use crate::schema_tracker::{merge_tracked, KeyspaceColumns, TrackedSchema};

/// What vtgate knows about one keyspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyspaceInfo {
    /// Keyspace name.
    pub name: String,
    /// True for a sharded keyspace (routing by vindex, not handled by this crate's router).
    pub sharded: bool,
    /// Tables declared in the keyspace's VSchema.
    pub tables: BTreeSet<String>,
    /// Shard names per served tablet type, in SrvKeyspace order.
    pub shards: HashMap<TabletType, Vec<String>>,
}

impl KeyspaceInfo {
    /// The shards serving `tablet_type`; falls back to the primary partition, as every
    /// shard has one.
    pub fn shards_for(&self, tablet_type: TabletType) -> &[String] {
        self.shards
            .get(&tablet_type)
            .or_else(|| self.shards.get(&TabletType::Primary))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A snapshot of the serving graph of the cell.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    keyspaces: BTreeMap<String, KeyspaceInfo>,
    /// The SrvVSchema the snapshot was built from.
    source: SrvVSchema,
    /// The tracked columns merged into `vschema` ([`crate::schema_tracker`]).
    tracked: Arc<TrackedSchema>,
    /// The resolved VSchema (vindexes, tables, routing rules).
    vschema: Arc<VSchema>,
    /// The `from_table` names of the table routing rules.
    rule_names: BTreeSet<String>,
    /// Plans made with this VSchema.
    plans: Arc<PlanCache>,
}

/// Two snapshots are equal when built from the same records (the cache is not compared).
impl PartialEq for Topology {
    fn eq(&self, other: &Self) -> bool {
        self.keyspaces == other.keyspaces
            && self.source == other.source
            && self.tracked == other.tracked
    }
}

impl Eq for Topology {}

impl Topology {
    /// Builds the snapshot from the cell's SrvVSchema and the SrvKeyspace records found.
    pub fn from_srv(vschema: &SrvVSchema, srv_keyspaces: &HashMap<String, SrvKeyspace>) -> Self {
        Self::build(vschema, srv_keyspaces, Arc::default())
    }

    /// [`Self::from_srv`] with `tracked` columns merged into the VSchema.
    fn build(
        vschema: &SrvVSchema,
        srv_keyspaces: &HashMap<String, SrvKeyspace>,
        tracked: Arc<TrackedSchema>,
    ) -> Self {
        let mut keyspaces = BTreeMap::new();
        for (name, ks) in &vschema.keyspaces {
            let mut info = KeyspaceInfo {
                name: name.clone(),
                sharded: ks.sharded,
                tables: ks.tables.keys().cloned().collect(),
                shards: HashMap::new(),
            };
            if let Some(srv) = srv_keyspaces.get(name) {
                for partition in &srv.partitions {
                    let Ok(t) = TabletType::try_from(partition.served_type) else {
                        continue;
                    };
                    let names = partition
                        .shard_references
                        .iter()
                        .map(|r| r.name.clone())
                        .collect();
                    info.shards.insert(t, names);
                }
            }
            keyspaces.insert(name.clone(), info);
        }
        let rule_names = vschema
            .routing_rules
            .iter()
            .flat_map(|r| r.rules.iter().map(|rule| rule.from_table.clone()))
            .collect();
        Topology {
            keyspaces,
            source: vschema.clone(),
            vschema: Arc::new(resolve(vschema, &tracked)),
            tracked,
            rule_names,
            plans: Arc::new(PlanCache::default()),
        }
    }

    /// The same snapshot with `tracked` columns merged into its VSchema, and a new plan cache.
    pub fn with_tracked(&self, tracked: Arc<TrackedSchema>) -> Self {
        Topology {
            keyspaces: self.keyspaces.clone(),
            source: self.source.clone(),
            vschema: Arc::new(resolve(&self.source, &tracked)),
            tracked,
            rule_names: self.rule_names.clone(),
            plans: Arc::new(PlanCache::default()),
        }
    }

    /// The resolved VSchema the planner uses.
    pub fn vschema(&self) -> &VSchema {
        &self.vschema
    }

    /// The plan cache of this snapshot.
    pub fn plans(&self) -> &PlanCache {
        &self.plans
    }

    /// All keyspaces, sorted by name.
    pub fn keyspaces(&self) -> impl Iterator<Item = &KeyspaceInfo> {
        self.keyspaces.values()
    }

    /// One keyspace by name.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceInfo> {
        self.keyspaces.get(name)
    }

    /// The keyspace of an unqualified table name: the only keyspace whose VSchema lists it.
    pub fn find_table(&self, table: &str) -> Result<&KeyspaceInfo, VtError> {
        let mut found = self.keyspaces.values().filter(|k| k.tables.contains(table));
        match (found.next(), found.next()) {
            (Some(ks), None) => Ok(ks),
            (Some(_), Some(_)) => Err(VtError::AmbiguousTable(table.to_string())),
            (None, _) => Err(VtError::UnknownTable(table.to_string())),
        }
    }

    /// Whether the SrvVSchema has table routing rules.
    pub fn has_routing_rules(&self) -> bool {
        !self.rule_names.is_empty()
    }

    /// Where a routing rule sends `[keyspace.]table` for `tablet_type` (Vitess
    /// `FindRoutedTable`: the rule for `name@type` first, then for `name`), or None when no
    /// rule names it. A rule with no target gives `table ... has been disabled`.
    pub fn routed_table(
        &self,
        keyspace: Option<&str>,
        table: &str,
        tablet_type: TabletType,
    ) -> Option<Result<TableRef, VtError>> {
        let name = match keyspace {
            Some(ks) => format!("{ks}.{table}"),
            None => table.to_string(),
        };
        let typed = format!("{name}@{}", tablet_type.lower_name());
        if !self.rule_names.contains(&typed) && !self.rule_names.contains(&name) {
            return None;
        }
        Some(
            self.vschema
                .find_routed_table(keyspace, table, tablet_type)
                .map_err(|e| match e {
                    FindTableError::NotFound(t) => VtError::UnknownTable(t),
                    FindTableError::Ambiguous(t) => VtError::AmbiguousTable(t),
                    other => VtError::Other(other.to_string()),
                }),
        )
    }

    /// A keyspace for statements that name no table and run with no keyspace selected:
    /// the first unsharded keyspace, else the first keyspace.
    pub fn any_keyspace(&self) -> Option<&KeyspaceInfo> {
        self.keyspaces
            .values()
            .find(|k| !k.sharded)
            .or_else(|| self.keyspaces.values().next())
    }
}

/// Resolves `vschema` with the `tracked` columns merged in.
fn resolve(vschema: &SrvVSchema, tracked: &TrackedSchema) -> VSchema {
    let mut model = vschema::model::SrvVSchema::from(vschema.clone());
    merge_tracked(&mut model, tracked);
    let resolved = VSchema::build(&model);
    for (ks, err) in resolved.keyspace_errors() {
        tracing::warn!(keyspace = ks, error = %err, "invalid keyspace vschema");
    }
    resolved
}

/// The current snapshot, swapped whole when the topology changes; readers take no lock
/// beyond cloning an `Arc`. Each change bumps a generation that [`TopologyHandle::subscribe`]
/// receivers see (buffered statements wait on it).
#[derive(Debug, Clone)]
pub struct TopologyHandle {
    current: Arc<RwLock<Arc<Topology>>>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
    /// The tracked columns every new snapshot gets; held while a snapshot is built and
    /// swapped in, so that a topology change and a schema change do not undo each other.
    tracked: Arc<Mutex<Arc<TrackedSchema>>>,
}

impl Default for TopologyHandle {
    fn default() -> Self {
        TopologyHandle::new(Topology::default())
    }
}

impl TopologyHandle {
    /// A handle holding `topology`.
    pub fn new(topology: Topology) -> Self {
        TopologyHandle {
            current: Arc::new(RwLock::new(Arc::new(topology))),
            generation: Arc::new(tokio::sync::watch::channel(0).0),
            tracked: Arc::default(),
        }
    }

    /// Replaces the snapshot by one built from the serving records, with the tracked
    /// columns merged in; returns whether it changed.
    pub fn set_srv(
        &self,
        vschema: &SrvVSchema,
        srv_keyspaces: &HashMap<String, SrvKeyspace>,
    ) -> bool {
        let tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        self.set(Topology::build(vschema, srv_keyspaces, tracked.clone()))
    }

    /// Records the tracked columns of `keyspace` and rebuilds the snapshot with them when
    /// they changed; returns whether they did.
    pub fn set_tracked(&self, keyspace: &str, columns: KeyspaceColumns) -> bool {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        if tracked.get(keyspace) == Some(&columns) {
            return false;
        }
        Arc::make_mut(&mut tracked).insert(keyspace.to_string(), columns);
        self.set(self.get().with_tracked(tracked.clone()));
        true
    }

    /// The current snapshot.
    pub fn get(&self) -> Arc<Topology> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the snapshot; returns whether it changed.
    pub fn set(&self, topology: Topology) -> bool {
        {
            let mut slot = self.current.write().unwrap_or_else(|p| p.into_inner());
            if **slot == topology {
                return false;
            }
            *slot = Arc::new(topology);
        }
        self.generation.send_modify(|g| *g += 1);
        true
    }

    /// A receiver that sees every later change of the snapshot.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proto::topodata::srv_keyspace::KeyspacePartition;
    use proto::topodata::ShardReference;
    use proto::vschema::{Keyspace, Table};

    /// `commerce` (unsharded: product, customer, corder, shard 0) and `customer`
    /// (unsharded: customer2, shared, shard 0) and `other` (shared).
    pub(crate) fn sample() -> Topology {
        let mut vs = SrvVSchema::default();
        let ks = |tables: &[&str]| Keyspace {
            tables: tables
                .iter()
                .map(|t| (t.to_string(), Table::default()))
                .collect(),
            ..Default::default()
        };
        vs.keyspaces
            .insert("commerce".into(), ks(&["product", "customer", "corder"]));
        vs.keyspaces
            .insert("customer".into(), ks(&["customer2", "shared"]));
        vs.keyspaces.insert("other".into(), ks(&["shared"]));
        let srv = SrvKeyspace {
            partitions: vec![KeyspacePartition {
                served_type: TabletType::Primary as i32,
                shard_references: vec![ShardReference {
                    name: "0".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let srvs = ["commerce", "customer", "other"]
            .iter()
            .map(|k| (k.to_string(), srv.clone()))
            .collect();
        Topology::from_srv(&vs, &srvs)
    }

    #[test]
    fn resolves_unique_tables() {
        let t = sample();
        assert_eq!(t.find_table("product").unwrap().name, "commerce");
        assert_eq!(t.find_table("customer2").unwrap().name, "customer");
        assert_eq!(
            t.find_table("shared").unwrap_err(),
            VtError::AmbiguousTable("shared".into())
        );
        assert_eq!(
            t.find_table("nope").unwrap_err(),
            VtError::UnknownTable("nope".into())
        );
    }

    #[test]
    fn tracked_columns_survive_a_serving_graph_update() {
        use crate::schema_tracker::{KeyspaceColumns, TrackedTable};
        use vschema::model::Column;
        let t = sample();
        let handle = TopologyHandle::new(t.clone());
        let columns = KeyspaceColumns::from([(
            "product".to_string(),
            TrackedTable {
                columns: vec![Column {
                    name: "sku".into(),
                    ..Default::default()
                }],
                primary_key: vec!["sku".into()],
            },
        )]);
        assert!(handle.set_tracked("commerce", columns.clone()));
        assert!(!handle.set_tracked("commerce", columns));
        let product = |h: &TopologyHandle| {
            let topo = h.get();
            let table = topo
                .vschema()
                .find_table(Some("commerce"), "product")
                .unwrap();
            (table.column_list_authoritative, table.columns.len())
        };
        assert_eq!(product(&handle), (true, 1));
        // Discovery rebuilds the snapshot from the same records: the columns stay.
        let vs = t.source.clone();
        handle.set_srv(&vs, &HashMap::new());
        assert_eq!(product(&handle), (true, 1));
    }

    #[test]
    fn shards_fall_back_to_primary_partition() {
        let t = sample();
        let ks = t.keyspace("commerce").unwrap();
        assert_eq!(ks.shards_for(TabletType::Replica), ["0".to_string()]);
        assert_eq!(t.any_keyspace().unwrap().name, "commerce");
        assert_eq!(t.keyspaces().count(), 3);
    }
}
