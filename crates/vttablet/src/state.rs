//! The tablet's changing state: its type, whether it serves, the denied
//! tables of its Shard record, and the primary term start. Held in a watch
//! channel so that StreamHealth streams see every change.

use std::collections::HashMap;
use std::sync::Arc;

use proto::topodata::{Shard, SrvKeyspace, TabletAlias, TabletType};
use tokio::sync::watch;

/// What the tablet is and what it refuses, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Current tablet type.
    pub tablet_type: TabletType,
    /// Whether queries are served.
    pub serving: bool,
    /// A primary demoted by `DemotePrimary`: it refuses queries (NOT_SERVING) until
    /// `UndoDemotePrimary`, or until it stops being a primary or is promoted again.
    pub demoted: bool,
    /// Denied tables per tablet type, from `Shard.tablet_controls`.
    pub denied_tables: HashMap<TabletType, Vec<String>>,
    /// Unix seconds when this tablet became primary (0 unless PRIMARY).
    pub primary_term_start: i64,
    /// Counts the times this tablet became primary (a primary from the start is in epoch
    /// 0). What a primary caches for its term, such as sequence blocks, is stamped with it
    /// and dropped when it differs, so values cached in one term are never served in the next.
    pub primary_epoch: u64,
    /// The shard's current primary, as the Shard record says.
    pub shard_primary: Option<TabletAlias>,
    /// Health problem to report (empty when healthy).
    pub health_error: String,
    /// Replication lag, for replicas.
    pub replication_lag_seconds: u32,
    /// Tablet types whose query service the SrvKeyspace disables for this
    /// shard (`shard_tablet_controls`, set by a resharding write switch).
    pub query_service_disabled: Vec<TabletType>,
}

impl Snapshot {
    /// The tables denied to this tablet's current type.
    pub fn denied_for_type(&self) -> &[String] {
        self.denied_tables
            .get(&self.tablet_type)
            .map_or(&[], Vec::as_slice)
    }

    /// Whether queries are refused: not serving, a demoted primary, or the query service of
    /// this tablet's type is disabled.
    pub fn refuses_queries(&self) -> bool {
        !self.serving || self.demoted || self.query_service_disabled.contains(&self.tablet_type)
    }
}

/// Shared, observable tablet state.
#[derive(Debug)]
pub struct TabletState {
    sender: watch::Sender<Arc<Snapshot>>,
}

impl TabletState {
    /// A serving tablet of `tablet_type` with no denied tables.
    pub fn new(tablet_type: TabletType) -> Self {
        let (sender, _) = watch::channel(Arc::new(Snapshot {
            tablet_type,
            serving: true,
            demoted: false,
            denied_tables: HashMap::new(),
            primary_term_start: 0,
            primary_epoch: 0,
            shard_primary: None,
            health_error: String::new(),
            replication_lag_seconds: 0,
            query_service_disabled: Vec::new(),
        }));
        TabletState { sender }
    }

