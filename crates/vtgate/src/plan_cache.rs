//! The plan cache: planned statements shared by all sessions, keyed by the statement text
//! as planned (after vtgate's session rewrites and literal normalisation) plus the session's
//! keyspace and tablet type,
//! and bounded: the least recently used plan goes when it is full. One cache lives in each
//! topology snapshot, so a new VSchema starts with an empty cache.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use engine::Plan;

/// Plans kept by default (Vitess bounds its cache by memory; we bound it by count).
pub const DEFAULT_CAPACITY: usize = 5000;

/// What a plan is cached under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanKey {
    /// The statement text as planned.
    pub sql: String,
    /// The session's keyspace (empty for none).
    pub keyspace: String,
    /// The session's tablet type.
    pub tablet_type: i32,
}

struct Entry {
    plan: Arc<Plan>,
    tick: u64,
}

#[derive(Default)]
struct State {
    entries: HashMap<PlanKey, Entry>,
    /// Last use tick → key, oldest first.
    order: BTreeMap<u64, PlanKey>,
    tick: u64,
}

/// A bounded LRU cache of plans.
pub struct PlanCache {
    capacity: usize,
    state: Mutex<State>,
}

impl fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Default for PlanCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl PlanCache {
    /// An empty cache holding at most `capacity` plans (at least one).
    pub fn new(capacity: usize) -> Self {
        PlanCache {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached plan for `key`, marking it as just used.
    pub fn get(&self, key: &PlanKey) -> Option<Arc<Plan>> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.tick += 1;
        let tick = state.tick;
        let entry = state.entries.get_mut(key)?;
        state.order.remove(&entry.tick);
        entry.tick = tick;
        state.order.insert(tick, key.clone());
        Some(entry.plan.clone())
    }

    /// Caches `plan` under `key`, evicting the least recently used plan when full.
    pub fn insert(&self, key: PlanKey, plan: Arc<Plan>) {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.tick += 1;
        let tick = state.tick;
        if let Some(old) = state.entries.insert(key.clone(), Entry { plan, tick }) {
            state.order.remove(&old.tick);
        }
        state.order.insert(tick, key);
        while state.entries.len() > self.capacity {
            let Some((_, oldest)) = state.order.pop_first() else {
                break;
            };
            state.entries.remove(&oldest);
        }
    }

    /// The keys of the cached plans, most recently used first.
    pub fn keys(&self) -> Vec<PlanKey> {
        self.lock().order.values().rev().cloned().collect()
    }

    /// Number of cached plans.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(sql: &str) -> Arc<Plan> {
        let vs = vschema::VSchema::build(
            &vschema::model::SrvVSchema::from_json(r#"{"keyspaces":{"ks":{}}}"#).unwrap(),
        );
        let stmt = sql::parse::parse(sql).unwrap();
        Arc::new(engine::planner::plan(&stmt, &vs, Some("ks")).unwrap())
    }

    fn key(sql: &str) -> PlanKey {
        PlanKey {
            sql: sql.into(),
            keyspace: "ks".into(),
            tablet_type: 1,
        }
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = PlanCache::new(2);
        cache.insert(key("select 1"), plan("select 1"));
        cache.insert(key("select 2"), plan("select 2"));
        assert!(cache.get(&key("select 1")).is_some());
        cache.insert(key("select 3"), plan("select 3"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&key("select 2")).is_none(), "oldest use evicted");
        assert!(cache.get(&key("select 1")).is_some());
        assert!(cache.get(&key("select 3")).is_some());
        let other_target = PlanKey {
            keyspace: "other".into(),
            ..key("select 3")
        };
        assert!(cache.get(&other_target).is_none());
    }
}
