//! The plan cache: planned statements shared by all sessions, keyed by the statement text
//! as planned (after vtgate's session rewrites and literal normalisation) plus the session's
//! keyspace and tablet type,
//! and bounded: when it is full, the least recently used plans go. One cache lives in each
//! topology snapshot, so a new VSchema starts with an empty cache.
//!
//! A hit runs for nearly every statement on the planner path, so it only hashes the key
//! (foldhash, not SipHash) and stamps the entry with the time of use; the eviction order is
//! worked out when the cache overflows, for [`EVICT_FRACTION`] of it at once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use engine::Plan;

/// Plans kept by default (Vitess bounds its cache by memory; we bound it by count).
pub const DEFAULT_CAPACITY: usize = 5000;

/// When the cache overflows, the least recently used 1/EVICT_FRACTION of it goes at once,
/// so the scan that finds them runs once per that many new plans.
const EVICT_FRACTION: usize = 100;

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
    /// The cache's tick at the last use.
    tick: u64,
}

#[derive(Default)]
struct State {
    entries: HashMap<PlanKey, Entry, foldhash::fast::RandomState>,
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
        let entry = state.entries.get_mut(key)?;
        entry.tick = state.tick;
        Some(entry.plan.clone())
    }

    /// Caches `plan` under `key`; when that overflows the cache, the least recently used
    /// plans go.
    pub fn insert(&self, key: PlanKey, plan: Arc<Plan>) {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.tick += 1;
        let tick = state.tick;
        state.entries.insert(key, Entry { plan, tick });
        if state.entries.len() > self.capacity {
            let excess = state.entries.len() - self.capacity;
            evict_oldest(state, excess.max(self.capacity / EVICT_FRACTION));
        }
    }

    /// The keys of the cached plans, most recently used first.
    pub fn keys(&self) -> Vec<PlanKey> {
        let state = self.lock();
        let mut keys: Vec<(u64, &PlanKey)> =
            state.entries.iter().map(|(k, e)| (e.tick, k)).collect();
        keys.sort_unstable_by_key(|&(tick, _)| std::cmp::Reverse(tick));
        keys.into_iter().map(|(_, k)| k.clone()).collect()
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

/// Removes the `count` least recently used entries (at least one is kept).
fn evict_oldest(state: &mut State, count: usize) {
    let count = count.min(state.entries.len().saturating_sub(1));
    if count == 0 {
        return;
    }
    let mut ticks: Vec<u64> = state.entries.values().map(|e| e.tick).collect();
    let (_, &mut newest_evicted, _) = ticks.select_nth_unstable(count - 1);
    // Ticks are unique: exactly `count` entries are at or below the cut.
    state.entries.retain(|_, e| e.tick > newest_evicted);
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

    #[test]
    fn overflow_evicts_a_batch_of_the_oldest() {
        let cache = PlanCache::new(200);
        let p = plan("select 1");
        for i in 0..200 {
            cache.insert(key(&format!("select {i}")), p.clone());
        }
        // Use the first ten again: they are now the most recent.
        for i in 0..10 {
            assert!(cache.get(&key(&format!("select {i}"))).is_some());
        }
        cache.insert(key("select new"), p.clone());
        // 1/100 of 200 = 2 plans go: the two least recently used, 10 and 11.
        assert_eq!(cache.len(), 199);
        assert!(cache.get(&key("select 10")).is_none());
        assert!(cache.get(&key("select 11")).is_none());
        assert!(cache.get(&key("select 12")).is_some());
        assert!(cache.get(&key("select 0")).is_some());
        assert!(cache.get(&key("select new")).is_some());
        let keys = cache.keys();
        assert_eq!(keys[0], key("select new"));
        assert_eq!(keys[1], key("select 0"));
    }
}