    /// The current state (cheap: shared, never copied per query).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.sender.borrow().clone()
    }

    /// A receiver that wakes up on every change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.sender.subscribe()
    }

    /// Applies `change`, notifying subscribers when it changed anything.
    pub fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        self.sender.send_if_modified(|current| {
            let mut next = Snapshot::clone(current);
            change(&mut next);
            if next == **current {
                return false;
            }
            *current = Arc::new(next);
            true
        });
    }

    /// Takes the denied tables and primary from a Shard record, keeping only
    /// the controls that apply to `cell` (those with no cells apply everywhere).
    pub fn apply_shard(&self, shard: &Shard, cell: &str) {
        let mut denied: HashMap<TabletType, Vec<String>> = HashMap::new();
        for control in &shard.tablet_controls {
            if !control.cells.is_empty() && !control.cells.iter().any(|c| c == cell) {
                continue;
            }
            denied
                .entry(control.tablet_type())
                .or_default()
                .extend(control.denied_tables.iter().cloned());
        }
        self.update(|s| {
            s.denied_tables = denied;
            s.shard_primary = shard.primary_alias.clone();
        });
    }

    /// Takes the tablet types whose query service is disabled for `shard`
    /// from the keyspace's serving record (none when it is gone).
    pub fn apply_srv_keyspace(&self, srv: Option<&SrvKeyspace>, shard: &str) {
        let disabled: Vec<TabletType> =
            [TabletType::Primary, TabletType::Replica, TabletType::Rdonly]
                .into_iter()
                .filter(|t| {
                    srv.is_some_and(|srv| topo::migrate::query_service_disabled(srv, shard, *t))
                })
                .collect();
        self.update(|s| s.query_service_disabled = disabled);
    }

    /// Changes the tablet type; becoming PRIMARY (or a PRIMARY without a
    /// term yet) starts a new term now, and becoming PRIMARY a new epoch. Leaving PRIMARY
    /// ends a demotion.
    pub fn set_type(&self, tablet_type: TabletType, now_unix: i64) {
        self.update(|s| {
            if tablet_type != TabletType::Primary {
                s.demoted = false;
            }
            if tablet_type == TabletType::Primary && s.tablet_type != TabletType::Primary {
                s.primary_epoch += 1;
            }
            if tablet_type == TabletType::Primary
                && (s.tablet_type != TabletType::Primary || s.primary_term_start == 0)
            {
                s.primary_term_start = now_unix;
            } else if tablet_type != TabletType::Primary {
                s.primary_term_start = 0;
            }
            s.tablet_type = tablet_type;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::topodata::shard::TabletControl;

    #[test]
    fn shard_controls_become_denied_tables_for_matching_cells() {
        let state = TabletState::new(TabletType::Replica);
        let mut rx = state.subscribe();
        let shard = Shard {
            tablet_controls: vec![
                TabletControl {
                    tablet_type: TabletType::Replica as i32,
                    denied_tables: vec!["customer".into()],
                    ..TabletControl::default()
                },
                TabletControl {
                    tablet_type: TabletType::Replica as i32,
                    cells: vec!["zone2".into()],
                    denied_tables: vec!["corder".into()],
                    ..TabletControl::default()
                },
            ],
            ..Shard::default()
        };
        state.apply_shard(&shard, "zone1");
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        assert_eq!(state.snapshot().denied_for_type(), ["customer".to_string()]);
        // Same record again: no notification.
        state.apply_shard(&shard, "zone1");
        assert!(!rx.has_changed().unwrap());
        state.set_type(TabletType::Primary, 1234);
        let snap = state.snapshot();
        assert_eq!(snap.primary_term_start, 1234);
        assert_eq!(snap.primary_epoch, 1);
        assert!(snap.denied_for_type().is_empty());
        // Staying primary keeps the epoch; leaving and coming back starts a new one.
        state.set_type(TabletType::Primary, 1300);
        assert_eq!(state.snapshot().primary_epoch, 1);
        state.set_type(TabletType::Replica, 2000);
        assert_eq!(state.snapshot().primary_term_start, 0);
        state.set_type(TabletType::Primary, 2000);
        assert_eq!(state.snapshot().primary_epoch, 2);
    }

    #[test]
    fn a_demoted_primary_refuses_queries_until_it_changes_type() {
        let state = TabletState::new(TabletType::Primary);
        state.update(|s| s.demoted = true);
        assert!(state.snapshot().refuses_queries());
        state.set_type(TabletType::Primary, 10);
        assert!(
            state.snapshot().refuses_queries(),
            "still the demoted primary"
        );
        state.set_type(TabletType::Replica, 20);
        let snap = state.snapshot();
        assert!(!snap.demoted && !snap.refuses_queries());
    }

    #[test]
    fn srv_keyspace_controls_disable_the_query_service_of_one_type() {
        use proto::topodata::srv_keyspace::KeyspacePartition;
        use proto::topodata::ShardTabletControl;
        let state = TabletState::new(TabletType::Primary);
        let srv = SrvKeyspace {
            partitions: vec![KeyspacePartition {
                served_type: TabletType::Primary as i32,
                shard_tablet_controls: vec![ShardTabletControl {
                    name: "0".into(),
                    query_service_disabled: true,
                    ..ShardTabletControl::default()
                }],
                ..KeyspacePartition::default()
            }],
            ..SrvKeyspace::default()
        };
        state.apply_srv_keyspace(Some(&srv), "-80");
        assert!(!state.snapshot().refuses_queries());
        state.apply_srv_keyspace(Some(&srv), "0");
        assert!(state.snapshot().refuses_queries());
        state.set_type(TabletType::Replica, 0);
        assert!(!state.snapshot().refuses_queries());
        state.set_type(TabletType::Primary, 0);
        state.apply_srv_keyspace(None, "0");
        assert!(!state.snapshot().refuses_queries());
    }
}
